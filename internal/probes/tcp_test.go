package probes

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"
)

func TestTCP_ConnectSucceedsRefusedFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		if c, err := l.Accept(); err == nil {
			_ = c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	p := newProber(nil, userAgent)
	if out := p.tcp(context.Background(), "127.0.0.1", port, time.Second); out.result != Success || out.err != nil {
		t.Fatalf("listening port: %+v", out)
	}
	<-accepted
	_ = l.Close()
	out := p.tcp(context.Background(), "127.0.0.1", port, time.Second)
	want := "dial tcp 127.0.0.1:" + strconv.Itoa(port) + ": connect: connection refused"
	if out.result != Failure || out.output != want {
		t.Fatalf("closed port: %+v, want failure %q", out, want)
	}
}
