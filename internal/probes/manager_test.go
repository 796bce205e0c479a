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

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// waitLimit bounds how long a test waits for a worker goroutine to react;
// nothing here takes long, so hitting it means the worker is stuck.
const waitLimit = 5 * time.Second

type execCall struct {
	id  string
	cmd string
	at  time.Time
}

type armKey struct {
	id   string
	kind Kind
}

// harness is a Manager on a fake clock whose exec probes run a function of
// the command, and whose workers report each wait for a probe (onArm) and
// their end (onExit). Updates and exec calls are queued in channels. A
// worker reports everything about a probe run (exec call, update) before it
// arms its timer for the next one, so waiting for the arm waits for the run.
type harness struct {
	t       *testing.T
	clock   *testingclock.FakeClock
	reg     *prometheus.Registry
	m       *Manager
	calls   chan execCall
	updates chan Update

	mu      sync.Mutex
	results map[string]func(ctx context.Context) ([]byte, []byte, error) // by command
	arms    map[armKey]chan time.Time
	exits   map[armKey]chan struct{}
}

func newHarness(t *testing.T, jitter float64) *harness {
	h := &harness{
		t:       t,
		clock:   testingclock.NewFakeClock(t0),
		reg:     prometheus.NewRegistry(),
		calls:   make(chan execCall, 100),
		updates: make(chan Update, 100),
		results: map[string]func(context.Context) ([]byte, []byte, error){},
		arms:    map[armKey]chan time.Time{},
		exits:   map[armKey]chan struct{}{},
	}
	h.m = NewManager(Config{
		Exec:       execFunc(h.execSync),
		Clock:      h.clock,
		Logger:     zaptest.NewLogger(t),
		Registerer: h.reg,
		OnUpdate:   func(u Update) { h.updates <- u },
		Rand:       func() float64 { return jitter },
	})
	h.m.onArm = func(w *worker, at time.Time) { h.armCh(w.c.id, w.kind) <- at }
	h.m.onExit = func(w *worker) { close(h.exitCh(w.c.id, w.kind)) }
	t.Cleanup(h.m.Stop)
	return h
}

func (h *harness) execSync(ctx context.Context, id string, cmd []string, _ time.Duration) ([]byte, []byte, error) {
	c := strings.Join(cmd, " ")
	h.calls <- execCall{id: id, cmd: c, at: h.clock.Now()}
	h.mu.Lock()
	f := h.results[c]
	h.mu.Unlock()
	if f == nil {
		return nil, nil, nil
	}
	return f(ctx)
}

// pass and fail set how the exec command cmd ends from now on.
func (h *harness) pass(cmd string) {
	h.setExec(cmd, func(context.Context) ([]byte, []byte, error) { return []byte("ok"), nil, nil })
}

func (h *harness) fail(cmd, stderr string) {
	h.setExec(cmd, func(context.Context) ([]byte, []byte, error) {
		return nil, []byte(stderr), &runtime.ExitError{Code: 1}
	})
}

func (h *harness) setExec(cmd string, f func(context.Context) ([]byte, []byte, error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.results[cmd] = f
}

func (h *harness) armCh(id string, k Kind) chan time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, ok := h.arms[armKey{id, k}]
	if !ok {
		ch = make(chan time.Time, 100)
		h.arms[armKey{id, k}] = ch
	}
	return ch
}

func (h *harness) exitCh(id string, k Kind) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, ok := h.exits[armKey{id, k}]
	if !ok {
		ch = make(chan struct{})
		h.exits[armKey{id, k}] = ch
	}
	return ch
}

// waitArm returns when the (id, k) worker's next probe is due, once it waits
// for it.
func (h *harness) waitArm(id string, k Kind) time.Time {
	h.t.Helper()
	select {
	case at := <-h.armCh(id, k):
		return at
	case <-time.After(waitLimit):
		h.t.Fatalf("the %v worker of %s did not wait for a next probe", k, id)
		return time.Time{}
	}
}

func (h *harness) waitExit(id string, k Kind) {
	h.t.Helper()
	select {
	case <-h.exitCh(id, k):
	case <-time.After(waitLimit):
		h.t.Fatalf("the %v worker of %s did not end", k, id)
	}
}

func (h *harness) nextCall() execCall {
	h.t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(waitLimit):
		h.t.Fatalf("no exec call")
		return execCall{}
	}
}

