package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The layout of the kubelet's atomic writer (pkg/volume/util/atomic_writer.go):
// the files live in a timestamped directory "..<time>", "..data" links to
// it, and each top-level name the user sees links into "..data". A new
// payload is written to a new directory and "..data" is swapped to it with
// one rename, so a reader sees the old files or the new ones, never a mix.
const (
	dataDirName    = "..data"
	newDataDirName = "..data_tmp"
)

// payloadFile is one file to write: content and mode.
type payloadFile struct {
	data []byte
	mode int32
}

// writeAtomically makes dir hold exactly payload, swapping "..data" when
// anything differs. It reports whether it wrote.
func writeAtomically(dir string, payload map[string]payloadFile, now time.Time) (bool, error) {
	if same, err := payloadUnchanged(dir, payload); err != nil || same {
		return false, err
	}
	old, _ := os.Readlink(filepath.Join(dir, dataDirName))
	tsDir, err := os.MkdirTemp(dir, now.UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, fmt.Errorf("make the data directory: %w", err)
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return false, err
	}
	for rel, f := range payload {
		p := filepath.Join(tsDir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(p, f.data, fs.FileMode(f.mode)); err != nil {
			return false, err
		}
		// WriteFile's mode passes through the umask.
		if err := os.Chmod(p, fs.FileMode(f.mode)); err != nil {
			return false, err
		}
	}
	tmp := filepath.Join(dir, newDataDirName)
	os.Remove(tmp)
	if err := os.Symlink(filepath.Base(tsDir), tmp); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataDirName)); err != nil {
		return false, fmt.Errorf("swap %s: %w", dataDirName, err)
	}
	if err := linkUserVisible(dir, payload); err != nil {
		return false, err
	}
	if old != "" && old != filepath.Base(tsDir) {
		if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// payloadUnchanged reports whether "..data" already holds payload, content
// and modes.
func payloadUnchanged(dir string, payload map[string]payloadFile) (bool, error) {
	data := filepath.Join(dir, dataDirName)
	if _, err := os.Lstat(data); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	seen := 0
	err := filepath.WalkDir(data+"/", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(data, p)
		f, ok := payload[rel]
		if !ok {
			return errChanged
		}
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !bytes.Equal(got, f.data) || info.Mode().Perm() != fs.FileMode(f.mode).Perm() {
			return errChanged
		}
		seen++
		return nil
	})
	if errors.Is(err, errChanged) {
		return false, nil
	}
	return err == nil && seen == len(payload), err
}

var errChanged = errors.New("payload changed")

// linkUserVisible links each top-level name of the payload into "..data"
// and removes the links of names the payload no longer has.
func linkUserVisible(dir string, payload map[string]payloadFile) error {
	want := map[string]bool{}
	for rel := range payload {
		top, _, _ := strings.Cut(rel, string(filepath.Separator))
		want[top] = true
	}
	for top := range want {
		link := filepath.Join(dir, top)
		target := filepath.Join(dataDirName, top)
		if got, err := os.Readlink(link); err == nil && got == target {
			continue
		}
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") || want[e.Name()] || e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
