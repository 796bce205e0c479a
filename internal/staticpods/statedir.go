package staticpods

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
)

// The state directory (Config.StateDir) holds, for each manifest file whose
// pod is desired, the file's last good version: one JSON file per manifest
// path, named by a hash of the path. It is what lets a file that is invalid
// when the daemon starts keep its running pod, as it would have had the
// daemon never stopped.
const (
	stateFileExt    = ".json"
	stateTempPrefix = ".tmp-" // temporary files, renamed into place when complete
	stateDirMode    = 0o700
)

// savedManifest is the content of one state file.
type savedManifest struct {
	Path    string   `json:"path"`              // the manifest file
	Pod     *v1.Pod  `json:"pod"`               // its last good version: named, UID and annotations set
	Changes []string `json:"changes,omitempty"` // Manifest.Changes for that version
}

// stateFileName is the name of the state file for the manifest at path p.
func stateFileName(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:]) + stateFileExt
}

// encodeSaved is the content of the state file for the manifest at p.
func encodeSaved(p string, pod *v1.Pod, changes []string) ([]byte, error) {
	return json.Marshal(savedManifest{Path: p, Pod: pod, Changes: changes})
}

// decodeSaved reads the content of the state file called name, and refuses
// one that does not hold a usable pod for the path its name stands for.
func decodeSaved(name string, data []byte) (*savedManifest, error) {
	var saved savedManifest
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, err
	}
	switch {
	case saved.Path == "":
		return nil, errors.New("no manifest path")
	case stateFileName(saved.Path) != name:
		return nil, fmt.Errorf("holds manifest %s, whose state file is %s", saved.Path, stateFileName(saved.Path))
	case saved.Pod == nil:
		return nil, errors.New("no pod")
	case saved.Pod.UID == "" || saved.Pod.Name == "" || len(saved.Pod.Spec.Containers) == 0:
		return nil, errors.New("the pod has no UID, name or containers")
	}
	return &saved, nil
}

// readStates reads the state directory at the first scan: the saved last
// good versions by manifest path. Corrupt state files, those of manifests
// outside the directory (the static pod path changed) and leftover
// temporary files are removed.
func (s *Source) readStates() map[string]*savedManifest {
	dir := s.cfg.StateDir
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("Cannot read the saved versions of the manifests; a manifest invalid now gives no pod", zap.String("stateDir", dir), zap.Error(err))
		}
		return nil
	}
	saved := map[string]*savedManifest{}
	for _, e := range entries {
		name := e.Name()
		f := filepath.Join(dir, name)
		switch {
		case strings.HasPrefix(name, stateTempPrefix) && e.Type().IsRegular():
			// Left behind by a daemon that stopped while writing it.
			s.removeStateFile(f)
			continue
		case !strings.HasSuffix(name, stateFileExt) || !e.Type().IsRegular():
			s.log.Debug("Ignoring a file in the state directory", zap.String("stateFile", f))
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			s.log.Warn("Cannot read the saved version of a manifest", zap.String("stateFile", f), zap.Error(err))
			continue
		}
		m, err := decodeSaved(name, data)
		if err != nil {
			s.log.Warn("Removing a corrupt saved version of a manifest", zap.String("stateFile", f), zap.Error(err))
			s.removeStateFile(f)
			continue
		}
		if filepath.Dir(m.Path) != s.cfg.Dir {
			s.log.Info("Removing the saved version of a manifest outside the static pod directory",
				zap.String("file", m.Path), zap.String("pod", podKey(m.Pod)), zap.String("uid", string(m.Pod.UID)))
			s.removeStateFile(f)
			continue
		}
		saved[m.Path] = m
	}
	return saved
}

// adopt gives a file that yields no pod at the first scan the last good
// version saved before the daemon stopped, if there is one, so that its
// running pod (same UID) is kept.
func (s *Source) adopt(p string, st *fileState) {
	m := s.saved[p]
	if m == nil || st.good != nil {
		return
	}
	st.good, st.changes = m.Pod, m.Changes
	s.log.Info("Manifest gives no pod at start; its pod keeps the last good version saved before the restart",
		zap.String("file", p), zap.String("pod", podKey(m.Pod)), zap.String("uid", string(m.Pod.UID)))
}

// dropSaved ends the first scan: the saved versions of manifests that are
// gone are removed, since their pods are no longer desired.
func (s *Source) dropSaved() {
	for _, p := range sortedKeys(s.saved) {
		if _, ok := s.files[p]; ok {
			continue
		}
		m := s.saved[p]
		s.log.Info("Manifest removed while the daemon was stopped; its pod is no longer desired",
			zap.String("file", p), zap.String("pod", podKey(m.Pod)), zap.String("uid", string(m.Pod.UID)))
		s.removeState(p)
	}
	s.saved = nil
}

// saveState writes the file's good version to the state directory,
// atomically (a temporary file renamed into place). It is written before
// the snapshot that carries it, so that a restart never finds an older
// version than the one handed on.
//
// The file is not fsynced: the restart this guards against is the
// daemon's, and the page cache outlives it. After a power loss the running
// pods are gone too, and a torn state file is refused as corrupt.
func (s *Source) saveState(p string, st *fileState) {
	dir := s.cfg.StateDir
	if dir == "" {
		return
	}
	if err := s.writeState(p, st); err != nil {
		s.log.Warn("Cannot save the last good version of a manifest; a restart while the file is invalid would stop its pod",
			zap.String("file", p), zap.String("stateDir", dir), zap.Error(err))
		return
	}
	s.log.Debug("Saved the last good version of a manifest", zap.String("file", p), zap.String("uid", string(st.good.UID)))
}

func (s *Source) writeState(p string, st *fileState) error {
	data, err := encodeSaved(p, st.good, st.changes)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	dir := s.cfg.StateDir
	if err := os.MkdirAll(dir, stateDirMode); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, stateTempPrefix+"*") // mode 0600
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, stateFileName(p)))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// removeState removes the saved version of the manifest at p: its pod is
// no longer desired.
func (s *Source) removeState(p string) {
	if s.cfg.StateDir != "" {
		s.removeStateFile(filepath.Join(s.cfg.StateDir, stateFileName(p)))
	}
}

func (s *Source) removeStateFile(f string) {
	if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("Cannot remove a saved version of a manifest", zap.String("stateFile", f), zap.Error(err))
	}
}
