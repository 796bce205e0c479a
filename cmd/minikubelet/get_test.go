package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// runningPod is a ready, running one-container pod made three days ago, so
// that its AGE prints as 3d.
func runningPod(ns, name string) v1.Pod {
	return v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(time.Now().Add(-72 * time.Hour))},
		Spec:       v1.PodSpec{NodeName: "node1", Containers: []v1.Container{{Name: "app", Image: "busybox"}}},
		Status: v1.PodStatus{
			Phase:             v1.PodRunning,
			Conditions:        []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionTrue}},
			ContainerStatuses: []v1.ContainerStatus{{Name: "app", Ready: true, State: v1.ContainerState{Running: &v1.ContainerStateRunning{}}}},
		},
	}
}

var daemonPods = []v1.Pod{
	runningPod("default", "web-node1"),
	runningPod("default", "db-node1"),
	runningPod("kube-system", "dns-node1"),
}

// fakeDaemon serves GET /pods with pods on a unix socket in a temporary
// directory, as the daemon's API does, and returns the socket's path.
func fakeDaemon(t *testing.T, pods []v1.Pod) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pods", func(w http.ResponseWriter, _ *http.Request) {
		list := v1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: pods}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(&list)
	})
	return serveOnSocket(t, mux)
}

func serveOnSocket(t *testing.T, h http.Handler) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return path
}

// runCLI runs minikubelet with args and returns what it printed.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// fields splits a table's lines into columns.
func fields(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

func TestGetPods_Table(t *testing.T) {
	socket := fakeDaemon(t, daemonPods)
	tests := []struct {
		name string
		args []string
		want [][]string
	}{
		{
			name: "default namespace",
			args: []string{"get", "pods"},
			want: [][]string{
				{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
				{"web-node1", "1/1", "Running", "0", "3d"},
				{"db-node1", "1/1", "Running", "0", "3d"},
			},
		},
		{
			name: "resource aliases",
			args: []string{"get", "po", "db-node1"},
			want: [][]string{
				{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
				{"db-node1", "1/1", "Running", "0", "3d"},
			},
		},
		{
			name: "-n",
			args: []string{"get", "pods", "-n", "kube-system"},
			want: [][]string{
				{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
				{"dns-node1", "1/1", "Running", "0", "3d"},
			},
		},
		{
			name: "--namespace",
			args: []string{"get", "pod", "--namespace=kube-system"},
			want: [][]string{
				{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
				{"dns-node1", "1/1", "Running", "0", "3d"},
			},
		},
		{
			name: "-A adds NAMESPACE",
			args: []string{"get", "pods", "-A"},
			want: [][]string{
				{"NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"},
				{"default", "web-node1", "1/1", "Running", "0", "3d"},
				{"default", "db-node1", "1/1", "Running", "0", "3d"},
				{"kube-system", "dns-node1", "1/1", "Running", "0", "3d"},
			},
		},
		{
			name: "empty namespace",
			args: []string{"get", "pods", "-n", "other"},
			want: [][]string{{"No", "resources", "found", "in", "other", "namespace."}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, append(tt.args, "--api-socket", socket)...)
			if err != nil {
				t.Fatalf("minikubelet %s: %v\n%s", strings.Join(tt.args, " "), err, out)
			}
			if got := fields(out); !equalRows(got, tt.want) {
				t.Fatalf("minikubelet %s printed\n%s\nwant rows %q", strings.Join(tt.args, " "), out, tt.want)
			}
		})
	}
}

func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

func TestGetPods_Table_ColumnsAreAligned(t *testing.T) {
	socket := fakeDaemon(t, daemonPods)
	out, err := runCLI(t, "get", "pods", "--api-socket", socket)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	col := strings.Index(lines[0], "READY")
	for _, l := range lines[1:] {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Fatalf("READY column not aligned at %d:\n%s", col, out)
		}
	}
}

func TestGetPods_Objects(t *testing.T) {
	socket := fakeDaemon(t, daemonPods)
	tests := []struct {
		name      string
		args      []string
		decode    func([]byte, any) error
		wantKind  string
		wantNames []string
	}{
		{name: "json of one pod", args: []string{"get", "pods", "web-node1", "-o", "json"}, decode: json.Unmarshal, wantKind: "Pod", wantNames: []string{"web-node1"}},
		{name: "yaml of one pod", args: []string{"get", "pods", "dns-node1", "-n", "kube-system", "-o", "yaml"}, decode: yamlUnmarshal, wantKind: "Pod", wantNames: []string{"dns-node1"}},
		{name: "json list", args: []string{"get", "pods", "-o", "json"}, decode: json.Unmarshal, wantKind: "List", wantNames: []string{"web-node1", "db-node1"}},
		{name: "yaml list of every namespace", args: []string{"get", "pods", "-A", "--output=yaml"}, decode: yamlUnmarshal, wantKind: "List", wantNames: []string{"web-node1", "db-node1", "dns-node1"}},
		{name: "json list of two named pods", args: []string{"get", "pods", "web-node1", "db-node1", "-o", "json"}, decode: json.Unmarshal, wantKind: "List", wantNames: []string{"web-node1", "db-node1"}},
		{name: "empty json list", args: []string{"get", "pods", "-n", "other", "-o", "json"}, decode: json.Unmarshal, wantKind: "List"},
		{name: "empty yaml list", args: []string{"get", "pods", "-n", "other", "-o", "yaml"}, decode: yamlUnmarshal, wantKind: "List"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, append(tt.args, "--api-socket", socket)...)
			if err != nil {
				t.Fatalf("minikubelet %s: %v\n%s", strings.Join(tt.args, " "), err, out)
			}
			var meta metav1.TypeMeta
			if err := tt.decode([]byte(out), &meta); err != nil {
				t.Fatalf("decode output: %v\n%s", err, out)
			}
			if meta.Kind != tt.wantKind || meta.APIVersion != "v1" {
				t.Fatalf("kind %q apiVersion %q, want %s v1\n%s", meta.Kind, meta.APIVersion, tt.wantKind, out)
			}
			var names []string
			if tt.wantKind == "Pod" {
				var pod v1.Pod
				if err := tt.decode([]byte(out), &pod); err != nil {
					t.Fatal(err)
				}
				names = append(names, pod.Name)
				if pod.Status.Phase != v1.PodRunning || pod.Spec.NodeName != "node1" {
					t.Errorf("pod lost its spec or status: phase %q node %q", pod.Status.Phase, pod.Spec.NodeName)
				}
			} else {
				var list v1.PodList
				if err := tt.decode([]byte(out), &list); err != nil {
					t.Fatal(err)
				}
				for _, p := range list.Items {
					names = append(names, p.Name)
					if p.Kind != "Pod" || p.APIVersion != "v1" {
						t.Errorf("item %s: kind %q apiVersion %q, want Pod v1", p.Name, p.Kind, p.APIVersion)
					}
				}
				if strings.Contains(out, `"items": null`) || strings.Contains(out, "items: null") {
					t.Errorf("items printed as null, want [] as kubectl prints an empty list:\n%s", out)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Fatalf("printed pods %v, want %v\n%s", names, tt.wantNames, out)
			}
		})
	}
}

func yamlUnmarshal(data []byte, v any) error { return yaml.Unmarshal(data, v) }

func TestGetPods_Names(t *testing.T) {
	socket := fakeDaemon(t, daemonPods)
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"get", "pods", "-o", "name"}, want: "pod/web-node1\npod/db-node1\n"},
		{args: []string{"get", "pods", "-A", "-o", "name"}, want: "pod/web-node1\npod/db-node1\npod/dns-node1\n"},
		{args: []string{"get", "pods", "-n", "other", "-o", "name"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := runCLI(t, append(tt.args, "--api-socket", socket)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if out != tt.want {
				t.Fatalf("printed %q, want %q", out, tt.want)
			}
		})
	}
}

