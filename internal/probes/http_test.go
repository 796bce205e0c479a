package probes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// serverAddr returns the host and port of an httptest server.
func serverAddr(t *testing.T, s *httptest.Server) (string, int) {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), port
}

// httpAction is an httpGet action for path on port, as newAction makes it.
func httpAction(scheme v1.URIScheme, path string, port int, headers ...v1.HTTPHeader) *action {
	a := newAction(&v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{
		Path: path, Port: intstr.FromInt(port), Scheme: scheme, HTTPHeaders: headers,
	}}}, &v1.Container{})
	return &a
}

func TestHTTPGet(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		_, _ = w.Write([]byte("fine"))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("secret body"))
	})
	mux.HandleFunc("/notfound", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/399", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(399) })
	mux.HandleFunc("/local-redirect", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/ok")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/local-redirect-to-fail", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/fail")
		w.WriteHeader(http.StatusMovedPermanently)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/loop")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://elsewhere.invalid/healthz")
		w.WriteHeader(http.StatusFound)
		_, _ = w.Write([]byte("moved"))
	})
	mux.HandleFunc("/elsewhere-big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://elsewhere.invalid/healthz")
		w.WriteHeader(http.StatusTemporaryRedirect)
		_, _ = w.Write([]byte(strings.Repeat("x", 20<<10)))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host, port := serverAddr(t, srv)
	p := newProber(nil, userAgent)

	for _, tc := range []struct {
		path        string
		wantResult  Result
		wantOutput  string // contained
		wantWarning string
	}{
		{"/ok", Success, "", ""},
		{"/fail", Failure, "HTTP probe failed with statuscode: 503", ""},
		{"/notfound", Failure, "HTTP probe failed with statuscode: 404", ""},
		{"/399", Success, "", "Probe terminated redirects, Response body: "},
		{"/local-redirect", Success, "", ""},
		{"/local-redirect-to-fail", Failure, "HTTP probe failed with statuscode: 503", ""},
		{"/loop", Failure, "stopped after 10 redirects", ""},
		{"/elsewhere", Success, "", "Probe terminated redirects, Response body: moved"},
	} {
		out := p.httpGet(context.Background(), httpAction("", tc.path, port), host, time.Second)
		if out.err != nil || out.result != tc.wantResult || !strings.Contains(out.output, tc.wantOutput) || out.warning != tc.wantWarning {
			t.Errorf("GET %s: %+v; want %v, output %q, warning %q", tc.path, out, tc.wantResult, tc.wantOutput, tc.wantWarning)
		}
	}

	// The body is read up to 10 KiB.
	out := p.httpGet(context.Background(), httpAction("", "/elsewhere-big", port), host, time.Second)
	if want := "Probe terminated redirects, Response body: " + strings.Repeat("x", maxOutputLength); out.result != Success || out.warning != want {
		t.Errorf("big redirect body: result %v, warning of %d bytes, want %d", out.result, len(out.warning), len(want))
	}

	// Headers: the kubelet's User-Agent and Accept, the probe's own headers,
	// a Host header as the request's host, no keep-alive.
	mu.Lock()
	seen = nil
	mu.Unlock()
	out = p.httpGet(context.Background(), httpAction("HTTP", "/ok?x=1", port,
		v1.HTTPHeader{Name: "X-Custom", Value: "a"},
		v1.HTTPHeader{Name: "X-Custom", Value: "b"},
		v1.HTTPHeader{Name: "Host", Value: "app.example.com"},
	), host, time.Second)
	if out.result != Success {
		t.Fatalf("GET /ok with headers: %+v", out)
	}
	mu.Lock()
	r := seen[0]
	mu.Unlock()
	if got := r.Header.Get("User-Agent"); got != "kube-probe/1.37" {
		t.Errorf("User-Agent = %q, want kube-probe/1.37", got)
	}
	if got := r.Header.Get("Accept"); got != "*/*" {
		t.Errorf("Accept = %q, want */*", got)
	}
	if got := r.Header.Values("X-Custom"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("X-Custom = %q, want [a b]", got)
	}
	if r.Host != "app.example.com" {
		t.Errorf("Host = %q, want app.example.com", r.Host)
	}
	if r.URL.RawQuery != "x=1" {
		t.Errorf("query = %q, want x=1", r.URL.RawQuery)
	}
	if !r.Close {
		t.Errorf("the probe asked for keep-alive; the kubelet's probes close every connection")
	}
	if got := r.Header.Get("Accept-Encoding"); got != "" {
		t.Errorf("Accept-Encoding = %q, want none (compression off)", got)
	}
}

