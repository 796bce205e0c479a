package podworker

import (
	"context"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// terminationOrder orders the stop signals of a pod's containers as the
// kubelet's terminationOrdering (pkg/kubelet/kuberuntime): regular
// containers and regular init containers stop at once; a sidecar waits
// for every regular container and for the sidecar declared after it, so
// sidecars stop in reverse order, after the containers they serve.
type terminationOrder struct {
	clock clock.Clock
	// prereqs are, by container name, the channels closed when the
	// containers it waits for have exited.
	prereqs map[string][]chan struct{}

	mu sync.Mutex
	// done holds, by container name, the channel closed once it exited;
	// deleted once closed.
	done map[string]chan struct{}
}

// newTerminationOrder orders the termination of live, the running
// containers of pod. A container that is not running has nothing to wait
// for.
func newTerminationOrder(pod *v1.Pod, live []containerRecord, clk clock.Clock) *terminationOrder {
	o := &terminationOrder{clock: clk, prereqs: map[string][]chan struct{}{}, done: map[string]chan struct{}{}}
	running := map[string]bool{}
	for _, c := range live {
		running[c.Name] = true
	}
	channel := func(name string) chan struct{} {
		ch := make(chan struct{})
		if running[name] {
			o.done[name] = ch
		} else {
			close(ch)
		}
		return ch
	}
	var regular []chan struct{}
	for i := range pod.Spec.Containers {
		regular = append(regular, channel(pod.Spec.Containers[i].Name))
	}
	var later chan struct{}
	for i := len(pod.Spec.InitContainers) - 1; i >= 0; i-- {
		c := &pod.Spec.InitContainers[i]
		ch := channel(c.Name)
		if !isSidecar(c) {
			continue
		}
		o.prereqs[c.Name] = append(o.prereqs[c.Name], regular...)
		if later != nil {
			o.prereqs[c.Name] = append(o.prereqs[c.Name], later)
		}
		later = ch
	}
	return o
}

// waitForTurn waits until the containers name must outlive have exited,
// for at most grace, and returns how long it waited.
func (o *terminationOrder) waitForTurn(ctx context.Context, name string, grace time.Duration) time.Duration {
	start := o.clock.Now()
	if len(o.prereqs[name]) == 0 {
		return 0
	}
	t := o.clock.NewTimer(grace)
	defer t.Stop()
	for _, ch := range o.prereqs[name] {
		select {
		case <-ch:
		case <-t.C():
			return o.clock.Since(start)
		case <-ctx.Done():
			return o.clock.Since(start)
		}
	}
	return o.clock.Since(start)
}

// terminated says the container name has exited.
func (o *terminationOrder) terminated(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ch, ok := o.done[name]; ok {
		close(ch)
		delete(o.done, name)
	}
}
