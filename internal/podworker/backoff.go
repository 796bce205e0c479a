package podworker

import "time"

// The kubelet's container restart backoff: the first restart is immediate,
// the next waits 10 s, doubling up to 300 s; a container that ran for twice
// the cap (10 min) without exiting starts again from the beginning.
const (
	defaultBackoffInitial = 10 * time.Second
	defaultBackoffMax     = 300 * time.Second
)

// backoff tracks restart delays per key (pod UID and container name). It is
// not safe for concurrent use; each worker owns one.
type backoff struct {
	initial, max time.Duration
	entries      map[string]*backoffEntry
}

type backoffEntry struct {
	period     time.Duration
	lastUpdate time.Time
}

func newBackoff(initial, max time.Duration) *backoff {
	if initial <= 0 {
		initial = defaultBackoffInitial
	}
	if max <= 0 {
		max = defaultBackoffMax
	}
	return &backoff{initial: initial, max: max, entries: make(map[string]*backoffEntry)}
}

// inBackoff reports whether a restart of key, whose last run ended at
// finished, must still wait at now, and how long.
func (b *backoff) inBackoff(key string, finished, now time.Time) (bool, time.Duration) {
	e, ok := b.entries[key]
	if !ok || b.expired(e, now) {
		return false, 0
	}
	if wait := finished.Add(e.period).Sub(now); wait > 0 {
		return true, wait
	}
	return false, 0
}

// period is the delay currently applied to key (for messages).
func (b *backoff) period(key string) time.Duration {
	if e, ok := b.entries[key]; ok {
		return e.period
	}
	return 0
}

// next records a restart of key at now and grows its delay.
func (b *backoff) next(key string, now time.Time) {
	e, ok := b.entries[key]
	switch {
	case !ok || b.expired(e, now):
		b.entries[key] = &backoffEntry{period: b.initial, lastUpdate: now}
	default:
		e.period = min(2*e.period, b.max)
		e.lastUpdate = now
	}
}

func (b *backoff) expired(e *backoffEntry, now time.Time) bool {
	return now.Sub(e.lastUpdate) > 2*b.max
}

// seed sets key's state as if the container had been restarted restarts
// times, the last at lastRestart: what a daemon restart finds in the
// runtime.
func (b *backoff) seed(key string, restarts int, lastRestart time.Time) {
	period := b.initial
	for i := 1; i < restarts && period < b.max; i++ {
		period *= 2
	}
	b.entries[key] = &backoffEntry{period: min(period, b.max), lastUpdate: lastRestart}
}
