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
	// defaultRelistInterval is how often the whole node is relisted to
	// notice changes no event told of. Relisting is event-driven: a task
	// exit, an OOM kill or a deletion containerd reports, a worker that
	// stopped, a new desired set or a resubscribed event stream each ask
	// for one at once, and every start is the pod's own worker's, which
	// observes it itself. The kubelet's evented PLEG keeps a 300 s relist
	// behind its CRI's events; this one is 10 s because systemd's watchdog
	// (WatchdogSec=30s in the unit) is fed by the last relist, and because
	// containerd's events, unlike the CRI's, say nothing of a sandbox whose
	// network went away. It costs two list calls for the node per 10 s,
	// nothing per pod.
	defaultRelistInterval = DefaultRelistInterval
	// exitRecheckInterval paces relists after an exit event until the CRI
	// reports the container exited: containerd publishes the event before
	// its CRI plugin has recorded the exit. The worker acts on the event
	// at once; the recheck only brings the CRI's record (its reason and
	// message) to the status, so it need not compete with the restart for
	// containerd. (With a 3 ms recheck and the worker's two lists made in
	// turn, those lists took 2.4-11 ms after an exit in the restart bench;
	// with 20 ms and the lists made together, 1.7-6.4 ms.)
	exitRecheckInterval = 20 * time.Millisecond
	// exitRecheckFor bounds that pacing: past it, the periodic relist
	// takes over. The exit itself is kept (merged into what the CRI lists)
	// until the CRI stops listing the container as running: containerd's
	// CRI plugin retries an event it failed to handle with a backoff, and
	// under load it may show an exited container running for seconds.
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
	// podOf maps container and sandbox IDs to their pod, as the last
	// relist or a worker's observation since saw them.
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

// DefaultRelistInterval is the period of the full relist behind
// containerd's events when Config.ResyncInterval is zero.
const DefaultRelistInterval = 10 * time.Second

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

// run relists every interval (10 s), at once when kicked, and every 20 ms
// while an exit is pending, handing each result to out, until ctx ends.
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

// changed tells of a runtime event other than an exit (an OOM kill, a
// deletion) for a container or sandbox: when it belongs to a pod of this
// node, a relist follows at once, and its pod is returned (empty for
// anything this node does not know: other nodes share the runtime).
func (r *relister) changed(id string) types.UID {
	r.mu.Lock()
	uid := r.podOf[id].uid
	r.mu.Unlock()
	if uid != "" {
		r.requestRelist()
	}
	return uid
}

// requestRelist asks for a relist now; it never blocks.
func (r *relister) requestRelist() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// exited records an exit containerd reported for one of this node's
// containers or sandboxes, asks for a relist, and returns the pod it
// belongs to. An exit of anything else (another node's: they share
// containerd) is ignored and returns empty: a container is known from the
// moment its worker created it, before it could start, and a sandbox from
// its worker's next observation or the next relist.
func (r *relister) exited(e runtime.Exit) types.UID {
	r.mu.Lock()
	uid := r.podOf[e.ContainerID].uid
	if uid != "" {
		r.pending[e.ContainerID] = pendingExit{exit: e, seen: r.clock.Now()}
	}
	r.mu.Unlock()
	if uid != "" {
		r.requestRelist()
	}
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
	for _, s := range obs.Sandboxes {
		r.podOf[s.ID] = podOfEntry{uid: uid, at: obs.ListedAt}
	}
}

// track says that a container or sandbox the worker just created belongs
// to uid, so that its exit wakes the worker even before any listing saw it.
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
	running := make(map[string]bool, len(containers))
	podOf := make(map[string]podOfEntry, len(sandboxes)+len(containers))
	for _, s := range sandboxes {
		uid := types.UID(s.Labels[runtime.LabelPodUID])
		if cur, ok := res.Present[uid]; !ok || s.CreatedAt > cur.CreatedAt {
			res.Present[uid] = s
		}
		podOf[s.Id] = podOfEntry{uid: uid, at: at}
		// A sandbox's pause process exits as a task too.
		running[s.Id] = s.State == runtimeapi.PodSandboxState_SANDBOX_READY
	}
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
		if !running[id] {
			delete(r.pending, id)
			continue
		}
		if at.Sub(p.seen) <= exitRecheckFor {
			recheck = true
		}
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
