package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/server"
)

// defaultContainerAnnotation names the container kubectl picks when none is
// given.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

type containerOptions struct {
	apiSocket string
	namespace string
	container string
}

func (o *containerOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.apiSocket, "api-socket", defaultAPISocket(), "the daemon's API socket (or $"+apiSocketEnv+")")
	f.StringVarP(&o.namespace, "namespace", "n", "default", "namespace")
	f.StringVarP(&o.container, "container", "c", "", "container name (default: the pod's default container)")
}

// resolveContainer finds the pod and the container to use, defaulting as
// kubectl does and saying so on stderr.
func (o *containerOptions) resolveContainer(ctx context.Context, stderr io.Writer, podName string) (*v1.Pod, string, error) {
	list, err := fetchPods(ctx, o.apiSocket)
	if err != nil {
		return nil, "", err
	}
	for i := range list.Items {
		p := &list.Items[i]
		if p.Namespace != o.namespace || p.Name != podName {
			continue
		}
		if o.container != "" {
			return p, o.container, nil
		}
		name := p.Annotations[defaultContainerAnnotation]
		if name == "" && len(p.Spec.Containers) > 0 {
			name = p.Spec.Containers[0].Name
		}
		if len(p.Spec.Containers) > 1 {
			var names []string
			for _, c := range p.Spec.InitContainers {
				names = append(names, c.Name)
			}
			for _, c := range p.Spec.Containers {
				names = append(names, c.Name)
			}
			fmt.Fprintf(stderr, "Defaulted container %q out of: %s\n", name, strings.Join(names, ", "))
		}
		return p, name, nil
	}
	return nil, "", fmt.Errorf("pods %q not found in namespace %q", podName, o.namespace)
}

func newLogsCommand() *cobra.Command {
	opts := &containerOptions{}
	var (
		previous, follow, timestamps bool
		tail                         int
	)
	cmd := &cobra.Command{
		Use:   "logs POD [-c CONTAINER]",
		Short: "Print a container's log, as kubectl logs does",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			pod, container, err := opts.resolveContainer(ctx, cmd.ErrOrStderr(), args[0])
			if err != nil {
				return err
			}
			q := url.Values{"container": {container}}
			if previous {
				q.Set("previous", "true")
			}
			if follow {
				q.Set("follow", "true")
			}
			if timestamps {
				q.Set("timestamps", "true")
			}
			if tail >= 0 {
				q.Set("tailLines", fmt.Sprint(tail))
			}
			path := fmt.Sprintf("/pods/%s/%s/log?%s", pod.Namespace, pod.Name, q.Encode())
			return apiStream(ctx, opts.apiSocket, http.MethodGet, path, cmd.OutOrStdout(), follow)
		},
	}
	opts.addFlags(cmd)
	f := cmd.Flags()
	f.BoolVarP(&previous, "previous", "p", false, "the log of the previous, terminated instance")
	f.BoolVarP(&follow, "follow", "f", false, "keep printing as the log grows")
	f.BoolVar(&timestamps, "timestamps", false, "prefix each line with its time")
	f.IntVar(&tail, "tail", -1, "only the last N lines")
	return cmd
}

func newExecCommand() *cobra.Command {
	opts := &containerOptions{}
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] -- COMMAND [ARG...]",
		Short: "Run a command in a container and print its output (no stdin, no TTY)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			pod, container, err := opts.resolveContainer(ctx, cmd.ErrOrStderr(), args[0])
			if err != nil {
				return err
			}
			q := url.Values{"container": {container}, "command": args[1:]}
			path := fmt.Sprintf("/pods/%s/%s/exec?%s", pod.Namespace, pod.Name, q.Encode())
			body, err := apiDo(ctx, opts.apiSocket, http.MethodPost, path)
			if err != nil {
				return err
			}
			var res server.ExecResult
			if err := json.Unmarshal(body, &res); err != nil {
				return fmt.Errorf("decode the daemon's answer: %w", err)
			}
			cmd.OutOrStdout().Write(res.Stdout)
			cmd.ErrOrStderr().Write(res.Stderr)
			if res.ExitCode != 0 {
				return &exitError{code: res.ExitCode, msg: fmt.Sprintf("command terminated with exit code %d", res.ExitCode)}
			}
			return nil
		},
	}
	opts.addFlags(cmd)
	return cmd
}

// exitError ends the process with a command's exit code.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func exitCodeOf(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 1
}

func newDrainCommand() *cobra.Command {
	var apiSocket string
	cmd := &cobra.Command{
		Use:   "drain",
		Short: "Stop every pod gracefully and run none until the daemon restarts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return apiStream(cmd.Context(), apiSocket, http.MethodPost, "/drain", cmd.OutOrStdout(), true)
		},
	}
	cmd.Flags().StringVar(&apiSocket, "api-socket", defaultAPISocket(), "the daemon's API socket (or $"+apiSocketEnv+")")
	return cmd
}
