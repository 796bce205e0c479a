package podworker

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// containerConfigOf is the CRI config of the running instance of container
// name.
func (h *harness) containerConfigOf(name string) *runtimeapi.ContainerConfig {
	h.t.Helper()
	id := h.runningOne(name)
	h.rt.mu.Lock()
	defer h.rt.mu.Unlock()
	return h.rt.containers[id].cfg
}

// As the kubelet (pkg/kubelet/kubelet.go SyncPod, kubernetes issue 24576): a
// host-network pod's address is the node's, in its status, its env
// fieldRefs and its hosts file; a pod on the pod network gets its
// sandbox's.
func TestWorker_PodAddressesInEnvAndHostsMount(t *testing.T) {
	for _, tt := range []struct {
		name        string
		hostNetwork bool
		wantIP      string
	}{
		{name: "pod network", wantIP: "10.0.0.1"},
		{name: "host network", hostNetwork: true, wantIP: "192.0.2.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, busybox)
			h.run()
			pod := managedPod("u1", v1.RestartPolicyAlways, "a")
			pod.Spec.HostNetwork = tt.hostNetwork
			pod.Spec.Containers[0].Env = []v1.EnvVar{
				{Name: "POD_IP", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
				{Name: "POD_IPS", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "status.podIPs"}}},
			}
			h.m.SetDesired([]*v1.Pod{pod})
			cfg := h.containerConfigOf("a")
			env := map[string]string{}
			for _, kv := range cfg.Envs {
				env[kv.Key] = string(kv.Value)
			}
			if env["POD_IP"] != tt.wantIP || env["POD_IPS"] != tt.wantIP {
				t.Errorf("env POD_IP=%q POD_IPS=%q, want %q", env["POD_IP"], env["POD_IPS"], tt.wantIP)
			}
			var hosts *runtimeapi.Mount
			for _, m := range cfg.Mounts {
				if m.ContainerPath == "/etc/hosts" {
					hosts = m
				}
			}
			if hosts == nil || hosts.HostPath != "/pods/u1/etc-hosts" || hosts.Readonly {
				t.Errorf("/etc/hosts mount %+v, want the pod's writable etc-hosts", hosts)
			}
			h.waitFor("status podIP "+tt.wantIP, func() bool { return h.status("u1").PodIP == tt.wantIP })
		})
	}
}
