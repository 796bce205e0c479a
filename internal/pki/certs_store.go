package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// Certs is the node's PKI as loaded or made by Ensure. It is safe for
// concurrent use: TLS handshakes read the serving certificate while
// RunRenewal replaces it.
type Certs struct {
	dir      string
	nodeName string
	sans     sanSet

	mu      sync.Mutex
	ca      *keyPair
	serving *keyPair
	admin   *keyPair
	tls     *tls.Config
}

// Ensure loads the PKI in dir, making the directory, the CA and the
// certificates that are missing, and reissuing those due at now or that no
// longer fit (renewal.go). addresses are the addresses the HTTPS port is
// bound to, for the serving certificate's sanSet. It returns what it issued.
func Ensure(dir, nodeName string, addresses []net.IP, now time.Time) (*Certs, []string, error) {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, nil, fmt.Errorf("create PKI directory: %w", err)
	}
	// The directory holds private keys: tighten one made by an older run.
	if err := os.Chmod(dir, dirMode); err != nil {
		return nil, nil, fmt.Errorf("restrict PKI directory: %w", err)
	}
	c := &Certs{dir: dir, nodeName: nodeName, sans: servingSANs(nodeName, addresses)}
	var err error
	if c.ca, err = loadOptional(dir, caCertFile, caKeyFile); err != nil {
		return nil, nil, err
	}
	if c.serving, err = loadOptional(dir, servingCertFile, servingKeyFile); err != nil {
		return nil, nil, err
	}
	if c.admin, err = loadOptional(dir, adminCertFile, adminKeyFile); err != nil {
		return nil, nil, err
	}
	issued, err := c.renew(now)
	if err != nil {
		return nil, nil, err
	}
	return c, issued, nil
}

// loadOptional loads a key pair, nil when either file is missing. A file
// that exists but does not parse is an error: the operator must look
// (remove the pki directory to start anew).
func loadOptional(dir, certFile, keyFile string) (*keyPair, error) {
	kp, err := loadKeyPair(dir, certFile, keyFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load PKI (remove %s to make a new one): %w", dir, err)
	}
	return kp, nil
}

// renewDue reissues what is due at now, and returns what it issued.
func (c *Certs) renewDue(now time.Time) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renew(now)
}

func (c *Certs) renew(now time.Time) ([]string, error) {
	plan := decideIssuance(now, certOf(c.ca), certOf(c.serving), certOf(c.admin), c.sans)
	if plan.CA {
		ca, err := newCA(now, caLifetime)
		if err != nil {
			return nil, err
		}
		if err := ca.save(c.dir, caCertFile, caKeyFile); err != nil {
			return nil, err
		}
		c.ca = ca
	}
	if plan.Serving {
		kp, err := newServing(c.ca, c.nodeName, c.sans, now, leafLifetime)
		if err != nil {
			return nil, err
		}
		if err := kp.save(c.dir, servingCertFile, servingKeyFile); err != nil {
			return nil, err
		}
		c.serving = kp
	}
	if plan.Admin {
		kp, err := newClient(c.ca, adminUser, []string{adminGroup}, now, leafLifetime)
		if err != nil {
			return nil, err
		}
		if err := kp.save(c.dir, adminCertFile, adminKeyFile); err != nil {
			return nil, err
		}
		c.admin = kp
	}
	if plan.any() || c.tls == nil {
		c.tls = c.buildTLS()
	}
	return plan.names(), nil
}

func certOf(kp *keyPair) *x509.Certificate {
	if kp == nil {
		return nil
	}
	return kp.cert
}

// nextRenewal is when the first certificate is due.
func (c *Certs) nextRenewal() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := renewAt(c.ca.cert.NotBefore, c.ca.cert.NotAfter)
	for _, kp := range []*keyPair{c.serving, c.admin} {
		if at := renewAt(kp.cert.NotBefore, kp.cert.NotAfter); at.Before(next) {
			next = at
		}
	}
	return next
}

// buildTLS is the server side of the HTTPS port: the current serving
// certificate, and a client certificate the node's CA signed required on
// every connection.
func (c *Certs) buildTLS() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(c.ca.cert)
	serving := &tls.Certificate{
		Certificate: [][]byte{c.serving.cert.Raw},
		PrivateKey:  c.serving.key,
		Leaf:        c.serving.cert,
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		Certificates: []tls.Certificate{*serving},
		// HTTP/2 is left out: SPDY upgrades (exec, attach, port-forward)
		// need HTTP/1.1, as the kubelet's streaming server.
		NextProtos: []string{"http/1.1"},
	}
}

// ServerTLS is the tls.Config of the HTTPS port. It picks the current
// certificate and CA at each handshake, so a renewal takes effect
// without a restart.
func (c *Certs) ServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.tls, nil
		},
	}
}

// Dir is the directory the PKI lives in.
func (c *Certs) Dir() string { return c.dir }
