package staticpods

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// Config configures a Source.
type Config struct {
	Dir            string           // staticPodPath
	NodeName       string           // already lowercased by the caller
	CheckFrequency time.Duration    // periodic full rescan, default 20s when zero
	Debounce       time.Duration    // quiet time after the last fs event before reading, default 20ms when zero
	Logger         *zap.Logger      // nil means zap.NewNop()
	Clock          clock.WithTicker // k8s.io/utils/clock; nil means the real clock
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
	Errors    []FileError // files that produce no pod (invalid with no last good version, duplicates, unreadable), ordered by file name
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

	files      map[string]*fileState // by path
	skipped    map[string]string     // paths ignored, with why, as last logged
	dirProblem string                // the directory's problem, as last logged

	// onArm, when set (tests), is called each time a file system event
	// (re)starts the debounce timer.
	onArm func()
}

// New returns a Source for cfg, with defaults filled in.
func New(cfg Config) *Source {
	cfg.Dir = filepath.Clean(cfg.Dir)
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
	return &Source{
		cfg:     cfg,
		log:     log.With(zap.String("dir", cfg.Dir)),
		clock:   clk,
		files:   map[string]*fileState{},
		skipped: map[string]string{},
	}
}

// Run scans the directory, sends the first Snapshot, then watches (fsnotify + periodic rescan) and sends a new
// Snapshot whenever the set of manifests (by UID), or the errors, change; it returns when ctx ends.
// Sends must not block forever if ctx ends.
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
	var (
		timer   clock.Timer
		timerC  <-chan time.Time
		armedAt time.Time // first event of the current burst; zero when quiet
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	// arm (re)starts the quiet period: the directory is read only once
	// no event has come for Debounce, so a file being written in several
	// steps is read once, complete.
	arm := func() {
		if timer == nil {
			timer = s.clock.NewTimer(s.cfg.Debounce)
		} else {
			if !timer.Stop() {
				select {
				case <-timer.C():
				default:
				}
			}
			timer.Reset(s.cfg.Debounce)
		}
		timerC = timer.C()
		if armedAt.IsZero() {
			armedAt = s.clock.Now()
		}
		if s.onArm != nil {
			s.onArm()
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
		case ev, ok := <-w.events():
			if !ok {
				w.stop()
				continue
			}
			if w.relevant(ev) {
				s.log.Debug("File system event", zap.String("name", ev.Name), zap.Stringer("op", ev.Op))
				arm()
			}
		case err, ok := <-w.errors():
			if !ok {
				w.stop()
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				s.log.Info("File system events were lost; rereading the directory")
				arm()
				continue
			}
			s.log.Warn("Watching the manifest directory failed", zap.Error(err))
		case <-timerC:
			timerC, armedAt = nil, time.Time{}
			rescan()
		case <-ticker.C():
			// A burst of writes in progress will be read when it ends,
			// unless it has lasted a whole period.
			if !armedAt.IsZero() && s.clock.Since(armedAt) < s.cfg.CheckFrequency {
				continue
			}
			rescan()
		}
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

// dirWatch keeps an fsnotify watch on the directory, or on its parent while
// the directory does not exist so that its creation is noticed. Without
// fsnotify (watcher creation failed) the periodic rescan does all the work.
type dirWatch struct {
	dir, parent string
	fs          *fsnotify.Watcher
	onParent    bool
	log         *zap.Logger
}

func newDirWatch(dir string, log *zap.Logger) *dirWatch {
	w := &dirWatch{dir: dir, parent: filepath.Dir(dir), log: log}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		log.Warn("Cannot watch the manifest directory; changes are seen at the periodic rescan only", zap.Error(err))
		return w
	}
	w.fs = fw
	return w
}

func (w *dirWatch) events() <-chan fsnotify.Event {
	if w.fs == nil {
		return nil
	}
	return w.fs.Events
}

func (w *dirWatch) errors() <-chan error {
	if w.fs == nil {
		return nil
	}
	return w.fs.Errors
}

// stop gives up on fsnotify after its channels closed.
func (w *dirWatch) stop() {
	if w.fs != nil {
		w.log.Warn("The file system watcher stopped; changes are seen at the periodic rescan only")
		_ = w.fs.Close()
		w.fs = nil
	}
}

func (w *dirWatch) close() {
	if w.fs != nil {
		_ = w.fs.Close()
	}
}

func (w *dirWatch) watching(path string) bool {
	for _, p := range w.fs.WatchList() {
		if p == path {
			return true
		}
	}
	return false
}

// ensure is called before every scan, so that nothing that happens after
// the scan goes unnoticed.
func (w *dirWatch) ensure() {
	if w.fs == nil {
		return
	}
	if w.watching(w.dir) {
		w.dropParent()
		return
	}
	err := w.fs.Add(w.dir)
	if err == nil {
		w.log.Debug("Watching the manifest directory")
		w.dropParent()
		return
	}
	if !errors.Is(err, os.ErrNotExist) {
		w.log.Debug("Cannot watch the manifest directory", zap.Error(err))
	}
	if w.onParent || w.parent == w.dir {
		return
	}
	if err := w.fs.Add(w.parent); err != nil {
		w.log.Debug("Cannot watch the parent of the manifest directory; it is looked for at the periodic rescan", zap.Error(err))
		return
	}
	w.onParent = true
	// The directory may have appeared while the parent watch was being set up.
	if err := w.fs.Add(w.dir); err == nil {
		w.dropParent()
	}
}

func (w *dirWatch) dropParent() {
	if w.onParent {
		_ = w.fs.Remove(w.parent)
		w.onParent = false
	}
}

// relevant: anything in the directory, or the directory itself.
func (w *dirWatch) relevant(ev fsnotify.Event) bool {
	return ev.Name == w.dir || filepath.Dir(ev.Name) == w.dir
}
