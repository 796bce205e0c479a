package kubeapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/status"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

type fakeRuntime struct {
	resp *runtimeapi.StatusResponse
	err  error
}

func (f *fakeRuntime) Status(context.Context, bool) (*runtimeapi.StatusResponse, error) {
	return f.resp, f.err
}

type fakeRelist struct{ t time.Time }

func (f *fakeRelist) LastRelist() time.Time { return f.t }

func readyRuntime() *fakeRuntime {
	return &fakeRuntime{resp: &runtimeapi.StatusResponse{Status: &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
		{Type: runtimeapi.RuntimeReady, Status: true}, {Type: runtimeapi.NetworkReady, Status: true},
	}}}}
}

// harness is the API over real status stores and a fake clock.
type harness struct {
	t      *testing.T
	clock  *clocktesting.FakeClock
	feed   *status.Feed
	pods   *status.Store
	events *status.Events
	srv    *httptest.Server
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, clock: clocktesting.NewFakeClock(t0), feed: status.NewFeed(1000)}
	h.pods = status.NewStoreOn(h.feed)
	h.events = status.NewEventsOn("node1", h.feed)
	api := New(Deps{Objects: ObjectDeps{
		Pods: h.pods, Events: h.events, Feed: h.feed,
		Node: NodeFacts{
			Name:      "node1",
			Labels:    map[string]string{v1.LabelHostname: "node1", "node-role.kubernetes.io/edge": ""},
			Addresses: []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: "10.0.0.5"}, {Type: v1.NodeHostName, Address: "node1"}},
			Capacity:  v1.ResourceList{v1.ResourceCPU: apiresource.MustParse("2"), v1.ResourcePods: apiresource.MustParse("110")},
			Info:      v1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 12 (bookworm)", KernelVersion: "6.1.0", ContainerRuntimeVersion: "containerd://1.6.20", MachineID: "m1"},
		},
		Runtime: readyRuntime(),
		Relist:  &fakeRelist{t: t0.Add(-time.Second)},
		ManifestFor: func(ns, name string) (string, bool) {
			if ns == "default" && name == "web-node1" {
				return "/etc/minikubelet/manifests/web.yaml", true
			}
			return "", false
		},
		StaticPodPath: "/etc/minikubelet/manifests",
		Started:       t0.Add(-time.Hour),
		Clock:         h.clock,
	}})
	h.srv = httptest.NewServer(api.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

func pod(ns, name, phase string, labels map[string]string) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Labels: labels, CreationTimestamp: metav1.NewTime(t0.Add(-5 * time.Minute))},
		Spec:       v1.PodSpec{NodeName: "node1", RestartPolicy: v1.RestartPolicyAlways, Containers: []v1.Container{{Name: "c"}}},
		Status:     v1.PodStatus{Phase: v1.PodPhase(phase)},
	}
}

func (h *harness) get(path, accept string) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (h *harness) getJSON(path, accept string, code int, v any) {
	h.t.Helper()
	got, b := h.get(path, accept)
	if got != code {
		h.t.Fatalf("GET %s = %d %s, want %d", path, got, b, code)
	}
	if err := json.Unmarshal(b, v); err != nil {
		h.t.Fatalf("GET %s: decode %s: %v", path, b, err)
	}
}

