// Command kubectl is a stock kubectl built from the k8s.io/kubectl module at
// a pinned version, for the e2e tests (test/e2e/kubectl_test.go): a user's
// node has a plain kubectl, not the version dispatcher some machines ship.
// It lives in a Go module of its own so the daemon's go.mod stays clean;
// hack/kubectl.sh builds it to bin/kubectl.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() {
	os.Exit(cli.Run(cmd.NewDefaultKubectlCommand()))
}
