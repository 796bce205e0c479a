package staticpods

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// manifestExtensions are the file name extensions read as manifests; other
// files (editor backups, READMEs) are ignored.
var manifestExtensions = []string{".yaml", ".yml", ".json"}

// fileState is what the Source knows about one manifest file.
type fileState struct {
	read    bool              // sum holds the content last decoded
	sum     [sha256.Size]byte // hash of that content
	good    *v1.Pod           // last good version: named, annotated, config.seen set
	changes []string          // fields in which good differs from the good version before it
	err     error             // current problem; nil when the content is good
	dupOf   string            // the file that declares the same pod first, as last logged
	refused string            // why admission refused the pod, as last logged
}

// scan reads the whole directory and returns the snapshot it asks for.
// Unchanged files are not decoded again.
func (s *Source) scan() Snapshot {
	if !s.started {
		s.started = true
		s.saved = s.readStates()
		defer s.dropSaved()
	}
	s.readEmpty = false
	dir := s.cfg.Dir
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// As the kubelet: no directory, no static pods.
			s.noteDirProblem("The static pod directory does not exist; waiting for it to be created", err)
			for p, st := range s.files {
				s.log.Info("Manifest gone with its directory", zap.String("file", p))
				if st.good != nil {
					s.removeState(p)
				}
			}
			clear(s.files)
			clear(s.skipped)
			return Snapshot{Errors: []FileError{{Path: dir, Err: fmt.Errorf("%s: the static pod directory does not exist; create it to run static pods", dir)}}}
		}
		// Any other failure to list may pass; keep what was read before,
		// or at the first scan what was saved before the restart.
		s.noteDirProblem("Cannot read the static pod directory; keeping the pods read before", err)
		for _, p := range sortedKeys(s.saved) {
			st := s.state(p)
			s.adopt(p, st)
			st.err = &ManifestError{Path: p, Err: fmt.Errorf("cannot read: %w", err)}
		}
		snap := s.snapshot()
		snap.Errors = append([]FileError{{Path: dir, Err: fmt.Errorf("%s: cannot read the static pod directory: %w", dir, err)}}, snap.Errors...)
		return snap
	}
	if s.dirProblem != "" {
		s.log.Info("The static pod directory is readable again")
		s.dirProblem = ""
	}

	now := s.clock.Now()
	present := make(map[string]bool, len(entries))
	skipped := make(map[string]bool)
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(dir, name)
		if strings.HasPrefix(name, ".") {
			continue
		}
		if !slices.Contains(manifestExtensions, strings.ToLower(filepath.Ext(name))) {
			skipped[p] = true
			s.noteSkipped(p, "not a .yaml, .yml or .json file")
			continue
		}
		if s.writes.busy(p, now) {
			// What was read before, if anything, stands until the
			// writer is done.
			present[p], skipped[p] = true, true
			s.noteSkipped(p, "still open for writing; read once it is closed")
			continue
		}
		info, err := os.Stat(p) // follows symlinks
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && e.Type()&fs.ModeSymlink == 0 {
				continue // removed since the listing
			}
			present[p] = true
			s.fail(p, fmt.Errorf("cannot read: %w", err))
			continue
		}
		if info.IsDir() {
			skipped[p] = true
			s.noteSkipped(p, "a directory; subdirectories are not read")
			continue
		}
		if !info.Mode().IsRegular() {
			present[p] = true
			s.fail(p, fmt.Errorf("not a regular file (%s)", info.Mode().Type()))
			continue
		}
		data, err := readManifest(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			present[p] = true
			s.fail(p, fmt.Errorf("cannot read: %w", err))
			continue
		}
		present[p] = true
		s.readEmpty = s.readEmpty || len(data) == 0
		s.load(p, data)
	}
	for p, st := range s.files {
		if !present[p] {
			if st.good != nil {
				s.log.Info("Manifest removed", zap.String("file", p), zap.String("pod", podKey(st.good)), zap.String("uid", string(st.good.UID)))
				s.removeState(p)
			}
			delete(s.files, p)
		}
	}
	for p := range s.skipped {
		if !skipped[p] {
			delete(s.skipped, p)
		}
	}
	return s.snapshot()
}

// readManifest reads a regular file. It opens without blocking and checks
// what it opened, since the file may have been swapped for a FIFO or a
// device since it was listed.
func readManifest(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", info.Mode().Type())
	}
	// One byte over the limit is enough for DecodeManifest to refuse it.
	return io.ReadAll(io.LimitReader(f, maxManifestSize+1))
}

// load decodes a file's content unless it is what was decoded last time.
func (s *Source) load(p string, data []byte) {
	st := s.state(p)
	sum := sha256.Sum256(data)
	if st.read && st.sum == sum {
		return
	}
	st.read, st.sum = true, sum

	pod, err := DecodeManifestFor(p, data, s.cfg.NodeName, s.cfg.Node)
	if err != nil {
		s.adopt(p, st)
		if st.err == nil || st.err.Error() != err.Error() {
			if st.good != nil {
				s.log.Warn("Manifest is invalid; its pod keeps running on the last good version",
					zap.String("file", p), zap.String("pod", podKey(st.good)), zap.String("uid", string(st.good.UID)), zap.Error(err))
			} else {
				s.log.Warn("Manifest is invalid", zap.String("file", p), zap.Error(err))
			}
		}
		st.err = err
		return
	}
	if st.err != nil && st.good != nil {
		s.log.Info("Manifest is valid again", zap.String("file", p))
	}
	st.err = nil
	var changes []string
	if st.good != nil {
		changes = FieldChanges(st.good, pod)
		// A manifest without a uid gets a new one with any change; one
		// with a uid keeps it, and its pod is updated in place, as the
		// kubelet's config source reports an UPDATE.
		if st.good.UID == pod.UID && len(changes) == 0 {
			return // the same pod, written differently: nothing to restart
		}
	}
	pod.Annotations[ConfigFirstSeenAnnotationKey] = s.clock.Now().Format(time.RFC3339Nano)
	if st.good != nil {
		st.changes = changes
		s.log.Info("Manifest changed", zap.String("file", p), zap.String("pod", podKey(pod)),
			zap.String("uid", string(pod.UID)), zap.String("previousUID", string(st.good.UID)), zap.Strings("changes", st.changes))
	} else {
		st.changes = nil
		s.log.Info("Manifest loaded", zap.String("file", p), zap.String("pod", podKey(pod)), zap.String("uid", string(pod.UID)))
	}
	st.good = pod
	s.saveState(p, st)
}

