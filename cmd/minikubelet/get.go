package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

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
		Use:   "get pods [NAME...]",
		Short: "List pods as kubectl get pods does",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "pods", "pod", "po":
			default:
				return fmt.Errorf("unknown resource type %q: minikubelet serves pods only", args[0])
			}
			return runGetPods(cmd.Context(), cmd.OutOrStdout(), opts, args[1:])
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
	var pods []v1.Pod
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
	if ctx == nil {
		ctx = context.Background()
	}
	client := &http.Client{
		Timeout: clientTimeout,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://minikubelet"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the minikubelet daemon at %s: is it running? (%w)", socket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the daemon's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the daemon answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
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