func TestDiscovery_ListsTheServedResources(t *testing.T) {
	h := newHarness(t)
	var versions metav1.APIVersions
	h.getJSON("/api", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json", 200, &versions)
	if versions.Kind != "APIVersions" || len(versions.Versions) != 1 || versions.Versions[0] != "v1" {
		t.Errorf("/api = %+v, want APIVersions [v1]", versions)
	}
	var groups metav1.APIGroupList
	h.getJSON("/apis", "application/vnd.kubernetes.protobuf,application/json", 200, &groups)
	var names []string
	for _, g := range groups.Groups {
		names = append(names, g.PreferredVersion.GroupVersion)
	}
	if strings.Join(names, " ") != "coordination.k8s.io/v1 metrics.k8s.io/v1beta1" {
		t.Errorf("/apis groups = %v", names)
	}
	var core metav1.APIResourceList
	h.getJSON("/api/v1", "", 200, &core)
	byName := map[string]metav1.APIResource{}
	for _, r := range core.APIResources {
		byName[r.Name] = r
	}
	for _, want := range []string{"pods", "pods/log", "pods/exec", "pods/attach", "pods/portforward", "pods/status", "events", "nodes", "namespaces"} {
		if _, ok := byName[want]; !ok {
			t.Errorf("/api/v1 lacks %s", want)
		}
	}
	if p := byName["pods"]; p.Kind != "Pod" || !p.Namespaced || p.SingularName != "pod" || p.ShortNames[0] != "po" || strings.Join(p.Verbs, ",") != "get,list,watch" {
		t.Errorf("pods = %+v", p)
	}
	if n := byName["nodes"]; n.Namespaced || n.ShortNames[0] != "no" {
		t.Errorf("nodes = %+v", n)
	}
	for _, gv := range []string{"/apis/metrics.k8s.io/v1beta1", "/apis/coordination.k8s.io/v1"} {
		var l metav1.APIResourceList
		h.getJSON(gv, "", 200, &l)
		if len(l.APIResources) == 0 || l.GroupVersion != strings.TrimPrefix(gv, "/apis/") {
			t.Errorf("%s = %+v", gv, l)
		}
	}
}

func TestVersion_IsTheKubernetesOfK8sAPIAndNotCached(t *testing.T) {
	info := &debug.BuildInfo{Deps: []*debug.Module{{Path: "k8s.io/apimachinery", Version: "v0.36.0"}, {Path: "k8s.io/api", Version: "v0.37.2"}}}
	v := serverVersion(info)
	if v.GitVersion != "v1.37.2" || v.Major != "1" || v.Minor != "37" {
		t.Errorf("serverVersion = %+v, want v1.37.2 (1, 37)", v)
	}
	h := newHarness(t)
	resp, err := http.Get(h.srv.URL + "/version")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("/version Cache-Control = %q, want no-store", cc)
	}
}

func TestPods_ListAndGetWithStatusErrors(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("default", "web-node1", "Running", map[string]string{"app": "web"}))
	h.pods.Set(pod("jobs", "batch-node1", "Succeeded", map[string]string{"app": "batch"}))

	var all v1.PodList
	h.getJSON("/api/v1/pods?limit=500", "", 200, &all)
	if all.Kind != "PodList" || len(all.Items) != 2 || all.ResourceVersion != "1002" {
		t.Errorf("all pods = kind %q, %d items, rv %q; want PodList, 2, 1002", all.Kind, len(all.Items), all.ResourceVersion)
	}
	var inNS v1.PodList
	h.getJSON("/api/v1/namespaces/jobs/pods", "", 200, &inNS)
	if len(inNS.Items) != 1 || inNS.Items[0].Name != "batch-node1" {
		t.Errorf("jobs pods = %v", inNS.Items)
	}
	var one v1.Pod
	h.getJSON("/api/v1/namespaces/default/pods/web-node1", "", 200, &one)
	if one.Kind != "Pod" || one.APIVersion != "v1" || one.UID != "uid-web-node1" {
		t.Errorf("get = %+v", one.TypeMeta)
	}
	var st metav1.Status
	h.getJSON("/api/v1/namespaces/default/pods/nope", "", 404, &st)
	if st.Kind != "Status" || st.Reason != metav1.StatusReasonNotFound || st.Message != `pods "nope" not found` {
		t.Errorf("404 = %+v", st)
	}
}

