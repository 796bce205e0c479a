package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	v1 "k8s.io/api/core/v1"
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
		since                        time.Duration
		sinceTime                    string
		limitBytes                   int64
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
			if since != 0 && sinceTime != "" {
				return errors.New("at most one of `sinceTime` or `sinceSeconds` may be specified")
			}
			if since != 0 {
				// As kubectl: whole seconds, rounded up.
				q.Set("sinceSeconds", fmt.Sprint(int64(math.Ceil(since.Seconds()))))
			}
			if sinceTime != "" {
				q.Set("sinceTime", sinceTime)
			}
			if limitBytes != 0 {
				q.Set("limitBytes", fmt.Sprint(limitBytes))
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
	f.DurationVar(&since, "since", 0, "only lines newer than this (5s, 2m, 3h)")
	f.StringVar(&sinceTime, "since-time", "", "only lines after this time (RFC 3339)")
	f.Int64Var(&limitBytes, "limit-bytes", 0, "at most this many bytes of log")
	return cmd
}

// interactiveOptions are the stream flags of exec and attach.
type interactiveOptions struct {
	stdin, tty bool
}

func (o *interactiveOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&o.stdin, "stdin", "i", false, "pass stdin to the container")
	cmd.Flags().BoolVarP(&o.tty, "tty", "t", false, "stdin is a TTY")
}

// streamPath is the Kubernetes API path of an exec or attach, with the
// query kubectl sends.
func streamPath(pod *v1.Pod, subresource, container string, command []string, o streamIO) string {
	q := url.Values{"container": {container}}
	for _, c := range command {
		q.Add("command", c)
	}
	if o.stdin != nil {
		q.Set("stdin", "true")
	}
	q.Set("stdout", "true")
	if o.tty {
		q.Set("tty", "true")
	} else {
		q.Set("stderr", "true")
	}
	return fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/%s?%s", url.PathEscape(pod.Namespace), url.PathEscape(pod.Name), subresource, q.Encode())
}

// runInteractive runs an exec or attach through the daemon's API socket,
// the path kubectl takes: the daemon asks the runtime for a streaming
// session and proxies this SPDY connection to it.
func runInteractive(cmd *cobra.Command, opts *containerOptions, streams *interactiveOptions, subresource, podName string, command []string) error {
	ctx := cmd.Context()
	pod, container, err := opts.resolveContainer(ctx, cmd.ErrOrStderr(), podName)
	if err != nil {
		return err
	}
	sio := streamIO{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()}
	in, _ := cmd.InOrStdin().(*os.File)
	if streams.stdin {
		sio.stdin = cmd.InOrStdin()
	}
	if streams.tty {
		if in == nil || !streams.stdin || !term.IsTerminal(int(in.Fd())) {
			fmt.Fprintln(cmd.ErrOrStderr(), "Unable to use a TTY - input is not a terminal or the right kind of file")
		} else {
			out, ok := cmd.OutOrStdout().(*os.File)
			if !ok || !term.IsTerminal(int(out.Fd())) {
				out = in
			}
			sizes, restore, err := localTerminal(in, out)
			if err != nil {
				return err
			}
			defer restore()
			sio.tty, sio.resize = true, sizes
		}
	}
	conn, err := dialStream(ctx, opts.apiSocket, streamPath(pod, subresource, container, command, sio))
	if err != nil {
		return err
	}
	if subresource == "attach" && sio.tty {
		fmt.Fprint(cmd.ErrOrStderr(), "If you don't see a command prompt, try pressing enter.\r\n")
	}
	return runStream(conn, sio)
}

func newExecCommand() *cobra.Command {
	opts := &containerOptions{}
	streams := &interactiveOptions{}
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARG...]",
		Short: "Run a command in a container, as kubectl exec does (-it for a shell)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInteractive(cmd, opts, streams, "exec", args[0], args[1:])
		},
	}
	opts.addFlags(cmd)
	streams.addFlags(cmd)
	return cmd
}

func newAttachCommand() *cobra.Command {
	opts := &containerOptions{}
	streams := &interactiveOptions{}
	cmd := &cobra.Command{
		Use:   "attach POD [-c CONTAINER] [-i] [-t]",
		Short: "Attach to a container's main process, as kubectl attach does",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInteractive(cmd, opts, streams, "attach", args[0], nil)
		},
	}
	opts.addFlags(cmd)
	streams.addFlags(cmd)
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
