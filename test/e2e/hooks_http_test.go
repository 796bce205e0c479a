package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hookRecorder is a container that serves a CGI script on port which
// writes the request's environment (HTTP_USER_AGENT, HTTP_ACCEPT,
// HTTP_HOST) to /out/request, a hostPath the test reads.
func hookRecorderPod(name string, hostNetwork bool, port int, out string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  hostNetwork: %t
  terminationGracePeriodSeconds: 2
  volumes:
  - name: out
    hostPath: {path: %s, type: Directory}
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\nenv > /out/request\\necho Content-Type: text/plain\\necho\\necho ok\\n' > /www/cgi-bin/hook && chmod +x /www/cgi-bin/hook && exec httpd -f -p %d -h /www"]
    volumeMounts:
    - {name: out, mountPath: /out}
    lifecycle:
      preStop:
        httpGet: {path: /cgi-bin/hook, port: %d}
`, name, hostNetwork, out, port, port)
}

// As the kubelet: an httpGet hook without a host goes to the pod's address
// (the node's for a host-network pod) with User-Agent
// kube-lifecycle/<major>.<minor> and Accept */*.
func TestHooks_HTTPGetHookSendsTheKubeletsRequestToThePodAddress(t *testing.T) {
	n := startNode(t)
	for _, tt := range []struct {
		name        string
		hostNetwork bool
		port        int
	}{
		{name: "podnet", port: 8080},
		{name: "hostnet", hostNetwork: true, port: freePort(t)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := hostDir(t)
			n.writeManifest(tt.name+".yaml", hookRecorderPod(tt.name, tt.hostNetwork, tt.port, out))
			p := n.waitPod(tt.name, 10*time.Second, "Running", podRunning)
			n.removeManifest(tt.name + ".yaml")
			n.waitGone(tt.name, 10*time.Second)
			data, err := os.ReadFile(filepath.Join(out, "request"))
			if err != nil {
				t.Fatalf("the preStop hook's request was not recorded: %v\nevents: %+v", err, n.events())
			}
			env := map[string]string{}
			for _, line := range strings.Split(string(data), "\n") {
				if k, v, ok := strings.Cut(line, "="); ok {
					env[k] = v
				}
			}
			want := map[string]string{
				"HTTP_USER_AGENT": "kube-lifecycle/1.37",
				"HTTP_ACCEPT":     "*/*",
				"HTTP_HOST":       fmt.Sprintf("%s:%d", p.Status.PodIP, tt.port),
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("hook request %s = %q, want %q", k, env[k], v)
				}
			}
			if tt.hostNetwork && p.Status.PodIP != p.Status.HostIP {
				t.Errorf("host-network pod IP %q, want the node's %q", p.Status.PodIP, p.Status.HostIP)
			}
		})
	}
}
