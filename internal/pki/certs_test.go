package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/yaml"
)

func ensure(t *testing.T, dir, node string, addrs []net.IP, now time.Time) (*Certs, []string) {
	t.Helper()
	c, issued, err := Ensure(dir, node, addrs, now)
	if err != nil {
		t.Fatal(err)
	}
	return c, issued
}

func TestEnsure_FirstStartMakesEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	c, issued := ensure(t, dir, "node-a", []net.IP{net.ParseIP("10.1.2.3")}, t0)
	if want := []string{"ca", "serving", "admin"}; !slices.Equal(issued, want) {
		t.Fatalf("issued %v, want %v", issued, want)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.ca.cert)

	s := c.serving.cert
	if !slices.Equal(s.DNSNames, []string{"localhost", "node-a"}) {
		t.Errorf("serving DNS sanSet %v, want localhost, node-a", s.DNSNames)
	}
	var ips []string
	for _, ip := range s.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Equal(ips, []string{"127.0.0.1", "::1", "10.1.2.3"}) {
		t.Errorf("serving IP sanSet %v, want 127.0.0.1, ::1, 10.1.2.3", ips)
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost", "node-a", "10.1.2.3"} {
		if _, err := s.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("serving certificate for %s: %v", name, err)
		}
	}
	if got := s.NotAfter.Sub(t0); got != leafLifetime {
		t.Errorf("serving certificate lasts %v, want %v", got, leafLifetime)
	}

	a := c.admin.cert
	if a.Subject.CommonName != adminUser || !slices.Equal(a.Subject.Organization, []string{adminGroup}) {
		t.Errorf("admin subject %v, want CN=%s O=%s", a.Subject, adminUser, adminGroup)
	}
	if _, err := a.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate: %v", err)
	}
	if got := c.ca.cert.NotAfter.Sub(t0); got != caLifetime || !c.ca.cert.IsCA {
		t.Errorf("CA: IsCA %v, lasts %v; want a CA for %v", c.ca.cert.IsCA, got, caLifetime)
	}

	for name, want := range map[string]os.FileMode{
		caKeyFile: 0o600, servingKeyFile: 0o600, adminKeyFile: 0o600,
		caCertFile: 0o644, servingCertFile: 0o644, adminCertFile: 0o644, ".": 0o700,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", name, got, want)
		}
	}
}

func TestEnsure_LaterStartKeepsWhatFits(t *testing.T) {
	dir := t.TempDir()
	first, _ := ensure(t, dir, "node-a", nil, t0)
	again, issued := ensure(t, dir, "node-a", nil, t0.Add(day))
	if len(issued) != 0 {
		t.Fatalf("a second start issued %v, want nothing", issued)
	}
	if again.serving.cert.SerialNumber.Cmp(first.serving.cert.SerialNumber) != 0 {
		t.Fatal("the serving certificate changed")
	}
	renamed, issued := ensure(t, dir, "node-b", nil, t0.Add(day))
	if !slices.Equal(issued, []string{"serving"}) {
		t.Fatalf("a new node name issued %v, want the serving certificate only", issued)
	}
	if !slices.Contains(renamed.serving.cert.DNSNames, "node-b") {
		t.Fatalf("serving DNS sanSet %v lack the new node name", renamed.serving.cert.DNSNames)
	}
}

