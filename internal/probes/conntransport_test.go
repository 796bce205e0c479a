package probes

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConnTransport_EveryProbeIsANewConnectionClosedAfterIt(t *testing.T) {
	var mu sync.Mutex
	opened, closed := 0, 0
	var closeAsked []bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		closeAsked = append(closeAsked, r.Close)
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			opened++
		case http.StateClosed:
			closed++
		}
	}
	srv.Start()
	defer srv.Close()
	host, port := serverAddr(t, srv)
	p := newProber(nil, userAgent)
	for range 3 {
		if out := p.httpGet(context.Background(), httpAction("", "/", port), host, time.Second); out.result != Success {
			t.Fatalf("probe: %+v", out)
		}
	}
	srv.Close() // waits for the server's connections to be done
	mu.Lock()
	defer mu.Unlock()
	if opened != 3 || closed != 3 {
		t.Errorf("%d connections opened, %d closed for 3 probes; want 3 and 3", opened, closed)
	}
	for i, c := range closeAsked {
		if !c {
			t.Errorf("request %d did not say Connection: close", i+1)
		}
	}
}

func TestConnTransport_TimeoutSaysWhatTheKubeletSays(t *testing.T) {
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
	out := newProber(nil, userAgent).httpGet(context.Background(), httpAction("", "/", port), host, 50*time.Millisecond)
	if want := "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"; out.result != Failure || !strings.HasSuffix(out.output, want) {
		t.Errorf("slow server: %+v; want a failure ending in %q", out, want)
	}
}
