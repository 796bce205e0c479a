package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// The probe floor is the least any node agent pays for the footprint's
// probes: this same bench binary, run with -probe-floor, makes exactly
// them (per pod, one httpGet and one tcpSocket probe a second, each on a
// new connection, against the pods' own addresses) and nothing else, in
// the fewest steps: dial, write, read, close (no HTTP client machinery). Its
// CPU over the footprint's window is the floor of the daemon's.
//
// The relist floor is the two CRI list calls that list a node's sandboxes
// and containers, timed alone.

const (
	probeFloorPeriod  = time.Second
	probeFloorTimeout = time.Second
	relistFloorReps   = 20
)

// runProbeFloor probes targets (host:port, comma-separated) until SIGTERM.
func runProbeFloor(targets string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var wg sync.WaitGroup
	for _, addr := range strings.Split(targets, ",") {
		if addr == "" {
			continue
		}
		// Keep-alives off, as the kubelet's prober: every probe its own
		// connection, the request saying Connection: close.
		req := []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: kube-probe/1.31\r\nAccept: */*\r\nConnection: close\r\n\r\n")
		wg.Add(2)
		go func() { defer wg.Done(); every(ctx, func() { httpFloorProbe(ctx, addr, req) }) }()
		go func() { defer wg.Done(); every(ctx, func() { tcpFloorProbe(ctx, addr) }) }()
	}
	wg.Wait()
	return nil
}

// every runs probe each period, starting at a random point of the first
// (the kubelet's probe workers start with such a jitter).
func every(ctx context.Context, probe func()) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(rand.N(probeFloorPeriod)):
	}
	t := time.NewTicker(probeFloorPeriod)
	defer t.Stop()
	for {
		probe()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// httpFloorProbe makes one httpGet probe: it writes the request on a new
// connection, reads the response and its body, and closes.
func httpFloorProbe(ctx context.Context, addr string, req []byte) {
	conn, err := dialFloor(ctx, addr)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(probeFloorTimeout))
	if _, err := conn.Write(req); err != nil {
		return
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	resp.Body.Close()
}

func tcpFloorProbe(ctx context.Context, addr string) {
	if conn, err := dialFloor(ctx, addr); err == nil {
		conn.Close()
	}
}

// dialFloor connects as the kubelet's probe dialer does: SO_LINGER of one
// second, so that the probes leave no sockets in TIME_WAIT.
func dialFloor(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: probeFloorTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(1)
	}
	return conn, nil
}

// probeFloor is a running probe floor process.
type probeFloor struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProbeFloor runs this binary with -probe-floor against the fleet
// pods' addresses, as the daemon probes them.
func startProbeFloor(ctx context.Context, d *daemon) (*probeFloor, int, error) {
	pods, err := d.pods(ctx)
	if err != nil {
		return nil, 0, err
	}
	var targets []string
	for i := range pods {
		if p := &pods[i]; strings.HasPrefix(p.Name, fleetPrefix) && p.Status.PodIP != "" {
			targets = append(targets, net.JoinHostPort(p.Status.PodIP, strconv.Itoa(httpPort)))
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(self, "-probe-floor", strings.Join(targets, ","))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start the probe floor: %w", err)
	}
	f := &probeFloor{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(f.done) }()
	return f, len(targets), nil
}

func (f *probeFloor) pid() int { return f.cmd.Process.Pid }

// stop ends the floor and waits for it.
func (f *probeFloor) stop() {
	f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
		f.cmd.Process.Kill()
		<-f.done
	}
}

// relistFloor times the two CRI list calls of a relist of node's sandboxes
// and containers, alone, reps times.
func relistFloor(ctx context.Context, rt *runtime.Client, node string) *samples {
	selector := map[string]string{runtime.LabelManaged: "true", runtime.LabelNode: node}
	s := &samples{}
	for range relistFloorReps {
		t0 := time.Now()
		if _, err := rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: selector}); err != nil {
			return missing(err.Error())
		}
		if _, err := rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: selector}); err != nil {
			return missing(err.Error())
		}
		s.values = append(s.values, time.Since(t0).Seconds()*1000)
	}
	return s
}
