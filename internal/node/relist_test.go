package node

import (
	"testing"
	"time"

	"github.com/minikubelet/minikubelet/internal/podworker"
)

// Under a short systemd watchdog, full relists come often enough to pet
// it (sdnotify withholds WATCHDOG=1 when none completed within the period).
func TestRelistInterval_FollowsAShortWatchdog(t *testing.T) {
	for _, tt := range []struct {
		watchdog, want time.Duration
	}{
		{0, 0},
		{30 * time.Second, 0},
		{3 * podworker.DefaultRelistInterval, 0},
		{4 * time.Second, 4 * time.Second / 3},
		{15 * time.Second, 5 * time.Second},
	} {
		if got := relistInterval(tt.watchdog); got != tt.want {
			t.Errorf("relistInterval(%s) = %s, want %s", tt.watchdog, got, tt.want)
		}
	}
}
