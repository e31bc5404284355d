#!/bin/sh
# Installs the Prometheus 3 the live tests run beside Debian's 2.42
# (tests/support/prometheus.rs): `prometheus` and `promtool` built with the
# machine's Go from the published module github.com/prometheus/prometheus,
# pinned with every dependency by tests/prometheus3/go.mod and go.sum, and
# cached outside the repository. A second run finds both and takes seconds.
# `make deps` calls it.
#
# API only: no UI assets (no `builtinassets` tag); service discovery other
# than static, file, http and kubernetes (onramp's rendered scrape config) is
# left out (`remove_all_sd`), which halves the build.
#
# ONRAMP_TEST_CACHE overrides the cache (default ~/.cache/onramp-test); GO
# overrides the Go command (default: go on PATH, else /usr/local/go/bin/go).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
module=$here/prometheus3
# Module version v0.3MM.P is Prometheus 3.MM.P; go.mod is the one place it is pinned.
module_version=$(awk '$1 == "github.com/prometheus/prometheus" { print $2 }' "$module/go.mod")
version=$(echo "$module_version" | sed -n 's/^v0\.3\([0-9][0-9]\)\.\([0-9]*\)$/3.\1.\2/p' | sed 's/^3\.0*\([0-9]\)/3.\1/')
if [ -z "$version" ]; then
  echo "build-prometheus3: cannot read the pinned Prometheus version from $module/go.mod" >&2
  exit 1
fi
cache=${ONRAMP_TEST_CACHE:-$HOME/.cache/onramp-test}
dest=$cache/prometheus-$version

if [ -x "$dest/prometheus" ] && [ -x "$dest/promtool" ]; then
  exit 0
fi

go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
if ! command -v "$go" >/dev/null 2>&1; then
  echo "build-prometheus3: no Go toolchain (set GO=/path/to/go); the prometheus_3 tests fail until it is built" >&2
  exit 1
fi

echo "building Prometheus $version into $dest (first time only: about 4 minutes of CPU, 1.3 GB of memory)"
mkdir -p "$dest"
pkg=github.com/prometheus/common/version
ldflags="-s -w -X $pkg.Version=$version -X $pkg.Revision=$module_version -X $pkg.Branch=release-3 -X $pkg.BuildUser=onramp-tests"
cd "$module"
for tool in prometheus promtool; do
  CGO_ENABLED=0 nice "$go" build -mod=readonly -trimpath -buildvcs=false -tags netgo,remove_all_sd,enable_kubernetes_sd \
    -ldflags "$ldflags" -o "$dest/$tool.partial" "github.com/prometheus/prometheus/cmd/$tool"
done
# Both appear together, or neither: a half-built cache is rebuilt next time.
mv "$dest/promtool.partial" "$dest/promtool"
mv "$dest/prometheus.partial" "$dest/prometheus"
echo "Prometheus $version: $dest/prometheus, $dest/promtool"
