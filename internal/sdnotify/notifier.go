package sdnotify

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

const (
	// readyTimeout bounds the wait for READY=1 from the Notifier's making
	// (the kubelet has no such notion). A pod's first start attempt can
	// wait for image pulls, one at a time by default, so the wait may be
	// long; but a pod that cannot start must not hold the node's other
	// pods and systemd's dependants back for ever, and systemd kills a
	// service not ready within its TimeoutStartSec (90 s by default):
	// 60 s leaves the 30 s before it for dialing the runtime and
	// importing the pause image.
	readyTimeout = 60 * time.Second
	// statusInterval paces STATUS=: sent at most this often, and only
	// when its text changed.
	statusInterval = 5 * time.Second
)

// podLister is where the published pods are read (*status.Store).
type podLister interface {
	List() []v1.Pod
}

// progress tells when the sync machinery last moved
// (*podworker.Manager).
type progress interface {
	LastRelist() time.Time
}

// Config is what a Notifier reads.
type Config struct {
	Pods     podLister
	Progress progress
	// Clock is k8s.io/utils/clock; nil means the real clock.
	Clock  clock.WithTicker
	Logger *zap.Logger
}

// Notifier sends the daemon's notifications to systemd. SetDesired and
// FirstSync may be called from any goroutine; Run sends what is timed.
type Notifier struct {
	pods     podLister
	progress progress
	clock    clock.WithTicker
	log      *zap.Logger
	readyBy  time.Time

	mu sync.Mutex
	// scanned is set once the first snapshot was handed over.
	scanned bool
	// pending are the first snapshot's pods still without a first start
	// attempt; attempted are the pods that had one before it came.
	pending   map[types.UID]bool
	attempted map[types.UID]bool
	ready     bool
	// lastStatus is the STATUS= text last sent.
	lastStatus string
}

// New returns a Notifier; READY=1 is sent at the latest readyTimeout from
// now, once Run runs.
func New(cfg Config) *Notifier {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Notifier{
		pods:      cfg.Pods,
		progress:  cfg.Progress,
		clock:     cfg.Clock,
		log:       cfg.Logger,
		readyBy:   cfg.Clock.Now().Add(readyTimeout),
		attempted: map[types.UID]bool{},
	}
}

// SetDesired takes the desired pods of a manifest snapshot as they are
// handed to the pod workers (desired.Feed's podSetter). The first one is
// the set READY=1 waits for; a later one only drops the pods it no longer
// holds from the wait.
func (n *Notifier) SetDesired(pods []*v1.Pod) {
	n.mu.Lock()
	if n.ready {
		n.mu.Unlock()
		return
	}
	desired := make(map[types.UID]bool, len(pods))
	for _, p := range pods {
		desired[p.UID] = true
	}
	if !n.scanned {
		n.scanned = true
		n.pending = map[types.UID]bool{}
		for uid := range desired {
			if !n.attempted[uid] {
				n.pending[uid] = true
			}
		}
		n.attempted = nil
	}
	for uid := range n.pending {
		if !desired[uid] {
			delete(n.pending, uid)
		}
	}
	now := len(n.pending) == 0
	n.mu.Unlock()
	if now {
		n.becomeReady()
	}
}

// FirstSync says that the pod with uid had its first start attempt
// (podworker.Config.OnFirstSync).
func (n *Notifier) FirstSync(uid types.UID) {
	n.mu.Lock()
	if n.ready {
		n.mu.Unlock()
		return
	}
	if !n.scanned {
		n.attempted[uid] = true
		n.mu.Unlock()
		return
	}
	delete(n.pending, uid)
	now := len(n.pending) == 0
	n.mu.Unlock()
	if now {
		n.becomeReady()
	}
}

// Run sends STATUS= as the pods change (at most every statusInterval),
// READY=1 at readyTimeout if nothing sent it before, and WATCHDOG=1 at
// half the watchdog period systemd asks for (WATCHDOG_USEC) while the
// relister finished a relist within the last period. It sends STOPPING=1
// when ctx ends, and returns nil.
//
// Without $NOTIFY_SOCKET (not run by systemd) no STATUS= is made at all:
// each would list every published pod, a deep copy of each, for nothing.
func (n *Notifier) Run(ctx context.Context) error {
	var statusC <-chan time.Time
	systemd := os.Getenv("NOTIFY_SOCKET") != ""
	if systemd {
		t := n.clock.NewTicker(statusInterval)
		defer t.Stop()
		statusC = t.C()
	}
	var readyC <-chan time.Time
	if d := n.readyBy.Sub(n.clock.Now()); d > 0 {
		t := n.clock.NewTimer(d)
		defer t.Stop()
		readyC = t.C()
	} else {
		n.becomeReady()
	}
	period, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Warn("read systemd's watchdog period: not sending WATCHDOG=1", zap.Error(err))
	}
	var petC <-chan time.Time
	if period > 0 {
		t := n.clock.NewTicker(period / 2)
		defer t.Stop()
		petC = t.C()
		n.log.Info("systemd watchdog", zap.Duration("period", period))
	}
	if systemd {
		n.sendStatus()
	}
	stalled := false
	for {
		select {
		case <-ctx.Done():
			n.notify("STOPPING=1")
			return nil
		case <-readyC:
			readyC = nil
			n.becomeReady()
		case <-statusC:
			n.sendStatus()
		case <-petC:
			now := n.clock.Now()
			last := n.progress.LastRelist()
			ok := progressed(now, last, period)
			switch {
			case ok:
				n.notify(daemon.SdNotifyWatchdog)
				if stalled {
					n.log.Info("the pod sync machinery makes progress again")
				}
			case !stalled:
				n.log.Warn("the pod sync machinery made no progress within the watchdog period: WATCHDOG=1 withheld, systemd will restart the daemon",
					zap.Time("lastRelist", last), zap.Duration("period", period))
			}
			stalled = !ok
		}
	}
}

// progressed reports whether a relist finished at last is recent enough
// at now to pet a watchdog of period.
func progressed(now, last time.Time, period time.Duration) bool {
	return !last.IsZero() && now.Sub(last) < period
}

// becomeReady sends READY=1 with the STATUS= text, once.
func (n *Notifier) becomeReady() {
	n.mu.Lock()
	if n.ready {
		n.mu.Unlock()
		return
	}
	n.ready = true
	scanned, waiting := n.scanned, len(n.pending)
	n.pending = nil
	n.mu.Unlock()
	line := statusLine(true, scanned, n.pods.List())
	n.mu.Lock()
	n.lastStatus = line
	n.mu.Unlock()
	if !scanned || waiting > 0 {
		n.log.Info("ready before every pod had its first start attempt", zap.Duration("bound", readyTimeout),
			zap.Bool("manifestsScanned", scanned), zap.Int("podsWithoutStartAttempt", waiting))
	} else {
		n.log.Info("ready", zap.String("status", line))
	}
	n.notify(daemon.SdNotifyReady + "\nSTATUS=" + line)
}

// sendStatus sends STATUS= if its text changed.
func (n *Notifier) sendStatus() {
	n.mu.Lock()
	ready, scanned := n.ready, n.scanned
	n.mu.Unlock()
	line := statusLine(ready, scanned, n.pods.List())
	n.mu.Lock()
	changed := line != n.lastStatus
	n.lastStatus = line
	n.mu.Unlock()
	if changed {
		n.notify("STATUS=" + line)
	}
}

func (n *Notifier) notify(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.log.Debug("notify systemd", zap.String("state", state), zap.Error(err))
	}
}
