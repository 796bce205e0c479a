package staticpods

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/timers"
)

// Config configures a Source.
type Config struct {
	Dir            string           // staticPodPath
	NodeName       string           // already lowercased by the caller
	Node           NodeFeatures     // what the node offers, checked for each manifest
	CheckFrequency time.Duration    // periodic full rescan, default 20s when zero
	Debounce       time.Duration    // quiet time after the last file completed (closed, renamed, removed) before reading, default 20ms when zero
	Logger         *zap.Logger      // nil means zap.NewNop()
	Clock          clock.WithTicker // k8s.io/utils/clock; nil means the real clock
	// StateDir keeps each manifest's last good version across restarts of
	// the daemon, so that a file that is invalid (or unreadable) when the
	// daemon starts keeps its running pod, with the same UID, as it would
	// had the daemon never stopped. The Source owns the directory: it
	// creates it, writes a file there for each accepted version and removes
	// it with the manifest. Empty, or the same as Dir, means nothing is
	// kept: such a file then gives no pod at start, and its running pod is
	// stopped.
	StateDir string
	// Admit, when set, admits the pods as the kubelet does on this node
	// (its labels for node selectors and affinity, its allocatable for
	// requests and the number of pods); a refused manifest is reported in
	// Errors and its pod does not run.
	Admit *Node
}

// Manifest is one pod the directory asks for.
type Manifest struct {
	Path string  // the file it came from
	Pod  *v1.Pod // decoded, defaulted, validated; Name is "<metadata.name>-<nodeName>", UID set, annotations set
	Err  error   // non-nil when the file is currently invalid and Pod is its last good version (the pod keeps running on it)
	// Changes lists the field paths in which Pod differs from the previous
	// good version of the same file (see FieldChanges): why the pod was
	// replaced. Nil for the first version of a file.
	Changes []string
}

// Snapshot is the complete desired state read from the directory. Each
// snapshot holds its own copies of the pods: a receiver may keep them.
type Snapshot struct {
	Manifests []Manifest  // ordered by file name
	Errors    []FileError // files that produce no pod (invalid with no last good version, duplicates, unreadable, refused by the node's admission), ordered by file name
	// The directory itself is reported in Errors, first, when it is
	// missing (then there are no manifests: no directory, no static pods,
	// as the kubelet) or cannot be listed (then the manifests read before
	// are kept).
}

// Source reads the static pod directory and reports the pods it asks for.
// Its state belongs to the goroutine running Run; call Run once.
type Source struct {
	cfg   Config
	log   *zap.Logger
	clock clock.WithTicker

	files      map[string]*fileState     // by path
	skipped    map[string]string         // paths ignored, with why, as last logged
	dirProblem string                    // the directory's problem, as last logged
	writes     *openWrites               // files not to read yet: their writers may still hold them open
	started    bool                      // the first scan has begun
	saved      map[string]*savedManifest // during the first scan, the last good versions saved before the restart, by path
	admitted   map[types.UID]bool        // the pods admitted by the last snapshot
	// readEmpty is set when the last scan read a manifest of no bytes at
	// all: a writer that truncated it may not have written yet.
	readEmpty bool

	// onArm, when set (tests), is called each time a file system event
	// (re)starts the debounce timer.
	onArm func()
	// onChange, when set (tests), is called after each file system event
	// has been handled.
	onChange func(name string, change fileChange)
}

