package chaos

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metrics is GET /metrics, parsed.
func (n *node) metrics() (map[string]*dto.MetricFamily, error) {
	body, err := n.get("/metrics")
	if err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	return families, nil
}

// gauge is the value of a metric family with one unlabelled sample.
func gauge(families map[string]*dto.MetricFamily, name string) float64 {
	f := families[name]
	if f == nil || len(f.Metric) == 0 {
		return -1
	}
	m := f.Metric[0]
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return -1
}

// probeCounts sums prober_probe_total by "pod/probe_type/result".
func probeCounts(families map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	f := families["prober_probe_total"]
	if f == nil {
		return out
	}
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		out[labels["pod"]+"/"+labels["probe_type"]+"/"+labels["result"]] += m.Counter.GetValue()
	}
	return out
}

// procSample is what the soak watches of the daemon process.
type procSample struct {
	goroutines float64
	fds        int
	rssKB      int
}

func (s procSample) String() string {
	return fmt.Sprintf("%.0f goroutines, %d fds, %.1f MB RSS", s.goroutines, s.fds, float64(s.rssKB)/1024)
}

func sampleProc(n *node) (procSample, error) {
	fams, err := n.metrics()
	if err != nil {
		return procSample{}, err
	}
	s := procSample{goroutines: gauge(fams, "go_goroutines")}
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(n.pid()), "fd"))
	if err != nil {
		return s, err
	}
	s.fds = len(fds)
	s.rssKB, err = rssKB(n.pid())
	return s, err
}

// rssKB is VmRSS of pid.
func rssKB(pid int) (int, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// cpuTicks is utime+stime of pid, in clock ticks (1/100 s here).
func cpuTicks(pid int) (int, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.Atoi(fields[11])
	st, _ := strconv.Atoi(fields[12])
	return u + st, nil
}
