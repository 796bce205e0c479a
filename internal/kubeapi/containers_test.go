package kubeapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

// fakePods is a pod lister whose pods a test may change.
type fakePods struct {
	mu   sync.Mutex
	pods []v1.Pod
	// after, when set, replaces pods once List was called calls times.
	after []v1.Pod
	calls int
	limit int
}

func (f *fakePods) List() []v1.Pod {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.after != nil && f.calls > f.limit {
		return append([]v1.Pod(nil), f.after...)
	}
	return append([]v1.Pod(nil), f.pods...)
}

func running() v1.ContainerState {
	return v1.ContainerState{Running: &v1.ContainerStateRunning{}}
}

// testPod is a pod with an app and a sidecar container and an init
// container, app running in its second instance.
func testPod() v1.Pod {
	return v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-node1", UID: types.UID("uid-1"), Labels: map[string]string{"app": "web"}},
		Spec: v1.PodSpec{
			InitContainers: []v1.Container{{Name: "init"}},
			Containers:     []v1.Container{{Name: "app"}, {Name: "side", TTY: true}},
		},
		Status: v1.PodStatus{
			InitContainerStatuses: []v1.ContainerStatus{{Name: "init", State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ContainerID: "containerd://i1"}}}},
			ContainerStatuses: []v1.ContainerStatus{
				{Name: "app", ContainerID: "containerd://a2", RestartCount: 1, State: running(),
					LastTerminationState: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ContainerID: "containerd://a1"}}},
				{Name: "side", State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ContainerCreating"}}},
			},
		},
	}
}

