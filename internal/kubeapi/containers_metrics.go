package kubeapi

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

// containerLabelNode names the node a container runs as (internal/runtime's
// io.minikubelet.node), so that stats of other daemons' containers on the
// same containerd are never read.
const containerLabelNode = "io.minikubelet.node"

var (
	podMetricsType  = metav1.TypeMeta{Kind: "PodMetrics", APIVersion: "metrics.k8s.io/v1beta1"}
	nodeMetricsType = metav1.TypeMeta{Kind: "NodeMetrics", APIVersion: "metrics.k8s.io/v1beta1"}
)

func (c *containerRoutes) podMetricsList(w http.ResponseWriter, r *http.Request) {
	selector, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		writeContainerError(w, c.log, http.StatusBadRequest, metav1.StatusReasonBadRequest, fmt.Sprintf("unable to parse requirement: %v", err), nil)
		return
	}
	ns := r.PathValue("namespace")
	var pods []v1.Pod
	if c.deps.Pods != nil {
		for _, p := range c.deps.Pods.List() {
			if (ns == "" || p.Namespace == ns) && selector.Matches(labels.Set(p.Labels)) {
				pods = append(pods, p)
			}
		}
	}
	items, err := c.podMetrics(r.Context(), pods)
	if err != nil {
		c.metricsFailed(w, err)
		return
	}
	writeContainerJSON(w, c.log, &metricsv1beta1.PodMetricsList{
		TypeMeta: metav1.TypeMeta{Kind: "PodMetricsList", APIVersion: "metrics.k8s.io/v1beta1"},
		Items:    items,
	})
}

func (c *containerRoutes) podMetricsGet(w http.ResponseWriter, r *http.Request) {
	pod, found := c.findPod(r.PathValue("namespace"), r.PathValue("name"))
	var items []metricsv1beta1.PodMetrics
	if found {
		var err error
		if items, err = c.podMetrics(r.Context(), []v1.Pod{*pod}); err != nil {
			c.metricsFailed(w, err)
			return
		}
	}
	if len(items) == 0 {
		writeContainerError(w, c.log, http.StatusNotFound, metav1.StatusReasonNotFound,
			fmt.Sprintf("podmetrics.metrics.k8s.io %q not found", r.PathValue("name")),
			&metav1.StatusDetails{Name: r.PathValue("name"), Group: "metrics.k8s.io", Kind: "pods"})
		return
	}
	writeContainerJSON(w, c.log, &items[0])
}

func (c *containerRoutes) nodeMetricsList(w http.ResponseWriter, r *http.Request) {
	m, err := c.nodeMetrics(r.Context())
	if err != nil {
		c.metricsFailed(w, err)
		return
	}
	writeContainerJSON(w, c.log, &metricsv1beta1.NodeMetricsList{
		TypeMeta: metav1.TypeMeta{Kind: "NodeMetricsList", APIVersion: "metrics.k8s.io/v1beta1"},
		Items:    []metricsv1beta1.NodeMetrics{m},
	})
}

func (c *containerRoutes) nodeMetricsGet(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("name") != c.deps.NodeName {
		writeContainerError(w, c.log, http.StatusNotFound, metav1.StatusReasonNotFound,
			fmt.Sprintf("nodemetrics.metrics.k8s.io %q not found", r.PathValue("name")),
			&metav1.StatusDetails{Name: r.PathValue("name"), Group: "metrics.k8s.io", Kind: "nodes"})
		return
	}
	m, err := c.nodeMetrics(r.Context())
	if err != nil {
		c.metricsFailed(w, err)
		return
	}
	writeContainerJSON(w, c.log, &m)
}

func (c *containerRoutes) metricsFailed(w http.ResponseWriter, err error) {
	c.log.Info("read metrics", zap.Error(err))
	writeContainerError(w, c.log, http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error(), nil)
}

// runningContainer is one running container of a pod, by CRI ID.
type runningContainer struct {
	pod  int // index in the pods asked about
	name string
}

