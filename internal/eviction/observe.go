package eviction

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// fsStats is what statfs tells of a filesystem.
type fsStats struct {
	capacity, available int64
	inodes, inodesFree  int64
}

func statfs(path string) (fsStats, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return fsStats{}, err
	}
	return fsStats{
		capacity:   int64(st.Blocks) * st.Bsize,
		available:  int64(st.Bavail) * st.Bsize,
		inodes:     int64(st.Files),
		inodesFree: int64(st.Ffree),
	}, nil
}

// memoryWorkingSet is the node's memory working set as the kubelet counts
// it on cgroup v1: the root memory cgroup's usage less its inactive file
// pages.
func memoryWorkingSet(cgroupRoot string) (int64, error) {
	data, err := os.ReadFile(filepath.Join(cgroupRoot, "memory.usage_in_bytes"))
	if err != nil {
		return 0, fmt.Errorf("read the node's memory usage: %w", err)
	}
	usage, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read the node's memory usage: %w", err)
	}
	f, err := os.Open(filepath.Join(cgroupRoot, "memory.stat"))
	if err != nil {
		return 0, fmt.Errorf("read the node's memory stats: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == "total_inactive_file" {
			inactive, err := strconv.ParseInt(v, 10, 64)
			if err == nil && inactive < usage {
				usage -= inactive
			}
			break
		}
	}
	return usage, sc.Err()
}
