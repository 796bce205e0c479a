package runtime

import (
	"reflect"
	"testing"
	"time"

	eventstypes "github.com/containerd/containerd/api/events"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestDispatch_ExitsOOMKillsAndDeletionsReachTheirHandlers(t *testing.T) {
	var exits []Exit
	var changed []string
	h := EventHandlers{Exited: func(e Exit) { exits = append(exits, e) }, Changed: func(id string) { changed = append(changed, id) }}
	at := time.Unix(100, 0).UTC()
	dispatch(&eventstypes.TaskExit{ID: "c1", ContainerID: "c1", ExitStatus: 137, ExitedAt: timestamppb.New(at)}, h)
	dispatch(&eventstypes.TaskExit{ID: "exec-1", ContainerID: "c1", ExitStatus: 1}, h) // a probe's exec
	dispatch(&eventstypes.TaskOOM{ContainerID: "c2"}, h)
	dispatch(&eventstypes.ContainerDelete{ID: "s3"}, h)
	dispatch(&eventstypes.TaskStart{ContainerID: "c4"}, h)

	if want := []Exit{{ContainerID: "c1", ExitCode: 137, ExitedAt: at}}; !reflect.DeepEqual(exits, want) {
		t.Fatalf("exits %+v, want %+v (an exec'd process's exit is none)", exits, want)
	}
	if want := []string{"c2", "s3"}; !reflect.DeepEqual(changed, want) {
		t.Fatalf("changed %v, want %v", changed, want)
	}
	dispatch(&eventstypes.TaskOOM{ContainerID: "c5"}, EventHandlers{}) // nil handlers: nothing to call
}
