package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/term"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// remoteCommandV4 is the exec/attach protocol the CLI speaks, the newest
// SPDY one: channels as SPDY streams named by a streamType header, the
// outcome as a metav1.Status on the error stream, resize as JSON.
const remoteCommandV4 = "v4.channel.k8s.io"

// streamIO is the local side of an exec or attach.
type streamIO struct {
	stdin          io.Reader // nil for none
	stdout, stderr io.Writer
	tty            bool
	// resize, when tty, gives the terminal's size at once and on every
	// change, and is closed at the end.
	resize <-chan terminalSize
}

// terminalSize is a resize message, as the kubelet's TerminalSize.
type terminalSize struct {
	Width  uint16
	Height uint16
}

// dialStream upgrades a request to the daemon's API socket to SPDY/3.1
// speaking remoteCommandV4, as kubectl does over TCP.
func dialStream(ctx context.Context, socket, path string) (httpstream.Connection, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the minikubelet daemon at %s: is it running? (%w)", socket, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://minikubelet"+path, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "SPDY/3.1")
	req.Header.Set("X-Stream-Protocol-Version", remoteCommandV4)
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("send the stream request: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read the stream answer: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		conn.Close()
		return nil, fmt.Errorf("unable to upgrade connection: %s", statusMessage(body))
	}
	if got := resp.Header.Get("X-Stream-Protocol-Version"); got != remoteCommandV4 {
		conn.Close()
		return nil, fmt.Errorf("the daemon's runtime speaks %q, not %s", got, remoteCommandV4)
	}
	return spdy.NewClientConnection(&bufferedConn{Conn: conn, r: br})
}

// bufferedConn reads what the response's reader already buffered first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// statusMessage is the message of a metav1.Status answer, or the answer.
func statusMessage(body []byte) string {
	var st metav1.Status
	if json.Unmarshal(body, &st) == nil && st.Message != "" {
		return st.Message
	}
	return string(body)
}

// runStream carries an exec or attach over conn, as client-go's
// remotecommand v4 does: the error stream first, then the data streams,
// and the outcome from the error stream once the output is copied. A
// command that exits non-zero gives an *exitError with its code.
func runStream(conn httpstream.Connection, sio streamIO) error {
	defer conn.Close()
	create := func(streamType string) (httpstream.Stream, error) {
		h := http.Header{}
		h.Set(v1.StreamType, streamType)
		s, err := conn.CreateStream(h)
		if err != nil {
			return nil, fmt.Errorf("create the %s stream: %w", streamType, err)
		}
		return s, nil
	}
	errStream, err := create(v1.StreamTypeError)
	if err != nil {
		return err
	}
	outcome := make(chan error, 1)
	go func() {
		msg, err := io.ReadAll(errStream)
		if err != nil {
			outcome <- fmt.Errorf("read the outcome: %w", err)
			return
		}
		outcome <- outcomeError(msg)
	}()
	if sio.stdin != nil {
		in, err := create(v1.StreamTypeStdin)
		if err != nil {
			return err
		}
		// Not waited for: a terminal's reads never end.
		go func() {
			io.Copy(in, sio.stdin)
			in.Close()
		}()
	}
	var wg sync.WaitGroup
	copyOut := func(streamType string, w io.Writer) error {
		s, err := create(streamType)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			io.Copy(w, s)
		}()
		return nil
	}
	if sio.stdout != nil {
		if err := copyOut(v1.StreamTypeStdout, sio.stdout); err != nil {
			return err
		}
	}
	if sio.stderr != nil && !sio.tty {
		if err := copyOut(v1.StreamTypeStderr, sio.stderr); err != nil {
			return err
		}
	}
	if sio.tty && sio.resize != nil {
		rs, err := create(v1.StreamTypeResize)
		if err != nil {
			return err
		}
		go func() {
			enc := json.NewEncoder(rs)
			for size := range sio.resize {
				if enc.Encode(size) != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return <-outcome
}

// outcomeError reads the v4 error stream: nothing or a Success Status is
// success; NonZeroExitCode carries the exit code in a cause.
func outcomeError(msg []byte) error {
	if len(msg) == 0 {
		return nil
	}
	var st metav1.Status
	if err := json.Unmarshal(msg, &st); err != nil {
		return fmt.Errorf("error stream: %s", msg)
	}
	if st.Status == metav1.StatusSuccess {
		return nil
	}
	if st.Reason == "NonZeroExitCode" && st.Details != nil {
		for _, c := range st.Details.Causes {
			if c.Type == "ExitCode" {
				code, err := strconv.Atoi(c.Message)
				if err == nil {
					return &exitError{code: code, msg: fmt.Sprintf("command terminated with exit code %d", code)}
				}
			}
		}
	}
	return errors.New(st.Message)
}

// localTerminal puts the terminal on stdin in raw mode and reports its
// size on resize (SIGWINCH) until stop is called, which restores it.
func localTerminal(in, out *os.File) (sizes <-chan terminalSize, stop func(), err error) {
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, nil, fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	ch := make(chan terminalSize, 1)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		for {
			if w, h, err := term.GetSize(int(out.Fd())); err == nil {
				select {
				case ch <- terminalSize{Width: uint16(w), Height: uint16(h)}:
				case <-done:
					return
				}
			}
			select {
			case <-winch:
			case <-done:
				return
			}
		}
	}()
	return ch, func() {
		signal.Stop(winch)
		close(done)
		wg.Wait()
		term.Restore(int(in.Fd()), state)
	}, nil
}
