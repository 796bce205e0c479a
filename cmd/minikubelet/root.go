package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/minikubelet/minikubelet/internal/config"
	"github.com/minikubelet/minikubelet/internal/sandbox"
)

// apiSocketEnv names the API socket for client commands when
// --api-socket is not given.
const apiSocketEnv = "MINIKUBELET_API_SOCKET"

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "minikubelet",
		Short:         "Run Kubernetes pods from a directory of manifests on one node, with containerd",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newRunCommand(),
		newGetCommand(),
		newDescribeCommand(),
		newLogsCommand(),
		newExecCommand(),
		newAttachCommand(),
		newDrainCommand(),
		newKubeconfigCommand(),
		newVersionCommand(),
		newImagesCommand(sandbox.PauseArchive()),
	)
	return root
}

// defaultAPISocket is $MINIKUBELET_API_SOCKET or the daemon's default.
func defaultAPISocket() string {
	if s := os.Getenv(apiSocketEnv); s != "" {
		return s
	}
	return config.DefaultAPISocket
}
