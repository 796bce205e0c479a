package probes

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

func TestTimingOf_DefaultsForZeroFields(t *testing.T) {
	got := timingOf(&v1.Probe{})
	want := timing{period: 10 * time.Second, timeout: time.Second, successThreshold: 1, failureThreshold: 3}
	if got != want {
		t.Fatalf("timingOf(zero probe) = %+v, want the API defaults %+v", got, want)
	}
	got = timingOf(&v1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 2, TimeoutSeconds: 3, SuccessThreshold: 4, FailureThreshold: 6})
	want = timing{initialDelay: 5 * time.Second, period: 2 * time.Second, timeout: 3 * time.Second, successThreshold: 4, failureThreshold: 6}
	if got != want {
		t.Fatalf("timingOf = %+v, want %+v", got, want)
	}
}

func TestJitterFor_StaysBelowPeriodAndCap(t *testing.T) {
	for _, tc := range []struct {
		period time.Duration
		r      float64
		want   time.Duration
	}{
		{time.Second, 0, 0},
		{time.Second, 0.5, 500 * time.Millisecond},
		{10 * time.Second, 0.25, 2500 * time.Millisecond},
		{60 * time.Second, 0.5, 5 * time.Second}, // capped at 10 s
		{time.Second, 1, 0},                      // out of range: no jitter
		{time.Second, -0.1, 0},
	} {
		if got := jitterFor(tc.period, tc.r); got != tc.want {
			t.Errorf("jitterFor(%v, %v) = %v, want %v", tc.period, tc.r, got, tc.want)
		}
	}
	const almostOne = 0.9999999999
	for _, period := range []time.Duration{time.Second, 10 * time.Second, 11 * time.Second, time.Hour} {
		bound := min(period, maxProbeJitter)
		if got := jitterFor(period, almostOne); got >= bound || got < bound-time.Millisecond {
			t.Errorf("jitterFor(%v, ~1) = %v, want just under %v", period, got, bound)
		}
	}
}

func TestFirstProbeAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Worker made at the container's start: initial delay, then jitter.
	if got, want := firstProbeAt(t0, t0, 5*time.Second, 2*time.Second), t0.Add(7*time.Second); !got.Equal(want) {
		t.Errorf("fresh container: %v, want %v", got, want)
	}
	// Worker made long after the start (adopted container): now plus jitter.
	now := t0.Add(time.Hour)
	if got, want := firstProbeAt(t0, now, 5*time.Second, 2*time.Second), now.Add(2*time.Second); !got.Equal(want) {
		t.Errorf("adopted container: %v, want %v", got, want)
	}
	// Worker made during the initial delay: the rest of it, then jitter.
	now = t0.Add(3 * time.Second)
	if got, want := firstProbeAt(t0, now, 5*time.Second, time.Second), t0.Add(6*time.Second); !got.Equal(want) {
		t.Errorf("during initial delay: %v, want %v", got, want)
	}
}

func TestNextProbeAt_OnGridAndSkipsMissedTicks(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	p := 10 * time.Second
	for _, tc := range []struct {
		n     int
		now   time.Duration // after base
		want  time.Duration // after base
		wantN int
	}{
		{0, 0, 10 * time.Second, 1},                  // probe took no time
		{0, 3 * time.Second, 10 * time.Second, 1},    // probe took 3 s
		{2, 20 * time.Second, 30 * time.Second, 3},   // n-th probe at base + n x period
		{0, 10 * time.Second, 10 * time.Second, 1},   // probe took a whole period: next is due now
		{0, 25 * time.Second, 30 * time.Second, 3},   // ticks at 10 s and 20 s skipped
		{1, 10*time.Second + 1, 20 * time.Second, 2}, // just past its own tick
		{0, 20*time.Second + 1, 30 * time.Second, 3}, // just past a missed tick
		{4, 40*time.Second + 9*time.Second, 50 * time.Second, 5},
	} {
		at, n := nextProbeAt(base, p, tc.n, base.Add(tc.now))
		if !at.Equal(base.Add(tc.want)) || n != tc.wantN {
			t.Errorf("nextProbeAt(n=%d, now=base+%v) = base+%v (n=%d), want base+%v (n=%d)",
				tc.n, tc.now, at.Sub(base), n, tc.want, tc.wantN)
		}
	}
}

func TestTally_Thresholds(t *testing.T) {
	S, F := Success, Failure
	for _, tc := range []struct {
		name             string
		success, failure int32
		runs             []Result
		want             []bool
	}{
		{"failure threshold 3", 1, 3, []Result{F, F, F, F}, []bool{false, false, true, true}},
		{"a success resets the failure run", 1, 3, []Result{F, F, S, F, F, F}, []bool{false, false, true, false, false, true}},
		{"success threshold 2", 2, 1, []Result{S, S, F, S, S}, []bool{false, true, true, false, true}},
		{"thresholds of 1", 1, 1, []Result{F, S, F}, []bool{true, true, true}},
	} {
		var ty tally
		for i, r := range tc.runs {
			if got := ty.add(r, tc.success, tc.failure); got != tc.want[i] {
				t.Errorf("%s: run %d (%v) reached threshold = %v, want %v", tc.name, i+1, r, got, tc.want[i])
			}
		}
	}
}