func TestPods_Selectors(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("default", "web-node1", "Running", map[string]string{"app": "web", "tier": "front"}))
	h.pods.Set(pod("default", "db-node1", "Running", map[string]string{"app": "db"}))
	h.pods.Set(pod("jobs", "batch-node1", "Succeeded", map[string]string{"app": "batch"}))
	names := func(q string) string {
		var l v1.PodList
		h.getJSON("/api/v1/pods?"+q, "", 200, &l)
		var out []string
		for _, p := range l.Items {
			out = append(out, p.Name)
		}
		return strings.Join(out, ",")
	}
	tests := map[string]string{
		"labelSelector=app%3Dweb":                    "web-node1",
		"labelSelector=app+in+(web,db)":              "db-node1,web-node1",
		"labelSelector=tier":                         "web-node1",
		"labelSelector=app!%3Dweb":                   "db-node1,batch-node1",
		"fieldSelector=metadata.name%3Ddb-node1":     "db-node1",
		"fieldSelector=metadata.namespace%3D%3Djobs": "batch-node1",
		"fieldSelector=spec.nodeName%3Dnode1,status.phase!%3DSucceeded,status.phase!%3DFailed": "db-node1,web-node1",
		"fieldSelector=spec.restartPolicy%3DAlways&labelSelector=app%3Dbatch":                  "batch-node1",
	}
	for q, want := range tests {
		if got := names(q); got != want {
			t.Errorf("%s: got %s, want %s", q, got, want)
		}
	}
	var st metav1.Status
	h.getJSON("/api/v1/pods?fieldSelector=spec.foo%3Dbar", "", 400, &st)
	if st.Reason != metav1.StatusReasonBadRequest || st.Message != "field label not supported: spec.foo" {
		t.Errorf("unknown field = %+v", st)
	}
}

func TestPods_TableAsTheAPIServerPrintsIt(t *testing.T) {
	h := newHarness(t)
	p := pod("default", "web-node1", "Running", map[string]string{"app": "web"})
	p.Status.PodIPs = []v1.PodIP{{IP: "10.88.0.5"}}
	p.Status.ContainerStatuses = []v1.ContainerStatus{{Name: "c", Ready: true, RestartCount: 3,
		State:                v1.ContainerState{Running: &v1.ContainerStateRunning{}},
		LastTerminationState: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{FinishedAt: metav1.NewTime(t0.Add(-5 * time.Minute))}}}}
	h.pods.Set(p)
	h.pods.Set(pod("jobs", "done-node1", "Succeeded", nil))

	var tbl metav1.Table
	h.getJSON("/api/v1/pods", tableAccept, 200, &tbl)
	var cols []string
	for _, c := range tbl.ColumnDefinitions {
		cols = append(cols, c.Name)
		if (c.Priority == 1) != (c.Name == "IP" || c.Name == "Node" || c.Name == "Nominated Node" || c.Name == "Readiness Gates") {
			t.Errorf("column %s has priority %d", c.Name, c.Priority)
		}
	}
	if strings.Join(cols, ",") != "Name,Ready,Status,Restarts,Age,IP,Node,Nominated Node,Readiness Gates" {
		t.Errorf("columns = %v", cols)
	}
	if tbl.Kind != "Table" || tbl.APIVersion != "meta.k8s.io/v1" || tbl.ResourceVersion == "" || len(tbl.Rows) != 2 {
		t.Fatalf("table = %s %s rv %q with %d rows", tbl.Kind, tbl.APIVersion, tbl.ResourceVersion, len(tbl.Rows))
	}
	got := tbl.Rows[0].Cells
	want := []any{"web-node1", "1/1", "Running", "3 (5m ago)", "5m", "10.88.0.5", "node1", "<none>", "<none>"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cell %s = %v, want %v", cols[i], got[i], want[i])
		}
	}
	var meta metav1.PartialObjectMetadata
	if err := json.Unmarshal(tbl.Rows[0].Object.Raw, &meta); err != nil || meta.Kind != "PartialObjectMetadata" || meta.Labels["app"] != "web" {
		t.Errorf("row object = %s (%v), want PartialObjectMetadata with labels", tbl.Rows[0].Object.Raw, err)
	}
	if c := tbl.Rows[1].Conditions; len(c) != 1 || c[0].Type != metav1.RowCompleted {
		t.Errorf("a Succeeded pod's row conditions = %+v, want Completed", c)
	}

	h.getJSON("/api/v1/namespaces/default/pods/web-node1?includeObject=Object", tableAccept, 200, &tbl)
	var full v1.Pod
	if err := json.Unmarshal(tbl.Rows[0].Object.Raw, &full); err != nil || full.Kind != "Pod" || full.Spec.NodeName != "node1" {
		t.Errorf("includeObject=Object row = %s", tbl.Rows[0].Object.Raw)
	}
}

