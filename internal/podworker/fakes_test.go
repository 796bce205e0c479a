package podworker

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/images"
	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/volumes"
)

// fakeRuntime is an in-memory CRI runtime and image service. Every change
// signals changed, so tests wait for conditions without sleeping.
type fakeRuntime struct {
	clock *clocktesting.FakeClock

	mu         sync.Mutex
	next       int
	sandboxes  map[string]*fakeSandbox
	containers map[string]*fakeContainer
	// images present; pulls counts pull attempts by image; missing images
	// fail to pull.
	images  map[string]bool
	missing map[string]bool
	pulls   map[string][]time.Time
	// writable is the writable layer's usage by container name.
	writable map[string]uint64
	// stopExit is the exit code a stopped container gets.
	stopExit int32
	// stops records StopContainer calls; ops the sandbox operations
	// ("run sandbox UID", "remove sandbox UID").
	stops []stopCall
	ops   []string
	// lists counts ListPodSandbox and ListContainers calls.
	lists int
	// hold, when set, makes StopContainer wait until it is closed.
	hold    chan struct{}
	changed chan struct{}
}

// holdStops makes StopContainer block until releaseStops.
func (r *fakeRuntime) holdStops() {
	r.mu.Lock()
	r.hold = make(chan struct{})
	r.mu.Unlock()
}

func (r *fakeRuntime) releaseStops() {
	r.mu.Lock()
	if r.hold != nil {
		close(r.hold)
		r.hold = nil
	}
	r.mu.Unlock()
}

func (r *fakeRuntime) history() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ops...)
}

// opIndex is where op stands in the history, -1 when it is not there.
func (r *fakeRuntime) opIndex(op string) int {
	for i, o := range r.history() {
		if o == op {
			return i
		}
	}
	return -1
}

// stopped returns the timeout of the StopContainer call for id, -1 for none.
func (r *fakeRuntime) stopped(id string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.stops {
		if s.id == id {
			return s.timeout
		}
	}
	return -1
}

type fakeSandbox struct {
	cfg     *runtimeapi.PodSandboxConfig
	state   runtimeapi.PodSandboxState
	created time.Time
}

type fakeContainer struct {
	sandboxID string
	cfg       *runtimeapi.ContainerConfig
	status    runtimeapi.ContainerStatus
}

func newFakeRuntime(clk *clocktesting.FakeClock, images ...string) *fakeRuntime {
	r := &fakeRuntime{
		clock:      clk,
		sandboxes:  map[string]*fakeSandbox{},
		containers: map[string]*fakeContainer{},
		images:     map[string]bool{},
		missing:    map[string]bool{},
		pulls:      map[string][]time.Time{},
		stopExit:   137,
		changed:    make(chan struct{}, 1),
	}
	for _, i := range images {
		r.images[i] = true
	}
	return r
}

func (r *fakeRuntime) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func notFound(what, id string) error {
	return grpcstatus.Errorf(codes.NotFound, "%s %q not found", what, id)
}

func matches(labels, selector map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (r *fakeRuntime) RunPodSandbox(_ context.Context, cfg *runtimeapi.PodSandboxConfig, _ string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	id := fmt.Sprintf("sb%d", r.next)
	r.sandboxes[id] = &fakeSandbox{cfg: cfg, state: runtimeapi.PodSandboxState_SANDBOX_READY, created: r.clock.Now().Add(time.Duration(r.next))}
	r.ops = append(r.ops, "run sandbox "+cfg.Labels[runtime.LabelPodUID])
	r.signal()
	return id, nil
}

func (r *fakeRuntime) StopPodSandbox(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sandboxes[id]
	if !ok {
		return notFound("sandbox", id)
	}
	s.state = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	for _, c := range r.containers {
		if c.sandboxID == id {
			r.exitLocked(c, r.stopExit)
		}
	}
	r.signal()
	return nil
}

func (r *fakeRuntime) RemovePodSandbox(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sandboxes[id]; ok {
		r.ops = append(r.ops, "remove sandbox "+s.cfg.Labels[runtime.LabelPodUID])
	}
	delete(r.sandboxes, id)
	for cid, c := range r.containers {
		if c.sandboxID == id {
			delete(r.containers, cid)
		}
	}
	r.signal()
	return nil
}

func (r *fakeRuntime) PodSandboxStatus(_ context.Context, id string, _ bool) (*runtimeapi.PodSandboxStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sandboxes[id]
	if !ok {
		return nil, notFound("sandbox", id)
	}
	return &runtimeapi.PodSandboxStatusResponse{Status: &runtimeapi.PodSandboxStatus{Id: id, Network: &runtimeapi.PodSandboxNetworkStatus{Ip: "10.0.0.1"},
		Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{Options: s.cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()}}}}, nil
}

