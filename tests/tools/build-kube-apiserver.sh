#!/bin/sh
# Installs the real Kubernetes API server the tests run (tests/support/apiserver.rs):
# kube-apiserver built with the machine's Go from the published module
# k8s.io/kubernetes (tests/apiserver pins the release and every k8s.io staging
# module), cached outside the repository; and etcd from Debian's etcd-server.
# A second run finds both and takes seconds. `make deps` calls it.
#
# ONRAMP_TEST_CACHE overrides the cache (default ~/.cache/onramp-test); GO
# overrides the Go command (default: go on PATH, else /usr/local/go/bin/go).
set -eu

KUBERNETES_VERSION=1.34.4 # and k8s.io/* staging modules v0.34.4: tests/apiserver/go.mod

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${ONRAMP_TEST_CACHE:-$HOME/.cache/onramp-test}
dest=$cache/k8s-$KUBERNETES_VERSION

if ! command -v etcd >/dev/null 2>&1; then
  echo "installing etcd (Debian package etcd-server)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
fi

if [ -x "$dest/kube-apiserver" ]; then
  exit 0
fi

go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
if ! [ -x "$go" ] && ! command -v "$go" >/dev/null 2>&1; then
  echo "build-kube-apiserver: no Go toolchain (set GO=/path/to/go); the real API server tests will be skipped" >&2
  exit 1
fi

echo "building kube-apiserver v$KUBERNETES_VERSION into $dest (first time only: many minutes, ~3 GB of memory)"
mkdir -p "$dest"
version=v$KUBERNETES_VERSION
minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
pkg=k8s.io/component-base/version
cd "$here/apiserver"
CGO_ENABLED=0 nice "$go" build -mod=readonly -trimpath -o "$dest/kube-apiserver.partial" \
  -ldflags "-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" .
mv "$dest/kube-apiserver.partial" "$dest/kube-apiserver"
echo "kube-apiserver $version: $dest/kube-apiserver"
