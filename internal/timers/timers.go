package timers

import (
	"time"

	"k8s.io/utils/clock"
)

// Reset stops t, throws away a tick it delivered that nobody received, and
// rearms it to fire after d, so that a receive from t.C() sees only the
// new deadline.
//
// Since Go 1.23 time.Timer.Reset does this itself, but the fake timers of
// k8s.io/utils/clock/testing keep a fired tick in their buffered channel
// across Stop and Reset: without the drain a worker under a fake clock
// wakes at once, for a deadline it already replaced.
func Reset(t clock.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C():
		default:
		}
	}
	t.Reset(d)
}