func TestGetPods_Errors(t *testing.T) {
	socket := fakeDaemon(t, daemonPods)
	missing := filepath.Join(t.TempDir(), "missing.sock")
	broken := serveOnSocket(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "status store not ready", http.StatusInternalServerError)
	}))
	garbage := serveOnSocket(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("<html>"))
	}))
	tests := []struct {
		name    string
		args    []string
		wantErr []string
	}{
		{name: "unknown resource", args: []string{"get", "nodes", "--api-socket", socket}, wantErr: []string{`unknown resource type "nodes"`}},
		{name: "no resource", args: []string{"get", "--api-socket", socket}, wantErr: []string{"requires at least 1 arg"}},
		{name: "pod not found", args: []string{"get", "pods", "nope", "--api-socket", socket}, wantErr: []string{`pods "nope" not found`}},
		{name: "pod in another namespace is not found", args: []string{"get", "pods", "dns-node1", "--api-socket", socket}, wantErr: []string{`pods "dns-node1" not found`}},
		{name: "unknown output format", args: []string{"get", "pods", "-o", "xml", "--api-socket", socket}, wantErr: []string{`unknown output format "xml"`}},
		{name: "unreachable daemon", args: []string{"get", "pods", "--api-socket", missing}, wantErr: []string{"cannot reach the minikubelet daemon at " + missing + ": is it running?"}},
		{name: "daemon error is shown", args: []string{"get", "pods", "--api-socket", broken}, wantErr: []string{"status store not ready"}},
		{name: "undecodable answer", args: []string{"get", "pods", "--api-socket", garbage}, wantErr: []string{"decode the daemon's pod list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, tt.args...)
			if err == nil {
				t.Fatalf("minikubelet %s succeeded, want an error\n%s", strings.Join(tt.args, " "), out)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestGetPods_APISocketFromEnvironment(t *testing.T) {
	socket := fakeDaemon(t, daemonPods)
	missing := filepath.Join(t.TempDir(), "missing.sock")
	tests := []struct {
		name       string
		env        string
		args       []string
		wantErr    string
		wantOutput string
	}{
		{name: "env names the socket", env: socket, args: []string{"get", "pods", "-o", "name"}, wantOutput: "pod/web-node1\npod/db-node1\n"},
		{name: "flag beats env", env: missing, args: []string{"get", "pods", "-o", "name", "--api-socket", socket}, wantOutput: "pod/web-node1\npod/db-node1\n"},
		{name: "env socket is the one reported", env: missing, args: []string{"get", "pods"}, wantErr: "cannot reach the minikubelet daemon at " + missing + ": is it running?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The default is read when the command is built, so set it first.
			t.Setenv(apiSocketEnv, tt.env)
			out, err := runCLI(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if out != tt.wantOutput {
				t.Fatalf("printed %q, want %q", out, tt.wantOutput)
			}
		})
	}
}
