package sdnotify

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/status"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// listen is a NOTIFY_SOCKET for the test, as systemd's: a unixgram socket
// whose path is in $NOTIFY_SOCKET. No watchdog unless the test asks.
func listen(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "n")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	return conn
}

// next waits for the next datagram (10 s of real time at most).
func next(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("waiting for a notification: %v", err)
	}
	return string(buf[:n])
}

// queued returns the datagrams already received, without waiting: the
// Notifier's sends are synchronous, so what was sent is there.
func queued(t *testing.T, conn *net.UnixConn) []string {
	t.Helper()
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	buf := make([]byte, 4096)
	for {
		var n int
		var rerr error
		if err := raw.Read(func(fd uintptr) bool {
			n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if errors.Is(rerr, syscall.EAGAIN) {
			return out
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		out = append(out, string(buf[:n]))
	}
}

func expectNone(t *testing.T, conn *net.UnixConn, when string) {
	t.Helper()
	if got := queued(t, conn); len(got) > 0 {
		t.Fatalf("%s: sent %q, want nothing", when, got)
	}
}

// fakeProgress answers LastRelist with last, and tells asked each time.
type fakeProgress struct {
	last  atomic.Int64
	asked chan struct{}
}

func (f *fakeProgress) set(t time.Time) { f.last.Store(t.UnixNano()) }

func (f *fakeProgress) LastRelist() time.Time {
	last := time.Unix(0, f.last.Load())
	if f.asked != nil {
		f.asked <- struct{}{}
	}
	return last
}

type harness struct {
	t      *testing.T
	conn   *net.UnixConn
	clock  *clocktesting.FakeClock
	store  *status.Store
	prog   *fakeProgress
	n      *Notifier
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, conn: listen(t), clock: clocktesting.NewFakeClock(t0), store: status.NewStore(), prog: &fakeProgress{}}
	h.prog.set(t0)
	h.n = New(Config{Pods: h.store, Progress: h.prog, Clock: h.clock})
	return h
}

// run starts Run and waits for its first STATUS=, sent once its timers
// are armed.
func (h *harness) run() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		h.n.Run(ctx) //nolint:errcheck
	}()
	h.t.Cleanup(func() { h.stop() })
	if got := next(h.t, h.conn); got != "STATUS=Starting: reading the manifests" {
		h.t.Fatalf("first notification %q, want the starting STATUS=", got)
	}
}

// stop ends Run and returns what was sent since the last read.
func (h *harness) stop() []string {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	<-h.done
	h.cancel = nil
	return queued(h.t, h.conn)
}

func pod(uid, column string) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: uid, Namespace: "default", UID: types.UID(uid)},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app"}}}}
	switch column {
	case "Running":
		p.Status.Phase = v1.PodRunning
		p.Status.ContainerStatuses = []v1.ContainerStatus{{Name: "app", Ready: true, State: v1.ContainerState{Running: &v1.ContainerStateRunning{}}}}
	case "Completed":
		p.Status.Phase = v1.PodSucceeded
		p.Status.ContainerStatuses = []v1.ContainerStatus{{Name: "app", State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{Reason: "Completed"}}}}
	case "Error":
		p.Status.Phase = v1.PodFailed
		p.Status.ContainerStatuses = []v1.ContainerStatus{{Name: "app", State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}}}}
	case "CrashLoopBackOff":
		p.Status.Phase = v1.PodRunning
		p.Status.ContainerStatuses = []v1.ContainerStatus{{Name: "app", State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: column}}}}
	default:
		p.Status.Phase = v1.PodPending
		p.Status.ContainerStatuses = []v1.ContainerStatus{{Name: "app", State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: column}}}}
	}
	return p
}

func TestNotifier_ReadyOnceEveryPodOfTheFirstScanHadItsFirstStartAttempt(t *testing.T) {
	h := newHarness(t)
	a, b := pod("a", "Running"), pod("b", "ContainerCreating")
	h.store.Set(a)
	h.store.Set(b)
	h.run()
	h.n.SetDesired([]*v1.Pod{a, b})
	expectNone(t, h.conn, "first scan handed over")
	h.n.FirstSync("a")
	expectNone(t, h.conn, "one of two first start attempts")
	h.n.FirstSync("b")
	if got, want := queued(t, h.conn), []string{"READY=1\nSTATUS=2 pods: 1 running, 1 waiting: ContainerCreating"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after both first start attempts sent %q, want %q", got, want)
	}
	h.n.FirstSync("b")
	h.n.SetDesired([]*v1.Pod{a})
	if got := h.stop(); !reflect.DeepEqual(got, []string{"STOPPING=1"}) {
		t.Fatalf("then sent %q, want only STOPPING=1", got)
	}
}

func TestNotifier_ReadyCountsAttemptsBeforeTheScanAndForgetsRemovedPods(t *testing.T) {
	for _, tt := range []struct {
		name  string
		steps func(n *Notifier)
	}{
		{name: "an attempt before the scan", steps: func(n *Notifier) {
			n.FirstSync("a")
			n.SetDesired([]*v1.Pod{pod("a", "Running")})
		}},
		{name: "an empty scan", steps: func(n *Notifier) { n.SetDesired(nil) }},
		{name: "a later scan without the pending pod", steps: func(n *Notifier) {
			n.SetDesired([]*v1.Pod{pod("a", "Running"), pod("b", "Running")})
			n.FirstSync("a")
			n.SetDesired([]*v1.Pod{pod("a", "Running")})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.steps(h.n)
			if got := queued(t, h.conn); len(got) != 1 || got[0] != "READY=1\nSTATUS=0 pods: 0 running" {
				t.Fatalf("sent %q, want READY=1 once", got)
			}
		})
	}
}

