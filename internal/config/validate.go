package config

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// evictionSignals are the kubelet's eviction signals
// (pkg/kubelet/eviction/api/types.go).
var evictionSignals = map[string]bool{
	"memory.available":            true,
	"allocatableMemory.available": true,
	"nodefs.available":            true,
	"nodefs.inodesFree":           true,
	"imagefs.available":           true,
	"imagefs.inodesFree":          true,
	"containerfs.available":       true,
	"containerfs.inodesFree":      true,
	"pid.available":               true,
}

// validateKubelet checks the KubeletConfiguration fields with the kubelet's
// rules and, where it has them, its messages
// (pkg/kubelet/apis/config/validation/validation.go).
func (c Config) validateKubelet() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	// port is checked in serving.go: 0 there turns HTTPS off.
	if c.ReadOnlyPort != 0 && !validPort(c.ReadOnlyPort) {
		add("readOnlyPort (--read-only-port) %v must be between 0 and 65535, inclusive", c.ReadOnlyPort)
	}
	if p := c.HealthzPort; p != nil && *p != 0 && !validPort(*p) {
		add("healthzPort (--healthz-port) %v must be between 1 and 65535, inclusive", *p)
	}
	for _, f := range []struct{ field, addr string }{{"address", c.Address}, {"healthzBindAddress", c.HealthzBindAddress}} {
		if net.ParseIP(f.addr) == nil {
			add("%s: %q must be an IP address", f.field, f.addr)
		}
	}
	if c.MaxPods < 0 {
		add("maxPods (--max-pods) %v must not be a negative number", c.MaxPods)
	}
	if c.SyncFrequency.Duration < 0 {
		add("syncFrequency: must not be negative, got %s", c.SyncFrequency.Duration)
	}
	errs = append(errs, c.validateShutdown()...)
	errs = append(errs, c.validateContainerLogs()...)
	errs = append(errs, c.validateImageGC()...)
	errs = append(errs, validateEvictionHard(c.EvictionHard)...)
	switch c.Logging.Format {
	case "", "text", "json":
	default:
		add(`logging.format: Unsupported value: %q: supported values: "json", "text"`, c.Logging.Format)
	}
	return errs
}

func validPort(p int32) bool { return p >= 1 && p <= 65535 }

func (c Config) validateShutdown() []error {
	var errs []error
	period, critical := c.ShutdownGracePeriod.Duration, c.ShutdownGracePeriodCriticalPods.Duration
	if critical > period {
		errs = append(errs, fmt.Errorf("shutdownGracePeriodCriticalPods %v must be <= shutdownGracePeriod %v", critical, period))
	}
	if period < 0 || (period > 0 && period < time.Second) {
		errs = append(errs, fmt.Errorf("shutdownGracePeriod %v must be either zero or otherwise >= 1 sec", period))
	}
	if critical < 0 || (critical > 0 && critical < time.Second) {
		errs = append(errs, fmt.Errorf("shutdownGracePeriodCriticalPods %v must be either zero or otherwise >= 1 sec", critical))
	}
	return errs
}

func (c Config) validateContainerLogs() []error {
	var errs []error
	if q, err := resource.ParseQuantity(c.ContainerLogMaxSize); err != nil {
		errs = append(errs, fmt.Errorf("containerLogMaxSize: %q is not a quantity (such as 10Mi): %v", c.ContainerLogMaxSize, err))
	} else if q.Sign() <= 0 {
		errs = append(errs, fmt.Errorf("containerLogMaxSize: %q must be greater than 0", c.ContainerLogMaxSize))
	}
	if c.ContainerLogMaxFiles <= 1 {
		errs = append(errs, fmt.Errorf("containerLogMaxFiles must be greater than 1, got %d", c.ContainerLogMaxFiles))
	}
	if c.ContainerLogMonitorInterval.Duration < 3*time.Second {
		errs = append(errs, fmt.Errorf("containerLogMonitorInterval must be a positive time duration greater than or equal to 3s, got %s", c.ContainerLogMonitorInterval.Duration))
	}
	return errs
}

func (c Config) validateImageGC() []error {
	var errs []error
	high, low := *c.ImageGCHighThresholdPercent, *c.ImageGCLowThresholdPercent
	if high < 0 || high > 100 {
		errs = append(errs, fmt.Errorf("imageGCHighThresholdPercent (--image-gc-high-threshold) %v must be between 0 and 100, inclusive", high))
	}
	if low < 0 || low > 100 {
		errs = append(errs, fmt.Errorf("imageGCLowThresholdPercent (--image-gc-low-threshold) %v must be between 0 and 100, inclusive", low))
	}
	if low >= high {
		errs = append(errs, fmt.Errorf("imageGCLowThresholdPercent (--image-gc-low-threshold) %v must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) %v", low, high))
	}
	if c.ImageMinimumGCAge.Duration < 0 {
		errs = append(errs, fmt.Errorf("imageMinimumGCAge %v must not be negative", c.ImageMinimumGCAge.Duration))
	}
	return errs
}

// validateEvictionHard checks each threshold as the kubelet's
// ParseThresholdConfig: a known signal, a percentage within 0-100% or a
// positive quantity.
func validateEvictionHard(thresholds map[string]string) []error {
	signals := make([]string, 0, len(thresholds))
	for s := range thresholds {
		signals = append(signals, s)
	}
	sort.Strings(signals)
	var errs []error
	for _, signal := range signals {
		val := thresholds[signal]
		if !evictionSignals[signal] {
			errs = append(errs, fmt.Errorf("evictionHard: unsupported eviction signal %v", signal))
			continue
		}
		if pct, ok := strings.CutSuffix(val, "%"); ok {
			f, err := strconv.ParseFloat(pct, 32)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("evictionHard: %s: invalid percentage %q: %v", signal, val, err))
			case f < 0:
				errs = append(errs, fmt.Errorf("evictionHard: %s: eviction percentage threshold %v must be >= 0%%: %s", signal, signal, val))
			case f > 100:
				errs = append(errs, fmt.Errorf("evictionHard: %s: eviction percentage threshold %v must be <= 100%%: %s", signal, signal, val))
			}
			continue
		}
		q, err := resource.ParseQuantity(val)
		if err != nil {
			errs = append(errs, fmt.Errorf("evictionHard: %s: %q is neither a percentage nor a quantity: %v", signal, val, err))
			continue
		}
		if q.Sign() <= 0 {
			errs = append(errs, fmt.Errorf("evictionHard: %s: eviction threshold %v must be positive: %s", signal, signal, val))
		}
	}
	return errs
}
