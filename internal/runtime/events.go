package runtime

import (
	"context"
	"fmt"
	"strings"
	"time"

	eventstypes "github.com/containerd/containerd/api/events"
	eventsapi "github.com/containerd/containerd/api/services/events/v1"
	"github.com/containerd/typeurl/v2"
	"go.uber.org/zap"
)

// eventFilters select, in the CRI's namespace, what tells a node agent
// that a container or sandbox changed without it: a task's exit, an OOM
// kill, a container (or sandbox) deleted. Starts are left out: every start
// is the node agent's own doing, and it observes it itself.
var eventFilters = []string{
	`topic=="/tasks/exit",namespace=="` + CRINamespace + `"`,
	`topic=="/tasks/oom",namespace=="` + CRINamespace + `"`,
	`topic=="/containers/delete",namespace=="` + CRINamespace + `"`,
}

const (
	// resubscribeMin and resubscribeMax pace reconnections while
	// containerd is away.
	resubscribeMin = 100 * time.Millisecond
	resubscribeMax = 5 * time.Second
)

// Exit is a container's main process ending, as containerd reports it.
type Exit struct {
	ContainerID string
	ExitCode    int32
	ExitedAt    time.Time
}

// EventHandlers are what WatchEvents calls; each may be nil.
type EventHandlers struct {
	// Exited is called for every container (or sandbox) whose main
	// process exits. Exits of exec'd processes (probes, kubectl exec) are
	// not reported.
	Exited func(Exit)
	// Changed is called with the ID of a container or sandbox that was
	// OOM-killed or deleted.
	Changed func(id string)
	// Subscribed is called each time the stream (re)starts: what happened
	// while it was away is lost, and the caller relists.
	Subscribed func()
}

// WatchEvents calls h for the events of containerd's CRI namespace that
// tell of containers changing, as containerd reports them, until ctx ends.
// When containerd goes away (a restart), it subscribes again with a capped
// backoff.
func WatchEvents(ctx context.Context, address string, log *zap.Logger, h EventHandlers) error {
	address = strings.TrimPrefix(address, "unix://")
	wait := resubscribeMin
	for {
		err := watchOnce(ctx, address, log, h, func() { wait = resubscribeMin })
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("containerd event stream ended; subscribing again", zap.Duration("in", wait), zap.Error(err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, resubscribeMax)
	}
}

func watchOnce(ctx context.Context, address string, log *zap.Logger, h EventHandlers, subscribed func()) error {
	conn, err := dialContainerd(ctx, address)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := eventsapi.NewEventsClient(conn).Subscribe(ctx, &eventsapi.SubscribeRequest{Filters: eventFilters})
	if err != nil {
		return fmt.Errorf("subscribe to containerd's events at %s: %w", address, err)
	}
	// The request has been sent: containerd answers nothing until the first
	// event, so this is as early as the caller can relist knowing that
	// whatever changes next is reported.
	log.Debug("watching containerd events")
	if h.Subscribed != nil {
		h.Subscribed()
	}
	for first := true; ; first = false {
		env, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("containerd's event stream at %s: %w", address, err)
		}
		if first {
			subscribed()
		}
		ev, err := typeurl.UnmarshalAny(env.Event)
		if err != nil {
			log.Debug("decode containerd event", zap.String("topic", env.Topic), zap.Error(err))
			continue
		}
		dispatch(ev, h)
	}
}

// dispatch hands one decoded event to its handler.
func dispatch(ev any, h EventHandlers) {
	switch ev := ev.(type) {
	case *eventstypes.TaskExit:
		if ev.ID != ev.ContainerID || h.Exited == nil {
			return // an exec'd process
		}
		e := Exit{ContainerID: ev.ContainerID, ExitCode: int32(ev.ExitStatus)}
		if ev.ExitedAt != nil {
			e.ExitedAt = ev.ExitedAt.AsTime()
		}
		h.Exited(e)
	case *eventstypes.TaskOOM:
		if h.Changed != nil {
			h.Changed(ev.ContainerID)
		}
	case *eventstypes.ContainerDelete:
		if h.Changed != nil {
			h.Changed(ev.ID)
		}
	}
}
