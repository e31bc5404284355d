# onramp's task runner: the README's commands and CI call these targets.
.PHONY: deps demo test e2e lint bench

# What the tests need from the OS: the real Prometheus server and promtool;
# amtool, to check the Alertmanager configuration the runbook prints;
# and the real Helm engine for the chart tests (charts/shop): Helm 4 as a
# Python library, PyPI package helm-python-sdk (import helm_python). A Debian
# system Python refuses pip installs without --break-system-packages. Built
# once with Go into ~/.cache/onramp-test: Prometheus 3 beside Debian's 2.42
# (tests/tools/build-prometheus3.sh), and the real Kubernetes API server,
# kube-apiserver with etcd from Debian's etcd-server (tests/tools/build-kube-apiserver.sh).
deps:
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { \
	  echo "installing prometheus and promtool (Debian package prometheus)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }
	@command -v amtool >/dev/null 2>&1 || { \
	  echo "installing amtool (Debian package prometheus-alertmanager)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null; }
	@./tests/tools/build-prometheus3.sh
	@command -v python3 >/dev/null 2>&1 || { \
	  echo "installing python3 and pip (Debian packages python3, python3-pip)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null; }
	@python3 -c "import helm_python" 2>/dev/null || { \
	  echo "installing helm-python-sdk (PyPI)"; \
	  python3 -m pip install -q helm-python-sdk 2>/dev/null || \
	  python3 -m pip install -q --break-system-packages helm-python-sdk; }
	@./tests/tools/build-kube-apiserver.sh

# Onboard the bundled demo app from its manifests, without any cluster.
demo:
	cargo run -q --bin onramp -- codify checkout -f examples/shop/k8s/checkout.yaml --out out/checkout

# Every test tier: unit, offline (tests/offline: the strict Grafana stand-in,
# fixtures, snapshots), integration (tests/integration: the real Prometheus and
# promtool 2.42 and 3.x, Helm, the CRD schemas of ../shared, the Kubernetes
# stand-in and the real kube-apiserver that `deps` built), the demo shop. Each
# tier's variable is `on` here, so a tool that is missing fails its tests
# instead of listing them as ignored; VAR=off (e.g. ONRAMP_TEST_APISERVER=off)
# lists that tier as ignored.
test: deps
	ONRAMP_TEST_PROMETHEUS=$${ONRAMP_TEST_PROMETHEUS:-on} \
	ONRAMP_TEST_PROMETHEUS3=$${ONRAMP_TEST_PROMETHEUS3:-on} \
	ONRAMP_TEST_HELM=$${ONRAMP_TEST_HELM:-on} \
	ONRAMP_TEST_SHARED=$${ONRAMP_TEST_SHARED:-on} \
	ONRAMP_TEST_APISERVER=$${ONRAMP_TEST_APISERVER:-on} \
	ONRAMP_TEST_ALERTMANAGER=$${ONRAMP_TEST_ALERTMANAGER:-on} \
	cargo test --workspace --lib --bins --tests

# The kind end-to-end suite (needs Docker, kind, kubectl, helm; CI runs it in
# .github/workflows/e2e-kind.yml): the demo cluster, the Grafana and Kubernetes
# contract tests against its real Grafana and API server, then the whole story
# (tests/e2e), which ends with `onramp demo down`.
e2e:
	cargo build --bin onramp
	./target/debug/onramp demo up
	ONRAMP_TEST_GRAFANA_URL=http://admin:onramp-demo@localhost:3000 cargo test --test offline grafana_contract
	ONRAMP_TEST_KUBECONFIG=$${KUBECONFIG:-$$HOME/.kube/config} cargo test --test integration kube_standin
	ONRAMP_E2E=kind cargo test --test e2e -- --test-threads=1

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# verify's benchmark needs the prometheus binary (make deps) and builds the demo shop;
# adoption's needs prometheus and promtool (make deps) and bash.
bench:
	cargo bench --bench codify
	cargo bench --bench verify
	cargo bench --bench troubleshoot
	cargo bench --bench adoption
	cargo bench --bench slo_backtest