func (r *fakeRuntime) ListPodSandbox(_ context.Context, f *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lists++
	var out []*runtimeapi.PodSandbox
	for id, s := range r.sandboxes {
		if matches(s.cfg.Labels, f.GetLabelSelector()) {
			out = append(out, &runtimeapi.PodSandbox{Id: id, Metadata: s.cfg.Metadata, State: s.state, CreatedAt: s.created.UnixNano(), Labels: s.cfg.Labels, Annotations: s.cfg.Annotations})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out, nil
}

func (r *fakeRuntime) CreateContainer(_ context.Context, sandboxID string, cfg *runtimeapi.ContainerConfig, _ *runtimeapi.PodSandboxConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	id := fmt.Sprintf("c%d", r.next)
	r.containers[id] = &fakeContainer{sandboxID: sandboxID, cfg: cfg, status: runtimeapi.ContainerStatus{
		Id: id, Metadata: cfg.Metadata, State: runtimeapi.ContainerState_CONTAINER_CREATED,
		CreatedAt: r.clock.Now().UnixNano() + int64(r.next), Labels: cfg.Labels, Annotations: cfg.Annotations,
		Image: cfg.Image,
	}}
	r.signal()
	return id, nil
}

func (r *fakeRuntime) StartContainer(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return notFound("container", id)
	}
	c.status.State = runtimeapi.ContainerState_CONTAINER_RUNNING
	c.status.StartedAt = r.clock.Now().UnixNano()
	r.signal()
	return nil
}

func (r *fakeRuntime) StopContainer(_ context.Context, id string, timeout int64) error {
	r.mu.Lock()
	hold := r.hold
	r.ops = append(r.ops, "stop container "+id)
	r.signal()
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stops = append(r.stops, stopCall{id, timeout})
	c, ok := r.containers[id]
	if !ok {
		return notFound("container", id)
	}
	r.exitLocked(c, r.stopExit)
	r.signal()
	return nil
}

func (r *fakeRuntime) exitLocked(c *fakeContainer, code int32) {
	if c.status.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return
	}
	c.status.State = runtimeapi.ContainerState_CONTAINER_EXITED
	c.status.ExitCode = code
	c.status.FinishedAt = r.clock.Now().UnixNano()
	c.status.Reason = "Error"
	if code == 0 {
		c.status.Reason = "Completed"
	}
}

func (r *fakeRuntime) RemoveContainer(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.containers, id)
	r.signal()
	return nil
}

func (r *fakeRuntime) ListContainers(_ context.Context, f *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lists++
	var out []*runtimeapi.Container
	for id, c := range r.containers {
		if matches(c.cfg.Labels, f.GetLabelSelector()) {
			out = append(out, &runtimeapi.Container{Id: id, PodSandboxId: c.sandboxID, Metadata: c.cfg.Metadata, State: c.status.State,
				CreatedAt: c.status.CreatedAt, Labels: c.cfg.Labels, Annotations: c.cfg.Annotations})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out, nil
}

func (r *fakeRuntime) ContainerStatus(_ context.Context, id string, _ bool) (*runtimeapi.ContainerStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil, notFound("container", id)
	}
	return &runtimeapi.ContainerStatusResponse{Status: proto.Clone(&c.status).(*runtimeapi.ContainerStatus)}, nil
}

// ContainerStats reports the writable layer set with setWritableLayer.
func (r *fakeRuntime) ContainerStats(_ context.Context, id string) (*runtimeapi.ContainerStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil, notFound("container", id)
	}
	return &runtimeapi.ContainerStats{
		Attributes:    &runtimeapi.ContainerAttributes{Id: id, Metadata: c.status.Metadata},
		WritableLayer: &runtimeapi.FilesystemUsage{UsedBytes: &runtimeapi.UInt64Value{Value: r.writable[c.status.Metadata.GetName()]}},
	}, nil
}

