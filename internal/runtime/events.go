package runtime

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/containerd"
	eventstypes "github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"
	"go.uber.org/zap"
)

const (
	// exitTopicFilter selects task exits of the CRI's namespace.
	exitTopicFilter = `topic=="/tasks/exit",namespace=="` + CRINamespace + `"`
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

// WatchExits calls onExit for every container whose main
// process exits, as containerd reports it, until ctx ends. Exits of exec'd
// processes (probes, kubectl exec) are not reported. When containerd goes
// away (a restart), it subscribes again with a capped backoff; exits
// during the gap are caught by the caller's periodic relist.
func WatchExits(ctx context.Context, address string, log *zap.Logger, onExit func(Exit)) error {
	address = strings.TrimPrefix(address, "unix://")
	wait := resubscribeMin
	for {
		err := watchOnce(ctx, address, log, onExit, func() { wait = resubscribeMin })
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

func watchOnce(ctx context.Context, address string, log *zap.Logger, onExit func(Exit), subscribed func()) error {
	client, err := containerd.New(address, containerd.WithTimeout(containerdDialTimeout))
	if err != nil {
		return fmt.Errorf("connect to containerd at %s: %w", address, err)
	}
	defer client.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	envelopes, errs := client.Subscribe(ctx, exitTopicFilter)
	log.Debug("watching containerd task exits")
	first := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return err
		case env := <-envelopes:
			if first {
				subscribed()
				first = false
			}
			ev, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				log.Debug("decode containerd event", zap.String("topic", env.Topic), zap.Error(err))
				continue
			}
			if exit, ok := ev.(*eventstypes.TaskExit); ok && exit.ID == exit.ContainerID {
				e := Exit{ContainerID: exit.ContainerID, ExitCode: int32(exit.ExitStatus)}
				if exit.ExitedAt != nil {
					e.ExitedAt = exit.ExitedAt.AsTime()
				}
				onExit(e)
			}
		}
	}
}
