package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestHealthz_FailsWhileTheRuntimeIsDown(t *testing.T) {
	down := errors.New("container runtime is down: connection refused")
	tests := []struct {
		name        string
		check       RuntimeCheck
		wantCode    int
		wantContain string
	}{
		{name: "not checked", wantCode: 200, wantContain: "ok"},
		{name: "runtime up", check: func(context.Context) error { return nil }, wantCode: 200, wantContain: "ok"},
		{name: "runtime down", check: func(context.Context) error { return down }, wantCode: 500, wantContain: "[-]runtime failed: container runtime is down: connection refused"},
		{name: "runtime hangs: bounded", check: func(ctx context.Context) error {
			dl, ok := ctx.Deadline()
			if !ok || time.Until(dl) > runtimeCheckTimeout {
				return errors.New("no deadline on the runtime check")
			}
			return nil
		}, wantCode: 200, wantContain: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(fakePods{}, nil, zap.NewNop())
			if tt.check != nil {
				s.CheckRuntime(tt.check)
			}
			rec := get(t, s.handler, http.MethodGet, "/healthz")
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantContain) {
				t.Errorf("GET /healthz = %d %q, want %d containing %q", rec.Code, rec.Body.String(), tt.wantCode, tt.wantContain)
			}
		})
	}
}
