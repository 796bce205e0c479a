package kubeapi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

const (
	// metricsMinWindow is the shortest window a CPU rate is measured over:
	// without an earlier sample at least this old, a request waits for one.
	metricsMinWindow = time.Second
	// metricsMaxWindow is the longest: an older sample is too stale to
	// average over, and a fresh window is measured instead.
	metricsMaxWindow = time.Minute
	// metricsWindowSlack lets a window measured after waiting
	// metricsMinWindow count, whatever the clocks of two CRI readings say.
	metricsWindowSlack = 100 * time.Millisecond
	// userHZ is the unit of /proc/stat's CPU times (USER_HZ, 100 on Linux).
	userHZ = 100
)

// usageSample is one reading of a cumulative CPU counter.
type usageSample struct {
	at  time.Time
	cpu uint64 // nanoseconds of CPU time
}

// usageRate is a CPU rate measured between two samples.
type usageRate struct {
	nanoCores uint64
	at        time.Time
	window    time.Duration
}

// cpuRate is the rate of a cumulative CPU counter between two samples, in
// nanocores, if the pair spans an usable window. A counter that went back
// (a new container under an old key) gives no rate.
func cpuRate(prev, cur usageSample) (usageRate, bool) {
	window := cur.at.Sub(prev.at)
	if window < metricsMinWindow-metricsWindowSlack || window > metricsMaxWindow || cur.cpu < prev.cpu {
		return usageRate{}, false
	}
	rate := float64(cur.cpu-prev.cpu) / window.Seconds()
	return usageRate{nanoCores: uint64(rate), at: cur.at, window: window}, true
}

// usageSampler keeps each counter's last sample, so that a request
// measures CPU over the time since the one before it (between one second
// and a minute) and only waits for a second sample when there is no
// usable earlier one.
type usageSampler struct {
	clock clock.WithTicker
	mu    sync.Mutex
	last  map[string]usageSample
}

func newUsageSampler(c clock.WithTicker) *usageSampler {
	return &usageSampler{clock: c, last: map[string]usageSample{}}
}

// rates reads the counters and returns the rate of each since its last
// sample. When a counter has no usable earlier sample, the first reading
// becomes one, and rates reads again metricsMinWindow after it began.
func (s *usageSampler) rates(ctx context.Context, read func(context.Context) (map[string]usageSample, error)) (map[string]usageRate, error) {
	// Set before the first reading, so that the second comes a window
	// after the first began, and so that a fake clock can be moved on
	// from inside a reading.
	t := s.clock.NewTimer(metricsMinWindow)
	defer t.Stop()
	cur, err := read(ctx)
	if err != nil {
		return nil, err
	}
	if s.remember(cur) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C():
		}
		if cur, err = read(ctx); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]usageRate{}
	for key, sample := range cur {
		if r, ok := cpuRate(s.last[key], sample); ok {
			out[key] = r
			s.last[key] = sample
		}
	}
	return out, nil
}

// remember keeps the samples of counters without a usable earlier one as
// their base, and reports whether there were any; samples a rate is
// measured from are kept as they are.
func (s *usageSampler) remember(cur map[string]usageSample) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := false
	for key, sample := range cur {
		if _, ok := cpuRate(s.last[key], sample); ok {
			continue
		}
		prev, had := s.last[key]
		if !had || sample.at.Sub(prev.at) > metricsMaxWindow || sample.cpu < prev.cpu {
			s.last[key] = sample
		}
		fresh = true
	}
	return fresh
}

// readProcStatBusy reads the node's busy CPU time from /proc/stat's
// aggregate line, in nanoseconds: everything but idle and iowait (guest
// time is already in user).
func readProcStatBusy(proc string) (uint64, error) {
	path := filepath.Join(proc, "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read node CPU: %w", err)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("read node CPU: %s: no aggregate cpu line", path)
	}
	var busy uint64
	// user nice system idle iowait irq softirq steal
	for i, f := range fields[1:9] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read node CPU: %s: field %d: %w", path, i+1, err)
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy * uint64(time.Second/userHZ), nil
}

// readMemInfoWorkingSet reads MemTotal - MemAvailable from /proc/meminfo,
// in bytes.
func readMemInfoWorkingSet(proc string) (uint64, error) {
	path := filepath.Join(proc, "meminfo")
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read node memory: %w", err)
	}
	defer f.Close()
	values := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "MemTotal" && key != "MemAvailable") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read node memory: %s: %s: %w", path, key, err)
		}
		values[key] = n * 1024
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read node memory: %s: %w", path, err)
	}
	total, okT := values["MemTotal"]
	avail, okA := values["MemAvailable"]
	if !okT || !okA {
		return 0, fmt.Errorf("read node memory: %s: no MemTotal or MemAvailable", path)
	}
	if avail > total {
		return 0, nil
	}
	return total - avail, nil
}
