package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// kubectlTimeout bounds one kubectl command run through n.kubectl.
const kubectlTimeout = 2 * time.Minute

// kubectlBinary is the stock kubectl the tests drive: $KUBECTL_BIN, built
// by hack/kubectl.sh (make e2e sets it). Without it the test fails in CI
// and is skipped elsewhere.
func kubectlBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("KUBECTL_BIN")
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KUBECTL_BIN is not set: build kubectl with hack/kubectl.sh and set KUBECTL_BIN (make e2e does both)")
		}
		t.Skip("KUBECTL_BIN is not set (make e2e builds kubectl with hack/kubectl.sh and sets it)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("KUBECTL_BIN: %v", err)
	}
	return bin
}

// machineKubectl is the machine's own kubectl. On these machines it is a
// dispatcher that asks GET /version first and runs the bundled kubectl of
// the server's minor version; with CI set its absence fails the test,
// elsewhere it skips it.
func machineKubectl(t *testing.T) string {
	t.Helper()
	const path = "/usr/bin/kubectl"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the machine's kubectl: %v (these machines have one; see ../shared/FACTS.md)", err)
		}
		t.Skipf("the machine's kubectl: %v", err)
	}
	return path
}

// kubectlCmd is a command running kubectl (KUBECTL_BIN) against the node:
// its kubeconfig, a discovery cache of its own (kubectl caches discovery
// per host:port, and ports are reused across tests), and no KUBECONFIG
// from the environment. For streaming commands (logs -f, get -w, exec -it)
// that the test drives itself.
func (n *testNode) kubectlCmd(ctx context.Context, args ...string) *exec.Cmd {
	n.t.Helper()
	return n.kubectlCmdWith(ctx, kubectlBinary(n.t), args...)
}

// kubectlCmdWith is kubectlCmd with another kubectl binary (machineKubectl).
func (n *testNode) kubectlCmdWith(ctx context.Context, bin string, args ...string) *exec.Cmd {
	n.t.Helper()
	cache, err := os.MkdirTemp(filepath.Dir(n.dir), "kubectl-cache-")
	if err != nil {
		n.t.Fatal(err)
	}
	full := append([]string{"--kubeconfig", n.kubeconfig, "--cache-dir", cache}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = kubectlEnv()
	return cmd
}

// kubectlEnv is the test's environment less what would point kubectl
// elsewhere.
func kubectlEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KUBECONFIG=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// kubectl runs kubectl args against the node and returns what it printed.
func (n *testNode) kubectl(args ...string) (stdout, stderr string, err error) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	return runCollecting(ctx, n.kubectlCmd(ctx, args...))
}

// runKubectl is kubectl with another kubectl binary (machineKubectl).
func (n *testNode) runKubectl(bin string, args ...string) (stdout, stderr string, err error) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	return runCollecting(ctx, n.kubectlCmdWith(ctx, bin, args...))
}

// runCollecting runs cmd to its end and returns what it printed.
func runCollecting(ctx context.Context, cmd *exec.Cmd) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: no answer within %s: %w", strings.Join(cmd.Args, " "), kubectlTimeout, err)
	}
	return out.String(), errOut.String(), err
}

// kubectlOK runs kubectl args and fails the test, with what kubectl said
// and the daemon's log, unless it succeeds; it returns stdout.
func (n *testNode) kubectlOK(args ...string) string {
	n.t.Helper()
	stdout, stderr, err := n.kubectl(args...)
	if err != nil {
		n.t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s\ndaemon log tail:\n%s", strings.Join(args, " "), err, stdout, stderr, n.logTail())
	}
	return stdout
}

// pkiFile is a file of the node's PKI.
func (n *testNode) pkiFile(name string) string { return filepath.Join(n.rootDir(), "pki", name) }

// httpsClient is a client of the node's HTTPS port that trusts the node's
// CA and presents certs (the first one), whoever signed it: Go's client
// would otherwise send none that the server's list of CAs does not name.
func (n *testNode) httpsClient(certs ...tls.Certificate) *http.Client {
	n.t.Helper()
	caPEM, err := os.ReadFile(n.pkiFile("ca.crt"))
	if err != nil {
		n.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		n.t.Fatal("ca.crt holds no certificate")
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1",
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				if len(certs) == 0 {
					return &tls.Certificate{}, nil
				}
				return &certs[0], nil
			},
		},
	}}
}

func (n *testNode) httpsURL(path string) string {
	return "https://127.0.0.1:" + strconv.Itoa(n.port) + path
}

