package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/PID/stat.
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && v > 0 {
			return float64(v)
		}
	}
	return 100
}()

// rssMB is VmRSS of pid in MB (2^20 bytes).
func rssMB(pid int) (float64, error) { return statusMB(pid, "VmRSS") }

// statusMB is one of the kB fields of /proc/<pid>/status (VmRSS,
// RssAnon, RssFile), in MB.
func statusMB(pid int, field string) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			if _, err := fmt.Sscan(rest, &kb); err != nil {
				return 0, err
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// cpuSeconds is utime+stime of pid, in seconds.
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'. utime and stime are fields 14 and 15, so 12 and 13 here.
	i := bytes.LastIndexByte(data, ')')
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return (utime + stime) / clockTicks, nil
}

// cpuSampler measures the CPU share of a set of processes over a window.
type cpuSampler struct {
	pids  []int
	start float64
	t0    time.Time
}

func sampleCPU(pids ...int) *cpuSampler {
	s := &cpuSampler{pids: pids, t0: time.Now()}
	s.start = totalCPU(pids)
	return s
}

// percent is the CPU used since the sampler began, in % of one core.
func (s *cpuSampler) percent() float64 {
	used := totalCPU(s.pids) - s.start
	return 100 * used / time.Since(s.t0).Seconds()
}

func totalCPU(pids []int) float64 {
	var sum float64
	for _, pid := range pids {
		v, _ := cpuSeconds(pid) // a process gone counts as nothing
		sum += v
	}
	return sum
}

// pssMB is the proportional set size of pid in MB: its private pages plus
// its share of the pages it shares. Summed over processes that share most
// of their pages (the shims), it counts them once, where RSS would count
// them each time.
func pssMB(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			var kb float64
			if _, err := fmt.Sscan(rest, &kb); err != nil {
				return 0, err
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no Pss in /proc/%d/smaps_rollup", pid)
}

func totalPSS(pids []int) float64 {
	var sum float64
	for _, pid := range pids {
		v, _ := pssMB(pid)
		sum += v
	}
	return sum
}

// containerdPID finds the containerd serving the node: the one hack/node-up.sh
// started, else any process whose executable is containerd.
func containerdPID() (int, error) {
	if data, err := os.ReadFile("/run/minikubelet/containerd.pid"); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && isContainerd(pid) {
			return pid, nil
		}
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if isContainerd(pid) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no containerd process found")
}

func isContainerd(pid int) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return err == nil && filepath.Base(exe) == "containerd"
}

// shimPIDs returns the pids of the containerd shims serving the given
// sandboxes: containerd 1.6's runc v2 shim runs one per sandbox, with the
// sandbox ID as its -id.
func shimPIDs(sandboxIDs map[string]bool) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(data, []byte("containerd-shim")) {
			continue
		}
		args := strings.Split(string(data), "\x00")
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-id" && sandboxIDs[args[i+1]] {
				pid, _ := strconv.Atoi(filepath.Base(d))
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
