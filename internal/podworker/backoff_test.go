package podworker

import (
	"testing"
	"time"
)

func TestBackoff_FirstRestartImmediateThenDoublingToCap(t *testing.T) {
	b := newBackoff(10*time.Second, 300*time.Second)
	now := time.Unix(1000, 0)
	if waiting, _ := b.inBackoff("c", now, now); waiting {
		t.Fatal("first restart must be immediate")
	}
	var periods []time.Duration
	for range 7 {
		b.next("c", now)
		periods = append(periods, b.period("c"))
		// The container runs a second and exits; it must wait a full period.
		finished := now.Add(time.Second)
		waiting, wait := b.inBackoff("c", finished, finished)
		if !waiting || wait != b.period("c") {
			t.Fatalf("after exit: waiting=%v wait=%s, want %s", waiting, wait, b.period("c"))
		}
		now = finished.Add(wait)
		if waiting, _ := b.inBackoff("c", finished, now); waiting {
			t.Fatalf("still waiting at the end of the period %s", wait)
		}
	}
	want := []time.Duration{10, 20, 40, 80, 160, 300, 300}
	for i := range want {
		if periods[i] != want[i]*time.Second {
			t.Fatalf("periods = %v, want %v seconds", periods, want)
		}
	}
}

func TestBackoff_ResetsAfterTenMinutesOfRunning(t *testing.T) {
	b := newBackoff(10*time.Second, 300*time.Second)
	start := time.Unix(1000, 0)
	b.next("c", start)
	b.next("c", start)
	if b.period("c") != 20*time.Second {
		t.Fatalf("period %s, want 20s", b.period("c"))
	}
	finished := start.Add(10*time.Minute + time.Second)
	if waiting, _ := b.inBackoff("c", finished, finished); waiting {
		t.Fatal("a container that ran over 10 minutes must restart at once")
	}
	b.next("c", finished)
	if b.period("c") != 10*time.Second {
		t.Fatalf("period after reset %s, want 10s", b.period("c"))
	}
}
