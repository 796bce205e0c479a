package nodeshutdown

import (
	"context"
	"errors"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

// fakeLogind is logind with one delay lock at a time.
type fakeLogind struct {
	mu         sync.Mutex
	delay      time.Duration
	raiseTo    time.Duration // what a raise really sets (a stubborn logind sets less)
	raised     []time.Duration
	locks      int // locks taken
	held       int // locks held
	events     chan bool
	inhibitErr error
}

func newFakeLogind(delay time.Duration) *fakeLogind {
	return &fakeLogind{delay: delay, raiseTo: -1, events: make(chan bool)}
}

func (f *fakeLogind) InhibitDelayMax() (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.delay, nil
}

func (f *fakeLogind) RaiseInhibitDelayMax(d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.raised = append(f.raised, d)
	f.delay = d
	if f.raiseTo >= 0 {
		f.delay = f.raiseTo
	}
	return nil
}

type fakeLock struct{ f *fakeLogind }

func (l fakeLock) Close() error {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	l.f.held--
	return nil
}

func (f *fakeLogind) InhibitShutdown() (io.Closer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inhibitErr != nil {
		return nil, f.inhibitErr
	}
	f.locks++
	f.held++
	return fakeLock{f}, nil
}

func (f *fakeLogind) WatchShutdown() (<-chan bool, error) { return f.events, nil }
func (f *fakeLogind) Close()                              {}

func (f *fakeLogind) state() (locks, held int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.locks, f.held
}

// stopCall is one StopPods call; release ends it as if its pods were gone.
type stopCall struct {
	graces          map[types.UID]int64
	reason, message string
	release         chan struct{}
	ended           chan error
}

type fakeStopper struct {
	pods  []*v1.Pod
	calls chan *stopCall
}

func (s *fakeStopper) Pods() []*v1.Pod { return s.pods }

func (s *fakeStopper) StopPods(ctx context.Context, graces map[types.UID]int64, reason, message string) error {
	c := &stopCall{graces: graces, reason: reason, message: message, release: make(chan struct{}), ended: make(chan error, 1)}
	s.calls <- c
	var err error
	select {
	case <-c.release:
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.ended <- err
	return err
}

func pod(uid string, priorityClass string, priority *int32, grace int64) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: uid, Namespace: "default", UID: types.UID(uid)},
		Spec:       v1.PodSpec{PriorityClassName: priorityClass, Priority: priority, TerminationGracePeriodSeconds: &grace},
	}
}

type harness struct {
	t       *testing.T
	logind  *fakeLogind
	stopper *fakeStopper
	clock   *clocktesting.FakeClock
	cancel  context.CancelFunc
	done    chan struct{}
}