// watcher reads a watch stream event by event.
type watcher struct {
	t    *testing.T
	body io.ReadCloser
	sc   *bufio.Scanner
}

func (h *harness) watch(path, accept string) *watcher {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("watch %s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		h.t.Fatalf("watch %s = %d %s", path, resp.StatusCode, b)
	}
	w := &watcher{t: h.t, body: resp.Body, sc: bufio.NewScanner(resp.Body)}
	w.sc.Buffer(nil, 1<<20)
	h.t.Cleanup(func() { resp.Body.Close() })
	return w
}

type rawEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

func (w *watcher) next() rawEvent {
	w.t.Helper()
	if !w.sc.Scan() {
		w.t.Fatalf("watch ended: %v", w.sc.Err())
	}
	var ev rawEvent
	if err := json.Unmarshal(w.sc.Bytes(), &ev); err != nil {
		w.t.Fatalf("watch event %s: %v", w.sc.Bytes(), err)
	}
	return ev
}

func (w *watcher) nextPod() (string, *v1.Pod) {
	w.t.Helper()
	ev := w.next()
	var p v1.Pod
	if err := json.Unmarshal(ev.Object, &p); err != nil {
		w.t.Fatalf("event object %s: %v", ev.Object, err)
	}
	return ev.Type, &p
}

// ended reports whether the stream is over.
func (w *watcher) ended() bool { return !w.sc.Scan() }

func TestWatch_FromZeroSendsTheStateFirstThenChanges(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("default", "web-node1", "Pending", nil))
	w := h.watch("/api/v1/namespaces/default/pods?watch=true&resourceVersion=0", "")
	if typ, p := w.nextPod(); typ != "ADDED" || p.Name != "web-node1" || p.Status.Phase != v1.PodPending {
		t.Fatalf("first event = %s %s %s, want ADDED web-node1 Pending", typ, p.Name, p.Status.Phase)
	}
	h.pods.Set(pod("default", "web-node1", "Running", nil))
	h.pods.Set(pod("other", "x-node1", "Running", nil))
	h.pods.Delete("uid-web-node1")
	if typ, p := w.nextPod(); typ != "MODIFIED" || p.Status.Phase != v1.PodRunning {
		t.Fatalf("second event = %s %s, want MODIFIED Running", typ, p.Status.Phase)
	}
	if typ, p := w.nextPod(); typ != "DELETED" || p.Name != "web-node1" {
		t.Fatalf("third event = %s %s, want DELETED web-node1 (the other namespace is not watched)", typ, p.Name)
	}
}

func TestWatch_FromAListsVersionSendsOnlyLaterChanges(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("default", "web-node1", "Pending", nil))
	var list v1.PodList
	h.getJSON("/api/v1/pods", "", 200, &list)
	w := h.watch("/api/v1/pods?watch=true&resourceVersion="+list.ResourceVersion, "")
	h.pods.Set(pod("default", "web-node1", "Running", nil))
	typ, p := w.nextPod()
	if typ != "MODIFIED" || p.Status.Phase != v1.PodRunning || p.ResourceVersion <= list.ResourceVersion {
		t.Fatalf("event = %s %s rv %s, want only the later MODIFIED Running", typ, p.Status.Phase, p.ResourceVersion)
	}
}

func TestWatch_TooOldVersionIsAnErrorEventWith410(t *testing.T) {
	h := newHarness(t)
	w := h.watch("/api/v1/pods?watch=true&resourceVersion=5", "")
	ev := w.next()
	var st metav1.Status
	if err := json.Unmarshal(ev.Object, &st); err != nil || ev.Type != "ERROR" || st.Code != 410 || st.Reason != metav1.StatusReasonExpired {
		t.Fatalf("event = %s %s, want ERROR with a 410 Expired Status", ev.Type, ev.Object)
	}
	if !strings.Contains(st.Message, "too old resource version: 5") {
		t.Errorf("message = %q", st.Message)
	}
}

