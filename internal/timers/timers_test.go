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
