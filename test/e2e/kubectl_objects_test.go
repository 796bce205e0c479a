package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// webPod is a long-running pod with a label, in the default namespace.
const webPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "3600"]
`

// batchPod runs to completion in the batch namespace.
const batchPod = `apiVersion: v1
kind: Pod
metadata:
  name: batch
  namespace: batch
  labels:
    app: batch
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "sleep 2; exit 0"]
`

// readyLaterPod turns Ready about 3 s after its container starts.
const readyLaterPod = `apiVersion: v1
kind: Pod
metadata:
  name: later
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "sleep 3; touch /tmp/ready; exec sleep 3600"]
    readinessProbe:
      exec:
        command: ["cat", "/tmp/ready"]
      periodSeconds: 1
`

var columnGap = regexp.MustCompile(`\s{2,}`)

// tableRows splits kubectl's table output into rows of cells: cells are
// separated by two spaces or more, as kubectl's tab writer pads them.
func tableRows(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		rows = append(rows, columnGap.Split(strings.TrimSpace(line), -1))
	}
	return rows
}

// rowOf is the row whose first cell is first (or whose cell at column col
// is it), nil when there is none.
func rowOf(rows [][]string, col int, first string) []string {
	for _, r := range rows {
		if len(r) > col && r[col] == first {
			return r
		}
	}
	return nil
}

func (n *testNode) checkHeader(out string, want ...string) [][]string {
	n.t.Helper()
	rows := tableRows(out)
	if len(rows) == 0 || strings.Join(rows[0], "|") != strings.Join(want, "|") {
		n.t.Fatalf("kubectl printed\n%s\nwant the header %v", out, want)
	}
	return rows[1:]
}

// kubectlFails runs kubectl args, which must fail, and returns its stderr.
func (n *testNode) kubectlFails(args ...string) string {
	n.t.Helper()
	stdout, stderr, err := n.kubectl(args...)
	if err == nil {
		n.t.Fatalf("kubectl %s succeeded, want it refused\nstdout:\n%s", strings.Join(args, " "), stdout)
	}
	return stderr
}

// kubernetesVersion is the Kubernetes version of the k8s.io/api module
// the daemon is built with, as go.mod requires it: v0.X.Y -> v1.X.Y.
func kubernetesVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+k8s\.io/api v0\.(\d+\.\d+)\s*$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod does not require k8s.io/api v0.X.Y")
	}
	return "v1." + string(m[1])
}

func TestKubectlObjects_GetPods(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", webPod)
	n.writeManifest("batch.yaml", batchPod)
	web := n.waitPod("web", 20*time.Second, "Running and ready", func(p *v1.Pod) bool { return podRunning(p) && p.Status.PodIP != "" })
	n.waitPod("batch", 20*time.Second, "Succeeded", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodSucceeded })
	webName, batchName := n.podName("web"), n.podName("batch")

	rows := n.checkHeader(n.kubectlOK("get", "pods"), "NAME", "READY", "STATUS", "RESTARTS", "AGE")
	if r := rowOf(rows, 0, webName); len(rows) != 1 || r == nil || r[1] != "1/1" || r[2] != "Running" || r[3] != "0" {
		t.Fatalf("get pods rows = %v, want only %s 1/1 Running 0 (batch is in another namespace)", rows, webName)
	}

	rows = n.checkHeader(n.kubectlOK("get", "pods", "-o", "wide"), "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
	if r := rowOf(rows, 0, webName); r == nil || r[5] != web.Status.PodIP || r[6] != n.name || r[7] != "<none>" || r[8] != "<none>" {
		t.Fatalf("get pods -o wide rows = %v, want %s with IP %s on node %s", rows, webName, web.Status.PodIP, n.name)
	}

	rows = n.checkHeader(n.kubectlOK("get", "pods", "-A"), "NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE")
	if r := rowOf(rows, 1, batchName); len(rows) != 2 || r == nil || r[0] != "batch" || r[3] != "Completed" {
		t.Fatalf("get pods -A rows = %v, want both pods, %s Completed in batch", rows, batchName)
	}

	rows = n.checkHeader(n.kubectlOK("get", "pods", "-A", "--show-labels"), "NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "LABELS")
	if r := rowOf(rows, 1, webName); r == nil || r[6] != "app=web" {
		t.Fatalf("get pods --show-labels rows = %v, want app=web on %s", rows, webName)
	}

	if got := n.kubectlOK("get", "pods", "-A", "-l", "app=batch", "-o", "name"); got != "pod/"+batchName+"\n" {
		t.Fatalf("get pods -A -l app=batch -o name = %q, want pod/%s", got, batchName)
	}
	if got := n.kubectlOK("get", "pods", "-A", "--field-selector", "status.phase=Running", "-o", "name"); got != "pod/"+webName+"\n" {
		t.Fatalf("get pods --field-selector status.phase=Running = %q, want only pod/%s", got, webName)
	}
	if got := n.kubectlOK("get", "pod", webName, "-o", "jsonpath={.status.phase} {.spec.nodeName} {.metadata.uid}"); got != fmt.Sprintf("Running %s %s", n.name, web.UID) {
		t.Fatalf("get pod -o jsonpath = %q, want Running, the node and the pod's uid %s", got, web.UID)
	}

	yamlOut := n.kubectlOK("get", "pod", webName, "-o", "yaml")
	for _, want := range []string{"kind: Pod", "name: " + webName, "nodeName: " + n.name, "kubernetes.io/config.source: file", "phase: Running", "podIP: " + web.Status.PodIP} {
		if !strings.Contains(yamlOut, want) {
			t.Errorf("get pod -o yaml lacks %q:\n%s", want, yamlOut)
		}
	}
	var fromJSON v1.Pod
	if err := json.Unmarshal([]byte(n.kubectlOK("get", "pod", webName, "-o", "json")), &fromJSON); err != nil {
		t.Fatalf("get pod -o json: %v", err)
	}
	if fromJSON.UID != web.UID || fromJSON.Status.Phase != v1.PodRunning || len(fromJSON.Status.ContainerStatuses) != 1 {
		t.Fatalf("get pod -o json = uid %s phase %s, want %s Running with one container status", fromJSON.UID, fromJSON.Status.Phase, web.UID)
	}

	if stderr := n.kubectlFails("get", "pod", "nope"); !strings.Contains(stderr, `Error from server (NotFound): pods "nope" not found`) {
		t.Fatalf("get pod nope said %q", stderr)
	}
	if stderr := n.kubectlFails("get", "pods", "--field-selector", "spec.foo=bar"); !strings.Contains(stderr, "field label not supported: spec.foo") {
		t.Fatalf("get pods with an unknown field selector said %q", stderr)
	}
}

// kubectlStream hands a command's output lines over as they come.
type kubectlStream struct {
	lines chan string
	seen  []string
}

func (n *testNode) startKubectl(args ...string) *kubectlStream {
	n.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := n.kubectlCmd(ctx, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		n.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start kubectl %s: %v", strings.Join(args, " "), err)
	}
	lr := &kubectlStream{lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lr.lines <- sc.Text()
		}
		close(lr.lines)
	}()
	n.t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	return lr
}

// waitLine waits for a line for which match holds.
func (n *testNode) waitLine(lr *kubectlStream, timeout time.Duration, what string, match func(cells []string) bool) {
	n.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-lr.lines:
			if !ok {
				n.t.Fatalf("kubectl ended before printing %s; it printed:\n%s\ndaemon log tail:\n%s", what, strings.Join(lr.seen, "\n"), n.logTail())
			}
			lr.seen = append(lr.seen, line)
			if match(columnGap.Split(strings.TrimSpace(line), -1)) {
				return
			}
		case <-deadline:
			n.t.Fatalf("kubectl did not print %s within %s; it printed:\n%s\ndaemon log tail:\n%s", what, timeout, strings.Join(lr.seen, "\n"), n.logTail())
		}
	}
}

func TestKubectlObjects_GetPodsWatchSeesThePhaseChange(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", webPod)
	n.waitPod("web", 20*time.Second, "Running", podRunning)
	w := n.startKubectl("get", "pods", "-A", "-w")
	n.waitLine(w, 30*time.Second, "the header", func(c []string) bool { return c[0] == "NAMESPACE" && c[1] == "NAME" })
	n.waitLine(w, 30*time.Second, "web Running", func(c []string) bool { return len(c) > 3 && c[1] == n.podName("web") && c[3] == "Running" })

	n.writeManifest("batch.yaml", batchPod)
	batch := n.podName("batch")
	n.waitLine(w, 30*time.Second, "batch Running", func(c []string) bool { return len(c) > 3 && c[1] == batch && c[3] == "Running" })
	n.waitLine(w, 30*time.Second, "batch Completed", func(c []string) bool { return len(c) > 3 && c[1] == batch && c[3] == "Completed" })
}

func TestKubectlObjects_WaitForReady(t *testing.T) {
	n := startNode(t)
	n.writeManifest("later.yaml", readyLaterPod)
	before := n.waitPod("later", 20*time.Second, "created", func(p *v1.Pod) bool { return p.UID != "" })
	if c := conditionOf(before, v1.PodReady); c != nil && c.Status == v1.ConditionTrue {
		t.Fatalf("pod %s is already Ready before kubectl wait: the test would prove nothing", before.Name)
	}
	out := n.kubectlOK("wait", "--for=condition=Ready", "pod/"+n.podName("later"), "--timeout=60s")
	if out != "pod/"+n.podName("later")+" condition met\n" {
		t.Fatalf("kubectl wait printed %q", out)
	}
	after, err := n.pod("later")
	if err != nil || after == nil {
		t.Fatalf("pod later after kubectl wait: %v", err)
	}
	if c := conditionOf(after, v1.PodReady); c == nil || c.Status != v1.ConditionTrue {
		t.Fatalf("kubectl wait returned but pod %s is not Ready: %+v", after.Name, after.Status.Conditions)
	}
}

func TestKubectlObjects_DescribePodAndNode(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", webPod)
	n.waitPod("web", 20*time.Second, "Running", podRunning)
	web := n.podName("web")

	pod := n.kubectlOK("describe", "pod", web)
	for _, want := range []string{`Name:\s+` + web + `\n`, `Node:\s+` + n.name + `/`, `Status:\s+Running\n`, `Events:\n`} {
		if !regexp.MustCompile(want).MatchString(pod) {
			t.Errorf("describe pod lacks %q:\n%s", want, pod)
		}
	}
	if !regexp.MustCompile(`Normal\s+Started\s+\S+\s+kubelet\s+(spec\.containers\{c\}: )?Started container c`).MatchString(pod) {
		t.Errorf("describe pod shows no Started event from the kubelet:\n%s", pod)
	}

	node := n.kubectlOK("describe", "node", n.name)
	for _, want := range []string{
		`Name:\s+` + n.name + `\n`,
		`kubernetes.io/hostname=` + n.name,
		`Lease:\n\s+HolderIdentity:\s+` + n.name + `\n`,
		`\n\s+RenewTime:\s+\w{3}, `,
		`\n\s+Ready\s+True\s.*KubeletReady\s+kubelet is posting ready status`,
		`\n\s+MemoryPressure\s+False\s.*KubeletHasSufficientMemory\s+kubelet has sufficient memory available`,
		`Capacity:\n\s+cpu:\s+\d+\n`,
		`Allocatable:\n`,
		`Container Runtime Version:\s+containerd://`,
		`Non-terminated Pods:\s+\(1 in total\)`,
		`\n\s+default\s+` + web + `\s`,
		`Normal\s+Starting\s+\S+\s+kubelet\s+Starting kubelet\.`,
	} {
		if !regexp.MustCompile(want).MatchString(node) {
			t.Errorf("describe node lacks %q:\n%s", want, node)
		}
	}
	if strings.Contains(node, "Failed to get lease") {
		t.Errorf("describe node could not get the lease:\n%s", node)
	}
}