func (h *harness) noCalls() {
	h.t.Helper()
	select {
	case c := <-h.calls:
		h.t.Fatalf("unexpected exec call %+v", c)
	default:
	}
}

func (h *harness) nextUpdate() Update {
	h.t.Helper()
	select {
	case u := <-h.updates:
		return u
	case <-time.After(waitLimit):
		h.t.Fatalf("no update")
		return Update{}
	}
}

func (h *harness) noUpdates() {
	h.t.Helper()
	select {
	case u := <-h.updates:
		h.t.Fatalf("unexpected update %+v", u)
	default:
	}
}

// execProbe is an exec probe of cmd with period 1 s and the API defaults
// for the rest, changed by opts.
func execProbe(cmd string, opts ...func(*v1.Probe)) *v1.Probe {
	p := &v1.Probe{
		ProbeHandler:     v1.ProbeHandler{Exec: &v1.ExecAction{Command: strings.Fields(cmd)}},
		PeriodSeconds:    1,
		TimeoutSeconds:   1,
		SuccessThreshold: 1,
		FailureThreshold: 3,
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func period(s int32) func(*v1.Probe)       { return func(p *v1.Probe) { p.PeriodSeconds = s } }
func initialDelay(s int32) func(*v1.Probe) { return func(p *v1.Probe) { p.InitialDelaySeconds = s } }
func thresholds(success, failure int32) func(*v1.Probe) {
	return func(p *v1.Probe) { p.SuccessThreshold, p.FailureThreshold = success, failure }
}

const podUID = types.UID("uid-1")

func target(id string, c *v1.Container) Target {
	return Target{
		PodUID: podUID, PodName: "web-node1", Namespace: "default", PodIP: "127.0.0.1",
		Container: c, ContainerID: id, StartedAt: t0,
	}
}

func TestManager_InitialResultsPerKind(t *testing.T) {
	h := newHarness(t, 0)
	far := initialDelay(1000)
	all := &v1.Container{Name: "all", LivenessProbe: execProbe("l", far), ReadinessProbe: execProbe("r", far), StartupProbe: execProbe("s", far)}
	noStartup := &v1.Container{Name: "nostartup", LivenessProbe: execProbe("l", far), ReadinessProbe: execProbe("r", far)}
	livenessOnly := &v1.Container{Name: "live", LivenessProbe: execProbe("l", far)}
	none := &v1.Container{Name: "none"}
	h.m.Sync(podUID, []Target{target("c1", all), target("c2", noStartup), target("c3", livenessOnly), target("c4", none)})

	for _, tc := range []struct {
		id     string
		kind   Kind
		want   Result
		exists bool
	}{
		{"c1", Liveness, Success, true},
		{"c1", Readiness, Failure, true},
		{"c1", Startup, Unknown, true},
		{"c2", Startup, Unknown, false},
		{"c3", Readiness, Unknown, false},
		{"c4", Liveness, Unknown, false},
		{"nope", Liveness, Unknown, false},
	} {
		if got, ok := h.m.Result(tc.id, tc.kind); got != tc.want || ok != tc.exists {
			t.Errorf("Result(%s, %v) = %v, %v; want %v, %v", tc.id, tc.kind, got, ok, tc.want, tc.exists)
		}
	}
	for _, tc := range []struct {
		id             string
		started, ready bool
	}{
		{"c1", false, false}, // startup pending
		{"c2", true, false},  // readiness pending
		{"c3", true, true},   // no readiness probe
		{"c4", true, true},   // no probes
	} {
		if s, r := h.m.Started(tc.id), h.m.Ready(tc.id); s != tc.started || r != tc.ready {
			t.Errorf("%s: Started %v Ready %v, want %v %v", tc.id, s, r, tc.started, tc.ready)
		}
	}
	h.noCalls()
}

// The n-th probe of a worker runs at start + initialDelay + jitter + n x period.
func TestManager_ProbeTimes_InitialDelayJitterPeriod(t *testing.T) {
	h := newHarness(t, 0.5) // jitter: half of min(period, 10 s)
	c := &v1.Container{Name: "app", LivenessProbe: execProbe("live", initialDelay(5), period(8))}
	h.m.Sync(podUID, []Target{target("c1", c)})
	first := t0.Add(5*time.Second + 4*time.Second)
	for n := range 4 {
		want := first.Add(time.Duration(n) * 8 * time.Second)
		if at := h.waitArm("c1", Liveness); !at.Equal(want) {
			t.Fatalf("probe %d due at t0+%v, want t0+%v", n, at.Sub(t0), want.Sub(t0))
		}
		h.clock.SetTime(want.Add(-time.Millisecond))
		h.noCalls()
		h.clock.SetTime(want)
		if call := h.nextCall(); !call.at.Equal(want) || call.cmd != "live" {
			t.Fatalf("probe %d: %+v at t0+%v, want live at t0+%v", n, call, call.at.Sub(t0), want.Sub(t0))
		}
	}
	h.noUpdates() // successes of a liveness probe change nothing
}

func TestManager_AdoptedContainerProbesAfterJitterOnly(t *testing.T) {
	h := newHarness(t, 0.25)
	c := &v1.Container{Name: "app", ReadinessProbe: execProbe("ready", initialDelay(30), period(20))}
	tg := target("c1", c)
	tg.StartedAt = t0.Add(-time.Hour) // running since before the daemon started
	h.m.Sync(podUID, []Target{tg})
	if at, want := h.waitArm("c1", Readiness), t0.Add(2500*time.Millisecond); !at.Equal(want) {
		t.Fatalf("first probe due at t0+%v, want t0+2.5s (a quarter of the 10 s cap)", at.Sub(t0))
	}
}

func TestManager_LongProbeSkipsMissedTicks(t *testing.T) {
	h := newHarness(t, 0)
	c := &v1.Container{Name: "app", LivenessProbe: execProbe("live", period(10))}
	h.m.Sync(podUID, []Target{target("c1", c)})
	// Due at once (no delay, no jitter): the first probe runs without waiting.
	if call := h.nextCall(); !call.at.Equal(t0) {
		t.Fatalf("first probe at t0+%v, want t0", call.at.Sub(t0))
	}
	if at := h.waitArm("c1", Liveness); !at.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("second probe due at t0+%v", at.Sub(t0))
	}
	h.setExec("live", func(context.Context) ([]byte, []byte, error) {
		h.clock.Step(25 * time.Second) // this run takes 25 s
		return nil, nil, nil
	})
	h.clock.SetTime(t0.Add(10 * time.Second))
	h.nextCall()
	if at := h.waitArm("c1", Liveness); !at.Equal(t0.Add(40 * time.Second)) {
		t.Fatalf("after a 25 s run the next probe is due at t0+%v, want t0+40s (20 s and 30 s skipped)", at.Sub(t0))
	}
}

func TestManager_LivenessFailureThresholdHoldsUntilReplaced(t *testing.T) {
	h := newHarness(t, 0)
	h.fail("live", "boom")
	c := &v1.Container{Name: "app", LivenessProbe: execProbe("live", thresholds(1, 3))}
	h.m.Sync(podUID, []Target{target("c1", c)})

	for n := 1; n <= 3; n++ {
		if n > 1 {
			h.clock.SetTime(h.waitArm("c1", Liveness))
		}
		h.nextCall()
		u := h.nextUpdate()
		last := n == 3
		want := Update{PodUID: podUID, ContainerName: "app", ContainerID: "c1", Kind: Liveness,
			Result: Success, Failed: true, Output: "boom"}
		if last {
			want.Result, want.Changed, want.FailureThresholdReached = Failure, true, true
		}
		if u != want {
			t.Fatalf("failure %d: update %+v, want %+v", n, u, want)
		}
		if reason, msg := u.Event(); reason != "Unhealthy" || msg != "Liveness probe failed: boom" {
			t.Fatalf("event %q %q", reason, msg)
		}
	}
	h.waitExit("c1", Liveness)
	if r, ok := h.m.Result("c1", Liveness); r != Failure || !ok {
		t.Fatalf("Result after the threshold = %v, %v; want Failure kept", r, ok)
	}
	h.clock.Step(time.Minute)
	h.noCalls()
	h.noUpdates()

	// The container is killed and restarted: a new ID, fresh state.
	h.pass("live")
	h.m.Sync(podUID, []Target{target("c2", c)})
	if r, ok := h.m.Result("c2", Liveness); r != Success || !ok {
		t.Fatalf("Result of the restarted container = %v, %v; want the initial Success", r, ok)
	}
	if _, ok := h.m.Result("c1", Liveness); ok {
		t.Fatalf("the replaced container still has a result")
	}
	if call := h.nextCall(); call.id != "c2" {
		t.Fatalf("call %+v, want the new container probed", call)
	}
}

func TestManager_ReadinessFlipsPerThresholds(t *testing.T) {
	h := newHarness(t, 0)
	c := &v1.Container{Name: "app", ReadinessProbe: execProbe("ready", thresholds(2, 2))}
	steps := []struct {
		pass      bool
		wantReady bool
		update    bool // an update is sent (a change or a failure)
	}{
		{pass: true, wantReady: false, update: false}, // 1 of 2 successes
		{pass: true, wantReady: true, update: true},   // ready
		{pass: false, wantReady: true, update: true},  // failed once: still ready
		{pass: true, wantReady: true, update: false},
		{pass: false, wantReady: true, update: true},
		{pass: false, wantReady: false, update: true}, // 2 failures: not ready
	}
	var next time.Time
	for i, s := range steps {
		if s.pass {
			h.pass("ready")
		} else {
			h.fail("ready", "no")
		}
		if i == 0 {
			h.m.Sync(podUID, []Target{target("c1", c)}) // the first probe is due at once
		} else {
			h.clock.SetTime(next)
		}
		h.nextCall()
		next = h.waitArm("c1", Readiness) // the run is complete
		if got := h.m.Ready("c1"); got != s.wantReady {
			t.Fatalf("step %d: Ready = %v, want %v", i, got, s.wantReady)
		}
		if s.update {
			if u := h.nextUpdate(); u.Failed == s.pass || u.Result == Success != s.wantReady {
				t.Fatalf("step %d: update %+v", i, u)
			}
		}
		h.noUpdates()
	}
}

func TestManager_StartupGatesLivenessAndReadiness(t *testing.T) {
	h := newHarness(t, 0)
	h.fail("startup", "not yet")
	c := &v1.Container{
		Name:           "app",
		StartupProbe:   execProbe("startup", thresholds(1, 10)),
		LivenessProbe:  execProbe("live", initialDelay(3)),
		ReadinessProbe: execProbe("ready", period(10)),
	}
	h.m.Sync(podUID, []Target{target("c1", c)})

	// At t0 the startup probe runs and fails; readiness's tick passes.
	if call := h.nextCall(); call.cmd != "startup" {
		t.Fatalf("first call %+v, want the startup probe", call)
	}
	if at := h.waitArm("c1", Startup); !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("startup next due t0+%v", at.Sub(t0))
	}
	if at := h.waitArm("c1", Readiness); !at.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("readiness next due t0+%v", at.Sub(t0))
	}
	if at := h.waitArm("c1", Liveness); !at.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("liveness first due t0+%v", at.Sub(t0))
	}
	h.noCalls()
	if h.m.Started("c1") || h.m.Ready("c1") {
		t.Fatalf("started or ready before the startup probe succeeded")
	}
	if u := h.nextUpdate(); u.Kind != Startup || !u.Failed || u.Changed || u.Result != Unknown {
		t.Fatalf("startup failure update %+v", u)
	}

	// At t0+1s it succeeds: started, and readiness runs at once.
	h.pass("startup")
	h.pass("ready")
	h.clock.SetTime(t0.Add(time.Second))
	if call := h.nextCall(); call.cmd != "startup" {
		t.Fatalf("call %+v, want startup", call)
	}
	h.waitExit("c1", Startup) // startup probing is over for this container
	if call := h.nextCall(); call.cmd != "ready" || !call.at.Equal(t0.Add(time.Second)) {
		t.Fatalf("call %+v, want readiness right after startup succeeded", call)
	}
	if at := h.waitArm("c1", Readiness); !at.Equal(t0.Add(11 * time.Second)) {
		t.Fatalf("readiness next due t0+%v, want a period after the triggered run", at.Sub(t0))
	}
	if !h.m.Started("c1") || !h.m.Ready("c1") {
		t.Fatalf("Started %v Ready %v, want both", h.m.Started("c1"), h.m.Ready("c1"))
	}
	got := []Update{h.nextUpdate(), h.nextUpdate()}
	if got[0].Kind != Startup || got[0].Result != Success || !got[0].Changed || got[0].FailureThresholdReached {
		t.Fatalf("startup update %+v", got[0])
	}
	if got[1].Kind != Readiness || got[1].Result != Success || !got[1].Changed {
		t.Fatalf("readiness update %+v", got[1])
	}

	// Liveness runs from its initial delay on.
	h.clock.SetTime(t0.Add(3 * time.Second))
	if call := h.nextCall(); call.cmd != "live" {
		t.Fatalf("call %+v, want liveness", call)
	}
}

