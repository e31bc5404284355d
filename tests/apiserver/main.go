// Command kube-apiserver is the real Kubernetes API server, built from the
// published Go module k8s.io/kubernetes for onramp's tests (the harness in
// tests/support/apiserver.rs runs it, envtest style, beside Debian's etcd).
// It is the upstream cmd/kube-apiserver main, unchanged.
package main

import (
	"os"
	_ "time/tzdata" // for timeZone support in CronJob

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	command := app.NewAPIServerCommand()
	code := cli.Run(command)
	os.Exit(code)
}
