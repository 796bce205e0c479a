package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReadOnlyAllowed(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/healthz", true},
		{"/metrics", true},
		{"/pods", true},
		{"/events", true},
		{"/version", true},
		{"/api", true},
		{"/api/v1", true},
		{"/apis", true},
		{"/apis/metrics.k8s.io", true},
		{"/apis/metrics.k8s.io/v1beta1", true},
		{"/apis/coordination.k8s.io/v1", true},
		{"/api/v1/pods", true},
		{"/api/v1/events", true},
		{"/api/v1/nodes", true},
		{"/api/v1/nodes/node-a", true},
		{"/api/v1/namespaces", true},
		{"/api/v1/namespaces/default", true},
		{"/api/v1/namespaces/default/pods", true},
		{"/api/v1/namespaces/default/pods/web", true},
		{"/api/v1/namespaces/default/events", true},
		{"/api/v1/namespaces/default/events/web.1", true},
		{"/apis/metrics.k8s.io/v1beta1/nodes", true},
		{"/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web", true},
		{"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a", true},

		{"/api/v1/namespaces/default/pods/web/log", false},
		{"/api/v1/namespaces/default/pods/web/exec", false},
		{"/api/v1/namespaces/default/pods/web/attach", false},
		{"/api/v1/namespaces/default/pods/web/portforward", false},
		{"/api/v1/namespaces/default/pods/web/status", false},
		{"/api/v1/nodes/node-a/proxy", false},
		{"/api/v1/namespaces/default/secrets", false},
		{"/api/v1/namespaces/default/pods/../pods/web/log", false},
		{"/api/v1/namespaces/default/pods/", false},
		{"/api//v1/pods", false},
		{"/api/v2/pods", false},
		{"/apis/metrics.k8s.io/v1beta1/namespaces/default/leases", false},
		{"/pods/default/web/log", false},
		{"/pods/default/web/exec", false},
		{"/manifests", false},
		{"/kubeconfig", false},
		{"/drain", false},
		{"/debug/pprof/", false},
		{"/debug/pprof/profile", false},
	}
	for _, tt := range tests {
		if got := readOnlyAllowed(tt.path); got != tt.want {
			t.Errorf("readOnlyAllowed(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestReadOnly_RefusesAsStatus(t *testing.T) {
	reached := 0
	h := readOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reached++ }))
	tests := []struct {
		method, path string
		code         int
		reason       metav1.StatusReason
	}{
		{http.MethodGet, "/api/v1/namespaces/default/pods/web/log", http.StatusForbidden, metav1.StatusReasonForbidden},
		{http.MethodPost, "/api/v1/namespaces/default/pods/web/exec", http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed},
		{http.MethodDelete, "/api/v1/namespaces/default/pods/web", http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed},
		{http.MethodPost, "/drain", http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		var st metav1.Status
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatalf("%s %s: %v\n%s", tt.method, tt.path, err, rec.Body)
		}
		if rec.Code != tt.code || st.Kind != "Status" || st.Reason != tt.reason || st.Code != int32(tt.code) || st.Message == "" {
			t.Errorf("%s %s: %d %+v, want %d %s", tt.method, tt.path, rec.Code, st, tt.code, tt.reason)
		}
	}
	if reached != 0 {
		t.Fatalf("the API was reached %d times by refused requests", reached)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/pods", nil))
	if reached != 1 {
		t.Fatal("a pod list did not reach the API")
	}
}

// GET /kubeconfig is the socket's only: the HTTPS and read-only ports
// serve mux, which has no such route.
func TestKubeconfig_SocketOnly(t *testing.T) {
	s := newServer(nil, nil, zap.NewNop())
	s.ServeKubeconfig(func() ([]byte, error) { return []byte("apiVersion: v1\n"), nil })
	if rec := get(t, s.handler, http.MethodGet, "/kubeconfig"); rec.Code != http.StatusOK || rec.Body.String() != "apiVersion: v1\n" {
		t.Fatalf("socket GET /kubeconfig: %d %q", rec.Code, rec.Body)
	}
	if rec := get(t, s.mux, http.MethodGet, "/kubeconfig"); rec.Code != http.StatusNotFound {
		t.Fatalf("HTTPS GET /kubeconfig: %d, want 404", rec.Code)
	}
	off := newServer(nil, nil, zap.NewNop())
	if rec := get(t, off.handler, http.MethodGet, "/kubeconfig"); rec.Code != http.StatusNotFound {
		t.Fatalf("GET /kubeconfig with HTTPS off: %d, want 404", rec.Code)
	}
}