func TestManager_StartupFailureThreshold(t *testing.T) {
	h := newHarness(t, 0)
	h.fail("startup", "down")
	c := &v1.Container{
		Name:          "app",
		StartupProbe:  execProbe("startup", thresholds(1, 2)),
		LivenessProbe: execProbe("live"),
	}
	h.m.Sync(podUID, []Target{target("c1", c)})
	h.nextCall()
	h.nextUpdate()
	h.clock.SetTime(h.waitArm("c1", Startup))
	h.nextCall()
	u := h.nextUpdate()
	if u.Kind != Startup || u.Result != Failure || !u.Changed || !u.FailureThresholdReached || u.Output != "down" {
		t.Fatalf("update %+v, want the startup threshold reached", u)
	}
	h.waitExit("c1", Startup)
	if h.m.Started("c1") {
		t.Fatalf("started after the startup probe failed")
	}
	h.clock.Step(time.Minute)
	h.noCalls() // liveness never ran
}

func TestManager_RestartGetsFreshWorkersAndKeepsMetricSeries(t *testing.T) {
	h := newHarness(t, 0)
	c := &v1.Container{Name: "app", ReadinessProbe: execProbe("ready", initialDelay(1))}
	h.m.Sync(podUID, []Target{target("c1", c)})
	h.clock.SetTime(h.waitArm("c1", Readiness))
	h.nextCall()
	h.waitArm("c1", Readiness)
	if !h.m.Ready("c1") {
		t.Fatalf("not ready after a success")
	}
	labels := map[string]string{"probe_type": "Readiness", "result": "successful", "container": "app",
		"pod": "web-node1", "namespace": "default", "pod_uid": string(podUID)}
	if v, ok := counterValue(t, h.reg, labels); !ok || v != 1 {
		t.Fatalf("prober_probe_total%v = %v (%v), want 1", labels, v, ok)
	}

	restarted := target("c2", c)
	restarted.StartedAt = h.clock.Now()
	h.m.Sync(podUID, []Target{restarted})
	h.waitExit("c1", Readiness)
	if _, ok := h.m.Result("c1", Readiness); ok {
		t.Fatalf("old instance still has a result")
	}
	if r, ok := h.m.Result("c2", Readiness); r != Failure || !ok || h.m.Ready("c2") {
		t.Fatalf("new instance: %v %v, want the initial Failure (not ready)", r, ok)
	}
	h.clock.SetTime(h.waitArm("c2", Readiness))
	if call := h.nextCall(); call.id != "c2" {
		t.Fatalf("call %+v, want the new instance probed", call)
	}
	h.waitArm("c2", Readiness)
	if v, _ := counterValue(t, h.reg, labels); v != 2 {
		t.Fatalf("the counter restarted with the container: %v, want 2", v)
	}

	h.m.RemovePod(podUID)
	h.waitExit("c2", Readiness)
	if _, ok := counterValue(t, h.reg, labels); ok {
		t.Fatalf("series left after RemovePod")
	}
	if _, ok := h.m.Result("c2", Readiness); ok {
		t.Fatalf("result left after RemovePod")
	}
}