func TestWatch_LeavingTheSelectionIsDeleted(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("default", "web-node1", "Pending", nil))
	w := h.watch("/api/v1/pods?watch=true&fieldSelector=status.phase%3DPending", "")
	if typ, _ := w.nextPod(); typ != "ADDED" {
		t.Fatalf("first = %s, want ADDED", typ)
	}
	h.pods.Set(pod("default", "web-node1", "Running", nil))
	typ, p := w.nextPod()
	if typ != "DELETED" || p.Status.Phase != v1.PodPending {
		t.Fatalf("leaving = %s %s, want DELETED with the last state that matched", typ, p.Status.Phase)
	}
	h.pods.Set(pod("default", "web-node1", "Pending", nil))
	if typ, _ := w.nextPod(); typ != "ADDED" {
		t.Fatalf("entering again = %s, want ADDED", typ)
	}
}

func TestWatch_TableEventsAreOneRowTablesWithColumnsOnlyFirst(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("default", "web-node1", "Pending", nil))
	w := h.watch("/api/v1/namespaces/default/pods?watch=true&resourceVersion=0", tableAccept)
	var first, second metav1.Table
	if err := json.Unmarshal(w.next().Object, &first); err != nil {
		t.Fatal(err)
	}
	h.pods.Set(pod("default", "web-node1", "Running", nil))
	if err := json.Unmarshal(w.next().Object, &second); err != nil {
		t.Fatal(err)
	}
	if first.Kind != "Table" || len(first.ColumnDefinitions) == 0 || len(first.Rows) != 1 {
		t.Errorf("first = %s with %d columns, %d rows", first.Kind, len(first.ColumnDefinitions), len(first.Rows))
	}
	if len(second.ColumnDefinitions) != 0 || len(second.Rows) != 1 || second.Rows[0].Cells[2] != "Running" {
		t.Errorf("second = %d columns, rows %+v; want no columns, one Running row", len(second.ColumnDefinitions), second.Rows)
	}
}

func TestWatch_TimeoutEndsAndBookmarksOnlyWhenAsked(t *testing.T) {
	h := newHarness(t)
	w := h.watch("/api/v1/pods?watch=true&resourceVersion=0&timeoutSeconds=90&allowWatchBookmarks=true", "")
	waitForWaiters(t, h.clock, 2)
	h.clock.Step(bookmarkInterval)
	ev := w.next()
	if ev.Type != "BOOKMARK" || !strings.Contains(string(ev.Object), `"resourceVersion":"1000"`) {
		t.Fatalf("event = %s %s, want a BOOKMARK at 1000", ev.Type, ev.Object)
	}
	h.clock.Step(30 * time.Second)
	if !w.ended() {
		t.Fatal("the watch did not end at timeoutSeconds")
	}

	plain := h.watch("/api/v1/pods?watch=true&resourceVersion=0&timeoutSeconds=120", "")
	waitForWaiters(t, h.clock, 1)
	h.clock.Step(2 * time.Minute)
	if !plain.ended() {
		t.Fatal("a watch without allowWatchBookmarks sent something: " + plain.sc.Text())
	}
}

// waitForWaiters waits until the watch has set its timers: the fake clock
// is the only thing it blocks on.
func waitForWaiters(t *testing.T, c *clocktesting.FakeClock, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !c.HasWaiters() || c.Waiters() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the watch never set its %d timers", n)
		}
		goruntime.Gosched()
	}
}