func start(t *testing.T, ld *fakeLogind, pods []*v1.Pod, period, critical time.Duration) *harness {
	t.Helper()
	h := &harness{t: t, logind: ld, stopper: &fakeStopper{pods: pods, calls: make(chan *stopCall)},
		clock: clocktesting.NewFakeClock(time.Unix(1000, 0)), done: make(chan struct{})}
	m := New(Config{
		Connect:     func() (Logind, error) { return ld, nil },
		Pods:        h.stopper,
		GracePeriod: period, CriticalGracePeriod: critical,
		Clock: h.clock,
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		if err := m.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	<-h.done
}

func (h *harness) nextCall() *stopCall {
	h.t.Helper()
	select {
	case c := <-h.stopper.calls:
		return c
	case <-time.After(10 * time.Second):
		h.t.Fatal("no StopPods call")
		return nil
	}
}

// waitFor polls a condition the manager's goroutine makes true; it only
// bounds the wait, nothing is timed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestShutdownGroups_CriticalPodsLastWithTheirOwnPeriod(t *testing.T) {
	high := int32(2000000000)
	low := int32(1000)
	pods := []*v1.Pod{
		pod("regular", "", nil, 30),
		pod("node-critical", "system-node-critical", nil, 30),
		pod("cluster-critical", "system-cluster-critical", nil, 30),
		pod("high-priority", "", &high, 30),
		pod("low-priority-critical-name", "system-node-critical", &low, 30),
		pod("short-grace", "", nil, 3),
	}
	groups := shutdownGroups(pods, 30*time.Second, 10*time.Second)
	if len(groups) != 2 || groups[0].critical || !groups[1].critical {
		t.Fatalf("groups %+v, want regular then critical", groups)
	}
	names := func(g group) []string {
		var out []string
		for _, p := range g.pods {
			out = append(out, p.Name)
		}
		return out
	}
	if got, want := names(groups[0]), []string{"regular", "low-priority-critical-name", "short-grace"}; !reflect.DeepEqual(got, want) {
		t.Errorf("regular pods %v, want %v", got, want)
	}
	if got, want := names(groups[1]), []string{"node-critical", "cluster-critical", "high-priority"}; !reflect.DeepEqual(got, want) {
		t.Errorf("critical pods %v, want %v", got, want)
	}
	if groups[0].gracePeriod != 20*time.Second || groups[1].gracePeriod != 10*time.Second {
		t.Errorf("grace periods %s and %s, want 20s and 10s", groups[0].gracePeriod, groups[1].gracePeriod)
	}
	if got := podGracePeriod(pods[0], groups[0]); got != 20 {
		t.Errorf("a 30 s pod in the 20 s group gets %d s, want 20", got)
	}
	if got := podGracePeriod(pods[5], groups[0]); got != 3 {
		t.Errorf("a 3 s pod in the 20 s group gets %d s, want its own 3", got)
	}
}

func TestShutdownGroups_OffOrInconsistentPeriods(t *testing.T) {
	for _, tc := range []struct{ period, critical time.Duration }{{0, 0}, {10 * time.Second, 20 * time.Second}, {-time.Second, 0}} {
		if g := shutdownGroups([]*v1.Pod{pod("a", "", nil, 30)}, tc.period, tc.critical); g != nil {
			t.Errorf("period %s critical %s: groups %+v, want none", tc.period, tc.critical, g)
		}
	}
}

func TestManager_RaisesLogindDelayAndHoldsALock(t *testing.T) {
	ld := newFakeLogind(5 * time.Second)
	start(t, ld, nil, 30*time.Second, 10*time.Second)
	waitFor(t, "a lock", func() bool { _, held := ld.state(); return held == 1 })
	ld.mu.Lock()
	raised := ld.raised
	ld.mu.Unlock()
	if !reflect.DeepEqual(raised, []time.Duration{30 * time.Second}) {
		t.Errorf("raised InhibitDelayMax to %v, want [30s]", raised)
	}
}

func TestManager_LeavesALargerLogindDelayAlone(t *testing.T) {
	ld := newFakeLogind(5 * time.Minute)
	start(t, ld, nil, 30*time.Second, 10*time.Second)
	waitFor(t, "a lock", func() bool { _, held := ld.state(); return held == 1 })
	ld.mu.Lock()
	defer ld.mu.Unlock()
	if len(ld.raised) != 0 {
		t.Errorf("raised InhibitDelayMax to %v, want it left at 5m", ld.raised)
	}
}

func TestManager_NoLockWhenLogindKeepsASmallerDelay(t *testing.T) {
	ld := newFakeLogind(5 * time.Second)
	ld.raiseTo = 5 * time.Second
	h := start(t, ld, nil, 30*time.Second, 10*time.Second)
	// Run waits a while for logind's reload, then gives up: the node runs
	// on without graceful shutdown.
	for done := false; !done; {
		select {
		case <-h.done:
			done = true
		default:
			if h.clock.HasWaiters() {
				h.clock.Step(reloadPoll)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if locks, _ := ld.state(); locks != 0 {
		t.Errorf("took %d locks, want none when the delay could not be raised", locks)
	}
}

func TestManager_ShutdownStopsRegularPodsThenCriticalThenReleases(t *testing.T) {
	ld := newFakeLogind(time.Minute)
	pods := []*v1.Pod{pod("web", "", nil, 30), pod("dns", "system-node-critical", nil, 30), pod("quick", "", nil, 3)}
	h := start(t, ld, pods, 30*time.Second, 10*time.Second)
	waitFor(t, "a lock", func() bool { _, held := ld.state(); return held == 1 })
	ld.events <- true

	regular := h.nextCall()
	if want := map[types.UID]int64{"web": 20, "quick": 3}; !reflect.DeepEqual(regular.graces, want) {
		t.Errorf("first StopPods %v, want the regular pods %v", regular.graces, want)
	}
	if regular.reason != "Terminated" || regular.message != "Pod was terminated in response to imminent node shutdown." {
		t.Errorf("status %q %q, want the kubelet's", regular.reason, regular.message)
	}
	if _, held := ld.state(); held != 1 {
		t.Error("the lock was released before the pods were stopped")
	}
	close(regular.release)

	critical := h.nextCall()
	if want := map[types.UID]int64{"dns": 10}; !reflect.DeepEqual(critical.graces, want) {
		t.Errorf("second StopPods %v, want the critical pods %v", critical.graces, want)
	}
	if _, held := ld.state(); held != 1 {
		t.Error("the lock was released before the critical pods were stopped")
	}
	close(critical.release)
	waitFor(t, "the lock released", func() bool { _, held := ld.state(); return held == 0 })
}

func TestManager_GroupNotStoppedInItsPeriodMovesOn(t *testing.T) {
	ld := newFakeLogind(time.Minute)
	pods := []*v1.Pod{pod("stubborn", "", nil, 30), pod("dns", "system-cluster-critical", nil, 30)}
	h := start(t, ld, pods, 30*time.Second, 10*time.Second)
	waitFor(t, "a lock", func() bool { _, held := ld.state(); return held == 1 })
	ld.events <- true

	regular := h.nextCall()
	waitFor(t, "the group's timer", h.clock.HasWaiters)
	h.clock.Step(19 * time.Second)
	select {
	case <-regular.ended:
		t.Fatal("StopPods given up before the group's 20 s")
	default:
	}
	h.clock.Step(time.Second)
	if err := <-regular.ended; !errors.Is(err, context.Canceled) {
		t.Errorf("the late group's StopPods ended with %v, want it cancelled", err)
	}
	critical := h.nextCall()
	if _, ok := critical.graces["dns"]; !ok {
		t.Errorf("second StopPods %v, want the critical pod", critical.graces)
	}
	close(critical.release)
	waitFor(t, "the lock released", func() bool { _, held := ld.state(); return held == 0 })
}

func TestManager_CancelledShutdownTakesTheLockAgain(t *testing.T) {
	ld := newFakeLogind(time.Minute)
	h := start(t, ld, nil, 30*time.Second, 10*time.Second)
	waitFor(t, "a lock", func() bool { _, held := ld.state(); return held == 1 })
	ld.events <- true // no pods: released at once
	waitFor(t, "the lock released", func() bool { _, held := ld.state(); return held == 0 })
	ld.events <- false
	waitFor(t, "the lock taken again", func() bool { locks, held := ld.state(); return locks == 2 && held == 1 })
	h.stop()
	if _, held := ld.state(); held != 0 {
		t.Error("the lock is still held after Run returned")
	}
}