func TestManager_HangingProbeDoesNotBlockOthers(t *testing.T) {
	h := newHarness(t, 0)
	h.setExec("hang", func(ctx context.Context) ([]byte, []byte, error) {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	hang := target("a1", &v1.Container{Name: "a", LivenessProbe: execProbe("hang")})
	hang.PodUID = "pod-a"
	ok := target("b1", &v1.Container{Name: "b", LivenessProbe: execProbe("fine")})
	ok.PodUID = "pod-b"
	h.m.Sync("pod-a", []Target{hang})
	if call := h.nextCall(); call.cmd != "hang" {
		t.Fatalf("call %+v", call)
	}
	h.m.Sync("pod-b", []Target{ok})
	for range 3 {
		if call := h.nextCall(); call.cmd != "fine" {
			t.Fatalf("call %+v", call)
		}
		h.clock.SetTime(h.waitArm("b1", Liveness))
	}
	h.m.RemovePod("pod-a")
	h.waitExit("a1", Liveness)
	for {
		select {
		case u := <-h.updates:
			if u.ContainerID == "a1" {
				t.Fatalf("update from a removed container: %+v", u)
			}
			continue
		default:
		}
		break
	}
}

func TestManager_ExecTimeoutIsAFailure(t *testing.T) {
	h := newHarness(t, 0)
	h.setExec("sleep 10", func(context.Context) ([]byte, []byte, error) {
		return nil, nil, grpcstatus.Error(codes.DeadlineExceeded, "timeout 1s exceeded: context deadline exceeded")
	})
	h.m.Sync(podUID, []Target{target("c1", &v1.Container{Name: "app", LivenessProbe: execProbe("sleep 10", thresholds(1, 1))})})
	h.nextCall()
	u := h.nextUpdate()
	if !u.Failed || !u.FailureThresholdReached || u.Output != `command "sleep 10" timed out` {
		t.Fatalf("update %+v, want a failure `command \"sleep 10\" timed out`", u)
	}
}

func TestManager_PodIPAndHostNetwork(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	c := &v1.Container{
		Name:  "app",
		Ports: []v1.ContainerPort{{Name: "svc", ContainerPort: int32(l.Addr().(*net.TCPAddr).Port)}},
		ReadinessProbe: &v1.Probe{
			ProbeHandler:  v1.ProbeHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromString("svc")}},
			PeriodSeconds: 1,
		},
	}
	h := newHarness(t, 0)

	// The pod IP is not known yet: the run errors, the result stays.
	noIP := target("c1", c)
	noIP.PodIP = ""
	h.m.Sync(podUID, []Target{noIP})
	u := h.nextUpdate()
	if !u.Errored || u.Output != "pod IP not known yet" || u.Result != Failure || u.Changed {
		t.Fatalf("update %+v, want an errored run", u)
	}
	if reason, msg := u.Event(); reason != "Unhealthy" || msg != "Readiness probe errored: pod IP not known yet" {
		t.Fatalf("event %q %q", reason, msg)
	}
	at := h.waitArm("c1", Readiness)
	h.m.Sync(podUID, []Target{target("c1", c)}) // now with 127.0.0.1
	h.clock.SetTime(at)
	if u := h.nextUpdate(); u.Result != Success || !u.Changed {
		t.Fatalf("update %+v, want ready", u)
	}

	// A hostNetwork pod without a pod IP is probed on 127.0.0.1.
	hn := target("h1", c)
	hn.PodUID, hn.PodIP, hn.HostNetwork = "pod-h", "", true
	h.m.Sync("pod-h", []Target{hn})
	if u := h.nextUpdate(); u.ContainerID != "h1" || u.Result != Success || !u.Changed {
		t.Fatalf("update %+v, want the hostNetwork pod ready", u)
	}
}

