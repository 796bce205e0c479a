package volumes

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
)

// FileKeyValue is the value of an env.valueFrom.fileKeyRef: the key's value
// in an env file of an emptyDir volume, read when the container is created
// (an init container typically writes the file). found is false when the
// selector is optional and the file or the key is missing: as the kubelet,
// the variable is then not set. A file that does not parse is an error
// even then.
func FileKeyValue(vols Volumes, ref *v1.FileKeySelector) (value string, found bool, err error) {
	optional := ref.Optional != nil && *ref.Optional
	vol, ok := vols[ref.VolumeName]
	if !ok {
		return "", false, fmt.Errorf("fileKeyRef: no volume %q", ref.VolumeName)
	}
	where := fmt.Sprintf("env file %q of volume %q", ref.Path, ref.VolumeName)
	f, err := openInRoot(vol.Path, ref.Path)
	if errors.Is(err, fs.ErrNotExist) && optional {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", where, err)
	}
	defer f.Close()
	env, err := parseEnvFile(f)
	if err != nil {
		return "", false, fmt.Errorf("parse %s: %w", where, err)
	}
	value, found = env[ref.Key]
	if !found && !optional {
		return "", false, fmt.Errorf("key %q not found in %s", ref.Key, where)
	}
	return value, found, nil
}

// openInRoot opens rel inside root, resolving every symlink as if root were
// "/": a link the pod's containers wrote cannot make the daemon read a file
// of the node.
func openInRoot(root, rel string) (*os.File, error) {
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, rel, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: rel, Err: err}
	}
	return os.NewFile(uintptr(fd), rel), nil
}

// parseEnvFile reads an env file as the kubelet's ParseEnv
// (pkg/kubelet/util/env/env_util.go, v1.35) does: leading whitespace, blank
// lines and lines starting with '#' are ignored; each variable is VAR=VAL
// with the whitespace around '=' and at the end of the line ignored; a
// backslash ending a line continues the value on the next line, joined
// with one space, and a blank line or comment may not interrupt it. A value
// in single quotes is taken as written between them (the quoted form the
// Kubernetes documentation writes since v1.35). A later line for the same
// key wins.
func parseEnvFile(r io.Reader) (map[string]string, error) {
	env := map[string]string{}
	sc := bufio.NewScanner(r)
	var key string
	var parts []string
	continuing := false
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if continuing {
			if text == "" || strings.HasPrefix(text, "#") {
				return nil, fmt.Errorf("line %d: the value of %s continues into a blank line or comment", line, key)
			}
			continuing = strings.HasSuffix(text, `\`)
			parts = append(parts, strings.TrimSuffix(text, `\`))
			if !continuing {
				env[key] = unquote(strings.Join(parts, " "))
			}
			continue
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, v, ok := strings.Cut(text, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: want VAR=VALUE", line)
		}
		v = strings.TrimSpace(v)
		if strings.HasSuffix(v, `\`) {
			key, parts, continuing = k, []string{strings.TrimSpace(strings.TrimSuffix(v, `\`))}, true
			continue
		}
		env[k] = unquote(v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if continuing {
		return nil, fmt.Errorf("the value of %s continues past the end of the file", key)
	}
	return env, nil
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	return v
}