// setWritableLayer makes every instance of the named container report
// bytes in its writable layer.
func (r *fakeRuntime) setWritableLayer(name string, bytes uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.writable == nil {
		r.writable = map[string]uint64{}
	}
	r.writable[name] = bytes
}

func (r *fakeRuntime) ExecSync(context.Context, string, []string, time.Duration) ([]byte, []byte, error) {
	return nil, nil, nil
}

func (r *fakeRuntime) ImageStatus(_ context.Context, spec *runtimeapi.ImageSpec, _ bool) (*runtimeapi.ImageStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.images[spec.Image] {
		return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: "sha256:" + spec.Image}}, nil
	}
	return &runtimeapi.ImageStatusResponse{}, nil
}

func (r *fakeRuntime) PullImage(_ context.Context, spec *runtimeapi.ImageSpec, _ *runtimeapi.AuthConfig, _ *runtimeapi.PodSandboxConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pulls[spec.Image] = append(r.pulls[spec.Image], r.clock.Now())
	r.signal()
	if r.missing[spec.Image] {
		return "", grpcstatus.Errorf(codes.NotFound, "failed to resolve reference %q: not found", spec.Image)
	}
	r.images[spec.Image] = true
	return "sha256:" + spec.Image, nil
}

// exit makes a running container exit with code, as its process would.
func (r *fakeRuntime) exit(id string, code int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exitLocked(r.containers[id], code)
	r.signal()
}

// running returns the IDs of the running containers named name.
func (r *fakeRuntime) running(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id, c := range r.containers {
		if c.cfg.Metadata.Name == name && c.status.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// lastContainer returns the ID of the newest container named name.
func (r *fakeRuntime) lastContainer(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var id string
	var created int64
	for cid, c := range r.containers {
		if c.cfg.Metadata.Name == name && c.status.CreatedAt >= created {
			id, created = cid, c.status.CreatedAt
		}
	}
	return id
}

// listCalls is how many list calls were made so far.
func (r *fakeRuntime) listCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lists
}

// count returns how many sandboxes and containers there are.
func (r *fakeRuntime) count() (sandboxes, containers int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sandboxes), len(r.containers)
}

func (r *fakeRuntime) pullTimes(image string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.pulls[image]...)
}

// fakeSink is a status sink that keeps the latest status of each pod.
type fakeSink struct {
	mu      sync.Mutex
	pods    map[types.UID]*v1.Pod
	changed chan struct{}
	// onSet, when set, sees every status, under mu.
	onSet func(*v1.Pod)
}

func newFakeSink() *fakeSink {
	return &fakeSink{pods: map[types.UID]*v1.Pod{}, changed: make(chan struct{}, 1)}
}

func (s *fakeSink) Set(p *v1.Pod) {
	s.mu.Lock()
	s.pods[p.UID] = p
	if s.onSet != nil {
		s.onSet(p)
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *fakeSink) Delete(uid types.UID) {
	s.mu.Lock()
	delete(s.pods, uid)
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *fakeSink) get(uid types.UID) *v1.Pod {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pods[uid]
}

// fakeVolumes sets up nothing.
type fakeVolumes struct{}

func (fakeVolumes) Setup(*v1.Pod) (volumes.Volumes, error) { return volumes.Volumes{}, nil }
func (fakeVolumes) TerminationMessageFile(types.UID, string, int32) (string, error) {
	return "", nil
}
func (fakeVolumes) HostsFile(uid types.UID, _ []byte) (string, error) {
	return "/pods/" + string(uid) + "/etc-hosts", nil
}
func (fakeVolumes) Cleanup(types.UID) error { return nil }

func (fakeVolumes) EmptyDirPath(uid types.UID, name string) string {
	return "/nonexistent/" + string(uid) + "/" + name
}

func (fakeVolumes) Mounts(*v1.Pod, *v1.Container, volumes.Volumes, map[string]string, bool) ([]*runtimeapi.Mount, error) {
	return nil, nil
}

// fakeEvents records events.
type fakeEvents struct {
	mu     sync.Mutex
	events []podEvent
}

func (e *fakeEvents) Record(_ *v1.Pod, fieldPath, eventType, reason, message string, _ time.Time) {
	e.mu.Lock()
	e.events = append(e.events, podEvent{Container: fieldPath, Type: eventType, Reason: reason, Message: message})
	e.mu.Unlock()
}

func (e *fakeEvents) Forget(types.UID) {}

func (e *fakeEvents) withReason(reason string) []podEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []podEvent
	for _, ev := range e.events {
		if ev.Reason == reason {
			out = append(out, ev)
		}
	}
	return out
}