// New returns a Source for cfg, with defaults filled in.
func New(cfg Config) *Source {
	cfg.Dir = filepath.Clean(cfg.Dir)
	if cfg.StateDir != "" {
		cfg.StateDir = filepath.Clean(cfg.StateDir)
	}
	if cfg.CheckFrequency <= 0 {
		cfg.CheckFrequency = defaultCheckFrequency
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = defaultDebounce
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	log = log.With(zap.String("dir", cfg.Dir))
	if cfg.StateDir == cfg.Dir {
		// Its files would be read as manifests.
		log.Warn("The state directory is the static pod directory; last good versions of manifests are not kept across restarts; configure another root directory")
		cfg.StateDir = ""
	}
	return &Source{
		cfg:     cfg,
		log:     log,
		clock:   clk,
		files:   map[string]*fileState{},
		skipped: map[string]string{},
		writes:  newOpenWrites(openWriteQuiet, cfg.CheckFrequency),
	}
}

// Run scans the directory, sends the first Snapshot, then watches (inotify
// plus the periodic rescan) and sends a new Snapshot whenever the set of
// manifests (by UID and version), or the errors, change; it returns when ctx ends.
// Sends do not block once ctx ends.
//
// A file closed after writing is read at once, unless the directory was
// read less than Debounce ago (a burst of writes); otherwise the directory
// is read again Debounce after the last event that completes a file:
// closed after writing, renamed into or out of the directory, removed. A file still open for writing is not read until its writer closes
// it, or has not written to it for openWriteQuiet (see openWrites).
//
// A receiver that falls behind gets the newest snapshot, not every one in
// between. Run returns nil when ctx ends; problems with the directory or
// its files are reported in snapshots and logged, never returned.
func (s *Source) Run(ctx context.Context, out chan<- Snapshot) error {
	w := newDirWatch(s.cfg.Dir, s.log)
	defer w.close()

	w.ensure()
	first := s.scan()
	sig := first.signature()
	pending := &first

	rescan := func() {
		w.ensure()
		snap := s.scan()
		if next := snap.signature(); next != sig {
			sig = next
			pending = &snap
		}
	}

	ticker := s.clock.NewTicker(s.cfg.CheckFrequency)
	defer ticker.Stop()
	debounce := &alarm{clock: s.clock}
	defer debounce.stop()
	writing := &alarm{clock: s.clock}
	defer writing.stop()
	var armedAt time.Time // first event of the current burst; zero when quiet

	// arm (re)starts the quiet period: the directory is read only once no
	// file has been completed for Debounce, so that a burst of writes (50
	// quick rewrites, 200 new files) is read once.
	arm := func() {
		debounce.set(s.cfg.Debounce)
		if armedAt.IsZero() {
			armedAt = s.clock.Now()
		}
		if s.onArm != nil {
			s.onArm()
		}
	}
	// expire lets the files whose writers went quiet be read, and sets the
	// alarm for the next one.
	expire := func() (expired bool) {
		now := s.clock.Now()
		done, next := s.writes.expire(now)
		for _, p := range done {
			s.log.Debug("Manifest still open for writing but no longer written to; reading it", zap.String("file", p))
		}
		if next.IsZero() {
			writing.clear()
		} else {
			writing.set(next.Sub(now))
		}
		return len(done) > 0
	}
	// process handles the events queued now and tells whether the
	// directory should be read again (reread), whether only files closed
	// after writing ask for it (closed), and whether any event came at all
	// (touched: a write begun counts, though it asks for no read yet).
	process := func() (reread, closed, touched bool) {
		evs, err := w.read()
		closed = true
		for _, ev := range evs {
			name, change := w.interpret(ev)
			if s.handle(name, change) {
				reread = true
				closed = closed && change == changeClosed
			}
			touched = touched || change != changeNone
			if s.onChange != nil && change != changeNone {
				s.onChange(name, change)
			}
		}
		if err != nil {
			w.stop(err)
			reread, closed = true, false
		}
		if expire() {
			reread, closed = true, false
		}
		return reread, reread && closed, touched || reread
	}
	// lastRead is when the directory was last read after an event.
	var lastRead time.Time
	// readSettled reads the directory after events and keeps what it
	// found unless a file was written to meanwhile: the read may then
	// have seen half of a write, and the quiet period starts again (the
	// periodic rescan reads regardless).
	readSettled := func(atClose bool) {
		w.ensure()
		snap := s.scan()
		lastRead = s.clock.Now()
		// An empty file read at a close is most likely the next writer's
		// truncation, whose event the kernel queues only after it: the
		// quiet period tells.
		if _, _, touched := process(); touched || (atClose && s.readEmpty) {
			arm()
			return
		}
		if next := snap.signature(); next != sig {
			sig = next
			pending = &snap
		}
	}

	for {
		var sendC chan<- Snapshot
		var next Snapshot
		if pending != nil {
			sendC, next = out, *pending
		}
		select {
		case <-ctx.Done():
			return nil
		case sendC <- next:
			pending = nil
		case err := <-w.queued():
			if err != nil {
				w.stop(err)
				arm()
				continue
			}
			reread, closed, _ := process()
			w.acknowledge()
			switch {
			case reread && closed && armedAt.IsZero() && s.clock.Since(lastRead) >= s.cfg.Debounce:
				// A file its writer closed is complete: it is read at
				// once. Only a burst (another event within Debounce)
				// waits for the directory to go quiet.
				readSettled(true)
			case reread:
				arm()
			}
		case <-debounce.C():
			debounce.fired()
			armedAt = time.Time{}
			// Events queued meanwhile count first: a file whose close is
			// already queued is read now, not skipped as still open.
			process()
			readSettled(false)
		case <-writing.C():
			writing.fired()
			if reread, _, _ := process(); reread {
				rescan()
			}
		case <-ticker.C():
			// A burst of writes in progress will be read when it ends,
			// unless it has lasted a whole period.
			if !armedAt.IsZero() && s.clock.Since(armedAt) < s.cfg.CheckFrequency {
				continue
			}
			process()
			rescan()
		}
	}
}

// handle records what one event means for the file it names, and tells
// whether the directory should be read again.
func (s *Source) handle(name string, change fileChange) bool {
	switch change {
	case changeNone:
		return false
	case changeDir:
		return true
	case changeLost:
		s.log.Info("File system events were lost; rereading the directory")
		return true
	}
	if !isManifestName(name) {
		return false
	}
	p := filepath.Join(s.cfg.Dir, name)
	now := s.clock.Now()
	switch change {
	case changeWritten:
		s.writes.wrote(p, now)
		return false
	case changeCreated:
		if createdForWriting(p) {
			s.writes.wrote(p, now)
			return false
		}
		s.writes.done(p)
		return true
	case changeAttrib:
		// Its writer may set modes and times before it closes the file.
		return !s.writes.busy(p, now)
	default:
		s.writes.done(p)
		return true
	}
}

// signature identifies what a receiver acts on: which pods (by UID) from
// which files, and which errors.
func (snap Snapshot) signature() string {
	var b strings.Builder
	for _, m := range snap.Manifests {
		b.WriteString("M\x00")
		b.WriteString(m.Path)
		b.WriteByte(0)
		b.WriteString(string(m.Pod.UID))
		b.WriteByte(0)
		// A new version of a pod that keeps its UID (metadata.uid in the
		// manifest) is seen anew.
		b.WriteString(m.Pod.Annotations[ConfigFirstSeenAnnotationKey])
		b.WriteByte(0)
		if m.Err != nil {
			b.WriteString(m.Err.Error())
		}
		b.WriteByte('\n')
	}
	for _, e := range snap.Errors {
		b.WriteString("E\x00")
		b.WriteString(e.Path)
		b.WriteByte(0)
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// isManifestName tells whether a file name in the directory is one the scan
// reads: not hidden, with a manifest extension.
func isManifestName(name string) bool {
	return !strings.HasPrefix(name, ".") && slices.Contains(manifestExtensions, strings.ToLower(filepath.Ext(name)))
}

// alarm is a timer on the Source's clock that can be set again before or
// after it fires. Its channel is nil while it is not set, so that a select
// on it waits.
type alarm struct {
	clock clock.Clock
	timer clock.Timer
	c     <-chan time.Time
}

// set makes the alarm fire in d, whether or not it was set.
func (a *alarm) set(d time.Duration) {
	if a.timer == nil {
		a.timer = a.clock.NewTimer(d)
	} else {
		timers.Reset(a.timer, d)
	}
	a.c = a.timer.C()
}

// C is the channel the alarm fires on; nil when it is not set.
func (a *alarm) C() <-chan time.Time { return a.c }

// fired records that the value on C was received.
func (a *alarm) fired() { a.c = nil }

// clear unsets the alarm.
func (a *alarm) clear() {
	if a.c != nil {
		a.timer.Stop()
		a.c = nil
	}
}

func (a *alarm) stop() {
	if a.timer != nil {
		a.timer.Stop()
	}
}
