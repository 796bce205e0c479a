package imagegc

import (
	"sort"
	"time"
)

// Policy is when and how much to collect.
type Policy struct {
	// HighThresholdPercent is the image filesystem usage at which images
	// are removed; 100 never removes any.
	HighThresholdPercent int
	// LowThresholdPercent is the usage removal aims for.
	LowThresholdPercent int
	// MinAge is how long an image is kept after it was first seen, used
	// or not (it may have just been pulled for a container about to
	// start).
	MinAge time.Duration
}

// record is what is known of one image.
type record struct {
	id            string
	size          int64
	firstDetected time.Time
	lastUsed      time.Time
	pinned        bool
}

// amountToFree is how many bytes to free on a filesystem of capacity with
// available bytes free under p, and the usage in percent, as the
// kubelet's GarbageCollect: nothing below the high threshold, else down to
// the low one.
func amountToFree(capacity, available int64, p Policy) (bytes int64, usagePercent int) {
	if available > capacity {
		available = capacity
	}
	usagePercent = 100 - int(available*100/capacity)
	if usagePercent < p.HighThresholdPercent {
		return 0, usagePercent
	}
	return capacity*int64(100-p.LowThresholdPercent)/100 - available, usagePercent
}

// pick chooses the images to remove to free bytes: among the records not
// in use and not pinned, least recently used first (then first seen
// first), skipping those first seen less than minAge before now, until
// their sizes add up to bytes. It returns them in removal order.
func pick(records []record, inUse map[string]bool, bytes int64, now time.Time, minAge time.Duration) []record {
	var candidates []record
	for _, r := range records {
		if inUse[r.id] || r.pinned {
			continue
		}
		candidates = append(candidates, r)
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		a, b := candidates[i], candidates[j]
		if !a.lastUsed.Equal(b.lastUsed) {
			return a.lastUsed.Before(b.lastUsed)
		}
		if !a.firstDetected.Equal(b.firstDetected) {
			return a.firstDetected.Before(b.firstDetected)
		}
		return a.id < b.id
	})
	var out []record
	var freed int64
	for _, r := range candidates {
		if freed >= bytes {
			break
		}
		if now.Sub(r.firstDetected) < minAge {
			continue
		}
		out = append(out, r)
		freed += r.size
	}
	return out
}