func TestEvents_ListWithInvolvedObjectSelectorsAndTable(t *testing.T) {
	h := newHarness(t)
	web := pod("default", "web-node1", "Running", nil)
	h.pods.Set(web)
	h.events.Record(web, "spec.containers{c}", v1.EventTypeNormal, "Started", "Started container c", t0.Add(-2*time.Minute))
	h.events.Record(web, "spec.containers{c}", v1.EventTypeNormal, "Started", "Started container c", t0.Add(-time.Minute))
	h.events.Record(pod("default", "db-node1", "Running", nil), "", v1.EventTypeWarning, "BackOff", "Back-off", t0)
	h.events.RecordFor(status.NodeRef("node1"), v1.EventTypeNormal, "Starting", "Starting kubelet.", t0.Add(-time.Hour))

	var l v1.EventList
	h.getJSON("/api/v1/namespaces/default/events?fieldSelector=involvedObject.uid%3Duid-web-node1,involvedObject.name%3Dweb-node1,involvedObject.namespace%3Ddefault", "", 200, &l)
	if len(l.Items) != 1 || l.Items[0].Count != 2 || l.Items[0].InvolvedObject.UID != "uid-web-node1" || l.Items[0].Source.Host != "node1" {
		t.Fatalf("web's events = %+v", l.Items)
	}
	h.getJSON("/api/v1/events?fieldSelector=involvedObject.kind%3DNode", "", 200, &l)
	if len(l.Items) != 1 || l.Items[0].Reason != "Starting" {
		t.Errorf("node events = %+v", l.Items)
	}
	var tbl metav1.Table
	h.getJSON("/api/v1/namespaces/default/events?fieldSelector=reason%3DStarted", tableAccept, 200, &tbl)
	if len(tbl.Rows) != 1 {
		t.Fatalf("rows = %+v", tbl.Rows)
	}
	cells := tbl.Rows[0].Cells
	want := []any{"60s", "Normal", "Started", "pod/web-node1", "spec.containers{c}", "kubelet, node1", "Started container c", "2m", float64(2)}
	for i := range want {
		if cells[i] != want[i] {
			t.Errorf("cell %s = %v, want %v", tbl.ColumnDefinitions[i].Name, cells[i], want[i])
		}
	}
}

func TestNode_ConditionsAndTable(t *testing.T) {
	h := newHarness(t)
	var n v1.Node
	h.getJSON("/api/v1/nodes/node1", "", 200, &n)
	if n.Kind != "Node" || n.Labels[v1.LabelHostname] != "node1" || n.Status.NodeInfo.ContainerRuntimeVersion != "containerd://1.6.20" {
		t.Errorf("node = %+v", n)
	}
	var types []string
	for _, c := range n.Status.Conditions {
		types = append(types, string(c.Type)+"="+string(c.Status)+"/"+c.Reason)
	}
	if strings.Join(types, " ") != "MemoryPressure=False/KubeletHasSufficientMemory DiskPressure=False/KubeletHasNoDiskPressure PIDPressure=False/KubeletHasSufficientPID Ready=True/KubeletReady" {
		t.Errorf("conditions = %v", types)
	}
	var tbl metav1.Table
	h.getJSON("/api/v1/nodes", tableAccept, 200, &tbl)
	want := []any{"node1", "Ready", "edge", "60m", "v1.37.2", "10.0.0.5", "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0", "containerd://1.6.20"}
	for i := range want {
		if tbl.Rows[0].Cells[i] != want[i] {
			t.Errorf("cell %s = %v, want %v", tbl.ColumnDefinitions[i].Name, tbl.Rows[0].Cells[i], want[i])
		}
	}
	var st metav1.Status
	h.getJSON("/api/v1/nodes/other", "", 404, &st)
	if st.Message != `nodes "other" not found` {
		t.Errorf("404 = %q", st.Message)
	}
}

func TestBuildNode_NotReadyReasons(t *testing.T) {
	facts := NodeFacts{Name: "node1"}
	tests := []struct {
		name string
		rd   nodeReadings
		want string
	}{
		{name: "RuntimeDown", rd: nodeReadings{runtimeErr: errors.New("dial"), lastRelist: t0}, want: "container runtime is down"},
		{name: "NetworkNotReady", rd: nodeReadings{runtime: &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
			{Type: runtimeapi.RuntimeReady, Status: true}, {Type: runtimeapi.NetworkReady, Reason: "NetworkPluginNotReady", Message: "cni config uninitialized"},
		}}, lastRelist: t0}, want: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni config uninitialized"},
		{name: "RelistStuck", rd: nodeReadings{runtime: readyRuntime().resp.Status, lastRelist: t0.Add(-4 * time.Minute)},
			want: "PLEG is not healthy: pleg was last seen active 4m0s ago; threshold is 3m0s"},
		{name: "Both", rd: nodeReadings{runtimeErr: errors.New("dial")},
			want: "[container runtime is down, PLEG is not healthy: pleg has yet to be successful]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := buildNode(facts, tt.rd, t0.Add(-time.Hour), t0, 1)
			ready := n.Status.Conditions[3]
			if ready.Type != v1.NodeReady || ready.Status != v1.ConditionFalse || ready.Reason != "KubeletNotReady" || ready.Message != tt.want {
				t.Errorf("Ready = %s %s %q, want False KubeletNotReady %q", ready.Status, ready.Reason, ready.Message, tt.want)
			}
		})
	}
}

