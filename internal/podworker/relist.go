package podworker

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/timers"
)

const (
	// defaultRelistInterval is how often the runtime is relisted to notice
	// changes no event told of (the kubelet's PLEG relists every second).
	defaultRelistInterval = time.Second
	// exitRecheckInterval paces relists after an exit event until the CRI
	// reports the container exited: containerd publishes the event before
	// its CRI plugin has recorded the exit.
	exitRecheckInterval = 3 * time.Millisecond
	// exitRecheckFor bounds that: past it, the periodic relist takes over
	// and the event's exit is forgotten.
	exitRecheckFor = time.Second
)

// lister lists what the runtime has (two calls for the whole node).
type lister interface {
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
}

// relister is minikubelet's PLEG: it lists everything this node's daemon
// made in the runtime, tells which pods changed since they were last seen
// (by a relist or by the pod's own worker, whose changes are not news to
// it), and holds the exits containerd reported before its CRI plugin
// recorded them. It is the one place an exit event lives: observers merge
// its pending exits into what they list.
type relister struct {
	rt       lister
	metrics  *metrics
	selector map[string]string
	clock    clock.WithTicker
	interval time.Duration

	mu sync.Mutex
	// seen is the fingerprint of each pod's runtime objects as last seen,
	// with the time its listing began.
	seen map[types.UID]fingerprint
	// pending are exits an event reported that the CRI still shows running.
	pending map[string]pendingExit
	// podOf maps container IDs to their pod, as the last relist or a
	// worker's observation since saw them.
	podOf map[string]podOfEntry
	// kick asks for a relist ahead of the ticker.
	kick chan struct{}
	// gen counts the relists begun.
	gen atomic.Uint64
	// done is when the last relist finished, in Unix nanoseconds of the
	// clock; zero before the first.
	done atomic.Int64
	// lastBegan is when the last relist began (the relist goroutine's).
	lastBegan time.Time
}

// fingerprint is one view of a pod's sandboxes and containers.
type fingerprint struct {
	print string
	at    time.Time
}

type podOfEntry struct {
	uid types.UID
	at  time.Time
}

// pendingExit is an exit containerd reported that its CRI plugin has not
// recorded yet (it takes tens of milliseconds).
type pendingExit struct {
	exit runtime.Exit
	seen time.Time
}

// relistResult is what one relist found.
type relistResult struct {
	// Changed are the pods whose runtime objects differ from how they were
	// last seen.
	Changed []types.UID
	// Present holds every pod with a sandbox in the runtime, with its
	// newest sandbox (enough to stop a pod no manifest asks for).
	Present map[types.UID]*runtimeapi.PodSandbox
	// Gen numbers the relist: a later one has a greater number.
	Gen uint64
}

func newRelister(rt lister, m *metrics, nodeName string, clk clock.WithTicker, interval time.Duration) *relister {
	if interval <= 0 {
		interval = defaultRelistInterval
	}
	return &relister{
		rt:       rt,
		metrics:  m,
		selector: map[string]string{runtime.LabelManaged: "true", runtime.LabelNode: nodeName},
		clock:    clk,
		interval: interval,
		seen:     map[types.UID]fingerprint{},
		pending:  map[string]pendingExit{},
		podOf:    map[string]podOfEntry{},
		kick:     make(chan struct{}, 1),
	}
}

// run relists every interval, at once when kicked, and every 3 ms while an
// exit is pending, handing each result to out, until ctx ends.
func (r *relister) run(ctx context.Context, out func(relistResult), onError func(error)) {
	ticker := r.clock.NewTicker(r.interval)
	defer ticker.Stop()
	recheck := r.clock.NewTimer(exitRecheckInterval)
	defer recheck.Stop()
	for {
		res, again, err := r.relist(ctx)
		r.done.Store(r.clock.Now().UnixNano())
		if err != nil && ctx.Err() == nil {
			onError(err)
		}
		if err == nil {
			out(res)
		}
		var recheckC <-chan time.Time
		if again {
			timers.Reset(recheck, exitRecheckInterval)
			recheckC = recheck.C()
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		case <-r.kick:
		case <-recheckC:
		}
	}
}

// requestRelist asks for a relist now; it never blocks.
func (r *relister) requestRelist() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// exited records an exit containerd reported and returns the pod the
// container belongs to (empty when the last relist did not know it).
func (r *relister) exited(e runtime.Exit) types.UID {
	r.mu.Lock()
	r.pending[e.ContainerID] = pendingExit{exit: e, seen: r.clock.Now()}
	uid := r.podOf[e.ContainerID].uid
	r.mu.Unlock()
	r.requestRelist()
	return uid
}

// pendingExits returns the exits the CRI has not recorded yet, by
// container ID.
func (r *relister) pendingExits() map[string]runtime.Exit {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return nil
	}
	out := make(map[string]runtime.Exit, len(r.pending))
	for id, p := range r.pending {
		out[id] = p.exit
	}
	return out
}

