package chaos

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// criState is what containerd holds for one node, grouped by pod name.
type criState struct {
	sandboxes  map[string][]*runtimeapi.PodSandbox // by pod name
	containers map[string][]*runtimeapi.Container  // by pod name
}

func (n *node) criState() criState {
	s := criState{sandboxes: map[string][]*runtimeapi.PodSandbox{}, containers: map[string][]*runtimeapi.Container{}}
	for _, sb := range n.sandboxes() {
		name := strings.TrimSuffix(sb.Labels[runtime.LabelPodName], "-"+n.name)
		s.sandboxes[name] = append(s.sandboxes[name], sb)
	}
	for _, c := range n.containers() {
		name := strings.TrimSuffix(c.Labels[runtime.LabelPodName], "-"+n.name)
		s.containers[name] = append(s.containers[name], c)
	}
	return s
}

// want is what a pod of the test's model must have in containerd once
// the daemon settled.
type want struct {
	uid string
	// running: its container "app" must be running (else it finished).
	running bool
}

// problems lists every way s differs from the model: a pod with no
// sandbox or more than one, a sandbox or container of an old UID or of a
// pod no manifest asks for (an orphan), two live instances of one
// container, a container that should run and does not.
func (s criState) problems(model map[string]want) []string {
	var out []string
	for name, w := range model {
		sbs := s.sandboxes[name]
		switch {
		case len(sbs) == 0:
			out = append(out, fmt.Sprintf("pod %s: missing (no sandbox)", name))
		case len(sbs) > 1:
			out = append(out, fmt.Sprintf("pod %s: %d sandboxes (duplicate)", name, len(sbs)))
		}
		for _, sb := range sbs {
			if uid := sb.Labels[runtime.LabelPodUID]; w.uid != "" && uid != w.uid {
				out = append(out, fmt.Sprintf("pod %s: sandbox %.12s of old UID %s (orphan)", name, sb.Id, uid))
			}
		}
		live := map[string]int{}
		runningApp := 0
		for _, c := range s.containers[name] {
			if uid := c.Labels[runtime.LabelPodUID]; w.uid != "" && uid != w.uid {
				out = append(out, fmt.Sprintf("pod %s: container %.12s of old UID %s (orphan)", name, c.Id, uid))
				continue
			}
			if c.State == runtimeapi.ContainerState_CONTAINER_RUNNING || c.State == runtimeapi.ContainerState_CONTAINER_CREATED {
				live[c.Metadata.Name]++
			}
			if c.State == runtimeapi.ContainerState_CONTAINER_RUNNING && c.Metadata.Name == "app" {
				runningApp++
			}
		}
		for cname, k := range live {
			if k > 1 {
				out = append(out, fmt.Sprintf("pod %s: %d live instances of container %s (duplicate)", name, k, cname))
			}
		}
		if w.running && runningApp == 0 {
			out = append(out, fmt.Sprintf("pod %s: container app not running", name))
		}
	}
	for name, sbs := range s.sandboxes {
		if _, ok := model[name]; !ok {
			out = append(out, fmt.Sprintf("pod %s: %d sandboxes but no manifest (orphan)", name, len(sbs)))
		}
	}
	for name, cs := range s.containers {
		if _, ok := model[name]; !ok && len(s.sandboxes[name]) == 0 {
			out = append(out, fmt.Sprintf("pod %s: %d containers but no manifest (orphan)", name, len(cs)))
		}
	}
	sort.Strings(out)
	return out
}

// restartCount is the attempt a container instance records.
func restartCount(c *runtimeapi.Container) int {
	k, _ := strconv.Atoi(c.Annotations[runtime.AnnotationRestartCount])
	return k
}

// finishedAt asks containerd when an exited container ended.
func finishedAt(c *runtime.Client, id string) (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.ContainerStatus(ctx, id, false)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, st.GetStatus().GetFinishedAt()), nil
}
