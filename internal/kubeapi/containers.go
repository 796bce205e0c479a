package kubeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"
)

// ContainerDeps is what the container routes act through: log files, the
// CRI streaming calls, container stats.
type ContainerDeps struct {
	// Pods is where pods and their live status are read (status.Store).
	Pods containerPodLister
	// Instances says where a container instance's log file is: CRI
	// ContainerStatus's LogPath, as the kubelet reads it.
	Instances instanceRuntime
	// LogPath says where the log file of a container instance is by its
	// restart count, for an instance the runtime no longer knows.
	LogPath func(pod *v1.Pod, container string, restartCount int32) string
	// Streams prepares exec, attach and port-forward sessions on the
	// runtime's streaming server (CRI Exec, Attach, PortForward).
	Streams streamRuntime
	// Sandboxes finds a pod's ready sandbox for a port forward (CRI
	// ListPodSandbox).
	Sandboxes sandboxLister
	// Stats reads the containers' cumulative usage (CRI ListContainerStats).
	Stats statsRuntime
	// NodeName names the node's NodeMetrics.
	NodeName string
	// ProcDir is where the node's /proc is read from; "" is /proc.
	ProcDir string
	// Clock is the clock of metrics' timestamps and windows; nil is the
	// real one.
	Clock clock.WithTicker
}

// containerPodLister lists the node's pods with their live status.
type containerPodLister interface {
	List() []v1.Pod
}

// streamRuntime is the runtime's side of exec, attach and port-forward.
type streamRuntime interface {
	Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error)
	Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error)
	PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error)
}

// instanceRuntime reads a container instance's status.
type instanceRuntime interface {
	ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)
}

// statsRuntime reads containers' usage.
type statsRuntime interface {
	ListContainerStats(ctx context.Context, filter *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error)
}

// containerRoutes serves the container routes over ContainerDeps.
type containerRoutes struct {
	deps    ContainerDeps
	log     *zap.Logger
	clock   clock.WithTicker
	metrics *usageSampler
}

// registerContainers adds pods/log, pods/exec, pods/attach,
// pods/portforward and metrics.k8s.io.
func (a *API) registerContainers(mux *http.ServeMux) {
	c := &containerRoutes{deps: a.deps.Containers, log: a.log, clock: a.deps.Containers.Clock}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.metrics = newUsageSampler(c.clock)
	const pod = "/api/v1/namespaces/{namespace}/pods/{name}/"
	mux.HandleFunc("GET "+pod+"log", c.podLog)
	for _, verb := range []string{"GET", "POST"} {
		mux.HandleFunc(verb+" "+pod+"exec", c.podExec)
		mux.HandleFunc(verb+" "+pod+"attach", c.podAttach)
		mux.HandleFunc(verb+" "+pod+"portforward", c.podPortForward)
	}
	const metrics = "/apis/metrics.k8s.io/v1beta1/"
	mux.HandleFunc("GET "+metrics+"pods", c.podMetricsList)
	mux.HandleFunc("GET "+metrics+"namespaces/{namespace}/pods", c.podMetricsList)
	mux.HandleFunc("GET "+metrics+"namespaces/{namespace}/pods/{name}", c.podMetricsGet)
	mux.HandleFunc("GET "+metrics+"nodes", c.nodeMetricsList)
	mux.HandleFunc("GET "+metrics+"nodes/{name}", c.nodeMetricsGet)
}

// findPod looks a pod up by namespace and name.
func (c *containerRoutes) findPod(namespace, name string) (*v1.Pod, bool) {
	if c.deps.Pods == nil {
		return nil, false
	}
	for _, p := range c.deps.Pods.List() {
		if p.Namespace == namespace && p.Name == name {
			return &p, true
		}
	}
	return nil, false
}

// requestedPod finds the pod a request's path names, or answers the API
// server's NotFound.
func (c *containerRoutes) requestedPod(w http.ResponseWriter, r *http.Request) (*v1.Pod, bool) {
	pod, ok := c.findPod(r.PathValue("namespace"), r.PathValue("name"))
	if !ok {
		writeContainerError(w, c.log, http.StatusNotFound, metav1.StatusReasonNotFound,
			fmt.Sprintf("pods %q not found", r.PathValue("name")), &metav1.StatusDetails{Name: r.PathValue("name"), Kind: "pods"})
	}
	return pod, ok
}

// chooseContainer picks the container a log, exec or attach request names,
// as the API server's LogLocation and streamLocation do: the only one when
// none is named, else one of the pod's containers or init containers.
func chooseContainer(pod *v1.Pod, name string) (string, error) {
	if name == "" {
		switch len(pod.Spec.Containers) {
		case 1:
			return pod.Spec.Containers[0].Name, nil
		case 0:
			return "", fmt.Errorf("a container name must be specified for pod %s", pod.Name)
		}
		msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, containerNames(pod.Spec.Containers))
		if len(pod.Spec.InitContainers) > 0 {
			msg += fmt.Sprintf(" or one of the init containers: [%s]", containerNames(pod.Spec.InitContainers))
		}
		return "", fmt.Errorf("%s", msg)
	}
	for _, cs := range [][]v1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, ctr := range cs {
			if ctr.Name == name {
				return name, nil
			}
		}
	}
	return "", fmt.Errorf("container %s is not valid for pod %s", name, pod.Name)
}

func containerNames(cs []v1.Container) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, " ")
}

// containerStatus returns the status the pod reports for a container.
func containerStatus(pod *v1.Pod, name string) (*v1.ContainerStatus, bool) {
	for _, list := range [][]v1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i], true
			}
		}
	}
	return nil, false
}

// queryBool reads a boolean query parameter as the API server converts
// one: absent, "0" and "false" are false, anything else (even "") true.
func queryBool(q url.Values, key string) bool {
	v, ok := q[key]
	if !ok || len(v) == 0 {
		return false
	}
	return v[0] != "0" && !strings.EqualFold(v[0], "false")
}

// writeContainerError answers with a metav1.Status, which kubectl prints
// as "Error from server (<reason>): <message>".
func writeContainerError(w http.ResponseWriter, log *zap.Logger, code int, reason metav1.StatusReason, message string, details *metav1.StatusDetails) {
	st := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  message,
		Reason:   reason,
		Details:  details,
		Code:     int32(code),
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(&st); err != nil {
		log.Debug("write status", zap.Error(err))
	}
}

// writeContainerJSON answers with v as JSON.
func writeContainerJSON(w http.ResponseWriter, log *zap.Logger, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Debug("write answer", zap.Error(err))
	}
}

// containerLogFields are the log fields naming a pod and container.
func containerLogFields(pod *v1.Pod, container string) []zap.Field {
	return []zap.Field{zap.String("pod", pod.Namespace+"/"+pod.Name), zap.String("namespace", pod.Namespace), zap.String("container", container)}
}
