package staticpods

import (
	"testing"
	"time"
)

func TestOpenWrites_BusyUntilDoneQuietOrTooOld(t *testing.T) {
	const p = "/m/web.yaml"
	at := func(d time.Duration) time.Time { return testStart.Add(d) }
	for _, tc := range []struct {
		name   string
		writes []time.Duration // times of writes to p
		done   bool            // p closed after the writes
		now    time.Duration
		busy   bool
	}{
		{name: "never written", now: 0, busy: false},
		{name: "just written", writes: []time.Duration{0}, now: 0, busy: true},
		{name: "closed", writes: []time.Duration{0}, done: true, now: 0, busy: false},
		{name: "pause shorter than quiet", writes: []time.Duration{0}, now: 1999 * time.Millisecond, busy: true},
		{name: "quiet for the cap", writes: []time.Duration{0}, now: 2 * time.Second, busy: false},
		{name: "each write restarts the quiet", writes: []time.Duration{0, 1500 * time.Millisecond}, now: 3 * time.Second, busy: true},
		{name: "written to for maxAge without a pause", writes: []time.Duration{0, 1500 * time.Millisecond, 3 * time.Second, 4500 * time.Millisecond}, now: 5 * time.Second, busy: false},
		{name: "a write after the cap starts over", writes: []time.Duration{0, 4 * time.Second, 5 * time.Second}, now: 6 * time.Second, busy: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOpenWrites(2*time.Second, 5*time.Second)
			for _, w := range tc.writes {
				o.wrote(p, at(w))
			}
			if tc.done {
				o.done(p)
			}
			if got := o.busy(p, at(tc.now)); got != tc.busy {
				t.Errorf("busy = %v, want %v", got, tc.busy)
			}
			expired, next := o.expire(at(tc.now))
			if wasOpen := len(tc.writes) > 0 && !tc.done; wasOpen && len(expired) == 1 == tc.busy {
				t.Errorf("expire = %v, want it to return the file exactly when it is no longer busy", expired)
			}
			if next.IsZero() == tc.busy {
				t.Errorf("next = %v, want a time exactly when the file is still busy", next)
			}
			if tc.busy && !next.After(at(tc.now)) {
				t.Errorf("next = %v, want after now", next)
			}
		})
	}
}

func TestOpenWrites_MaxAgeIsNeverShorterThanQuiet(t *testing.T) {
	o := newOpenWrites(2*time.Second, time.Second)
	o.wrote("/m/web.yaml", testStart)
	if !o.busy("/m/web.yaml", testStart.Add(1500*time.Millisecond)) {
		t.Errorf("a file written 1.5s ago must stay busy when quiet is 2s, whatever the check frequency")
	}
}