// The pressure conditions are the eviction manager's when it measured them,
// else False with the kubelet's reasons.
func TestBuildNode_PressureFromTheEvictionManager(t *testing.T) {
	disk := v1.NodeCondition{Type: v1.NodeDiskPressure, Status: v1.ConditionTrue, Reason: "KubeletHasDiskPressure",
		Message: "kubelet has disk pressure", LastTransitionTime: metav1.NewTime(t0.Add(-time.Minute))}
	rd := nodeReadings{runtime: readyRuntime().resp.Status, lastRelist: t0, pressure: []v1.NodeCondition{disk}}
	n := buildNode(NodeFacts{Name: "node1"}, rd, t0.Add(-time.Hour), t0, 1)
	got := map[v1.NodeConditionType]v1.NodeCondition{}
	for _, c := range n.Status.Conditions {
		got[c.Type] = c
	}
	if c := got[v1.NodeDiskPressure]; c.Status != v1.ConditionTrue || c.Reason != "KubeletHasDiskPressure" ||
		!c.LastTransitionTime.Time.Equal(t0.Add(-time.Minute)) || !c.LastHeartbeatTime.Time.Equal(t0) {
		t.Errorf("DiskPressure = %+v, want the measured one with this heartbeat", c)
	}
	if c := got[v1.NodeMemoryPressure]; c.Status != v1.ConditionFalse || c.Reason != "KubeletHasSufficientMemory" {
		t.Errorf("MemoryPressure = %+v, want False KubeletHasSufficientMemory when not measured", c)
	}
}

func TestNamespacesAndLease(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("jobs", "batch-node1", "Running", nil))
	var l v1.NamespaceList
	h.getJSON("/api/v1/namespaces", "", 200, &l)
	var names []string
	for _, ns := range l.Items {
		names = append(names, ns.Name+"="+string(ns.Status.Phase))
	}
	if strings.Join(names, " ") != "default=Active jobs=Active kube-node-lease=Active" {
		t.Errorf("namespaces = %v", names)
	}
	var ns v1.Namespace
	h.getJSON("/api/v1/namespaces/jobs", "", 200, &ns)
	h.getJSON("/api/v1/namespaces/nope", "", 404, &metav1.Status{})

	var lease coordinationv1.Lease
	h.getJSON("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node1", "", 200, &lease)
	if *lease.Spec.HolderIdentity != "node1" || *lease.Spec.LeaseDurationSeconds != 40 || !lease.Spec.RenewTime.Time.Equal(t0.Add(-time.Second)) {
		t.Errorf("lease = %+v", lease.Spec)
	}
	var st metav1.Status
	h.getJSON("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/other", "", 404, &st)
	if st.Message != `leases.coordination.k8s.io "other" not found` {
		t.Errorf("404 = %q", st.Message)
	}
}

func TestWrites_RefusedNamingTheManifest(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("default", "web-node1", "Running", nil))
	tests := []struct {
		method, path string
		code         int
		want         string
	}{
		{http.MethodDelete, "/api/v1/namespaces/default/pods/web-node1", 405, "static pod owned by the manifest file /etc/minikubelet/manifests/web.yaml on this node: edit or remove that file"},
		{http.MethodPatch, "/api/v1/namespaces/default/pods/web-node1/ephemeralcontainers", 405, "/etc/minikubelet/manifests/web.yaml"},
		{http.MethodPost, "/api/v1/namespaces/default/pods/web-node1/eviction", 405, "/etc/minikubelet/manifests/web.yaml"},
		{http.MethodPost, "/api/v1/namespaces/default/pods", 405, "put the pod's manifest in /etc/minikubelet/manifests"},
		{http.MethodDelete, "/api/v1/namespaces/default/pods/nope", 404, `pods "nope" not found`},
		{http.MethodDelete, "/api/v1/nodes/node1", 405, `nodes "node1" cannot be changed`},
		{http.MethodPut, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node1", 405, `leases.coordination.k8s.io "node1" cannot be changed`},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, h.srv.URL+tt.path, strings.NewReader(`{}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var st metav1.Status
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if resp.StatusCode != tt.code || st.Kind != "Status" || int(st.Code) != tt.code || !strings.Contains(st.Message, tt.want) {
			t.Errorf("%s %s = %d %+v, want %d with %q", tt.method, tt.path, resp.StatusCode, st, tt.code, tt.want)
		}
		if tt.code == 405 && st.Reason != metav1.StatusReasonMethodNotAllowed {
			t.Errorf("%s %s reason = %s", tt.method, tt.path, st.Reason)
		}
	}
}

