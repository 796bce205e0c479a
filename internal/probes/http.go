package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// maxRedirects is how many same-host redirects an httpGet probe follows, as
// Go's and the kubelet's default.
const maxRedirects = 10

// tlsHandshakeTimeout is the transport default the kubelet's prober gets
// from apimachinery's SetTransportDefaults.
const tlsHandshakeTimeout = 10 * time.Second

// NewHTTPClient returns the client of httpGet lifecycle hooks, with the
// transport and redirect rules of httpGet probes: no proxy, no
// keep-alives, certificates not checked, redirects followed to the same
// host only. It has no timeout: the request's context bounds it.
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: newTransport(), CheckRedirect: sameHostRedirects}
}

// newTransport is the one place that builds the transport of the daemon's
// HTTP requests into pods, httpGet probes' and hooks' alike.
func newTransport() *http.Transport {
	dialer := &net.Dialer{}
	return &http.Transport{
		Proxy: nil, // requests into pods never go through the node's proxy
		DialContext: func(ctx context.Context, _, address string) (net.Conn, error) {
			return dialProbe(ctx, dialer, address)
		},
		// As the kubelet's prober and its lifecycle handlers (the
		// insecureContainerLifecycleHTTPClient of pkg/kubelet/kubelet.go):
		// an HTTPS probe or hook skips certificate checks, because nothing
		// tells the node what a pod's certificate should be. For the same
		// reason these requests must never carry credentials of the node's.
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		TLSHandshakeTimeout: tlsHandshakeTimeout,
		DisableKeepAlives:   true,
		DisableCompression:  true,
	}
}

// httpGet runs an httpGet probe against host (the action's own, or the
// pod's IP).
func (p *prober) httpGet(ctx context.Context, a *action, host string, timeout time.Duration) outcome {
	req, err := NewHTTPGetRequest(ctx, a.httpGet, a.ports, host, p.userAgent)
	if err != nil {
		return errored(err)
	}
	client := &http.Client{
		Transport:     p.transport,
		Timeout:       timeout,
		CheckRedirect: sameHostRedirects,
	}
	res, err := client.Do(req)
	if err != nil {
		// A refused connection, a timeout, too many redirects: failures.
		return failure(clientError(err))
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

// clientError is the output of a failed request as the kubelet's prober
// shows it. http.Client marks its own timeout "(Client.Timeout exceeded
// while awaiting headers)" only when its timer has flagged it by the time
// the request returns; the request's deadline can end it first, so the
// mark is added here when the deadline ended it.
func clientError(err error) string {
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) && !strings.Contains(msg, "Client.Timeout exceeded") {
		msg += " (Client.Timeout exceeded while awaiting headers)"
	}
	return msg
}