func TestManager_HTTPRedirectElsewhereWarns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://login.example.com/")
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	_, port := serverAddr(t, srv)
	h := newHarness(t, 0)
	c := &v1.Container{Name: "app", LivenessProbe: &v1.Probe{
		ProbeHandler:  v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/", Port: intstr.FromInt(port)}},
		PeriodSeconds: 1, FailureThreshold: 1,
	}}
	h.m.Sync(podUID, []Target{target("c1", c)})
	u := h.nextUpdate()
	if u.Result != Success || u.Failed || u.Warning != "Probe terminated redirects, Response body: " {
		t.Fatalf("update %+v, want a success with the kubelet's warning", u)
	}
	if reason, msg := u.Event(); reason != "ProbeWarning" || msg != "Liveness probe warning: Probe terminated redirects, Response body: " {
		t.Fatalf("event %q %q", reason, msg)
	}
}

func TestManager_StopWaitsForWorkers(t *testing.T) {
	h := newHarness(t, 0)
	c := &v1.Container{Name: "app", LivenessProbe: execProbe("l"), ReadinessProbe: execProbe("r"), StartupProbe: execProbe("s")}
	h.m.Sync(podUID, []Target{target("c1", c), target("c2", c)})
	h.m.Stop()
	for _, id := range []string{"c1", "c2"} {
		for k := range Kind(numKinds) {
			h.waitExit(id, k)
		}
	}
	h.m.Sync(podUID, []Target{target("c3", c)})
	if _, ok := h.m.Result("c3", Liveness); ok {
		t.Fatalf("Sync after Stop made workers")
	}
}

// counterValue returns the value of the prober_probe_total series with
// exactly these labels.
func counterValue(t *testing.T, reg *prometheus.Registry, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "prober_probe_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			match := len(m.GetLabel()) == len(labels)
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					match = false
				}
			}
			if match {
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}
