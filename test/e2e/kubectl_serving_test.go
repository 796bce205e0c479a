package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// `minikubelet kubeconfig` asks the daemon over its socket (a daemon with
// its own --root-dir and --api-socket included) and prints exactly the
// kubeconfig file, which kubectl then uses.
func TestKubectl_KubeconfigCommandPrintsTheFile(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	out, err := execCommand(binary, "kubeconfig", "--api-socket", n.socket)
	if err != nil {
		t.Fatalf("minikubelet kubeconfig: %v\n%s", err, out)
	}
	file, err := os.ReadFile(n.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(file) {
		t.Fatalf("minikubelet kubeconfig printed:\n%s\nthe file %s holds:\n%s", out, n.kubeconfig, file)
	}
	printed := filepath.Join(t.TempDir(), "printed")
	if err := os.WriteFile(printed, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlBinary(t), "--kubeconfig", printed, "--cache-dir", t.TempDir(), "get", "--raw", "/healthz")
	cmd.Env = kubectlEnv()
	got, err := cmd.CombinedOutput()
	if err != nil || string(got) != "ok" {
		t.Fatalf("kubectl with the printed kubeconfig: %v, %q; want ok", err, got)
	}
}

// With the HTTPS port off (--port 0) there is no kubeconfig, and the
// command says so.
func TestKubectl_KubeconfigCommandWithHTTPSOff(t *testing.T) {
	t.Parallel()
	n := startNode(t, "--port", "0")
	out, err := execCommand(binary, "kubeconfig", "--api-socket", n.socket)
	if err == nil || !strings.Contains(out, "HTTPS port is off") {
		t.Fatalf("minikubelet kubeconfig with --port 0: %v\n%s\nwant an error saying the HTTPS port is off", err, out)
	}
	if _, err := os.Stat(n.kubeconfig); !os.IsNotExist(err) {
		t.Fatalf("kubeconfig %s with --port 0: %v, want none written", n.kubeconfig, err)
	}
}

// The read-only port is plain HTTP on loopback and GET only: pods, the
// node, discovery, health and metrics answer; a container's log, exec,
// attach and port-forward never do, while the socket serves the same log.
func TestKubectl_ReadOnlyPortRefusesLogsExecAndPortForward(t *testing.T) {
	t.Parallel()
	ro := freePort(t)
	n := startNode(t, "--read-only-port", strconv.Itoa(ro))
	n.writeManifest("talker.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: talker
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox:1.35
    command: ["sh", "-c", "echo secret-log-line; exec sleep 3600"]
`)
	p := n.waitPod("talker", 30*time.Second, "Running", podRunning)
	logPath := fmt.Sprintf("/pods/%s/%s/log", p.Namespace, p.Name)
	// The socket serves the log: the refusal below is the port's, not a
	// missing log.
	deadline := time.Now().Add(10 * time.Second)
	for {
		body, err := n.get(logPath)
		if err == nil && strings.Contains(string(body), "secret-log-line") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket GET %s: %q, %v; want the container's line", logPath, body, err)
		}
		time.Sleep(pollInterval)
	}

	base := "http://127.0.0.1:" + strconv.Itoa(ro)
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(method, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s on the read-only port: %v\ndaemon log tail:\n%s", method, path, err, n.logTail())
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, path := range []string{"/healthz", "/pods", "/metrics"} {
		if code, body := do(http.MethodGet, path); code != http.StatusOK {
			t.Errorf("GET %s on the read-only port: %d %.200s, want 200", path, code, body)
		}
	}
	if _, body := do(http.MethodGet, "/pods"); !strings.Contains(body, p.Name) {
		t.Errorf("GET /pods on the read-only port does not list %s", p.Name)
	}
	apiPod := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s", p.Namespace, p.Name)
	refused := []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, logPath, http.StatusForbidden},
		{http.MethodPost, fmt.Sprintf("/pods/%s/%s/exec", p.Namespace, p.Name), http.StatusMethodNotAllowed},
		{http.MethodGet, apiPod + "/log?container=app", http.StatusForbidden},
		{http.MethodGet, apiPod + "/exec?command=true&container=app&stdout=true", http.StatusForbidden},
		{http.MethodPost, apiPod + "/exec?command=true&container=app&stdout=true", http.StatusMethodNotAllowed},
		{http.MethodPost, apiPod + "/attach?container=app&stdout=true", http.StatusMethodNotAllowed},
		{http.MethodPost, apiPod + "/portforward", http.StatusMethodNotAllowed},
		{http.MethodGet, apiPod + "/portforward", http.StatusForbidden},
		{http.MethodDelete, apiPod, http.StatusMethodNotAllowed},
		{http.MethodPost, "/drain", http.StatusMethodNotAllowed},
		{http.MethodGet, "/kubeconfig", http.StatusForbidden},
		{http.MethodGet, "/debug/pprof/", http.StatusForbidden},
	}
	for _, r := range refused {
		code, body := do(r.method, r.path)
		var st metav1.Status
		if code != r.code || json.Unmarshal([]byte(body), &st) != nil || st.Kind != "Status" || !strings.Contains(st.Message, "read-only port") {
			t.Errorf("%s %s on the read-only port: %d %.300s; want %d with a Status naming the read-only port", r.method, r.path, code, body, r.code)
		}
		if strings.Contains(body, "secret-log-line") {
			t.Errorf("%s %s on the read-only port showed the container's log", r.method, r.path)
		}
	}
	// The read-only port is on loopback only, and the daemon's pod is
	// still there: nothing above acted on it.
	if code, _ := do(http.MethodGet, "/pods"); code != http.StatusOK {
		t.Fatal("the read-only port stopped answering")
	}
	n.waitPod("talker", 5*time.Second, "still Running", podRunning)
}

// The HTTPS port answers on both loopback addresses, and its certificate
// holds for each name a user may give kubectl's --server.
func TestKubectl_ServerNamesOnLoopback(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	port := strconv.Itoa(n.port)
	for _, server := range []string{"https://127.0.0.1:" + port, "https://[::1]:" + port, "https://localhost:" + port} {
		if got := n.kubectlOK("--server", server, "get", "--raw", "/healthz"); got != "ok" {
			t.Errorf("kubectl --server %s get --raw /healthz printed %q, want ok", server, got)
		}
	}
}

// A certificate due for renewal (less than 30 days left) is reissued at
// the next start, and the kubeconfig rewritten with it.
func TestKubectl_DueAdminCertificateRenewedAtStart(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	n.stop(syscall.SIGTERM)
	ca, caKey := n.nodeCA()
	now := time.Now()
	due := clientCert(t, ca, caKey, now.Add(-300*24*time.Hour), now.Add(10*24*time.Hour))
	keyDER, err := x509.MarshalPKCS8PrivateKey(due.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.pkiFile("admin.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.pkiFile("admin.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: due.Certificate[0]}), 0o644); err != nil {
		t.Fatal(err)
	}
	n.start()
	n.waitHealthy()

	data, err := os.ReadFile(n.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var kc struct {
		Users []struct {
			User struct {
				Cert []byte `json:"client-certificate-data"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := yaml.Unmarshal(data, &kc); err != nil || len(kc.Users) != 1 {
		t.Fatalf("kubeconfig: %v\n%s", err, data)
	}
	blk, _ := pem.Decode(kc.Users[0].User.Cert)
	if blk == nil {
		t.Fatalf("kubeconfig's client certificate is not PEM:\n%s", data)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(blk.Bytes, due.Certificate[0]) || cert.NotAfter.Before(now.Add(300*24*time.Hour)) {
		t.Fatalf("kubeconfig's client certificate runs until %v: the due one (until %v) was not renewed\ndaemon log tail:\n%s",
			cert.NotAfter, now.Add(10*24*time.Hour), n.logTail())
	}
	if got := n.kubectlOK("get", "--raw", "/healthz"); got != "ok" {
		t.Fatalf("kubectl with the renewed kubeconfig printed %q, want ok", got)
	}
}

// --address chooses where the port is bound, and the kubeconfig follows.
func TestKubectl_AddressIPv6Loopback(t *testing.T) {
	t.Parallel()
	n := startNode(t, "--address", "::1")
	data, err := os.ReadFile(n.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	want := "server: https://[::1]:" + strconv.Itoa(n.port)
	if !strings.Contains(string(data), want) {
		t.Fatalf("kubeconfig with --address ::1 lacks %q:\n%s", want, data)
	}
	if got := n.kubectlOK("get", "--raw", "/healthz"); got != "ok" {
		t.Fatalf("kubectl get --raw /healthz printed %q, want ok", got)
	}
}

// kubeconfigMode and kubeconfigGroup let a group of operators read the
// kubeconfig; the keys stay root's.
func TestKubectl_KubeconfigModeAndGroup(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("kubeconfigMode: \"0640\"\nkubeconfigGroup: \"4242\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "--config", cfg)
	fi, err := os.Stat(n.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if mode, gid := fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Gid; mode != 0o640 || gid != 4242 {
		t.Fatalf("kubeconfig mode %04o group %d, want 0640 and 4242", mode, gid)
	}
	key, err := os.Stat(n.pkiFile("admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	if key.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key mode %04o, want 0600", key.Mode().Perm())
	}
}
