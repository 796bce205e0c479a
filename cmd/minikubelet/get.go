package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/minikubelet/minikubelet/internal/server"
	"github.com/minikubelet/minikubelet/internal/status"
)

// clientTimeout bounds one request to the daemon.
const clientTimeout = 10 * time.Second

type getOptions struct {
	apiSocket     string
	output        string
	namespace     string
	allNamespaces bool
}

func newGetCommand() *cobra.Command {
	opts := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get (pods [NAME...] | manifests)",
		Short: "List pods as kubectl get pods does, or the manifest files and their errors",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "pods", "pod", "po":
				return runGetPods(cmd.Context(), cmd.OutOrStdout(), opts, args[1:])
			case "manifests", "manifest":
				return runGetManifests(cmd.Context(), cmd.OutOrStdout(), opts)
			default:
				return fmt.Errorf("unknown resource type %q: minikubelet serves pods and manifests", args[0])
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.apiSocket, "api-socket", defaultAPISocket(), "the daemon's API socket (or $"+apiSocketEnv+")")
	f.StringVarP(&opts.output, "output", "o", "", "output format: json, yaml, wide or name")
	f.StringVarP(&opts.namespace, "namespace", "n", "default", "namespace")
	f.BoolVarP(&opts.allNamespaces, "all-namespaces", "A", false, "pods of every namespace")
	return cmd
}

func runGetPods(ctx context.Context, out io.Writer, opts *getOptions, names []string) error {
	list, err := fetchPods(ctx, opts.apiSocket)
	if err != nil {
		return err
	}
	// Not nil: kubectl prints an empty list's items as [], not null.
	pods := []v1.Pod{}
	for _, p := range list.Items {
		if !opts.allNamespaces && p.Namespace != opts.namespace {
			continue
		}
		if len(names) > 0 && !contains(names, p.Name) {
			continue
		}
		pods = append(pods, p)
	}
	for _, n := range names {
		if !containsPod(pods, n) {
			return fmt.Errorf("pods %q not found", n)
		}
	}
	switch opts.output {
	case "json", "yaml":
		var obj any = &v1.PodList{TypeMeta: metav1.TypeMeta{Kind: "List", APIVersion: "v1"}, Items: pods}
		if len(names) == 1 {
			obj = &pods[0]
		}
		return printObject(out, obj, opts.output)
	case "name":
		for _, p := range pods {
			fmt.Fprintf(out, "pod/%s\n", p.Name)
		}
		return nil
	case "", "wide":
		if len(pods) == 0 {
			if opts.allNamespaces {
				fmt.Fprintln(out, "No resources found")
			} else {
				fmt.Fprintf(out, "No resources found in %s namespace.\n", opts.namespace)
			}
			return nil
		}
		return status.PrintPods(out, pods, time.Now(), opts.output == "wide", opts.allNamespaces)
	default:
		return fmt.Errorf("unknown output format %q: use json, yaml, wide or name", opts.output)
	}
}

func printObject(out io.Writer, obj any, format string) error {
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "    ")
		return enc.Encode(obj)
	}
	data, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	return err
}

// fetchPods reads GET /pods from the daemon.
func fetchPods(ctx context.Context, socket string) (*v1.PodList, error) {
	body, err := apiGet(ctx, socket, "/pods")
	if err != nil {
		return nil, err
	}
	var list v1.PodList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode the daemon's pod list: %w", err)
	}
	for i := range list.Items {
		list.Items[i].TypeMeta = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
	}
	return &list, nil
}

func apiGet(ctx context.Context, socket, path string) ([]byte, error) {
	return apiDo(ctx, socket, http.MethodGet, path)
}

// apiClient talks HTTP to the daemon over its unix socket; timeout 0 is
// for streams.
func apiClient(socket string, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}},
	}
}

func apiDo(ctx context.Context, socket, method, path string) ([]byte, error) {
	var body bytes.Buffer
	if err := apiStream(ctx, socket, method, path, &body, false); err != nil {
		return nil, err
	}
	return body.Bytes(), nil
}

// apiStream sends a request to the daemon and copies the answer to out.
func apiStream(ctx context.Context, socket, method, path string, out io.Writer, stream bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	timeout := clientTimeout
	if stream {
		timeout = 0
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://minikubelet"+path, nil)
	if err != nil {
		return err
	}
	resp, err := apiClient(socket, timeout).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the minikubelet daemon at %s: is it running? (%w)", socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return errors.New(strings.TrimSpace(statusMessage(msg)))
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		return fmt.Errorf("read the daemon's answer: %w", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsPod(pods []v1.Pod, name string) bool {
	for _, p := range pods {
		if p.Name == name {
			return true
		}
	}
	return false
}

func runGetManifests(ctx context.Context, out io.Writer, opts *getOptions) error {
	body, err := apiGet(ctx, opts.apiSocket, "/manifests")
	if err != nil {
		return err
	}
	var list server.ManifestList
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("decode the daemon's manifest list: %w", err)
	}
	switch opts.output {
	case "json", "yaml":
		return printObject(out, &list, opts.output)
	case "", "wide":
	default:
		return fmt.Errorf("unknown output format %q for manifests: use json or yaml", opts.output)
	}
	if len(list.Items) == 0 {
		fmt.Fprintln(out, "No manifests found")
		return nil
	}
	tw := tabwriter.NewWriter(out, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "FILE\tPOD\tSTATUS\tCHANGES")
	for _, m := range list.Items {
		pod, state, changes := m.Pod, "OK", "<none>"
		if pod == "" {
			pod = "<none>"
		}
		if m.Error != "" {
			state = "Error: " + m.Error
			if m.Pod != "" {
				state = "Running last good version; error: " + m.Error
			}
		}
		if len(m.Changes) > 0 {
			changes = strings.Join(m.Changes, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.File, pod, oneLine(state), changes)
	}
	return tw.Flush()
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