// httpsGet is GET path on the HTTPS port with client.
func (n *testNode) httpsGet(client *http.Client, path string) (int, string, error) {
	resp, err := client.Get(n.httpsURL(path))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// clientCert makes a client certificate for the admin's names, signed by
// parent/parentKey, or self-signed when parent is nil.
func clientCert(t *testing.T, parent *x509.Certificate, parentKey any, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "minikubelet-admin", Organization: []string{"system:masters"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// nodeCA reads the node's CA certificate and key.
func (n *testNode) nodeCA() (*x509.Certificate, any) {
	n.t.Helper()
	certPEM, err := os.ReadFile(n.pkiFile("ca.crt"))
	if err != nil {
		n.t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(n.pkiFile("ca.key"))
	if err != nil {
		n.t.Fatal(err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		n.t.Fatal("ca.crt or ca.key is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		n.t.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		n.t.Fatal(err)
	}
	return cert, key
}

// Client certificates are required on every request to the HTTPS port,
// and only the node's CA's count: no certificate, a self-signed one and an
// expired one from the node's CA are all refused at the handshake, while
// the admin certificate of the kubeconfig is let in.
func TestKubectl_ClientCertificateRequired(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	ca, caKey := n.nodeCA()
	now := time.Now()
	admin, err := tls.LoadX509KeyPair(n.pkiFile("admin.crt"), n.pkiFile("admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		certs []tls.Certificate
		// alert is the TLS alert the server refuses with; "" for none.
		alert string
	}{
		{"no client certificate", nil, "certificate required"},
		{"self-signed client certificate", []tls.Certificate{clientCert(t, nil, nil, now.Add(-time.Hour), now.Add(time.Hour))}, "unknown certificate authority"},
		{"expired client certificate from the node's CA", []tls.Certificate{clientCert(t, ca, caKey, now.Add(-48*time.Hour), now.Add(-24*time.Hour))}, "expired certificate"},
		{"the admin certificate", []tls.Certificate{admin}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, err := n.httpsGet(n.httpsClient(tt.certs...), "/healthz")
			if tt.alert != "" {
				if err == nil {
					t.Fatalf("GET /healthz with %s: answered %d %q, want the TLS handshake refused", tt.name, code, body)
				}
				if !strings.Contains(err.Error(), "remote error: tls: "+tt.alert) {
					t.Fatalf("GET /healthz with %s: %v; want the server's TLS alert %q", tt.name, err, tt.alert)
				}
				return
			}
			if err != nil || code != http.StatusOK || body != "ok" {
				t.Fatalf("GET /healthz with the admin certificate: %d %q, %v; want 200 ok\ndaemon log tail:\n%s", code, body, err, n.logTail())
			}
		})
	}
}

// A plain HTTP request to the HTTPS port never reaches the API: Go's TLS
// server answers it 400 ("Client sent an HTTP request to an HTTPS
// server").
func TestKubectl_PlainHTTPRefused(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://127.0.0.1:" + strconv.Itoa(n.port) + "/healthz")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || string(body) == "ok" {
		t.Fatalf("plain HTTP to the HTTPS port: %s %q, want 400", resp.Status, body)
	}
}

// kubectl with the kubeconfig the daemon wrote reaches the node.
func TestKubectl_GetRawHealthz(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	if got := n.kubectlOK("get", "--raw", "/healthz"); got != "ok" {
		t.Fatalf("kubectl get --raw /healthz printed %q, want ok", got)
	}
	t.Run("the machine's kubectl", func(t *testing.T) {
		bin := machineKubectl(t)
		stdout, stderr, err := n.runKubectl(bin, "get", "--raw", "/healthz")
		if err != nil || stdout != "ok" {
			t.Fatalf("%s get --raw /healthz: %v, printed %q\nstderr:\n%s", bin, err, stdout, stderr)
		}
	})
}

// The kubeconfig and the private keys are root's only (0600); the
// kubeconfig carries its data inline, points at the node's port on
// loopback with namespace default, and its context is the node's name.
func TestKubectl_KubeconfigAndKeysPrivate(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	for _, path := range []string{n.kubeconfig, n.pkiFile("ca.key"), n.pkiFile("serving.key"), n.pkiFile("admin.key")} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", path, mode)
		}
	}
	data, err := os.ReadFile(n.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var kc struct {
		CurrentContext string `json:"current-context"`
		Clusters       []struct {
			Name    string
			Cluster map[string]any
		}
		Contexts []struct {
			Name    string
			Context struct{ Cluster, User, Namespace string }
		}
		Users []struct {
			Name string
			User map[string]any
		}
	}
	if err := yaml.Unmarshal(data, &kc); err != nil {
		t.Fatalf("kubeconfig: %v\n%s", err, data)
	}
	want := "https://127.0.0.1:" + strconv.Itoa(n.port)
	switch {
	case kc.CurrentContext != n.name || len(kc.Contexts) != 1 || kc.Contexts[0].Name != n.name:
		t.Errorf("kubeconfig context: current %q, contexts %+v; want one named %q", kc.CurrentContext, kc.Contexts, n.name)
	case kc.Contexts[0].Context.Namespace != "default":
		t.Errorf("kubeconfig namespace %q, want default", kc.Contexts[0].Context.Namespace)
	case len(kc.Clusters) != 1 || kc.Clusters[0].Cluster["server"] != want || kc.Clusters[0].Cluster["certificate-authority-data"] == nil:
		t.Errorf("kubeconfig clusters %+v, want one with server %s and the CA inline", kc.Clusters, want)
	case len(kc.Users) != 1 || kc.Users[0].User["client-certificate-data"] == nil || kc.Users[0].User["client-key-data"] == nil:
		t.Errorf("kubeconfig users %+v, want one with the certificate and key inline", kc.Users)
	}
	if t.Failed() {
		t.Logf("kubeconfig:\n%s", data)
	}
}
