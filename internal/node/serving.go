package node

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/config"
	"github.com/minikubelet/minikubelet/internal/pki"
)

// httpsPort is the HTTPS port's PKI and kubeconfig.
type httpsPort struct {
	certs *pki.Certs
	// addr is host:port to listen on, also the other loopback address
	// when addr is loopback (best effort), server the kubeconfig's URL.
	addr, also, server string
	name               string
	path               string
	mode               os.FileMode
	gid                int
}

// newHTTPSPort loads or makes the PKI under <rootDir>/pki and writes the
// kubeconfig.
func newHTTPSPort(cfg config.Config, nodeName, hostIP string, log *zap.Logger) (*httpsPort, error) {
	mode, err := cfg.KubeconfigFileMode()
	if err != nil {
		return nil, err
	}
	gid, err := cfg.KubeconfigGID()
	if err != nil {
		return nil, err
	}
	bind := net.ParseIP(cfg.Address)
	addresses := []net.IP{bind}
	if bind.IsUnspecified() {
		// Bound to every address: the node's own must be in the SANs.
		addresses = append(addresses, net.ParseIP(hostIP))
	}
	if cfg.Address != config.DefaultAddress {
		log.Info("the HTTPS port is bound to the configured address, not the default 127.0.0.1", zap.String("address", cfg.Address), zap.Int32("port", cfg.Port))
	}
	certs, issued, err := pki.Ensure(filepath.Join(cfg.RootDir, "pki"), nodeName, addresses, time.Now())
	if err != nil {
		return nil, err
	}
	if len(issued) > 0 {
		log.Info("issued certificates", zap.Strings("certificates", issued), zap.String("dir", certs.Dir()))
	}
	port := strconv.Itoa(int(cfg.Port))
	h := &httpsPort{
		certs:  certs,
		addr:   net.JoinHostPort(cfg.Address, port),
		also:   otherLoopback(bind, port),
		server: kubeconfigServer(bind, port),
		name:   nodeName,
		path:   cfg.KubeconfigPath,
		mode:   os.FileMode(mode),
		gid:    gid,
	}
	if err := h.writeKubeconfig(); err != nil {
		return nil, err
	}
	log.Info("wrote the kubeconfig", zap.String("path", h.path), zap.String("server", h.server))
	return h, nil
}

// kubeconfig renders the admin kubeconfig.
func (h *httpsPort) kubeconfig() ([]byte, error) { return h.certs.Kubeconfig(h.server, h.name) }

func (h *httpsPort) writeKubeconfig() error {
	data, err := h.kubeconfig()
	if err != nil {
		return err
	}
	if err := pki.WriteKubeconfig(h.path, data, h.mode, h.gid); err != nil {
		return fmt.Errorf("kubeconfigPath: %w", err)
	}
	return nil
}

// runRenewal renews the certificates as they fall due, rewriting the
// kubeconfig after each renewal.
func (h *httpsPort) runRenewal(ctx context.Context, log *zap.Logger) error {
	return h.certs.RunRenewal(ctx, clock.RealClock{}, log, func([]string) error { return h.writeKubeconfig() })
}

// readOnlyAddress is where the read-only port listens: loopback only,
// whatever address the HTTPS port is bound to, since nothing there is
// authenticated.
func readOnlyAddress(port int32) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))
}

// kubeconfigServer is the kubeconfig's server URL for a port bound to
// bind: loopback when bound to every address.
func kubeconfigServer(bind net.IP, port string) string {
	host := bind.String()
	if bind.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "https://" + net.JoinHostPort(host, port)
}

// otherLoopback is the loopback address of the other family when bind is
// a loopback address ("" otherwise), so that localhost answers whichever
// its resolver gives first.
func otherLoopback(bind net.IP, port string) string {
	switch {
	case bind.Equal(net.IPv4(127, 0, 0, 1)):
		return net.JoinHostPort("::1", port)
	case bind.Equal(net.IPv6loopback):
		return net.JoinHostPort("127.0.0.1", port)
	}
	return ""
}