func TestHTTPGet_HTTPSSkipsCertificateChecks(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS() // a self-signed certificate
	defer srv.Close()
	host, port := serverAddr(t, srv)
	p := newProber(nil, userAgent)
	if out := p.httpGet(context.Background(), httpAction(v1.URISchemeHTTPS, "/", port), host, time.Second); out.result != Success {
		t.Fatalf("HTTPS probe of a self-signed server: %+v", out)
	}
	// Plain HTTP against the TLS port fails with a 400 from Go's server.
	if out := p.httpGet(context.Background(), httpAction(v1.URISchemeHTTP, "/", port), host, time.Second); out.result != Failure {
		t.Fatalf("HTTP probe of a TLS server: %+v", out)
	}
}

func TestHTTPGet_TimeoutAndRefusedAreFailures(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	host, port := serverAddr(t, srv)
	p := newProber(nil, userAgent)
	out := p.httpGet(context.Background(), httpAction("", "/", port), host, 100*time.Millisecond)
	if out.result != Failure || !strings.Contains(out.output, "Client.Timeout exceeded") {
		t.Errorf("slow server: %+v; want a failure saying Client.Timeout exceeded", out)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	out = p.httpGet(context.Background(), httpAction("", "/healthz", closedPort), "127.0.0.1", time.Second)
	want := `Get "http://127.0.0.1:` + strconv.Itoa(closedPort) + `/healthz": dial tcp 127.0.0.1:` + strconv.Itoa(closedPort) + `: connect: connection refused`
	if out.result != Failure || out.output != want {
		t.Errorf("closed port: %+v; want failure %q", out, want)
	}
}

func TestSameHostRedirects(t *testing.T) {
	req := func(u string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, u, nil)
		return r
	}
	first := []*http.Request{req("http://10.0.0.1:8080/a")}
	if err := sameHostRedirects(req("http://10.0.0.1:9090/b"), first); err != nil {
		t.Errorf("same host, other port: %v, want followed", err)
	}
	if err := sameHostRedirects(req("http://10.0.0.2:8080/b"), first); err != http.ErrUseLastResponse {
		t.Errorf("other host: %v, want ErrUseLastResponse", err)
	}
	via := make([]*http.Request, 10)
	for i := range via {
		via[i] = first[0]
	}
	if err := sameHostRedirects(req("http://10.0.0.1:8080/c"), via); err == nil {
		t.Errorf("11th redirect followed")
	}
}

// A request its deadline ended says so in the kubelet's words whichever of
// http.Client's two timers noticed first.
func TestClientError_MarksATimeoutOnce(t *testing.T) {
	deadline := &url.Error{Op: "Get", URL: "http://10.0.0.1/", Err: context.DeadlineExceeded}
	want := `Get "http://10.0.0.1/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
	if got := clientError(deadline); got != want {
		t.Errorf("clientError(deadline) = %q, want %q", got, want)
	}
	marked := errors.New(want)
	if got := clientError(fmt.Errorf("%w", &url.Error{Op: "Get", URL: "http://10.0.0.1/", Err: fmt.Errorf("%s: %w", "x", context.DeadlineExceeded)})); !strings.HasSuffix(got, "(Client.Timeout exceeded while awaiting headers)") {
		t.Errorf("a wrapped deadline is not marked: %q", got)
	}
	if got := clientError(marked); got != want {
		t.Errorf("an error already marked is marked again: %q", got)
	}
	refused := &url.Error{Op: "Get", URL: "http://10.0.0.1/", Err: errors.New("connect: connection refused")}
	if got := clientError(refused); strings.Contains(got, "Client.Timeout") {
		t.Errorf("a refused connection is marked as a timeout: %q", got)
	}
}
