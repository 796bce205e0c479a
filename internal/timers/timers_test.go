package timers

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestReset_DropsAnUnreceivedTick(t *testing.T) {
	tests := []struct {
		name string
		// fire moves the clock past the first deadline before Reset.
		fire bool
	}{
		{name: "pending timer", fire: false},
		{name: "fired, tick not received", fire: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Unix(0, 0))
			timer := clk.NewTimer(time.Second)
			if tt.fire {
				clk.Step(time.Second)
			}
			Reset(timer, 5*time.Second)
			select {
			case <-timer.C():
				t.Fatal("a tick from before Reset was delivered")
			default:
			}
			clk.Step(4 * time.Second)
			select {
			case <-timer.C():
				t.Fatal("fired before the new deadline")
			default:
			}
			clk.Step(time.Second)
			select {
			case <-timer.C():
			default:
				t.Fatal("did not fire at the new deadline")
			}
		})
	}
}

func TestReset_AfterTheTickWasReceived(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(0, 0))
	timer := clk.NewTimer(time.Second)
	clk.Step(time.Second)
	<-timer.C()
	Reset(timer, time.Second)
	clk.Step(time.Second)
	select {
	case <-timer.C():
	default:
		t.Fatal("a received timer did not fire again after Reset")
	}
}

// A wall clock jump (the fake clock set forward or back) under an armed
// timer: forward past the deadline fires it once; back holds it, and a
// Reset after the jump counts from the new time, never from the old.
func TestReset_ClockJumps(t *testing.T) {
	start := time.Unix(100_000, 0)
	clk := clocktesting.NewFakeClock(start)
	timer := clk.NewTimer(10 * time.Second)

	clk.SetTime(start.Add(-time.Hour))
	select {
	case <-timer.C():
		t.Fatal("fired when the clock went back")
	default:
	}
	Reset(timer, 10*time.Second)
	clk.Step(9 * time.Second)
	select {
	case <-timer.C():
		t.Fatal("fired before the deadline counted from after the jump")
	default:
	}
	clk.Step(time.Second)
	select {
	case <-timer.C():
	default:
		t.Fatal("did not fire 10s after the Reset that followed the backward jump")
	}

	Reset(timer, 10*time.Second)
	clk.SetTime(clk.Now().Add(24 * time.Hour))
	select {
	case <-timer.C():
	default:
		t.Fatal("did not fire when the clock jumped forward past the deadline")
	}
	select {
	case <-timer.C():
		t.Fatal("fired twice for one deadline")
	default:
	}
}
