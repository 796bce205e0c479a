package kubeapi

import (
	"context"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minikubelet/minikubelet/internal/podcolumns"
)

// podColumns are the API server's pod printer columns
// (pkg/printers/internalversion AddHandlers).
var podColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic."},
	{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod."},
	{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
	{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
	{Name: "IP", Type: "string", Priority: 1, Description: v1.PodStatus{}.SwaggerDoc()["podIP"]},
	{Name: "Node", Type: "string", Priority: 1, Description: v1.PodSpec{}.SwaggerDoc()["nodeName"]},
	{Name: "Nominated Node", Type: "string", Priority: 1, Description: v1.PodStatus{}.SwaggerDoc()["nominatedNodeName"]},
	{Name: "Readiness Gates", Type: "string", Priority: 1, Description: v1.PodSpec{}.SwaggerDoc()["readinessGates"]},
}

// The row conditions printPod gives a finished pod.
var (
	podSucceededConditions = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(v1.PodSucceeded), Message: "The pod has completed successfully."}}
	podFailedConditions    = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(v1.PodFailed), Message: "The pod failed."}}
)

func (o *objects) podResource() *resource {
	return &resource{
		gr:         schema.GroupResource{Resource: "pods"},
		apiVersion: "v1",
		kind:       "Pod",
		namespaced: true,
		status:     true,
		list: func(context.Context, time.Time) ([]runtime.Object, uint64) {
			pods, rv := o.deps.Pods.ListAt()
			return podObjects(pods), rv
		},
		fields:  podFields,
		owns:    func(obj runtime.Object) bool { _, ok := obj.(*v1.Pod); return ok },
		columns: podColumns,
		row:     podRow,
	}
}

// podFields are the API server's selectable pod fields
// (pkg/registry/core/pod ToSelectableFields).
func podFields(obj runtime.Object) fields.Set {
	set := objectMetaFields(obj)
	pod, _ := obj.(*v1.Pod)
	if pod == nil {
		pod = &v1.Pod{}
	}
	podIP := ""
	if len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	set["spec.nodeName"] = pod.Spec.NodeName
	set["spec.restartPolicy"] = string(pod.Spec.RestartPolicy)
	set["spec.schedulerName"] = pod.Spec.SchedulerName
	set["spec.serviceAccountName"] = pod.Spec.ServiceAccountName
	set["spec.hostNetwork"] = strconv.FormatBool(pod.Spec.HostNetwork)
	set["status.phase"] = string(pod.Status.Phase)
	set["status.podIP"] = podIP
	set["status.nominatedNodeName"] = pod.Status.NominatedNodeName
	return set
}

// podRow is printPod's row, with every column.
func podRow(obj runtime.Object, now time.Time) metav1.TableRow {
	pod := obj.(*v1.Pod)
	r := podcolumns.Summarize(pod)
	row := metav1.TableRow{Cells: []any{pod.Name, r.ReadyCell(), r.Status, r.RestartsCell(now), podcolumns.Age(pod.CreationTimestamp, now)}}
	for _, c := range podcolumns.WideCells(pod) {
		row.Cells = append(row.Cells, c)
	}
	switch pod.Status.Phase {
	case v1.PodSucceeded:
		row.Conditions = podSucceededConditions
	case v1.PodFailed:
		row.Conditions = podFailedConditions
	}
	return row
}
