package probes

import (
	"time"

	v1 "k8s.io/api/core/v1"
)

// The API server's probe defaults (pkg/apis/core/v1/defaults.go), used when
// a field is zero: manifests are defaulted at load, this is a safety net.
const (
	defaultPeriodSeconds    = 10
	defaultTimeoutSeconds   = 1
	defaultSuccessThreshold = 1
	defaultFailureThreshold = 3
)

// maxProbeJitter caps the random delay before a worker's first probe. The
// kubelet draws it from [0, periodSeconds); the cap keeps a long period from
// holding back a first readiness result.
const maxProbeJitter = 10 * time.Second

// timing holds a probe's parameters, defaulted.
type timing struct {
	initialDelay     time.Duration
	period           time.Duration
	timeout          time.Duration
	successThreshold int32
	failureThreshold int32
}

// timingOf returns p's parameters with the API's defaults for zero fields.
func timingOf(p *v1.Probe) timing {
	t := timing{
		initialDelay:     time.Duration(max(p.InitialDelaySeconds, 0)) * time.Second,
		period:           time.Duration(p.PeriodSeconds) * time.Second,
		timeout:          time.Duration(p.TimeoutSeconds) * time.Second,
		successThreshold: p.SuccessThreshold,
		failureThreshold: p.FailureThreshold,
	}
	if t.period <= 0 {
		t.period = defaultPeriodSeconds * time.Second
	}
	if t.timeout <= 0 {
		t.timeout = defaultTimeoutSeconds * time.Second
	}
	if t.successThreshold <= 0 {
		t.successThreshold = defaultSuccessThreshold
	}
	if t.failureThreshold <= 0 {
		t.failureThreshold = defaultFailureThreshold
	}
	return t
}

// jitterFor returns the delay before a worker's first probe for a random
// r in [0, 1): r x min(period, maxProbeJitter), so in [0, min(period, 10s)).
func jitterFor(period time.Duration, r float64) time.Duration {
	if r < 0 || r >= 1 {
		r = 0
	}
	return time.Duration(r * float64(min(period, maxProbeJitter)))
}

// firstProbeAt returns when a worker made at now for a container started at
// startedAt probes first: once initialDelay has passed since the start (or
// now, when that is already past), plus jitter.
func firstProbeAt(startedAt, now time.Time, initialDelay, jitter time.Duration) time.Time {
	due := startedAt.Add(initialDelay)
	if due.Before(now) {
		due = now
	}
	return due.Add(jitter)
}

// nextProbeAt returns the time and index of the probe after probe n of a
// schedule whose probe k is due at base + k x period. Probes whose time has
// passed by now are skipped, as a ticker drops ticks.
func nextProbeAt(base time.Time, period time.Duration, n int, now time.Time) (time.Time, int) {
	n++
	if at := base.Add(time.Duration(n) * period); at.Before(now) {
		n = int((now.Sub(base) + period - 1) / period)
	}
	return base.Add(time.Duration(n) * period), n
}

// tally counts consecutive equal probe results against the thresholds.
type tally struct {
	last Result
	run  int32
}

// add records one probe result and reports whether it reached its
// threshold, so that it becomes the probe's result (the kubelet sets the
// result again at every run past the threshold, which changes nothing).
func (t *tally) add(r Result, successThreshold, failureThreshold int32) bool {
	if r == t.last {
		t.run++
	} else {
		t.last, t.run = r, 1
	}
	switch r {
	case Success:
		return t.run >= successThreshold
	case Failure:
		return t.run >= failureThreshold
	}
	return false
}