func TestEnsure_UnreadableKeyIsAnError(t *testing.T) {
	dir := t.TempDir()
	ensure(t, dir, "node-a", nil, t0)
	if err := os.WriteFile(filepath.Join(dir, adminKeyFile), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Ensure(dir, "node-a", nil, t0); err == nil {
		t.Fatal("Ensure with a broken admin.key succeeded")
	}
}

func TestKubeconfig_InlineAdminCredentials(t *testing.T) {
	c, _ := ensure(t, t.TempDir(), "node-a", nil, t0)
	data, err := c.Kubeconfig("https://127.0.0.1:10260", "node-a")
	if err != nil {
		t.Fatal(err)
	}
	var kc struct {
		APIVersion     string `json:"apiVersion"`
		Kind           string `json:"kind"`
		CurrentContext string `json:"current-context"`
		Clusters       []struct {
			Name    string `json:"name"`
			Cluster struct {
				Server string `json:"server"`
				CA     string `json:"certificate-authority-data"`
			} `json:"cluster"`
		} `json:"clusters"`
		Contexts []struct {
			Name    string `json:"name"`
			Context struct {
				Cluster, User, Namespace string
			} `json:"context"`
		} `json:"contexts"`
		Users []struct {
			Name string `json:"name"`
			User struct {
				Cert string `json:"client-certificate-data"`
				Key  string `json:"client-key-data"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := yaml.Unmarshal(data, &kc); err != nil {
		t.Fatal(err)
	}
	if kc.APIVersion != "v1" || kc.Kind != "Config" || kc.CurrentContext != "node-a" ||
		len(kc.Clusters) != 1 || kc.Clusters[0].Cluster.Server != "https://127.0.0.1:10260" ||
		len(kc.Contexts) != 1 || kc.Contexts[0].Context.Namespace != "default" || kc.Contexts[0].Context.Cluster != "node-a" ||
		len(kc.Users) != 1 || kc.Users[0].Name != kc.Contexts[0].Context.User {
		t.Fatalf("kubeconfig:\n%s", data)
	}
	decode := func(s string) []byte {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := tls.X509KeyPair(decode(kc.Users[0].User.Cert), decode(kc.Users[0].User.Key)); err != nil {
		t.Fatalf("the user's inline certificate and key: %v", err)
	}
	if blk, _ := pem.Decode(decode(kc.Clusters[0].Cluster.CA)); blk == nil {
		t.Fatal("the inline CA is not PEM")
	}
}

func TestWriteKubeconfig_Mode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "kubeconfig")
	for _, mode := range []os.FileMode{0o600, 0o640} {
		if err := WriteKubeconfig(path, []byte("x"), mode, os.Getgid()); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Fatalf("mode %04o, want %04o", fi.Mode().Perm(), mode)
		}
	}
}

// servingSerial is the serial of the certificate a TLS handshake would
// present now.
func servingSerial(t *testing.T, c *Certs) string {
	t.Helper()
	cfg, err := c.ServerTLS().GetConfigForClient(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Certificates[0].Leaf.SerialNumber.String()
}

func TestRunRenewal_ReissuesWhenDueWithoutRestart(t *testing.T) {
	c, _ := ensure(t, t.TempDir(), "node-a", nil, t0)
	before := servingSerial(t, c)
	clk := clocktesting.NewFakeClock(t0)
	renewed := make(chan []string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.RunRenewal(ctx, clk, zap.NewNop(), func(issued []string) error {
			renewed <- issued
			return nil
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}()

	due := renewAt(c.serving.cert.NotBefore, c.serving.cert.NotAfter)
	// The wait is capped at a day: step a day at a time, as a real clock
	// would pass, until the renewal is due.
	for clk.Now().Before(due) {
		waitForTimer(t, clk)
		select {
		case issued := <-renewed:
			t.Fatalf("renewed %v at %v, before it was due at %v", issued, clk.Now(), due)
		default:
		}
		clk.Step(min(maxRenewalWait, due.Sub(clk.Now())))
	}
	select {
	case issued := <-renewed:
		if !slices.Equal(issued, []string{"serving", "admin"}) {
			t.Fatalf("renewed %v, want serving and admin", issued)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no renewal once due")
	}
	if servingSerial(t, c) == before {
		t.Fatal("the TLS config still presents the old serving certificate")
	}
}

// waitForTimer waits until RunRenewal armed its timer on clk.
func waitForTimer(t *testing.T, clk *clocktesting.FakeClock) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !clk.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatal("RunRenewal armed no timer")
		}
		time.Sleep(time.Millisecond)
	}
}