// newTestAPI serves the container routes over pods, with log files under
// dir named <container>-<restartCount>.log.
func newTestAPI(t *testing.T, pods containerPodLister, deps ContainerDeps) (http.Handler, string) {
	t.Helper()
	dir := t.TempDir()
	deps.Pods = pods
	deps.LogPath = func(_ *v1.Pod, container string, restart int32) string {
		return filepath.Join(dir, container+"-"+strconv.Itoa(int(restart))+".log")
	}
	if deps.Clock == nil {
		deps.Clock = clocktesting.NewFakeClock(time.Date(2026, 11, 23, 11, 0, 10, 0, time.UTC))
	}
	return New(Deps{Containers: deps, Log: zap.NewNop()}).Handler(), dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func do(t *testing.T, h http.Handler, method, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// statusOf decodes a metav1.Status answer.
func statusOf(t *testing.T, rec *httptest.ResponseRecorder) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Kind != "Status" {
		t.Fatalf("answer %d %q is not a Status: %v", rec.Code, rec.Body.String(), err)
	}
	return st
}

func TestPodLog_ErrorsAsKubectlShowsThem(t *testing.T) {
	waitingPod := testPod()
	waitingPod.Name = "pending-node1"
	waitingPod.Status.ContainerStatuses[0] = v1.ContainerStatus{Name: "app", State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ErrImagePull"}}}
	onePod := testPod()
	onePod.Name = "one-node1"
	onePod.Spec.InitContainers, onePod.Spec.Containers = nil, onePod.Spec.Containers[:1]
	onePod.Status.ContainerStatuses[0].LastTerminationState = v1.ContainerState{}
	onePod.Status.ContainerStatuses[0].RestartCount = 0
	h, _ := newTestAPI(t, &fakePods{pods: []v1.Pod{testPod(), waitingPod, onePod}}, ContainerDeps{})
	const base = "/api/v1/namespaces/default/pods/"
	tests := []struct {
		name   string
		path   string
		code   int
		reason metav1.StatusReason
		msg    string
	}{
		{"unknown pod", base + "nope/log", 404, metav1.StatusReasonNotFound, `pods "nope" not found`},
		{"no container named in a pod of several", base + "web-node1/log", 400, metav1.StatusReasonBadRequest,
			"a container name must be specified for pod web-node1, choose one of: [app side] or one of the init containers: [init]"},
		{"unknown container", base + "web-node1/log?container=db", 400, metav1.StatusReasonBadRequest, "container db is not valid for pod web-node1"},
		{"waiting container", base + "web-node1/log?container=side", 400, metav1.StatusReasonBadRequest,
			`container "side" in pod "web-node1" is waiting to start: ContainerCreating`},
		{"image not pulled", base + "pending-node1/log?container=app", 400, metav1.StatusReasonBadRequest,
			`container "app" in pod "pending-node1" is waiting to start: image can't be pulled`},
		{"no previous instance", base + "one-node1/log?previous=true", 400, metav1.StatusReasonBadRequest,
			`previous terminated container "app" in pod "one-node1" not found`},
		{"negative tail", base + "web-node1/log?container=app&tailLines=-1", 422, metav1.StatusReasonInvalid,
			`PodLogOptions "web-node1" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0`},
		{"both sinces", base + "web-node1/log?container=app&sinceSeconds=5&sinceTime=2026-11-23T11:00:00Z", 422, metav1.StatusReasonInvalid,
			"PodLogOptions \"web-node1\" is invalid: at most one of `sinceTime` or `sinceSeconds` may be specified"},
		{"log file gone", base + "web-node1/log?container=app", 400, metav1.StatusReasonBadRequest, "failed to open log file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, h, http.MethodGet, tt.path, nil)
			st := statusOf(t, rec)
			if rec.Code != tt.code || int(st.Code) != tt.code || st.Reason != tt.reason || !strings.HasPrefix(st.Message, tt.msg) {
				t.Fatalf("GET %s = %d %+v, want %d %s %q", tt.path, rec.Code, st, tt.code, tt.reason, tt.msg)
			}
		})
	}
}

func TestPodLog_Parameters(t *testing.T) {
	h, dir := newTestAPI(t, &fakePods{pods: []v1.Pod{testPod()}}, ContainerDeps{})
	writeFile(t, filepath.Join(dir, "app-1.log"), "2026-11-23T11:00:00.000000000Z stdout F one\n"+
		"2026-11-23T11:00:05.000000000Z stderr F two\n"+
		"2026-11-23T11:00:08.500000000Z stdout F three\n")
	writeFile(t, filepath.Join(dir, "app-0.log"), "2026-11-23T10:59:00.000000000Z stdout F before the restart\n")
	writeFile(t, filepath.Join(dir, "init-0.log"), "2026-11-23T10:58:00.000000000Z stdout F init done\n")
	const base = "/api/v1/namespaces/default/pods/web-node1/log?container="
	tests := []struct{ name, query, want string }{
		{"everything", "app", "one\ntwo\nthree\n"},
		{"tail", "app&tailLines=2", "two\nthree\n"},
		{"timestamps", "app&tailLines=1&timestamps=true", "2026-11-23T11:00:08.5Z three\n"},
		{"timestamps as 1", "app&tailLines=1&timestamps=1", "2026-11-23T11:00:08.5Z three\n"},
		{"sinceSeconds (the clock says 11:00:10)", "app&sinceSeconds=5", "two\nthree\n"},
		{"sinceTime", "app&sinceTime=2026-11-23T11:00:06Z", "three\n"},
		{"limitBytes cuts a line", "app&limitBytes=6", "one\ntw"},
		{"previous", "app&previous=true", "before the restart\n"},
		{"a finished init container", "init", "init done\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, h, http.MethodGet, base+tt.query, nil)
			if rec.Code != 200 || rec.Body.String() != tt.want || rec.Header().Get("Content-Type") != "text/plain" {
				t.Fatalf("GET ?container=%s = %d %q (%s), want 200 %q text/plain", tt.query, rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"), tt.want)
			}
		})
	}
}

// syncRecorder is a ResponseRecorder safe to read while a handler writes.
type syncRecorder struct {
	mu sync.Mutex
	*httptest.ResponseRecorder
	flushes int
}

func (r *syncRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ResponseRecorder.Write(p)
}

func (r *syncRecorder) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushes++
}

