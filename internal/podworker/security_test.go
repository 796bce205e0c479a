package podworker

import (
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

func securityPod(psc *v1.PodSecurityContext, csc *v1.SecurityContext) (*v1.Pod, *v1.Container) {
	pod := &v1.Pod{}
	pod.Name, pod.Namespace, pod.UID = "web-node", "default", "u1"
	pod.Spec.SecurityContext = psc
	pod.Spec.Containers = []v1.Container{{Name: "app", SecurityContext: csc}}
	return pod, &pod.Spec.Containers[0]
}

func TestVerifyRunAsNonRoot(t *testing.T) {
	tests := []struct {
		name      string
		psc       *v1.PodSecurityContext
		csc       *v1.SecurityContext
		uid       *int64
		username  string
		wantImage bool
		want      string
	}{
		{name: "not asked", uid: ptr.To[int64](0)},
		{name: "false allows root", csc: &v1.SecurityContext{RunAsNonRoot: ptr.To(false)}, uid: ptr.To[int64](0)},
		{name: "image without a user runs as root", csc: &v1.SecurityContext{RunAsNonRoot: ptr.To(true)}, wantImage: true,
			want: `container has runAsNonRoot and image will run as root (pod: "web-node_default(u1)", container: app)`},
		{name: "image user 0", psc: &v1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}, uid: ptr.To[int64](0), wantImage: true,
			want: `container has runAsNonRoot and image will run as root (pod: "web-node_default(u1)", container: app)`},
		{name: "image user 1000", psc: &v1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}, uid: ptr.To[int64](1000), wantImage: true},
		{name: "image user by name", csc: &v1.SecurityContext{RunAsNonRoot: ptr.To(true)}, username: "nobody", wantImage: true,
			want: `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "web-node_default(u1)", container: app)`},
		{name: "runAsUser 0 breaks it", psc: &v1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](0)},
			want: `container's runAsUser breaks non-root policy (pod: "web-node_default(u1)", container: app)`},
		{name: "container runAsUser overrides the pod's root", psc: &v1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](0)},
			csc: &v1.SecurityContext{RunAsUser: ptr.To[int64](1000)}},
		{name: "container false overrides the pod's true", psc: &v1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}, csc: &v1.SecurityContext{RunAsNonRoot: ptr.To(false)}},
		{name: "image user out of range", csc: &v1.SecurityContext{RunAsNonRoot: ptr.To(true)}, uid: ptr.To[int64](1 << 40), wantImage: true,
			want: "container has runAsNonRoot and image has an invalid user id (1099511627776). (Must be 1-(2147483647))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod, c := securityPod(tt.psc, tt.csc)
			if got := needsImageUser(pod, c); got != tt.wantImage {
				t.Errorf("needsImageUser = %v, want %v", got, tt.wantImage)
			}
			err := verifyRunAsNonRoot(pod, c, tt.uid, tt.username)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tt.want == "" && got != "" || tt.want != "" && (len(got) < len(tt.want) || got[:len(tt.want)] != tt.want) {
				t.Fatalf("error %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddSecurityProfiles(t *testing.T) {
	unconfined := &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
	runtimeDefault := &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
	tests := []struct {
		name         string
		psc          *v1.PodSecurityContext
		csc          *v1.SecurityContext
		seccomp      *runtimeapi.SecurityProfile
		appArmor     *runtimeapi.SecurityProfile
		appArmorName string
		seLinux      *runtimeapi.SELinuxOption
		unmasked     bool
	}{
		{name: "nothing set: unconfined seccomp, the runtime's AppArmor, default masks", seccomp: unconfined},
		{name: "pod RuntimeDefault", psc: &v1.PodSecurityContext{SeccompProfile: &v1.SeccompProfile{Type: v1.SeccompProfileTypeRuntimeDefault}}, seccomp: runtimeDefault},
		{name: "container overrides the pod",
			psc:     &v1.PodSecurityContext{SeccompProfile: &v1.SeccompProfile{Type: v1.SeccompProfileTypeRuntimeDefault}},
			csc:     &v1.SecurityContext{SeccompProfile: &v1.SeccompProfile{Type: v1.SeccompProfileTypeUnconfined}},
			seccomp: unconfined},
		{name: "Localhost under the profile root",
			csc:     &v1.SecurityContext{SeccompProfile: &v1.SeccompProfile{Type: v1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("profiles/audit.json")}},
			seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: "/var/lib/minikubelet/seccomp/profiles/audit.json"}},
		{name: "AppArmor RuntimeDefault", seccomp: unconfined,
			psc:      &v1.PodSecurityContext{AppArmorProfile: &v1.AppArmorProfile{Type: v1.AppArmorProfileTypeRuntimeDefault}},
			appArmor: runtimeDefault, appArmorName: "runtime/default"},
		{name: "AppArmor Localhost", seccomp: unconfined,
			csc:      &v1.SecurityContext{AppArmorProfile: &v1.AppArmorProfile{Type: v1.AppArmorProfileTypeLocalhost, LocalhostProfile: ptr.To("k8s-deny")}},
			appArmor: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: "k8s-deny"}, appArmorName: "localhost/k8s-deny"},
		{name: "AppArmor Unconfined", seccomp: unconfined,
			csc:      &v1.SecurityContext{AppArmorProfile: &v1.AppArmorProfile{Type: v1.AppArmorProfileTypeUnconfined}},
			appArmor: unconfined, appArmorName: "unconfined"},
		{name: "SELinux from the pod, level from the container", seccomp: unconfined,
			psc:     &v1.PodSecurityContext{SELinuxOptions: &v1.SELinuxOptions{Type: "spc_t"}},
			csc:     &v1.SecurityContext{SELinuxOptions: &v1.SELinuxOptions{Level: "s0:c1,c2"}},
			seLinux: &runtimeapi.SELinuxOption{Level: "s0:c1,c2"}},
		{name: "procMount Unmasked", seccomp: unconfined, csc: &v1.SecurityContext{ProcMount: ptr.To(v1.UnmaskedProcMount)}, unmasked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod, c := securityPod(tt.psc, tt.csc)
			sc := &runtimeapi.LinuxContainerSecurityContext{}
			addSecurityProfiles(sc, pod, c, "/var/lib/minikubelet/seccomp")
			if !reflect.DeepEqual(sc.Seccomp, tt.seccomp) {
				t.Errorf("seccomp %v, want %v", sc.Seccomp, tt.seccomp)
			}
			profile := sc.ApparmorProfile //lint:ignore SA1019 the field containerd 1.6 reads
			if !reflect.DeepEqual(sc.Apparmor, tt.appArmor) || profile != tt.appArmorName {
				t.Errorf("AppArmor %v %q, want %v %q", sc.Apparmor, profile, tt.appArmor, tt.appArmorName)
			}
			if !reflect.DeepEqual(sc.SelinuxOptions, tt.seLinux) {
				t.Errorf("SELinux %v, want %v", sc.SelinuxOptions, tt.seLinux)
			}
			wantMasked, wantRO := defaultMaskedPaths, defaultReadonlyPaths
			if tt.unmasked {
				wantMasked, wantRO = []string{}, []string{}
			}
			if !reflect.DeepEqual(sc.MaskedPaths, wantMasked) || !reflect.DeepEqual(sc.ReadonlyPaths, wantRO) {
				t.Errorf("masked %v readonly %v, want %v %v", sc.MaskedPaths, sc.ReadonlyPaths, wantMasked, wantRO)
			}
		})
	}
}
