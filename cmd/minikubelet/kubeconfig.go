package main

import (
	"net/http"

	"github.com/spf13/cobra"
)

func newKubeconfigCommand() *cobra.Command {
	var apiSocket string
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the admin kubeconfig of the daemon's HTTPS port, for kubectl",
		Long: `Print the admin kubeconfig of the daemon's HTTPS port, as the daemon renders it
(the same as the file at its kubeconfigPath), asking the daemon over its API
socket. It holds the admin's private key: keep it as private as the socket.

  minikubelet kubeconfig > ~/.kube/config`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return apiStream(cmd.Context(), apiSocket, http.MethodGet, "/kubeconfig", cmd.OutOrStdout(), false)
		},
	}
	cmd.Flags().StringVar(&apiSocket, "api-socket", defaultAPISocket(), "the daemon's API socket (or $"+apiSocketEnv+")")
	return cmd
}
