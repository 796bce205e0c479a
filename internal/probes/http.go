package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxRedirects is how many same-host redirects an httpGet probe follows, as
// Go's and the kubelet's default.
const maxRedirects = 10

// tlsHandshakeTimeout is the transport default the kubelet's prober gets
// from apimachinery's SetTransportDefaults.
const tlsHandshakeTimeout = 10 * time.Second

func newTransport() *http.Transport {
	dialer := &net.Dialer{}
	return &http.Transport{
		Proxy: nil, // probes never go through the node's proxy
		DialContext: func(ctx context.Context, _, address string) (net.Conn, error) {
			return dialProbe(ctx, dialer, address)
		},
		// As the kubelet: probes do not check the pod's certificate.
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		TLSHandshakeTimeout: tlsHandshakeTimeout,
		DisableKeepAlives:   true,
		DisableCompression:  true,
	}
}

// httpGet runs an httpGet probe against host.
func (p *prober) httpGet(ctx context.Context, a *action, host string, timeout time.Duration) outcome {
	u := probeURL(a.scheme, host, a.port, a.path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return errored(err)
	}
	req.Header = a.headers.Clone()
	req.Host = req.Header.Get("Host")
	client := &http.Client{
		Transport:     p.transport,
		Timeout:       timeout,
		CheckRedirect: sameHostRedirects,
	}
	res, err := client.Do(req)
	if err != nil {
		// A refused connection, a timeout, too many redirects: failures.
		return failure(err.Error())
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxOutputLength))
	if err != nil {
		return errored(fmt.Errorf("read response body: %w", err))
	}
	if res.StatusCode >= http.StatusOK && res.StatusCode < http.StatusBadRequest {
		if res.StatusCode >= http.StatusMultipleChoices {
			// Only a redirect to another host gets here.
			return warning(fmt.Sprintf("Probe terminated redirects, Response body: %s", body))
		}
		return success()
	}
	// The kubelet keeps the body out of this message (kubernetes issue 99425).
	return failure(fmt.Sprintf("HTTP probe failed with statuscode: %d", res.StatusCode))
}

// probeURL builds an httpGet probe's URL. A path that does not parse is
// passed on as it is, as the kubelet does.
func probeURL(scheme, host string, port int, path string) *url.URL {
	u, err := url.Parse(path)
	if err != nil {
		u = &url.URL{Path: path}
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))
	return u
}

// sameHostRedirects follows redirects to the probed host only; a redirect
// elsewhere ends the probe with the redirect response, which the kubelet
// counts as a success with a warning.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= maxRedirects {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}
