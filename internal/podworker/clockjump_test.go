package podworker

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/status"
)

// The wall clock jumps (NTP, an operator's date -s) under the times the
// backoffs and deadlines compare: containerd's FinishedAt and CreatedAt
// carry no monotonic reading. These tests pin what each does when it
// jumps forward and back.

func TestClockJump_CrashBackoffForwardEndsTheWait(t *testing.T) {
	b := newBackoff(10*time.Second, 300*time.Second)
	start := time.Unix(100_000, 0)
	b.next("c", start)
	b.next("c", start) // 20 s now
	finished := start.Add(time.Second)
	if waiting, _ := b.inBackoff("c", finished, finished); !waiting {
		t.Fatal("not in backoff right after the exit")
	}
	// A jump forward past the period: due now.
	if waiting, _ := b.inBackoff("c", finished, finished.Add(time.Hour)); waiting {
		t.Fatal("still in backoff an hour (of wall clock) later")
	}
	// A jump forward past twice the cap forgets the loop, as ten minutes of
	// running would: the next restart waits the initial period.
	b.next("c", finished.Add(time.Hour))
	if got := b.period("c"); got != 10*time.Second {
		t.Fatalf("period after a forward jump of an hour = %s, want 10s", got)
	}
}

func TestClockJump_CrashBackoffBackwardNeverStalls(t *testing.T) {
	b := newBackoff(10*time.Second, 300*time.Second)
	start := time.Unix(100_000, 0)
	b.next("c", start)
	finished := start.Add(time.Second)
	// Back by less than the time since the exit: the wait grows by the
	// jump, never beyond what is left of the period plus the jump.
	now := finished.Add(5 * time.Second).Add(-3 * time.Second)
	waiting, wait := b.inBackoff("c", finished, now)
	if !waiting || wait != 8*time.Second {
		t.Fatalf("2 s after the exit: waiting=%v wait=%s, want 8s", waiting, wait)
	}
	// Back by an hour: the exit lies in the future. The restart is due at
	// once instead of an hour's stall.
	for _, back := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour} {
		if waiting, wait := b.inBackoff("c", finished, finished.Add(-back)); waiting {
			t.Fatalf("clock back by %s: waits %s, want the restart due at once", back, wait)
		}
	}
}

func TestClockJump_SeededBackoffBackward(t *testing.T) {
	// After a daemon restart the backoff is seeded from containerd's
	// CreatedAt; a clock that went back since must not stall the loop.
	b := newBackoff(10*time.Second, 300*time.Second)
	created := time.Unix(100_000, 0)
	b.seed("c", 4, created) // 80 s
	finished := created.Add(time.Second)
	if waiting, wait := b.inBackoff("c", finished, finished.Add(time.Second)); !waiting || wait != 79*time.Second {
		t.Fatalf("seeded: waiting=%v wait=%s, want 79s", waiting, wait)
	}
	if waiting, wait := b.inBackoff("c", finished, created.Add(-time.Hour)); waiting {
		t.Fatalf("seeded, clock back an hour: waits %s, want due at once", wait)
	}
}

func TestClockJump_ImagePullBackoffBackward(t *testing.T) {
	b := newBackoff(10*time.Second, 300*time.Second)
	at := time.Unix(100_000, 0)
	b.next("img", at)
	if waiting, _ := b.inBackoffSinceUpdate("img", at.Add(time.Second)); !waiting {
		t.Fatal("not in pull backoff a second after the failure")
	}
	if waiting, wait := b.inBackoffSinceUpdate("img", at.Add(-time.Hour)); waiting {
		t.Fatalf("clock back an hour: the pull waits %s, want due at once", wait)
	}
	if waiting, _ := b.inBackoffSinceUpdate("img", at.Add(time.Hour)); waiting {
		t.Fatal("clock forward an hour: still in pull backoff")
	}
}

func TestClockJump_CreateBackoff(t *testing.T) {
	at := time.Unix(100_000, 0)
	failures := map[string]createFailure{"c": {At: at, Waiting: status.Waiting{Reason: reasonCreateContainerError}}}
	if _, wait, waiting := createBackoffWait(failures, "c", at.Add(time.Second)); !waiting || wait != 9*time.Second {
		t.Fatalf("a second later: waiting=%v wait=%s, want 9s", waiting, wait)
	}
	if _, wait, waiting := createBackoffWait(failures, "c", at.Add(-time.Hour)); waiting {
		t.Fatalf("clock back an hour: waits %s, want due at once", wait)
	}
	if _, _, waiting := createBackoffWait(failures, "c", at.Add(time.Hour)); waiting {
		t.Fatal("clock forward an hour: still waiting")
	}
}

func TestClockJump_ActiveDeadline(t *testing.T) {
	// As the kubelet, the deadline is wall clock from the pod's start time:
	// a forward jump past it ends the pod, a backward jump delays it by the
	// jump. Neither panics nor ends a pod before its start.
	dl := int64(60)
	pod := &v1.Pod{Spec: v1.PodSpec{ActiveDeadlineSeconds: &dl}}
	start := time.Unix(100_000, 0)
	cases := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"before the deadline", start.Add(30 * time.Second), false},
		{"forward past it", start.Add(time.Hour), true},
		{"backward before the start", start.Add(-time.Hour), false},
		{"backward a little", start.Add(-time.Second), false},
	}
	for _, tc := range cases {
		if got := deadlineExceeded(pod, start, tc.now); got != tc.want {
			t.Errorf("%s: deadlineExceeded = %v, want %v", tc.name, got, tc.want)
		}
	}
}