// observed records how a pod's worker saw its pod: a relist that finds the
// same is no news, and exits of the containers it saw wake it.
func (r *relister) observed(uid types.UID, obs observation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.seen[uid]; !ok || !obs.ListedAt.Before(prev.at) {
		r.seen[uid] = fingerprint{print: obs.Fingerprint, at: obs.ListedAt}
	}
	for _, c := range obs.Containers {
		r.podOf[c.ID] = podOfEntry{uid: uid, at: obs.ListedAt}
	}
}

// track says that a container the worker just created belongs to uid, so
// that its exit wakes the worker even before any listing saw it.
func (r *relister) track(containerID string, uid types.UID) {
	r.mu.Lock()
	r.podOf[containerID] = podOfEntry{uid: uid, at: r.clock.Now()}
	r.mu.Unlock()
}

// lastDone is when the last relist finished. A relister blocked handing
// its result to a manager loop that hangs stops moving it.
func (r *relister) lastDone() time.Time {
	if ns := r.done.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// generation is the number of relists begun so far.
func (r *relister) generation() uint64 { return r.gen.Load() }

// forget drops what is known of a pod that is gone.
func (r *relister) forget(uid types.UID) {
	r.mu.Lock()
	delete(r.seen, uid)
	r.mu.Unlock()
}

// relist lists the runtime once. It reports whether an exit an event
// reported is still not in the CRI (so another relist should follow soon).
func (r *relister) relist(ctx context.Context) (relistResult, bool, error) {
	at := r.clock.Now()
	gen := r.gen.Add(1)
	var sincePrevious time.Duration
	if !r.lastBegan.IsZero() {
		sincePrevious = at.Sub(r.lastBegan)
	}
	r.lastBegan = at
	sandboxes, err := r.rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: r.selector})
	if err != nil {
		return relistResult{}, false, fmt.Errorf("list sandboxes: %w", err)
	}
	containers, err := r.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: r.selector})
	if err != nil {
		return relistResult{}, false, fmt.Errorf("list containers: %w", err)
	}
	r.metrics.relisted(r.clock.Since(at), sincePrevious, sandboxes, containers)
	prints := fingerprints(sandboxes, containers)
	res := relistResult{Present: map[types.UID]*runtimeapi.PodSandbox{}, Gen: gen}
	for _, s := range sandboxes {
		uid := types.UID(s.Labels[runtime.LabelPodUID])
		if cur, ok := res.Present[uid]; !ok || s.CreatedAt > cur.CreatedAt {
			res.Present[uid] = s
		}
	}
	running := make(map[string]bool, len(containers))
	podOf := make(map[string]podOfEntry, len(containers))
	for _, c := range containers {
		running[c.Id] = c.State == runtimeapi.ContainerState_CONTAINER_RUNNING
		podOf[c.Id] = podOfEntry{uid: types.UID(c.Labels[runtime.LabelPodUID]), at: at}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for id, e := range r.podOf {
		if _, listed := podOf[id]; !listed && !e.at.Before(at) {
			podOf[id] = e // seen by a worker after this listing began
		}
	}
	r.podOf = podOf
	recheck := false
	for id, p := range r.pending {
		if !running[id] || at.Sub(p.seen) > exitRecheckFor {
			delete(r.pending, id)
			continue
		}
		recheck = true
	}
	for uid, print := range prints {
		if prev, ok := r.seen[uid]; ok && (prev.print == print || at.Before(prev.at)) {
			continue
		}
		r.seen[uid] = fingerprint{print: print, at: at}
		res.Changed = append(res.Changed, uid)
	}
	for uid, prev := range r.seen {
		if _, ok := prints[uid]; !ok && prev.print != "" && !at.Before(prev.at) {
			// Everything of the pod is gone from the runtime.
			r.seen[uid] = fingerprint{at: at}
			res.Changed = append(res.Changed, uid)
		}
	}
	sort.Slice(res.Changed, func(i, j int) bool { return res.Changed[i] < res.Changed[j] })
	return res, recheck, nil
}

// fingerprints summarizes each pod's sandboxes and containers (IDs and
// states) in one string per pod, as the CRI lists them.
func fingerprints(sandboxes []*runtimeapi.PodSandbox, containers []*runtimeapi.Container) map[types.UID]string {
	parts := map[types.UID][]string{}
	for _, s := range sandboxes {
		uid := types.UID(s.Labels[runtime.LabelPodUID])
		parts[uid] = append(parts[uid], "s"+s.Id+":"+s.State.String())
	}
	for _, c := range containers {
		uid := types.UID(c.Labels[runtime.LabelPodUID])
		parts[uid] = append(parts[uid], "c"+c.Id+":"+c.State.String())
	}
	out := make(map[types.UID]string, len(parts))
	for uid, p := range parts {
		sort.Strings(p)
		out[uid] = strings.Join(p, ",")
	}
	return out
}
