package eviction

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Signal is an eviction signal, as the kubelet names it.
type Signal string

// The signals evictionHard takes here.
const (
	SignalMemoryAvailable   Signal = "memory.available"
	SignalNodeFsAvailable   Signal = "nodefs.available"
	SignalNodeFsInodesFree  Signal = "nodefs.inodesFree"
	SignalImageFsAvailable  Signal = "imagefs.available"
	SignalImageFsInodesFree Signal = "imagefs.inodesFree"
)

// Threshold is one hard threshold: the signal is met when what is
// available is less than Quantity, or than Percentage of the capacity.
type Threshold struct {
	Signal     Signal
	Quantity   *resource.Quantity
	Percentage float64 // 0 to 1, when Quantity is nil
}

// String is the threshold's value as configured ("100Mi", "10%").
func (t Threshold) String() string {
	if t.Quantity != nil {
		return t.Quantity.String()
	}
	return strconv.FormatFloat(t.Percentage*100, 'f', -1, 64) + "%"
}

// value is the threshold in the signal's unit for a capacity.
func (t Threshold) value(capacity int64) int64 {
	if t.Quantity != nil {
		return t.Quantity.Value()
	}
	return int64(t.Percentage * float64(capacity))
}

// ParseThresholds reads evictionHard (the configuration defaults it to the
// kubelet's, internal/config.DefaultEvictionHard) as the
// kubelet's ParseThresholdConfig: a quantity or a percentage per signal;
// a zero value ("0%", "0") disables the signal. The error names the key.
func ParseThresholds(hard map[string]string) ([]Threshold, error) {
	var out []Threshold
	for key, val := range hard {
		s := Signal(key)
		switch s {
		case SignalMemoryAvailable, SignalNodeFsAvailable, SignalNodeFsInodesFree, SignalImageFsAvailable, SignalImageFsInodesFree:
		default:
			return nil, fmt.Errorf("evictionHard: unsupported eviction signal %q (memory.available, nodefs.available, nodefs.inodesFree, imagefs.available, imagefs.inodesFree)", key)
		}
		t := Threshold{Signal: s}
		if p, ok := strings.CutSuffix(val, "%"); ok {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f < 0 || f > 100 {
				return nil, fmt.Errorf("evictionHard: %s: %q is not a percentage between 0%% and 100%%", key, val)
			}
			if f == 0 {
				continue
			}
			t.Percentage = f / 100
		} else {
			q, err := resource.ParseQuantity(val)
			if err != nil || q.Sign() < 0 {
				return nil, fmt.Errorf("evictionHard: %s: %q is not a quantity such as 100Mi or a percentage such as 10%%", key, val)
			}
			if q.IsZero() {
				continue
			}
			t.Quantity = &q
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return signalOrder(out[i].Signal) < signalOrder(out[j].Signal) })
	return out, nil
}

// signalOrder is the order in which met thresholds are acted on: memory
// first, as the kubelet's byEvictionPriority, then the disk signals.
func signalOrder(s Signal) int {
	switch s {
	case SignalMemoryAvailable:
		return 0
	case SignalNodeFsAvailable:
		return 1
	case SignalNodeFsInodesFree:
		return 2
	case SignalImageFsAvailable:
		return 3
	default:
		return 4
	}
}
