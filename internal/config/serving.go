package config

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
)

// Defaults of the HTTPS port and the kubeconfig.
const (
	// DefaultPort is the HTTPS port of the Kubernetes API subset. It is
	// none of the ports a Kubernetes component listens on (the kubelet's
	// 10250, 10255 and 10248, kube-proxy's 10249 and 10256, the
	// controller managers' 10257 and 10258, the scheduler's 10259, an API
	// server's 6443), so minikubelet can run beside any of them.
	DefaultPort = 10260
	// DefaultAddress keeps the port on loopback, unlike the kubelet's
	// 0.0.0.0: the node's API is for the node's own users.
	DefaultAddress        = "127.0.0.1"
	DefaultKubeconfigPath = "/etc/minikubelet/kubeconfig"
	DefaultKubeconfigMode = "0600"
)

// Serving is minikubelet's own settings of the HTTPS port, beyond the
// kubelet's port, address and readOnlyPort.
type Serving struct {
	// KubeconfigPath is where the daemon writes the admin kubeconfig.
	KubeconfigPath string `json:"kubeconfigPath,omitempty"`
	// KubeconfigGroup is the group (name or number) that owns the
	// kubeconfig; empty for the daemon's own.
	KubeconfigGroup string `json:"kubeconfigGroup,omitempty"`
	// KubeconfigMode is the kubeconfig's mode, in octal ("0640" lets
	// KubeconfigGroup read it). Others never may: it holds an admin key.
	KubeconfigMode string `json:"kubeconfigMode,omitempty"`

	// portSet records that port was given (file or flag), so that an
	// explicit 0 turns HTTPS off instead of taking the default.
	portSet bool
}

// SetPort sets the HTTPS port explicitly: 0 turns HTTPS off.
func (c *Config) SetPort(port int32) {
	c.Port = port
	c.portSet = true
}

func (c *Config) defaultServing() {
	if c.Port == 0 && !c.portSet {
		c.Port = DefaultPort
	}
	// Once defaulted, a 0 can only have been given.
	c.portSet = false
	setString(&c.Address, DefaultAddress)
	setString(&c.KubeconfigPath, DefaultKubeconfigPath)
	setString(&c.KubeconfigMode, DefaultKubeconfigMode)
}

func (c Config) validateServing() []error {
	var errs []error
	for _, p := range []struct {
		field string
		port  int32
	}{{"port", c.Port}, {"readOnlyPort", c.ReadOnlyPort}} {
		if p.port < 0 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("%s: must be between 0 (off) and 65535, got %d", p.field, p.port))
		}
	}
	if c.Port != 0 && c.Port == c.ReadOnlyPort {
		errs = append(errs, fmt.Errorf("readOnlyPort: must differ from port (%d)", c.Port))
	}
	if net.ParseIP(c.Address) == nil {
		errs = append(errs, fmt.Errorf("address: must be an IP address, got %q", c.Address))
	}
	if _, err := c.KubeconfigFileMode(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.KubeconfigGID(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// KubeconfigFileMode is KubeconfigMode parsed.
func (c Config) KubeconfigFileMode() (uint32, error) {
	m, err := strconv.ParseUint(c.KubeconfigMode, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("kubeconfigMode: must be an octal file mode such as 0600, got %q", c.KubeconfigMode)
	}
	if m&0o007 != 0 {
		return 0, fmt.Errorf("kubeconfigMode: %q lets every user read or change the admin credentials; give group access with kubeconfigGroup and a mode such as 0640", c.KubeconfigMode)
	}
	return uint32(m), nil
}

// KubeconfigGID is the group id KubeconfigGroup names, -1 when empty.
func (c Config) KubeconfigGID() (int, error) {
	if c.KubeconfigGroup == "" {
		return -1, nil
	}
	if gid, err := strconv.Atoi(c.KubeconfigGroup); err == nil && gid >= 0 {
		return gid, nil
	}
	g, err := user.LookupGroup(c.KubeconfigGroup)
	if err != nil {
		return -1, fmt.Errorf("kubeconfigGroup: %w", err)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return -1, fmt.Errorf("kubeconfigGroup %q: group id %q is not a number", c.KubeconfigGroup, g.Gid)
	}
	return gid, nil
}

// portGiven reports whether the decoded configuration document names
// port, whatever its value.
func portGiven(doc map[string]any) bool {
	_, ok := doc["port"]
	return ok
}
