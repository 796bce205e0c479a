package pki

import (
	"context"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/timers"
)

// maxRenewalWait bounds the wait for the next renewal, so that a clock
// set forward (a VM resumed) is noticed within a day.
const maxRenewalWait = 24 * time.Hour

// RunRenewal reissues each certificate when it is due (renewal.go) until
// ctx ends, then calls renewed with what it issued (to rewrite the
// kubeconfig). A failure is logged and retried an hour later: the
// certificates in use stay valid for weeks after they fall due.
func (c *Certs) RunRenewal(ctx context.Context, clk clock.Clock, log *zap.Logger, renewed func(issued []string) error) error {
	timer := clk.NewTimer(c.wait(clk.Now()))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C():
		}
		next := c.renewOnce(clk.Now(), log, renewed)
		timers.Reset(timer, next)
	}
}

// renewOnce renews what is due at now and says how long to wait.
func (c *Certs) renewOnce(now time.Time, log *zap.Logger, renewed func([]string) error) time.Duration {
	issued, err := c.renewDue(now)
	if err == nil && len(issued) > 0 {
		log.Info("renewed certificates", zap.Strings("certificates", issued), zap.String("dir", c.dir))
		err = renewed(issued)
	}
	if err != nil {
		log.Error("renew certificates; retrying in an hour", zap.Error(err))
		return time.Hour
	}
	return c.wait(now)
}

// wait is how long from now until the next renewal is due, at most
// maxRenewalWait.
func (c *Certs) wait(now time.Time) time.Duration {
	d := c.nextRenewal().Sub(now)
	if d < 0 {
		d = 0
	}
	return min(d, maxRenewalWait)
}
