package kubeapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/podcolumns"
)

// The kubelet's node condition reasons and messages
// (pkg/kubelet/nodestatus/setters.go) and its PLEG health threshold
// (pkg/kubelet/pleg/generic.go relistThreshold).
const (
	reasonReady              = "KubeletReady"
	reasonNotReady           = "KubeletNotReady"
	messageReady             = "kubelet is posting ready status"
	reasonSufficientMemory   = "KubeletHasSufficientMemory"
	messageSufficientMemory  = "kubelet has sufficient memory available"
	reasonNoDiskPressure     = "KubeletHasNoDiskPressure"
	messageNoDiskPressure    = "kubelet has no disk pressure"
	reasonSufficientPID      = "KubeletHasSufficientPID"
	messageSufficientPID     = "kubelet has sufficient PID available"
	relistThreshold          = 3 * time.Minute
	labelNodeRolePrefix      = "node-role.kubernetes.io/"
	labelNodeRole            = "kubernetes.io/role"
	runtimeStatusCallTimeout = 2 * time.Second
)

// nodeColumns are the API server's node printer columns.
var nodeColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	{Name: "Status", Type: "string", Description: "The status of the node"},
	{Name: "Roles", Type: "string", Description: "The roles of the node"},
	{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
	{Name: "Version", Type: "string", Description: v1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]},
	{Name: "Internal-IP", Type: "string", Priority: 1, Description: v1.NodeStatus{}.SwaggerDoc()["addresses"]},
	{Name: "External-IP", Type: "string", Priority: 1, Description: v1.NodeStatus{}.SwaggerDoc()["addresses"]},
	{Name: "OS-Image", Type: "string", Priority: 1, Description: v1.NodeSystemInfo{}.SwaggerDoc()["osImage"]},
	{Name: "Kernel-Version", Type: "string", Priority: 1, Description: v1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]},
	{Name: "Container-Runtime", Type: "string", Priority: 1, Description: v1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"]},
}

func (o *objects) nodeResource() *resource {
	return &resource{
		gr:         schema.GroupResource{Resource: "nodes"},
		apiVersion: "v1",
		kind:       "Node",
		status:     true,
		list: func(ctx context.Context, now time.Time) ([]runtime.Object, uint64) {
			rv := o.currentRV()
			return []runtime.Object{o.node(ctx, now, rv)}, rv
		},
		fields: func(obj runtime.Object) fields.Set {
			set := fields.Set{"metadata.name": ""}
			if n, ok := obj.(*v1.Node); ok {
				set["metadata.name"] = n.Name
				set["spec.unschedulable"] = fmt.Sprint(n.Spec.Unschedulable)
			} else {
				set["spec.unschedulable"] = ""
			}
			return set
		},
		columns: nodeColumns,
		row:     nodeRow,
	}
}

func (o *objects) currentRV() uint64 {
	if o.deps.Feed == nil {
		return 0
	}
	return o.deps.Feed.Current()
}

// nodeReadings is what the Ready condition is decided from, read at the
// time of the request.
type nodeReadings struct {
	runtime    *runtimeapi.RuntimeStatus
	runtimeErr error
	lastRelist time.Time
	// pressure are the measured pressure conditions, by type.
	pressure []v1.NodeCondition
}

// node reads the runtime's status and the relister's progress and builds
// the Node.
func (o *objects) node(ctx context.Context, now time.Time, rv uint64) *v1.Node {
	var rd nodeReadings
	if o.deps.Runtime != nil {
		ctx, cancel := context.WithTimeout(ctx, runtimeStatusCallTimeout)
		resp, err := o.deps.Runtime.Status(ctx, false)
		cancel()
		rd.runtime, rd.runtimeErr = resp.GetStatus(), err
	} else {
		rd.runtimeErr = errors.New("no runtime")
	}
	if o.deps.Relist != nil {
		rd.lastRelist = o.deps.Relist.LastRelist()
	}
	if o.deps.Pressure != nil {
		rd.pressure = o.deps.Pressure.Conditions()
	}
	return buildNode(o.deps.Node, rd, o.deps.Started, now, rv)
}

