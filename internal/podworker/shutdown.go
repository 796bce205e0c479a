package podworker

import (
	"context"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// shutdownStop is how a pod is stopped for a node shutdown: with its own
// grace period, and Failed with the given reason and message.
type shutdownStop struct {
	gracePeriod     int64
	reason, message string
}

// shutdownRequest asks Run to stop the pods of graces (by UID, with each
// one's grace period in seconds); Run closes reply once none of them has
// a worker left.
type shutdownRequest struct {
	graces          map[types.UID]int64
	reason, message string
	reply           chan struct{}
}

// Pods returns the pods the node runs or is starting (not those it
// refused, nor leftovers being stopped), for a node shutdown to choose
// from.
func (m *Manager) Pods() []*v1.Pod {
	m.workersMu.Lock()
	defer m.workersMu.Unlock()
	out := make([]*v1.Pod, 0, len(m.workers))
	for _, w := range m.workers {
		if w.orphan || w.rejected != nil {
			continue
		}
		pod, _ := w.snapshot()
		out = append(out, pod)
	}
	return out
}

// StopPods stops the pods of graces, each within its grace period (in
// seconds, overriding the pod's), shows each Failed with reason and
// message, and returns once they are gone or ctx ends. From the first
// call on, no pod starts until the daemon restarts, as the kubelet admits
// no pod while its node shuts down; the stopped pods stay shown, Failed.
func (m *Manager) StopPods(ctx context.Context, graces map[types.UID]int64, reason, message string) error {
	req := shutdownRequest{graces: graces, reason: reason, message: message, reply: make(chan struct{})}
	select {
	case m.shutdowns <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-req.reply:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *lifetimes) shutdown(req shutdownRequest) {
	l.shuttingDown = true
	for uid, grace := range req.graces {
		if w := l.workers[uid]; w != nil && !w.orphan {
			w.requestShutdown(shutdownStop{gracePeriod: grace, reason: req.reason, message: req.message})
		}
	}
	l.shutdownWaits = append(l.shutdownWaits, req)
}

// answerShutdowns answers the shutdown requests none of whose pods has a
// worker any more.
func (l *lifetimes) answerShutdowns() {
	waiting := l.shutdownWaits[:0]
	for _, req := range l.shutdownWaits {
		left := false
		for uid := range req.graces {
			if _, ok := l.workers[uid]; ok {
				left = true
				break
			}
		}
		if left {
			waiting = append(waiting, req)
		} else {
			close(req.reply)
		}
	}
	l.shutdownWaits = waiting
}

// requestShutdown tells the worker to stop its pod for a node shutdown.
func (w *worker) requestShutdown(s shutdownStop) {
	w.mu.Lock()
	if !w.terminate {
		w.shutdownReq = &s
	}
	w.terminate = true
	w.mu.Unlock()
	w.wake()
}

func (w *worker) shutdownRequested() *shutdownStop {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.shutdownReq
}
