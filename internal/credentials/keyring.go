package credentials

import (
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/distribution/reference"
)

// defaultRegistryHost is Docker Hub's key in docker config files
// ("https://index.docker.io/v1/" reads as it).
const defaultRegistryHost = "index.docker.io"

// keyring indexes credentials by registry location (a host, optionally
// with a path) as the kubelet's BasicDockerKeyring does.
type keyring struct {
	// index holds the locations, reverse-sorted so that a longer path of
	// the same host comes before a shorter one.
	index []string
	creds map[string][]Entry
}

// newKeyring indexes a docker config's entries. A location may carry a
// scheme and a /v1/ or /v2/ API prefix, both ignored as the docker client
// does; an entry that is not a URL is skipped.
func newKeyring(entries map[string]Entry) *keyring {
	k := &keyring{creds: map[string][]Entry{}}
	for loc, e := range entries {
		value := loc
		if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
			value = "https://" + value
		}
		u, err := url.Parse(value)
		if err != nil {
			continue
		}
		path := u.Path
		if strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v1/") {
			path = path[3:]
		}
		key := u.Host
		if path != "" && path != "/" {
			key += path
		}
		if _, seen := k.creds[key]; !seen {
			k.index = append(k.index, key)
		}
		k.creds[key] = append(k.creds[key], e)
	}
	slices.Sort(k.index)
	slices.Reverse(k.index)
	return k
}

// lookup returns the credentials to try for image, most specific location
// first; none means pulling without credentials. A location matches when
// its host matches label by label (a label may be a glob such as
// *.example.com), its port is the same and its path is a prefix of the
// image's repository. With no match, an image of Docker Hub takes Docker
// Hub's entry.
func (k *keyring) lookup(image string) []Entry {
	repo := repository(image)
	var out []Entry
	for _, key := range k.index {
		if locationMatches(key, repo) {
			out = append(out, k.creds[key]...)
		}
	}
	if len(out) == 0 && isDefaultRegistry(repo) {
		out = k.creds[defaultRegistryHost]
	}
	return out
}

// repository is the image's repository, normalized as the kubelet's
// ParseImageName does (busybox:1.35 is docker.io/library/busybox), or the
// image as written when it does not parse.
func repository(image string) string {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return image
	}
	return named.Name()
}

func locationMatches(glob, target string) bool {
	g, err := url.Parse("https://" + glob)
	if err != nil {
		return false
	}
	t, err := url.Parse("https://" + target)
	if err != nil {
		return false
	}
	gParts, gPort := splitHost(g.Host)
	tParts, tPort := splitHost(t.Host)
	if gPort != tPort || len(gParts) != len(tParts) || !strings.HasPrefix(t.Path, g.Path) {
		return false
	}
	for i, part := range gParts {
		if ok, err := filepath.Match(part, tParts[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

func splitHost(hostport string) ([]string, string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	return strings.Split(host, "."), port
}

// isDefaultRegistry reports whether repo is pulled from Docker Hub: its
// first part is docker.io or index.docker.io, or names no host (no dot,
// no port).
func isDefaultRegistry(repo string) bool {
	first, _, found := strings.Cut(repo, "/")
	if first == "" {
		return false
	}
	if !found || first == "docker.io" || first == defaultRegistryHost {
		return true
	}
	return !strings.ContainsAny(first, ".:")
}
