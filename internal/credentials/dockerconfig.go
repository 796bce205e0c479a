package credentials

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Entry is one registry's credentials in a docker config file.
type Entry struct {
	Username string
	Password string
}

// entryJSON is an entry as written: username and password, or auth, the
// base64 of "username:password", which wins when both are there.
type entryJSON struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Auth     string `json:"auth,omitempty"`
}

// UnmarshalJSON reads an entry as the kubelet's DockerConfigEntry does.
func (e *Entry) UnmarshalJSON(data []byte) error {
	var raw entryJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	e.Username, e.Password = raw.Username, raw.Password
	if raw.Auth == "" {
		return nil
	}
	user, pass, err := decodeAuth(raw.Auth)
	if err != nil {
		return err
	}
	e.Username, e.Password = user, pass
	return nil
}

// decodeAuth splits the auth field: padded or unpadded base64 of
// "username:password".
func decodeAuth(field string) (string, string, error) {
	enc := base64.RawStdEncoding
	if strings.HasSuffix(strings.TrimSpace(field), "=") {
		enc = base64.StdEncoding
	}
	decoded, err := enc.DecodeString(field)
	if err != nil {
		return "", "", fmt.Errorf("auth field: %w", err)
	}
	user, pass, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return "", "", errors.New("unable to parse auth field, must be formatted as base64(username:password)")
	}
	return user, pass, nil
}

// source is one place a docker config file may be: config.json holds its
// entries under "auths", the legacy .dockercfg at the top level.
type source struct {
	path   string
	legacy bool
}

const (
	configJSONName = "config.json"
	dockercfgName  = ".dockercfg"
	// kubeletRootDir is the kubelet's default root directory, its preferred
	// place for config.json: credentials set up for a kubelet on this node
	// keep working.
	kubeletRootDir = "/var/lib/kubelet"
)

// searchPath is where the kubelet looks for a docker config, in order
// (DefaultDockerConfigJSONPaths, then DefaultDockercfgPaths in
// pkg/credentialprovider/config.go), with the daemon's root directory as
// the preferred path the kubelet's root directory is to it, and the
// kubelet's own root directory after it. file, when set, comes first.
func searchPath(file, rootDir, home string) []source {
	var out []source
	if file != "" {
		out = append(out, source{path: file})
	}
	dirs := []string{rootDir, kubeletRootDir, ""}
	for _, d := range append(dirs, filepath.Join(home, ".docker"), "/.docker") {
		out = append(out, source{path: filepath.Join(d, configJSONName)})
	}
	for _, d := range append(dirs, home, "/") {
		out = append(out, source{path: filepath.Join(d, dockercfgName), legacy: true})
	}
	return out
}

// readSource reads one docker config file; a missing file is an error
// os.IsNotExist recognises.
func readSource(s source) (map[string]Entry, error) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	if s.legacy {
		var entries map[string]Entry
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, fmt.Errorf("read %s: %w", s.path, err)
		}
		return entries, nil
	}
	var cfg struct {
		Auths map[string]Entry `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path, err)
	}
	return cfg.Auths, nil
}
