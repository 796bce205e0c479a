package logs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The names of a rotated container log, as the kubelet's container log
// manager makes them (pkg/kubelet/logs/container_log_manager.go): the log
// at path is renamed path.<RotatedTimestampFormat>, and rotated files
// older than the newest one are compressed to that name plus
// CompressedSuffix, through a file ending in TempSuffix.
const (
	RotatedTimestampFormat = "20060102-150405"
	CompressedSuffix       = ".gz"
	TempSuffix             = ".tmp"
)

// Rotated lists the rotated files of the container log at path, oldest
// first, leaving out what a rotation left unfinished (temporary files,
// and files also present compressed): the kubelet's GetAllLogs without
// the live file.
func Rotated(path string) ([]string, error) {
	all, err := RotationFiles(path)
	if err != nil {
		return nil, err
	}
	inUse, _ := SplitUnused(all)
	sort.Strings(inUse)
	return inUse, nil
}

// RotationFiles lists every file a rotation of the log at path made,
// finished or not (path.*), in no particular order.
func RotationFiles(path string) ([]string, error) {
	all, err := filepath.Glob(globEscape(path) + ".*")
	if err != nil {
		return nil, fmt.Errorf("list the rotated logs of %s: %w", path, err)
	}
	return all, nil
}

// SplitUnused splits the rotated files of one log into those in use and
// those a failed rotation left behind (temporary files, and plain files
// whose compressed copy exists), as the kubelet's filterUnusedLogs.
func SplitUnused(files []string) (inUse, unused []string) {
	have := make(map[string]bool, len(files))
	for _, f := range files {
		have[f] = true
	}
	for _, f := range files {
		switch {
		case strings.HasSuffix(f, TempSuffix):
			unused = append(unused, f)
		case strings.HasSuffix(f, CompressedSuffix):
			inUse = append(inUse, f)
		case have[f+CompressedSuffix]:
			unused = append(unused, f)
		default:
			inUse = append(inUse, f)
		}
	}
	return inUse, unused
}

// readRotated reads a rotated log file, decompressing a .gz one. A plain
// file that was compressed meanwhile is read compressed.
func readRotated(path string) ([]byte, error) {
	if strings.HasSuffix(path, CompressedSuffix) {
		return readCompressed(path)
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return readCompressed(path + CompressedSuffix)
	}
	return data, err
}

func readCompressed(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read compressed log %s: %w", path, err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, zr); err != nil {
		return nil, fmt.Errorf("read compressed log %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

// globEscape quotes the glob metacharacters of a path.
func globEscape(path string) string {
	var b strings.Builder
	for _, r := range path {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
