package staticpods

import (
	"strings"
	"testing"
)

func TestDecodeManifestFor_NodeSecurity(t *testing.T) {
	runc := map[string]RuntimeHandler{"": {}, "runc": {}}
	rro := map[string]RuntimeHandler{"": {RecursiveReadOnlyMounts: true}, "runc": {RecursiveReadOnlyMounts: true}, "kata": {}}
	withMount := func(extra string) string {
		return `  volumes: [{name: v, emptyDir: {}}]
  containers:
  - name: app
    image: busybox
    volumeMounts: [{name: v, mountPath: /v, readOnly: true` + extra + `}]
`
	}
	tests := []struct {
		name  string
		node  NodeFeatures
		spec  string
		annot string
		want  string // a substring of the error; empty: accepted
	}{
		{name: "hostUsers false is refused", node: NodeFeatures{RuntimeHandlers: runc}, spec: "  hostUsers: false\n" + oneContainer,
			want: "spec.hostUsers: Forbidden: user namespaces are not supported by this node's runtime"},
		{name: "hostUsers true runs", spec: "  hostUsers: true\n" + oneContainer},
		{name: "procMount Unmasked needs hostUsers false", spec: `  containers:
  - name: app
    image: busybox
    securityContext: {procMount: Unmasked}
`, want: "spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` must be false to use `Unmasked`"},
		{name: "procMount Default runs", spec: `  containers:
  - name: app
    image: busybox
    securityContext: {procMount: Default}
`},
		{name: "AppArmor RuntimeDefault without AppArmor", spec: `  securityContext:
    appArmorProfile: {type: RuntimeDefault}
` + oneContainer, want: "spec.securityContext.appArmorProfile: Forbidden: Cannot enforce AppArmor: AppArmor is not enabled on the host"},
		{name: "AppArmor Localhost on a container without AppArmor", spec: `  containers:
  - name: app
    image: busybox
    securityContext: {appArmorProfile: {type: Localhost, localhostProfile: k8s-deny}}
`, want: "spec.containers[0].securityContext.appArmorProfile: Forbidden"},
		{name: "AppArmor Unconfined needs no AppArmor", spec: `  securityContext:
    appArmorProfile: {type: Unconfined}
` + oneContainer},
		{name: "AppArmor with AppArmor", node: NodeFeatures{AppArmor: true}, spec: `  securityContext:
    appArmorProfile: {type: RuntimeDefault}
` + oneContainer},
		{name: "AppArmor annotation without AppArmor", annot: "container.apparmor.security.beta.kubernetes.io/app: runtime/default", spec: oneContainer,
			want: "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]: Forbidden"},
		{name: "unconfined AppArmor annotation", annot: "container.apparmor.security.beta.kubernetes.io/app: unconfined", spec: oneContainer},
		{name: "seLinuxOptions without SELinux", spec: `  securityContext:
    seLinuxOptions: {level: "s0:c123,c456"}
` + oneContainer, want: "spec.securityContext.seLinuxOptions: Forbidden: SELinux is not enabled on this node"},
		{name: "seLinuxOptions with SELinux", node: NodeFeatures{SELinux: true}, spec: `  containers:
  - name: app
    image: busybox
    securityContext: {seLinuxOptions: {level: "s0:c123,c456"}}
`},
		{name: "safe sysctl", spec: `  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}, {name: kernel.shm_rmid_forced, value: "1"}]
` + oneContainer},
		{name: "safe sysctl with slashes", spec: `  securityContext:
    sysctls: [{name: net/ipv4/tcp_syncookies, value: "1"}]
` + oneContainer},
		{name: "namespaced unsafe sysctl", spec: `  securityContext:
    sysctls: [{name: net.core.somaxconn, value: "1024"}]
` + oneContainer, want: `spec.securityContext.sysctls[0].name: Forbidden: SysctlForbidden: forbidden sysctl: "net.core.somaxconn" not allowlisted`},
		{name: "non-namespaced sysctl", spec: `  securityContext:
    sysctls: [{name: vm.swappiness, value: "10"}]
` + oneContainer, want: `forbidden sysctl: "vm.swappiness" not allowlisted`},
		{name: "net sysctl on the host network", spec: `  hostNetwork: true
  securityContext:
    sysctls: [{name: net.ipv4.tcp_syncookies, value: "1"}]
` + oneContainer, want: `forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host net enabled`},
		{name: "ipc sysctl with the host IPC", spec: `  hostIPC: true
  securityContext:
    sysctls: [{name: kernel.shm_rmid_forced, value: "1"}]
` + oneContainer, want: `"kernel.shm_rmid_forced" not allowed with host ipc enabled`},
		{name: "recursiveReadOnly Enabled where unsupported", node: NodeFeatures{RuntimeHandlers: runc}, spec: withMount(", recursiveReadOnly: Enabled"),
			want: `spec.containers[0].volumeMounts[0].recursiveReadOnly: Forbidden: the runtime handler "default" does not report support for recursive read-only mounts`},
		{name: "recursiveReadOnly Enabled with handlers unknown", spec: withMount(", recursiveReadOnly: Enabled"), want: "recursiveReadOnly: Forbidden"},
		{name: "recursiveReadOnly Enabled where supported", node: NodeFeatures{RuntimeHandlers: rro}, spec: withMount(", recursiveReadOnly: Enabled")},
		{name: "recursiveReadOnly Enabled on a handler without it", node: NodeFeatures{RuntimeHandlers: rro}, spec: "  runtimeClassName: kata\n" + withMount(", recursiveReadOnly: Enabled"),
			want: `the runtime handler "kata" does not report support`},
		{name: "recursiveReadOnly IfPossible runs anywhere", node: NodeFeatures{RuntimeHandlers: runc}, spec: withMount(", recursiveReadOnly: IfPossible")},
		{name: "runtimeClassName the runtime serves", node: NodeFeatures{RuntimeHandlers: runc}, spec: "  runtimeClassName: runc\n" + oneContainer},
		{name: "runtimeClassName the runtime lacks", node: NodeFeatures{RuntimeHandlers: runc}, spec: "  runtimeClassName: gvisor\n" + oneContainer,
			want: `spec.runtimeClassName: Invalid value: "gvisor": the runtime has no handler of this name (it serves "runc")`},
		{name: "runtimeClassName with handlers unknown is the runtime's to refuse", spec: "  runtimeClassName: gvisor\n" + oneContainer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			manifest := podYAML(tt.spec)
			if tt.annot != "" {
				manifest = strings.Replace(manifest, "  name: web\n", "  name: web\n  annotations:\n    "+tt.annot+"\n", 1)
			}
			_, err := DecodeManifestFor(testPath, []byte(manifest), testNode, tt.node)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
		})
	}
}
