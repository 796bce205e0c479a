package pki

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// The kubeconfig's shape, as client-go's clientcmd/api/v1 writes it (only
// the fields used here; the daemon does not depend on client-go).
type kubeconfig struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Clusters       []namedCluster `json:"clusters"`
	Contexts       []namedContext `json:"contexts"`
	CurrentContext string         `json:"current-context"`
	Users          []namedUser    `json:"users"`
	Preferences    struct{}       `json:"preferences"`
}

type namedCluster struct {
	Name    string  `json:"name"`
	Cluster cluster `json:"cluster"`
}

type cluster struct {
	Server                   string `json:"server"`
	CertificateAuthorityData []byte `json:"certificate-authority-data"`
}

type namedContext struct {
	Name    string      `json:"name"`
	Context kubeContext `json:"context"`
}

type kubeContext struct {
	Cluster   string `json:"cluster"`
	User      string `json:"user"`
	Namespace string `json:"namespace"`
}

type namedUser struct {
	Name string   `json:"name"`
	User authInfo `json:"user"`
}

type authInfo struct {
	ClientCertificateData []byte `json:"client-certificate-data"`
	ClientKeyData         []byte `json:"client-key-data"`
}

// Kubeconfig renders the admin kubeconfig for server (https://host:port):
// the CA, the admin certificate and its key inline, one cluster and one
// context named name (the node's), namespace default.
func (c *Certs) Kubeconfig(server, name string) ([]byte, error) {
	c.mu.Lock()
	ca, admin := c.ca.certPEM, c.admin
	c.mu.Unlock()
	cfg := kubeconfig{
		APIVersion:     "v1",
		Kind:           "Config",
		Clusters:       []namedCluster{{Name: name, Cluster: cluster{Server: server, CertificateAuthorityData: ca}}},
		Contexts:       []namedContext{{Name: name, Context: kubeContext{Cluster: name, User: adminUser, Namespace: "default"}}},
		CurrentContext: name,
		Users:          []namedUser{{Name: adminUser, User: authInfo{ClientCertificateData: admin.certPEM, ClientKeyData: admin.keyPEM}}},
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("render kubeconfig: %w", err)
	}
	return data, nil
}

// WriteKubeconfig writes data to path atomically with mode, owned by
// group gid (negative: the daemon's own group), making its directory.
func WriteKubeconfig(path string, data []byte, mode os.FileMode, gid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return writeFileAtomic(path, data, mode, gid)
}