func TestNotifier_ReadyAfterTheBoundWhenAPodNeverHasItsFirstStartAttempt(t *testing.T) {
	h := newHarness(t)
	a, b := pod("a", "Running"), pod("b", "ImagePullBackOff")
	h.store.Set(a)
	h.store.Set(b)
	h.run()
	h.n.SetDesired([]*v1.Pod{a, b})
	h.n.FirstSync("a")
	// The STATUS= of the last tick before the bound shows it was handled.
	h.clock.Step(readyTimeout - statusInterval)
	if got := next(t, h.conn); got != "STATUS=Starting: 2 pods: 1 running, 1 waiting: ImagePullBackOff" {
		t.Fatalf("before the bound sent %q, want the starting STATUS=", got)
	}
	expectNone(t, h.conn, "before the bound")
	h.clock.Step(statusInterval)
	if got := next(t, h.conn); got != "READY=1\nSTATUS=2 pods: 1 running, 1 waiting: ImagePullBackOff" {
		t.Fatalf("at the bound sent %q, want READY=1", got)
	}
	h.n.FirstSync("b")
	if got := h.stop(); !reflect.DeepEqual(got, []string{"STOPPING=1"}) {
		t.Fatalf("then sent %q, want only STOPPING=1", got)
	}
}

func TestNotifier_StatusOnChangeAtMostEveryInterval(t *testing.T) {
	h := newHarness(t)
	a, b, c := pod("a", "Running"), pod("b", "CrashLoopBackOff"), pod("c", "CrashLoopBackOff")
	for _, p := range []*v1.Pod{a, b, c} {
		h.store.Set(p)
	}
	h.run()
	h.n.SetDesired(nil)
	if got := next(t, h.conn); got != "READY=1\nSTATUS=3 pods: 1 running, 2 waiting: CrashLoopBackOff" {
		t.Fatalf("sent %q, want READY=1 with the counts", got)
	}
	h.store.Set(pod("b", "Running"))
	expectNone(t, h.conn, "a change before the tick")
	h.clock.Step(statusInterval)
	if got := next(t, h.conn); got != "STATUS=3 pods: 2 running, 1 waiting: CrashLoopBackOff" {
		t.Fatalf("at the tick sent %q, want the new counts", got)
	}
	h.store.Set(pod("d", "ErrImagePull"))
	h.store.Set(pod("e", "ErrImagePull"))
	h.clock.Step(statusInterval)
	if got := next(t, h.conn); got != "STATUS=5 pods: 2 running, 3 waiting: 2 ErrImagePull, 1 other" {
		t.Fatalf("at the tick sent %q, want the new counts", got)
	}
}

func TestNotifier_WatchdogOnlyWhileRelistsProgress(t *testing.T) {
	h := newHarness(t)
	t.Setenv("WATCHDOG_USEC", "2000000")
	h.prog.asked = make(chan struct{})
	h.run()
	tick := func(last time.Time) {
		h.prog.set(last)
		h.clock.Step(time.Second)
		select {
		case <-h.prog.asked:
		case <-time.After(10 * time.Second):
			t.Fatalf("no watchdog tick at %v", h.clock.Now())
		}
	}
	tick(t0)                      // 1 s old: pet
	tick(t0)                      // 2 s old, a whole period: withheld
	tick(t0)                      // 3 s old: withheld
	tick(t0.Add(4 * time.Second)) // a relist now: pet again
	want := []string{"WATCHDOG=1", "WATCHDOG=1", "STOPPING=1"}
	if got := h.stop(); !reflect.DeepEqual(got, want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
}

func TestNotifier_NoWatchdogBeforeTheFirstRelist(t *testing.T) {
	if progressed(t0, time.Time{}, time.Minute) {
		t.Fatal("a relister that never relisted made progress")
	}
}

// countingLister is a podLister that says on listed each time it lists.
type countingLister struct{ listed chan struct{} }

func (c *countingLister) List() []v1.Pod {
	c.listed <- struct{}{}
	return nil
}

func TestNotifier_NoStatusWithoutNotifySocket(t *testing.T) {
	for _, tc := range []struct {
		name    string
		systemd bool
	}{{"not under systemd", false}, {"under systemd", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.systemd {
				listen(t)
			} else {
				t.Setenv("NOTIFY_SOCKET", "")
				t.Setenv("WATCHDOG_USEC", "")
			}
			clk := clocktesting.NewFakeClock(t0)
			pods := &countingLister{listed: make(chan struct{}, 4)}
			n := New(Config{Pods: pods, Progress: &fakeProgress{}, Clock: clk})
			// Past the ready bound: Run sends READY=1 at once, listing the
			// pods once, after it made (or not) the STATUS= ticker.
			clk.Step(readyTimeout)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); n.Run(ctx) }() //nolint:errcheck
			defer func() { cancel(); <-done }()
			<-pods.listed
			if got := clk.HasWaiters(); got != tc.systemd {
				t.Fatalf("a STATUS= ticker armed: %t, want %t", got, tc.systemd)
			}
		})
	}
}