func TestPodLog_FollowEndsWithTheInstance(t *testing.T) {
	stopped := testPod()
	stopped.Status.ContainerStatuses[0].State = v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ContainerID: "containerd://a2"}}
	// Running for the lookups of the request and a few polls, then stopped.
	pods := &fakePods{pods: []v1.Pod{testPod()}, after: []v1.Pod{stopped}, limit: 3}
	h, dir := newTestAPI(t, pods, ContainerDeps{})
	path := filepath.Join(dir, "app-1.log")
	writeFile(t, path, "2026-11-23T11:00:00Z stdout F one\n2026-11-23T11:00:01Z stdout P tw")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n2026-11-23T11:00:01Z stdout F o\n"); err != nil {
		t.Fatal(err)
	}
	rec := &syncRecorder{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/pods/web-node1/log?container=app&follow=true", nil))
	if got := rec.Body.String(); got != "one\ntwo\n" {
		t.Fatalf("follow wrote %q, want %q", got, "one\ntwo\n")
	}
	if rec.flushes == 0 {
		t.Errorf("follow never flushed")
	}
}

func TestPodLog_LimitBytesEndsAFollow(t *testing.T) {
	h, dir := newTestAPI(t, &fakePods{pods: []v1.Pod{testPod()}}, ContainerDeps{})
	writeFile(t, filepath.Join(dir, "app-1.log"), "2026-11-23T11:00:00Z stdout F one\n2026-11-23T11:00:01Z stdout F two\n")
	// The container keeps running: only the limit can end the request.
	rec := do(t, h, http.MethodGet, "/api/v1/namespaces/default/pods/web-node1/log?container=app&follow=true&limitBytes=5", nil)
	if rec.Body.String() != "one\nt" {
		t.Fatalf("follow with limitBytes=5 wrote %q, want %q", rec.Body.String(), "one\nt")
	}
}

// fakeInstances answers CRI ContainerStatus with a log path per ID.
type fakeInstances map[string]string

func (f fakeInstances) ContainerStatus(_ context.Context, id string, _ bool) (*runtimeapi.ContainerStatusResponse, error) {
	path, ok := f[id]
	if !ok {
		return nil, errors.New("not found")
	}
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{Id: id, LogPath: path}}, nil
}

func TestPodLog_WhichInstance(t *testing.T) {
	// app waits in CrashLoopBackOff after its instance 2 exited: its
	// status shows restartCount 2 and that instance as the last state.
	crashing := testPod()
	crashing.Status.ContainerStatuses[0] = v1.ContainerStatus{Name: "app", ContainerID: "containerd://a2", RestartCount: 2,
		State:                v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ContainerID: "containerd://a2"}}}
	h, dir := newTestAPI(t, &fakePods{pods: []v1.Pod{crashing}}, ContainerDeps{})
	writeFile(t, filepath.Join(dir, "app-1.log"), "2026-11-23T11:00:00Z stdout F instance 1\n")
	writeFile(t, filepath.Join(dir, "app-2.log"), "2026-11-23T11:00:01Z stdout F instance 2\n")
	for _, q := range []string{"container=app", "container=app&previous=true"} {
		rec := do(t, h, http.MethodGet, "/api/v1/namespaces/default/pods/web-node1/log?"+q, nil)
		if rec.Body.String() != "instance 2\n" {
			t.Errorf("?%s while waiting to restart = %q, want the instance that ended (2)", q, rec.Body.String())
		}
	}

	// The runtime's LogPath wins over the path a restart count implies.
	other := filepath.Join(t.TempDir(), "elsewhere.log")
	writeFile(t, other, "2026-11-23T11:00:00Z stdout F from the runtime's path\n")
	h, _ = newTestAPI(t, &fakePods{pods: []v1.Pod{testPod()}}, ContainerDeps{Instances: fakeInstances{"a2": other}})
	rec := do(t, h, http.MethodGet, "/api/v1/namespaces/default/pods/web-node1/log?container=app", nil)
	if rec.Body.String() != "from the runtime's path\n" {
		t.Fatalf("log with the runtime's LogPath = %d %q, want the file it names", rec.Code, rec.Body.String())
	}
}
