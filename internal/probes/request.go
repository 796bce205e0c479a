package probes

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The kubelet builds the request of an httpGet probe and of an httpGet
// lifecycle hook with the same code (pkg/probe/http/request.go), and
// resolves their ports with the same helper (pkg/probe/util.go); so does
// minikubelet, here.

// kubeVersion is the Kubernetes release whose API (k8s.io/api v0.37)
// minikubelet implements; probes and hooks identify as that kubelet's do.
const kubeVersion = "1.37"

// userAgent is the User-Agent of HTTP and gRPC probes, the kubelet's
// "kube-probe/<major>.<minor>".
const userAgent = "kube-probe/" + kubeVersion

// LifecycleUserAgent is the User-Agent of httpGet lifecycle hooks (postStart,
// preStop), the kubelet's "kube-lifecycle/<major>.<minor>".
const LifecycleUserAgent = "kube-lifecycle/" + kubeVersion

// NewHTTPGetRequest returns the GET request of httpGet action get of
// container c, built as the kubelet's NewRequestForHTTPGetAction builds it
// for probes and for lifecycle hooks: scheme get.Scheme in lower case
// (http when empty), host get.Host (podIP when empty), the port ResolvePort
// gives, and the path as written (one that does not parse as a URL is
// passed on as it is). The request carries get's httpHeaders (a Host
// header sets the request's host), User-Agent userAgent unless they set
// one, and Accept */* unless they set one; an Accept set empty is left out.
// The error is ResolvePort's, or a request that cannot be made at all.
func NewHTTPGetRequest(ctx context.Context, get *v1.HTTPGetAction, c *v1.Container, podIP, userAgent string) (*http.Request, error) {
	scheme := strings.ToLower(string(get.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	host := get.Host
	if host == "" {
		host = podIP
	}
	port, err := ResolvePort(get.Port, c)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, formatURL(scheme, host, port, get.Path).String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header = requestHeaders(get.HTTPHeaders, userAgent)
	req.Host = req.Header.Get("Host")
	return req, nil
}

// ResolvePort returns the port number param names in container c, as the
// kubelet's ResolveContainerPort: a number is taken as it is, a string is
// the name of one of the container's ports (a numeric string is a name too,
// which no port has). The port must be in 1-65535. The errors are the
// kubelet's: `port "<name>" not found`, "invalid port number: <n>".
func ResolvePort(param intstr.IntOrString, c *v1.Container) (int, error) {
	port := -1
	switch param.Type {
	case intstr.Int:
		port = param.IntValue()
	case intstr.String:
		found := false
		for _, p := range c.Ports {
			if p.Name == param.StrVal {
				port, found = int(p.ContainerPort), true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("port %q not found", param.StrVal)
		}
	default:
		return port, fmt.Errorf("intOrString had no kind: %+v", param)
	}
	if port > 0 && port < 65536 {
		return port, nil
	}
	return port, fmt.Errorf("invalid port number: %v", port)
}

// formatURL builds the URL of an httpGet request. A path that does not
// parse is passed on as it is, as the kubelet does.
func formatURL(scheme, host string, port int, path string) *url.URL {
	u, err := url.Parse(path)
	if err != nil {
		u = &url.URL{Path: path}
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))
	return u
}

// requestHeaders returns the headers of an httpGet request: the action's
// own (canonicalized, repeated names kept), a User-Agent unless they set
// one, and Accept */* unless they set one; an Accept set empty is removed,
// as the kubelet does.
func requestHeaders(list []v1.HTTPHeader, userAgent string) http.Header {
	h := make(http.Header, len(list)+2)
	for _, e := range list {
		h.Add(e.Name, e.Value)
	}
	if _, ok := h["User-Agent"]; !ok {
		h.Set("User-Agent", userAgent)
	}
	if _, ok := h["Accept"]; !ok {
		h.Set("Accept", "*/*")
	} else if h.Get("Accept") == "" {
		h.Del("Accept")
	}
	return h
}
