package main

import (
	"errors"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestOutcomeError_AsRemotecommandV4ReadsIt(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		wantCode int // 0: no exit error
		wantErr  string
	}{
		{name: "nothing is success", msg: ""},
		{name: "a Success status", msg: `{"metadata":{},"status":"Success"}`},
		{name: "a non-zero exit", msg: `{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}`,
			wantCode: 3, wantErr: "command terminated with exit code 3"},
		{name: "another failure", msg: `{"metadata":{},"status":"Failure","message":"OCI runtime exec failed: no such file"}`, wantErr: "OCI runtime exec failed: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := outcomeError([]byte(tt.msg))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("outcomeError = %v, want success", err)
				}
				return
			}
			var ee *exitError
			if err == nil || err.Error() != tt.wantErr || errors.As(err, &ee) != (tt.wantCode != 0) || (ee != nil && ee.code != tt.wantCode) {
				t.Fatalf("outcomeError = %#v, want %q with exit code %d", err, tt.wantErr, tt.wantCode)
			}
		})
	}
}

func TestStreamPath_AsKubectlAsks(t *testing.T) {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "web-node1"}}
	got := streamPath(pod, "exec", "app", []string{"sh", "-c", "echo hi"}, streamIO{stdin: nil})
	want := "/api/v1/namespaces/kube-system/pods/web-node1/exec?command=sh&command=-c&command=echo+hi&container=app&stderr=true&stdout=true"
	if got != want {
		t.Errorf("exec path = %s, want %s", got, want)
	}
	got = streamPath(pod, "attach", "app", nil, streamIO{stdin: emptyReader{}, tty: true})
	want = "/api/v1/namespaces/kube-system/pods/web-node1/attach?container=app&stdin=true&stdout=true&tty=true"
	if got != want {
		t.Errorf("attach -it path = %s, want %s (a TTY has no stderr)", got, want)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }
