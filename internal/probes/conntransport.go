package probes

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// connTransport carries a plain-HTTP probe on a connection of its own,
// written, read and closed in the probing goroutine: what http.Transport
// does with keep-alives off, without the two goroutines, the connection
// pool bookkeeping and the buffers it sets up per connection. At 500
// probes a second those were a quarter of the daemon's CPU. HTTPS
// requests go to the full transport (tls).
type connTransport struct {
	dialer *net.Dialer
	tls    *http.Transport
}

func newConnTransport() *connTransport {
	return &connTransport{dialer: &net.Dialer{}, tls: newTransport()}
}

// readers are the connections' read buffers, used again probe after probe.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}

// writers are the buffers requests are written through: Request.Write
// would make a 4 KB one per probe (a fifth of the daemon's allocations
// at 250 probed pods).
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}

// writeRequest writes req to conn through a pooled buffer.
func writeRequest(req *http.Request, conn net.Conn) error {
	bw := writers.Get().(*bufio.Writer)
	defer func() {
		bw.Reset(nil)
		writers.Put(bw)
	}()
	bw.Reset(conn)
	if err := req.Write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// aLongTimeAgo is a deadline that makes pending I/O on a connection fail.
var aLongTimeAgo = time.Unix(1, 0)

// RoundTrip sends req on a new connection and returns its response, whose
// body closes the connection.
func (t *connTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return t.tls.RoundTrip(req)
	}
	ctx := req.Context()
	conn, err := dialProbe(ctx, t.dialer, hostPort(req))
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = conn.Close()
		if ctx.Err() != nil {
			// As http.Transport: a request cut short says why.
			return nil, ctx.Err()
		}
		return nil, err
	}
	out := *req
	out.Close = true // Connection: close, as with keep-alives off
	if err := writeRequest(&out, conn); err != nil {
		return fail(err)
	}
	br := readers.Get().(*bufio.Reader)
	br.Reset(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		br.Reset(nil)
		readers.Put(br)
		return fail(err)
	}
	resp.Body = &connBody{body: resp.Body, conn: conn, br: br, stop: stop, ctx: ctx}
	return resp, nil
}

// CloseIdleConnections closes the HTTPS transport's; this one keeps none.
func (t *connTransport) CloseIdleConnections() { t.tls.CloseIdleConnections() }

// hostPort is the address req goes to: its URL's host, port 80 unless said.
func hostPort(req *http.Request) string {
	port := req.URL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(req.URL.Hostname(), port)
}

// connBody is a response body that closes its connection.
type connBody struct {
	body io.ReadCloser
	conn net.Conn
	br   *bufio.Reader
	stop func() bool
	ctx  context.Context
	once sync.Once
}

func (b *connBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil {
		return n, b.ctx.Err()
	}
	return n, err
}

func (b *connBody) Close() error {
	b.once.Do(func() {
		b.stop()
		_ = b.conn.Close()
		b.br.Reset(nil)
		readers.Put(b.br)
	})
	return nil
}
