# onramp's task runner: the README's commands and CI call these targets.
.PHONY: deps demo test lint bench

# What the tests need from the OS: the real Prometheus server and promtool.
deps:
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { \
	  echo "installing prometheus and promtool (Debian package prometheus)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }

# Onboard the bundled demo app from its manifests, without any cluster.
demo:
	cargo run -q --bin onramp -- codify checkout -f examples/shop/k8s/checkout.yaml --out out/checkout

# Every test tier that runs on this machine: unit, integration (the real
# Prometheus and promtool, the strict Grafana stand-in), the demo shop.
test: deps
	cargo test --workspace --lib --bins --tests

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# verify's benchmark needs the prometheus binary (make deps) and builds the demo shop.
bench:
	cargo bench --bench codify
	cargo bench --bench verify
	cargo bench --bench troubleshoot
