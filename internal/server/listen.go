package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// Bounds every listener applies. There is no WriteTimeout and no
// http.TimeoutHandler: log -f, watch, exec, attach and port-forward stream
// for as long as the client stays.
const (
	// readHeaderTimeout cuts a client that sends its header slowly
	// (slowloris).
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes kept-alive connections nobody uses.
	idleTimeout = 90 * time.Second
	// maxHeaderBytes is Go's default, stated.
	maxHeaderBytes = 1 << 20
	// maxRequestBodyBytes is the API server's bound on a request body
	// (3 MiB); an upgraded stream is not a request body.
	maxRequestBodyBytes = 3 << 20
)

// bounds are a listener's limits.
type bounds struct {
	readHeader, idle time.Duration
	maxHeader        int
	maxBody          int64
}

func defaultBounds() bounds {
	return bounds{readHeader: readHeaderTimeout, idle: idleTimeout, maxHeader: maxHeaderBytes, maxBody: maxRequestBodyBytes}
}

// newHTTPServer is the http.Server every listener uses, with the default
// bounds and Go's own errors (TLS handshakes refused, ...) logged at debug.
func newHTTPServer(h http.Handler, log *zap.Logger) *http.Server {
	return newBoundedServer(h, log, defaultBounds())
}

func newBoundedServer(h http.Handler, log *zap.Logger, b bounds) *http.Server {
	return &http.Server{
		Handler:           limitBody(h, b.maxBody),
		ReadHeaderTimeout: b.readHeader,
		IdleTimeout:       b.idle,
		MaxHeaderBytes:    b.maxHeader,
		ErrorLog:          errorLog(log),
		// No HTTP/2: SPDY upgrades need HTTP/1.1.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
}

// errorLog hands Go's server errors to log at debug: a client refused at
// the TLS handshake is no news for the operator.
func errorLog(l *zap.Logger) *log.Logger {
	std, err := zap.NewStdLogAt(l, zap.DebugLevel)
	if err != nil {
		return zap.NewStdLog(l)
	}
	return std
}

// limitBody bounds every request body to n bytes.
func limitBody(h http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		h.ServeHTTP(w, r)
	})
}

// serve serves srv on each listener until ctx ends or one fails, then
// shuts it down and waits for every Serve to return.
func serve(ctx context.Context, srv *http.Server, what string, listeners ...net.Listener) error {
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errc <- srv.Serve(l) }()
	}
	var failed error
	select {
	case err := <-errc:
		failed = fmt.Errorf("serve %s: %w", what, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	remaining := len(listeners)
	if failed != nil {
		remaining--
	}
	for range remaining {
		<-errc
	}
	if failed != nil {
		return failed
	}
	return err
}
