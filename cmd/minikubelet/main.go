// Command minikubelet is a single-node kubelet for static pods: `run`
// starts the daemon; `get`, `version` and `images` are its clients and
// tools.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(exitCodeOf(err))
	}
}