// fakeProber holds probe results set by the test.
type fakeProber struct {
	mu       sync.Mutex
	results  map[string]map[probes.Kind]probes.Result
	targets  map[types.UID][]probes.Target
	stopped  map[types.UID]bool
	onUpdate func(probes.Update)
}

func newFakeProber() *fakeProber {
	return &fakeProber{results: map[string]map[probes.Kind]probes.Result{}, targets: map[types.UID][]probes.Target{}, stopped: map[types.UID]bool{}}
}

func (p *fakeProber) Sync(uid types.UID, targets []probes.Target) {
	p.mu.Lock()
	p.targets[uid] = targets
	p.mu.Unlock()
}

func (p *fakeProber) StopLivenessAndStartup(uid types.UID) {
	p.mu.Lock()
	p.stopped[uid] = true
	p.mu.Unlock()
}

func (p *fakeProber) RemovePod(uid types.UID) {
	p.mu.Lock()
	delete(p.targets, uid)
	p.mu.Unlock()
}

func (p *fakeProber) Result(id string, k probes.Kind) (probes.Result, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.results[id][k]
	return r, ok
}

func (p *fakeProber) Started(id string) bool {
	r, ok := p.Result(id, probes.Startup)
	return !ok || r == probes.Success
}

func (p *fakeProber) Ready(id string) bool {
	r, ok := p.Result(id, probes.Readiness)
	return p.Started(id) && (!ok || r == probes.Success)
}

func (p *fakeProber) Stop() {}

// set sets a probe result and tells the manager, as a probe worker does.
func (p *fakeProber) set(uid types.UID, name, id string, k probes.Kind, r probes.Result) {
	p.mu.Lock()
	if p.results[id] == nil {
		p.results[id] = map[probes.Kind]probes.Result{}
	}
	p.results[id][k] = r
	on := p.onUpdate
	p.mu.Unlock()
	on(probes.Update{PodUID: uid, ContainerName: name, ContainerID: id, Kind: k, Result: r, Changed: true,
		Failed: r == probes.Failure, FailureThresholdReached: r == probes.Failure && k != probes.Readiness})
}

// harness runs a Manager on the fakes with a fake clock.
type harness struct {
	t      *testing.T
	clock  *clocktesting.FakeClock
	rt     *fakeRuntime
	sink   *fakeSink
	events *fakeEvents
	prober *fakeProber
	m      *Manager
	cancel context.CancelFunc
	done   chan struct{}
}

const testNode = "node1"

func newHarness(t *testing.T, present ...string) *harness {
	t.Helper()
	clk := clocktesting.NewFakeClock(t0)
	h := &harness{t: t, clock: clk, rt: newFakeRuntime(clk, present...), sink: newFakeSink(), events: &fakeEvents{}, prober: newFakeProber()}
	h.m = NewManager(Config{
		Runtime: h.rt, Images: h.rt, Puller: images.NewPuller(h.rt, nil, 1, clk), Status: h.sink, Volumes: fakeVolumes{}, Events: h.events,
		NewProber: func(on func(probes.Update)) Prober { h.prober.onUpdate = on; return h.prober },
		Clock:     clk, NodeName: testNode, HostIP: "192.0.2.1",
	})
	h.m.cfg.Sandbox.PodLogsDir = t.TempDir()
	return h
}

func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		h.m.Run(ctx) //nolint:errcheck
	}()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	h.rt.releaseStops() // a test that failed while stops were held
	if h.cancel != nil {
		h.cancel()
		<-h.done
		h.cancel = nil
	}
}

// waitFor waits until cond holds, woken by every change of the runtime or
// the status sink; it fails the test after 10 s of real time.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-h.rt.changed:
		case <-h.sink.changed:
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// step advances the fake clock once its timers are armed by the workers.
func (h *harness) step(d time.Duration) {
	h.clock.Step(d)
}

func (h *harness) status(uid types.UID) v1.PodStatus {
	if p := h.sink.get(uid); p != nil {
		return p.Status
	}
	return v1.PodStatus{}
}
