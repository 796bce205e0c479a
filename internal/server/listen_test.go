package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// startBounded serves h with b on a loopback listener until the test ends.
func startBounded(t *testing.T, h http.Handler, b bounds) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, newBoundedServer(h, zap.NewNop(), b), "test", l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return l.Addr().String()
}

func TestNewHTTPServer_Bounds(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), zap.NewNop())
	if srv.ReadHeaderTimeout != readHeaderTimeout || srv.IdleTimeout != idleTimeout || srv.MaxHeaderBytes != maxHeaderBytes {
		t.Errorf("bounds: header %v, idle %v, max header %d", srv.ReadHeaderTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	// Streams (log -f, watch, exec) must outlive any write timeout.
	if srv.WriteTimeout != 0 || srv.ReadTimeout != 0 {
		t.Errorf("WriteTimeout %v, ReadTimeout %v: streams would be cut", srv.WriteTimeout, srv.ReadTimeout)
	}
	if srv.TLSNextProto == nil || len(srv.TLSNextProto) != 0 {
		t.Error("HTTP/2 is not off: SPDY upgrades need HTTP/1.1")
	}
}

// A client that sends its header slowly (slowloris) is cut off after the
// header timeout, without an answer.
func TestServe_SlowHeaderIsCut(t *testing.T) {
	b := defaultBounds()
	b.readHeader = 100 * time.Millisecond
	addr := startBounded(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the handler ran for a request whose header never ended")
	}), b)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	// The server closes the connection; the deadline only keeps a broken
	// server from hanging the test.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := conn.Read(make([]byte, 1))
	if n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read after a slow header: %d bytes, %v; want the connection closed (EOF)", n, err)
	}
}

func TestServe_HeaderTooLarge(t *testing.T) {
	b := defaultBounds()
	b.maxHeader = 1 << 10
	addr := startBounded(t, http.NotFoundHandler(), b)
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

func TestServe_BodyBounded(t *testing.T) {
	b := defaultBounds()
	b.maxBody = 10
	got := make(chan error, 1)
	addr := startBounded(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	}), b)
	resp, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader(strings.Repeat("x", 100)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var tooLarge *http.MaxBytesError
	if err := <-got; !errors.As(err, &tooLarge) {
		t.Fatalf("reading a 100-byte body bounded to 10: %v, want http.MaxBytesError", err)
	}
}

// Streaming handlers need the connection's Hijacker (upgrades) and
// Flusher (follow, watch) through every wrapper.
func TestServe_KeepsHijackerAndFlusher(t *testing.T) {
	addr := startBounded(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the ResponseWriter is no http.Flusher")
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("the ResponseWriter is no http.Hijacker")
			return
		}
		conn, rw, err := hj.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhello")
		rw.Flush()
	}), defaultBounds())
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /x HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "hello" {
		t.Fatalf("after the upgrade: %q, want hello", rest)
	}
}