// buildNode is the node object as the kubelet posts it, from what the node
// is and what was just read. Pure.
func buildNode(f NodeFacts, rd nodeReadings, started, now time.Time, rv uint64) *v1.Node {
	created := metav1.NewTime(started)
	heartbeat := metav1.NewTime(now)
	condition := func(t v1.NodeConditionType, s v1.ConditionStatus, reason, message string) v1.NodeCondition {
		return v1.NodeCondition{Type: t, Status: s, Reason: reason, Message: message, LastHeartbeatTime: heartbeat, LastTransitionTime: created}
	}
	ready := condition(v1.NodeReady, v1.ConditionTrue, reasonReady, messageReady)
	if errs := notReadyErrors(rd, now); len(errs) > 0 {
		ready = condition(v1.NodeReady, v1.ConditionFalse, reasonNotReady, utilerrors.NewAggregate(errs).Error())
	}
	labels := make(map[string]string, len(f.Labels))
	for k, v := range f.Labels {
		labels[k] = v
	}
	return &v1.Node{
		TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              f.Name,
			UID:               stableUID("node", f.Info.MachineID, f.Name),
			Labels:            labels,
			CreationTimestamp: created,
			ResourceVersion:   formatRV(rv),
		},
		Status: v1.NodeStatus{
			Capacity:    f.Capacity.DeepCopy(),
			Allocatable: f.Allocatable.DeepCopy(),
			Phase:       "",
			Conditions: []v1.NodeCondition{
				measured(condition(v1.NodeMemoryPressure, v1.ConditionFalse, reasonSufficientMemory, messageSufficientMemory), rd.pressure, heartbeat),
				measured(condition(v1.NodeDiskPressure, v1.ConditionFalse, reasonNoDiskPressure, messageNoDiskPressure), rd.pressure, heartbeat),
				condition(v1.NodePIDPressure, v1.ConditionFalse, reasonSufficientPID, messageSufficientPID),
				ready,
			},
			Addresses: append([]v1.NodeAddress(nil), f.Addresses...),
			NodeInfo:  f.Info,
		},
	}
}

// measured is the condition of def's type among the measured ones, with
// this heartbeat, else def.
func measured(def v1.NodeCondition, measured []v1.NodeCondition, heartbeat metav1.Time) v1.NodeCondition {
	for _, c := range measured {
		if c.Type == def.Type {
			c.LastHeartbeatTime = heartbeat
			return c
		}
	}
	return def
}

// notReadyErrors are the kubelet's reasons for a node that is not ready:
// the runtime's errors (runtime_state.go) and the PLEG's health.
func notReadyErrors(rd nodeReadings, now time.Time) []error {
	var errs []error
	switch {
	case rd.runtimeErr != nil || rd.runtime == nil:
		errs = append(errs, errors.New("container runtime is down"))
	default:
		for _, want := range []string{runtimeapi.RuntimeReady, runtimeapi.NetworkReady} {
			c := runtimeCondition(rd.runtime, want)
			if c != nil && c.Status {
				continue
			}
			what := "container runtime not ready"
			if want == runtimeapi.NetworkReady {
				what = "container runtime network not ready"
			}
			var reason, message string
			if c != nil {
				reason, message = c.Reason, c.Message
			}
			errs = append(errs, fmt.Errorf("%s: %s=false reason:%s message:%s", what, want, reason, message))
		}
	}
	switch {
	case rd.lastRelist.IsZero():
		errs = append(errs, errors.New("PLEG is not healthy: pleg has yet to be successful"))
	case now.Sub(rd.lastRelist) > relistThreshold:
		errs = append(errs, fmt.Errorf("PLEG is not healthy: pleg was last seen active %v ago; threshold is %v", now.Sub(rd.lastRelist), relistThreshold))
	}
	return errs
}

func runtimeCondition(s *runtimeapi.RuntimeStatus, t string) *runtimeapi.RuntimeCondition {
	for _, c := range s.GetConditions() {
		if c.Type == t {
			return c
		}
	}
	return nil
}

// nodeRow is printNode's row, with every column.
func nodeRow(obj runtime.Object, now time.Time) metav1.TableRow {
	n := obj.(*v1.Node)
	var status []string
	for _, c := range n.Status.Conditions {
		if c.Type != v1.NodeReady {
			continue
		}
		if c.Status == v1.ConditionTrue {
			status = append(status, string(c.Type))
		} else {
			status = append(status, "Not"+string(c.Type))
		}
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	roles := strings.Join(nodeRoles(n.Labels), ",")
	if roles == "" {
		roles = podcolumns.None
	}
	orUnknown := func(s string) string {
		if s == "" {
			return "<unknown>"
		}
		return s
	}
	return metav1.TableRow{Cells: []any{n.Name, strings.Join(status, ","), roles, podcolumns.Age(n.CreationTimestamp, now), n.Status.NodeInfo.KubeletVersion,
		nodeAddress(n, v1.NodeInternalIP), nodeAddress(n, v1.NodeExternalIP),
		orUnknown(n.Status.NodeInfo.OSImage), orUnknown(n.Status.NodeInfo.KernelVersion), orUnknown(n.Status.NodeInfo.ContainerRuntimeVersion)}}
}

// nodeRoles are the printer's roles: node-role.kubernetes.io/<role> labels
// and the kubernetes.io/role label, sorted.
func nodeRoles(labels map[string]string) []string {
	set := map[string]bool{}
	for k, v := range labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix):
			if role := strings.TrimPrefix(k, labelNodeRolePrefix); role != "" {
				set[role] = true
			}
		case k == labelNodeRole && v != "":
			set[v] = true
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func nodeAddress(n *v1.Node, t v1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return podcolumns.None
}

// stableUID makes a UID in the form of a UUID from parts, the same for the
// same parts in every run of the daemon.
func stableUID(parts ...string) types.UID {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16]))
}