func TestKubectlObjects_Events(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", webPod)
	n.waitPod("web", 20*time.Second, "Running", podRunning)
	web := n.podName("web")

	rows := n.checkHeader(n.kubectlOK("get", "events"), "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
	if r := rowOf(rows, 2, "Started"); r == nil || r[1] != "Normal" || r[3] != "pod/"+web || r[4] != "Started container c" {
		t.Fatalf("get events rows = %v, want Normal Started pod/%s", rows, web)
	}
	if r := rowOf(rows, 2, "Starting"); r == nil || r[3] != "node/"+n.name || r[4] != "Starting kubelet." {
		t.Fatalf("get events rows = %v, want the node's Starting event", rows)
	}

	rows = n.checkHeader(n.kubectlOK("events", "--for", "pod/"+web), "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
	if r := rowOf(rows, 2, "Started"); r == nil || rowOf(rows, 2, "Starting") != nil {
		t.Fatalf("events --for pod/%s rows = %v, want the pod's Started and none of the node's", web, rows)
	}
	if got := n.kubectlOK("get", "events", "--field-selector", "involvedObject.kind=Node,reason=NodeReady", "-o", "jsonpath={.items[*].message}"); got != fmt.Sprintf("Node %s status is now: NodeReady", n.name) {
		t.Fatalf("the node's NodeReady event says %q", got)
	}
}

func TestKubectlObjects_NodesNamespacesResourcesVersion(t *testing.T) {
	n := startNode(t)
	n.writeManifest("batch.yaml", batchPod)
	n.waitPod("batch", 20*time.Second, "created", func(p *v1.Pod) bool { return p.UID != "" })
	version := kubernetesVersion(t)

	rows := n.checkHeader(n.kubectlOK("get", "nodes"), "NAME", "STATUS", "ROLES", "AGE", "VERSION")
	if r := rowOf(rows, 0, n.name); len(rows) != 1 || r == nil || r[1] != "Ready" || r[2] != "<none>" || r[4] != version {
		t.Fatalf("get nodes rows = %v, want %s Ready <none> %s", rows, n.name, version)
	}
	rows = n.checkHeader(n.kubectlOK("get", "nodes", "-o", "wide"), "NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME")
	if r := rowOf(rows, 0, n.name); r == nil || !strings.HasPrefix(r[9], "containerd://") || r[6] != "<none>" {
		t.Fatalf("get nodes -o wide rows = %v, want a containerd:// runtime", rows)
	}

	rows = n.checkHeader(n.kubectlOK("get", "ns"), "NAME", "STATUS", "AGE")
	for _, ns := range []string{"batch", "default", "kube-node-lease"} {
		if r := rowOf(rows, 0, ns); r == nil || r[1] != "Active" {
			t.Errorf("get ns rows = %v, want %s Active", rows, ns)
		}
	}

	rows = n.checkHeader(n.kubectlOK("api-resources"), "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND")
	for _, want := range [][]string{
		{"pods", "po", "v1", "true", "Pod"},
		{"events", "ev", "v1", "true", "Event"},
		{"nodes", "no", "v1", "false", "Node"},
		{"namespaces", "ns", "v1", "false", "Namespace"},
	} {
		if r := rowOf(rows, 0, want[0]); r == nil || strings.Join(r, " ") != strings.Join(want, " ") {
			t.Errorf("api-resources has %v for %s, want %v", r, want[0], want)
		}
	}
	if out := n.kubectlOK("api-resources"); !strings.Contains(out, "coordination.k8s.io/v1") || !strings.Contains(out, "metrics.k8s.io/v1beta1") {
		t.Errorf("api-resources lists neither leases nor metrics:\n%s", out)
	}

	if out := n.kubectlOK("version"); !strings.Contains(out, "Server Version: "+version+"\n") {
		t.Fatalf("kubectl version printed\n%s\nwant Server Version: %s", out, version)
	}
}

func TestKubectlObjects_WritesRefusedNamingTheManifest(t *testing.T) {
	n := startNode(t)
	n.writeManifest("web.yaml", webPod)
	before := n.waitPod("web", 20*time.Second, "Running", podRunning)
	web := n.podName("web")
	file := filepath.Join(n.dir, "web.yaml")
	owned := fmt.Sprintf(`Error from server (MethodNotAllowed): pod %q is a static pod owned by the manifest file %s on this node: edit or remove that file`, web, file)

	if stderr := n.kubectlFails("delete", "pod", web); !strings.Contains(stderr, owned) {
		t.Errorf("delete pod said %q, want %q", stderr, owned)
	}
	if stderr := n.kubectlFails("label", "pod", web, "x=y"); !strings.Contains(stderr, owned) {
		t.Errorf("label pod said %q, want %q", stderr, owned)
	}
	if stderr := n.kubectlFails("debug", web, "--image=busybox:1.35", "--", "true"); !strings.Contains(stderr, owned) {
		t.Errorf("debug said %q, want %q", stderr, owned)
	}
	create := "put the pod's manifest in " + n.dir
	if stderr := n.kubectlFails("create", "-f", file); !strings.Contains(stderr, "Error from server (MethodNotAllowed)") || !strings.Contains(stderr, create) {
		t.Errorf("create -f said %q, want MethodNotAllowed and %q", stderr, create)
	}
	if stderr := n.kubectlFails("apply", "-f", file); !strings.Contains(stderr, "Error from server (MethodNotAllowed)") {
		t.Errorf("apply -f said %q, want MethodNotAllowed", stderr)
	}
	after, err := n.pod("web")
	if err != nil || after == nil || after.UID != before.UID || !podRunning(after) {
		t.Fatalf("after the refused writes the pod is %+v (%v), want the same pod %s still running", after, err, before.UID)
	}
}

// TestKubectlObjects_MachineKubectl drives the machine's own kubectl (a
// version dispatcher on these machines) through the common commands.
func TestKubectlObjects_MachineKubectl(t *testing.T) {
	bin := machineKubectl(t)
	n := startNode(t)
	n.writeManifest("web.yaml", webPod)
	n.waitPod("web", 20*time.Second, "Running", podRunning)
	web := n.podName("web")
	run := func(args ...string) string {
		t.Helper()
		stdout, stderr, err := n.runKubectl(bin, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s\n%s", bin, strings.Join(args, " "), err, stdout, stderr)
		}
		return stdout
	}
	rows := n.checkHeader(run("get", "pods"), "NAME", "READY", "STATUS", "RESTARTS", "AGE")
	if r := rowOf(rows, 0, web); r == nil || r[2] != "Running" {
		t.Fatalf("get pods rows = %v, want %s Running", rows, web)
	}
	rows = n.checkHeader(run("get", "nodes"), "NAME", "STATUS", "ROLES", "AGE", "VERSION")
	if r := rowOf(rows, 0, n.name); r == nil || r[1] != "Ready" {
		t.Fatalf("get nodes rows = %v, want %s Ready", rows, n.name)
	}
	if out := run("describe", "node", n.name); !strings.Contains(out, "HolderIdentity:  "+n.name) {
		t.Fatalf("describe node shows no lease:\n%s", out)
	}
	if out := run("describe", "pod", web); !strings.Contains(out, "Started container c") {
		t.Fatalf("describe pod shows no events:\n%s", out)
	}
}