// podMetrics measures the running containers of pods: CPU as the rate of
// their cumulative usage between two CRI samples, memory as the working
// set of the last one. A pod without a running container measured is left
// out, as metrics-server does.
func (c *containerRoutes) podMetrics(ctx context.Context, pods []v1.Pod) ([]metricsv1beta1.PodMetrics, error) {
	wanted := map[string]runningContainer{}
	for i := range pods {
		for _, list := range [][]v1.ContainerStatus{pods[i].Status.InitContainerStatuses, pods[i].Status.ContainerStatuses} {
			for _, cs := range list {
				if cs.State.Running != nil && cs.ContainerID != "" {
					wanted[strings.TrimPrefix(cs.ContainerID, containerIDPrefix)] = runningContainer{pod: i, name: cs.Name}
				}
			}
		}
	}
	if len(wanted) == 0 {
		return nil, nil
	}
	if c.deps.Stats == nil {
		return nil, fmt.Errorf("container stats are not served")
	}
	memory := map[string]uint64{}
	read := func(ctx context.Context) (map[string]usageSample, error) {
		stats, err := c.deps.Stats.ListContainerStats(ctx, &runtimeapi.ContainerStatsFilter{
			LabelSelector: map[string]string{containerLabelNode: c.deps.NodeName},
		})
		if err != nil {
			return nil, fmt.Errorf("list container stats: %w", err)
		}
		samples := map[string]usageSample{}
		for _, st := range stats {
			id := st.GetAttributes().GetId()
			if _, ok := wanted[id]; !ok || st.GetCpu().GetUsageCoreNanoSeconds() == nil {
				continue
			}
			at := time.Unix(0, st.GetCpu().GetTimestamp())
			if st.GetCpu().GetTimestamp() == 0 {
				at = c.clock.Now()
			}
			samples[id] = usageSample{at: at, cpu: st.GetCpu().GetUsageCoreNanoSeconds().GetValue()}
			memory[id] = st.GetMemory().GetWorkingSetBytes().GetValue()
		}
		return samples, nil
	}
	rates, err := c.metrics.rates(ctx, read)
	if err != nil {
		return nil, err
	}
	byPod := map[int]*metricsv1beta1.PodMetrics{}
	for id, rt := range rates {
		rc := wanted[id]
		m := byPod[rc.pod]
		if m == nil {
			p := &pods[rc.pod]
			m = &metricsv1beta1.PodMetrics{
				TypeMeta:   podMetricsType,
				ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, CreationTimestamp: metav1.NewTime(c.clock.Now())},
				Timestamp:  metav1.NewTime(rt.at),
				Window:     metav1.Duration{Duration: rt.window},
			}
			byPod[rc.pod] = m
		}
		m.Containers = append(m.Containers, metricsv1beta1.ContainerMetrics{Name: rc.name, Usage: usage(rt.nanoCores, memory[id])})
	}
	out := make([]metricsv1beta1.PodMetrics, 0, len(byPod))
	for _, m := range byPod {
		sort.Slice(m.Containers, func(i, j int) bool { return m.Containers[i].Name < m.Containers[j].Name })
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// nodeKey is the sampler's key for the node's own CPU counter.
const nodeKey = "node"

// nodeMetrics measures the node from its /proc: CPU as the rate of the
// busy time in /proc/stat between two samples, memory as MemTotal minus
// MemAvailable of /proc/meminfo (the kubelet's working set is the root
// cgroup's usage minus inactive file pages; MemAvailable also counts the
// reclaimable slab and file pages as free, so it comes out a little lower).
func (c *containerRoutes) nodeMetrics(ctx context.Context) (metricsv1beta1.NodeMetrics, error) {
	proc := c.deps.ProcDir
	if proc == "" {
		proc = "/proc"
	}
	read := func(context.Context) (map[string]usageSample, error) {
		busy, err := readProcStatBusy(proc)
		if err != nil {
			return nil, err
		}
		return map[string]usageSample{nodeKey: {at: c.clock.Now(), cpu: busy}}, nil
	}
	rates, err := c.metrics.rates(ctx, read)
	if err != nil {
		return metricsv1beta1.NodeMetrics{}, err
	}
	workingSet, err := readMemInfoWorkingSet(proc)
	if err != nil {
		return metricsv1beta1.NodeMetrics{}, err
	}
	rt := rates[nodeKey]
	return metricsv1beta1.NodeMetrics{
		TypeMeta:   nodeMetricsType,
		ObjectMeta: metav1.ObjectMeta{Name: c.deps.NodeName, CreationTimestamp: metav1.NewTime(c.clock.Now())},
		Timestamp:  metav1.NewTime(rt.at),
		Window:     metav1.Duration{Duration: rt.window},
		Usage:      usage(rt.nanoCores, workingSet),
	}, nil
}

// usage is a ResourceList as metrics-server writes one: CPU in nanocores,
// memory in bytes.
func usage(nanoCores, memoryBytes uint64) v1.ResourceList {
	return v1.ResourceList{
		v1.ResourceCPU:    *apiresource.NewScaledQuantity(int64(nanoCores), apiresource.Nano),
		v1.ResourceMemory: *apiresource.NewQuantity(int64(memoryBytes), apiresource.BinarySI),
	}
}