func TestWatch_StreamingListEndsItsInitialEventsWithABookmark(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("default", "web-node1", "Running", nil))
	w := h.watch("/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dweb-node1", "")
	if typ, p := w.nextPod(); typ != "ADDED" || p.Name != "web-node1" {
		t.Fatalf("first = %s %s, want ADDED web-node1", typ, p.Name)
	}
	ev := w.next()
	var end metav1.PartialObjectMetadata
	if err := json.Unmarshal(ev.Object, &end); err != nil || ev.Type != "BOOKMARK" || end.Annotations[metav1.InitialEventsAnnotationKey] != "true" || end.ResourceVersion != "1001" {
		t.Fatalf("second = %s %s, want a BOOKMARK at 1001 marked %s", ev.Type, ev.Object, metav1.InitialEventsAnnotationKey)
	}
	h.pods.Set(pod("default", "web-node1", "Succeeded", nil))
	if typ, p := w.nextPod(); typ != "MODIFIED" || p.Status.Phase != v1.PodSucceeded {
		t.Fatalf("third = %s %s, want MODIFIED Succeeded", typ, p.Status.Phase)
	}
}

func TestWatch_EndsWhenTheDaemonStops(t *testing.T) {
	stop := make(chan struct{})
	feed := status.NewFeed(0)
	api := New(Deps{Objects: ObjectDeps{Pods: status.NewStoreOn(feed), Events: status.NewEventsOn("n", feed), Feed: feed, Stop: stop}})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/events?watch=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	close(stop)
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 0 {
		t.Fatalf("after stop the watch read %q, %v; want it ended with nothing", b, err)
	}
}

func TestWatch_EventsSeeACountGoUp(t *testing.T) {
	h := newHarness(t)
	web := pod("default", "web-node1", "Running", nil)
	h.events.Record(web, "", v1.EventTypeWarning, "BackOff", "Back-off restarting failed container", t0)
	w := h.watch("/api/v1/namespaces/default/events?watch=true&fieldSelector=involvedObject.name%3Dweb-node1", "")
	if ev := w.next(); ev.Type != "ADDED" {
		t.Fatalf("first = %s, want ADDED", ev.Type)
	}
	h.events.Record(web, "", v1.EventTypeWarning, "BackOff", "Back-off restarting failed container", t0.Add(time.Minute))
	ev := w.next()
	var e v1.Event
	if err := json.Unmarshal(ev.Object, &e); err != nil || ev.Type != "MODIFIED" || e.Count != 2 {
		t.Fatalf("second = %s %s, want MODIFIED with count 2", ev.Type, ev.Object)
	}
}

func TestWatch_NamedWatchPathSeesOnlyThatPod(t *testing.T) {
	h := newHarness(t)
	h.pods.Set(pod("default", "web-node1", "Running", nil))
	h.pods.Set(pod("default", "db-node1", "Running", nil))
	w := h.watch("/api/v1/watch/namespaces/default/pods/db-node1", "")
	if typ, p := w.nextPod(); typ != "ADDED" || p.Name != "db-node1" {
		t.Fatalf("first = %s %s, want ADDED db-node1", typ, p.Name)
	}
	h.pods.Set(pod("default", "web-node1", "Failed", nil))
	h.pods.Set(pod("default", "db-node1", "Failed", nil))
	if typ, p := w.nextPod(); typ != "MODIFIED" || p.Name != "db-node1" {
		t.Fatalf("second = %s %s, want only db-node1's MODIFIED", typ, p.Name)
	}
}
