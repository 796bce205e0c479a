package podworker

import "time"

// The kubelet's backoffs, for container restarts (keyed by container name)
// and for image pulls (keyed by image): the first restart or pull is
// immediate, the next waits 10 s, doubling up to 300 s; an entry not
// updated for twice the cap (10 min) starts again from the beginning.
const (
	defaultBackoffInitial = 10 * time.Second
	defaultBackoffMax     = 300 * time.Second
)

// backoff tracks delays per key (a container name or an image within one
// pod). It is not safe for concurrent use; each worker owns its own.
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
//
// An end in the future means the wall clock went back since (finished
// comes from containerd's wall clock): the kubelet then waits the jump
// out on top of the period, an hour's jump an hour's stall; here the
// restart is due at once, one early restart rather than a stall.
func (b *backoff) inBackoff(key string, finished, now time.Time) (bool, time.Duration) {
	e, ok := b.entries[key]
	if !ok || b.expired(e, now) || finished.After(now) {
		return false, 0
	}
	if wait := finished.Add(e.period).Sub(now); wait > 0 {
		return true, wait
	}
	return false, 0
}

// inBackoffSinceUpdate reports whether key was updated less than its delay
// ago (a pull may not be tried again yet), and for how long still: the
// kubelet's IsInBackOffSinceUpdate.
// An update in the future means the wall clock went back: due at once,
// as inBackoff.
func (b *backoff) inBackoffSinceUpdate(key string, now time.Time) (bool, time.Duration) {
	e, ok := b.entries[key]
	if !ok || b.expired(e, now) || e.lastUpdate.After(now) {
		return false, 0
	}
	if wait := e.lastUpdate.Add(e.period).Sub(now); wait > 0 {
		return true, wait
	}
	return false, 0
}

// nextPeriod is the delay next(key, now) would set.
func (b *backoff) nextPeriod(key string, now time.Time) time.Duration {
	e, ok := b.entries[key]
	if !ok || b.expired(e, now) {
		return b.initial
	}
	return min(2*e.period, b.max)
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
	b.entries[key] = &backoffEntry{period: b.nextPeriod(key, now), lastUpdate: now}
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

// forget drops key's entry: its next restart is immediate.
func (b *backoff) forget(key string) {
	delete(b.entries, key)
}