// fail records a file that could not be read at all.
func (s *Source) fail(p string, err error) {
	st := s.state(p)
	s.adopt(p, st)
	merr := &ManifestError{Path: p, Err: err}
	if st.err == nil || st.err.Error() != merr.Error() {
		s.log.Warn("Cannot read manifest", zap.String("file", p), zap.Error(err))
	}
	st.read = false
	st.err = merr
}

func (s *Source) state(p string) *fileState {
	st := s.files[p]
	if st == nil {
		st = &fileState{}
		s.files[p] = st
	}
	return st
}

// snapshot builds the desired state from what was read: files by name,
// the first file to declare a pod (by namespace and name, or by the UID its
// manifest gives) wins it.
func (s *Source) snapshot() Snapshot {
	var snap Snapshot
	claimed := map[string]string{}
	claimedUIDs := map[types.UID]string{}
	var candidates []string
	for _, p := range sortedKeys(s.files) {
		st := s.files[p]
		if st.good == nil {
			if st.err != nil {
				snap.Errors = append(snap.Errors, FileError{Path: p, Err: st.err})
			}
			continue
		}
		key := podKey(st.good)
		if first, dup := claimedUIDs[st.good.UID]; dup {
			if st.dupOf != first {
				s.log.Warn("Two manifests give the same pod UID; the second is ignored",
					zap.String("uid", string(st.good.UID)), zap.String("file", p), zap.String("first", first))
				st.dupOf = first
			}
			snap.Errors = append(snap.Errors, FileError{Path: p, Err: &ManifestError{Path: p, Err: fmt.Errorf(
				"metadata.uid %s is already given by %s, which comes first by file name; this file is ignored until that one is removed or no longer gives this uid",
				st.good.UID, first)}})
			continue
		}
		if first, dup := claimed[key]; dup {
			if st.dupOf != first {
				s.log.Warn("Two manifests declare the same pod; the second is ignored",
					zap.String("pod", key), zap.String("file", p), zap.String("first", first))
				st.dupOf = first
			}
			snap.Errors = append(snap.Errors, FileError{Path: p, Err: &ManifestError{Path: p, Err: fmt.Errorf(
				"pod %s is already declared by %s, which comes first by file name; this file is ignored until that one is removed or no longer declares the pod",
				key, first)}})
			continue
		}
		if st.dupOf != "" {
			s.log.Info("Manifest takes over its pod", zap.String("pod", key), zap.String("file", p), zap.String("from", st.dupOf))
			st.dupOf = ""
		}
		claimed[key] = p
		claimedUIDs[st.good.UID] = p
		candidates = append(candidates, p)
	}
	refused := s.admitAll(candidates)
	for _, p := range candidates {
		st := s.files[p]
		if err := refused[p]; err != nil {
			snap.Errors = append(snap.Errors, FileError{Path: p, Err: err})
			continue
		}
		snap.Manifests = append(snap.Manifests, Manifest{
			Path:    p,
			Pod:     st.good.DeepCopy(),
			Err:     st.err,
			Changes: slices.Clone(st.changes),
		})
	}
	return snap
}

// admitAll admits the candidates' pods as the kubelet does and returns the
// refused ones, by path. As the kubelet, an admitted pod stays admitted
// (it is counted first, so a file that comes earlier by name never pushes
// out a pod that already runs); new pods are admitted by file name.
func (s *Source) admitAll(candidates []string) map[string]*ManifestError {
	if s.cfg.Admit == nil {
		return nil
	}
	order := make([]string, 0, len(candidates))
	for _, p := range candidates {
		if s.admitted[s.files[p].good.UID] {
			order = append(order, p)
		}
	}
	for _, p := range candidates {
		if !s.admitted[s.files[p].good.UID] {
			order = append(order, p)
		}
	}
	admit := newAdmission(*s.cfg.Admit)
	refused := map[string]*ManifestError{}
	admitted := make(map[types.UID]bool, len(order))
	for _, p := range order {
		st := s.files[p]
		errs := admit.admit(st.good)
		if len(errs) == 0 {
			admitted[st.good.UID] = true
			st.refused = ""
			continue
		}
		err := &ManifestError{Path: p, Fields: errs}
		if st.refused != err.Error() {
			s.log.Warn("Pod refused by the node's admission", zap.String("file", p), zap.String("pod", podKey(st.good)), zap.Error(err))
			st.refused = err.Error()
		}
		refused[p] = err
	}
	s.admitted = admitted
	return refused
}

func (s *Source) noteDirProblem(msg string, err error) {
	if s.dirProblem != err.Error() {
		s.log.Warn(msg, zap.Error(err))
		s.dirProblem = err.Error()
	}
}

func (s *Source) noteSkipped(p, why string) {
	if s.skipped[p] != why {
		s.log.Debug("Ignoring a file in the manifest directory", zap.String("file", p), zap.String("reason", why))
		s.skipped[p] = why
	}
}

// podKey is namespace/name.
func podKey(pod *v1.Pod) string {
	return types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}.String()
}
