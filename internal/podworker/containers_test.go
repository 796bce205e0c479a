package podworker

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

func configPod(containers ...v1.Container) *v1.Pod {
	grace := int64(30)
	if len(containers) == 0 {
		containers = []v1.Container{{Name: "app", Image: "busybox:1.35"}}
	}
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-node1", Namespace: "prod", UID: "uid-1",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"owner": "team-a"},
		},
		Spec: v1.PodSpec{
			NodeName:                      "node1",
			ServiceAccountName:            "sa",
			TerminationGracePeriodSeconds: &grace,
			Containers:                    containers,
		},
	}
}

func configFor(t *testing.T, pod *v1.Pod, c *v1.Container, init bool, restarts int32) *runtimeapi.ContainerConfig {
	t.Helper()
	pc := podContext{Pod: pod, PodIPs: []string{"10.88.0.5", "fd00::5"}, HostIP: "192.168.1.10"}
	cfg, err := containerConfig(pc, c, init, restarts, "docker.io/library/busybox:1.35")
	if err != nil {
		t.Fatalf("containerConfig(%s): %v", c.Name, err)
	}
	return cfg
}

func envMap(cfg *runtimeapi.ContainerConfig) map[string]string {
	m := map[string]string{}
	for _, kv := range cfg.GetEnvs() {
		m[kv.GetKey()] = string(kv.GetValue())
	}
	return m
}

func TestContainerConfig_MetadataImageAndLogPath(t *testing.T) {
	tests := []struct {
		name        string
		container   string
		restarts    int32
		wantLogPath string
	}{
		{name: "first start", container: "app", restarts: 0, wantLogPath: "app/0.log"},
		{name: "third restart", container: "sidecar", restarts: 3, wantLogPath: "sidecar/3.log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := v1.Container{Name: tt.container, Image: "busybox:1.35", WorkingDir: "/work", Stdin: true, TTY: true}
			cfg := configFor(t, configPod(c), &c, false, tt.restarts)
			if cfg.GetMetadata().GetName() != tt.container || cfg.GetMetadata().GetAttempt() != uint32(tt.restarts) {
				t.Errorf("metadata = %v, want name %s attempt %d", cfg.GetMetadata(), tt.container, tt.restarts)
			}
			if cfg.GetImage().GetImage() != "docker.io/library/busybox:1.35" || cfg.GetImage().GetUserSpecifiedImage() != "busybox:1.35" {
				t.Errorf("image = %v, want the resolved image and the user's busybox:1.35", cfg.GetImage())
			}
			if cfg.GetLogPath() != tt.wantLogPath {
				t.Errorf("log path = %q, want %q", cfg.GetLogPath(), tt.wantLogPath)
			}
			if cfg.GetWorkingDir() != "/work" || !cfg.GetStdin() || !cfg.GetTty() {
				t.Errorf("workingDir %q stdin %v tty %v, want /work true true", cfg.GetWorkingDir(), cfg.GetStdin(), cfg.GetTty())
			}
		})
	}
}

func TestContainerConfig_Labels(t *testing.T) {
	c := v1.Container{Name: "app", Image: "busybox:1.35"}
	cfg := configFor(t, configPod(c), &c, false, 0)
	want := map[string]string{
		runtime.LabelPodName:       "web-node1",
		runtime.LabelPodNamespace:  "prod",
		runtime.LabelPodUID:        "uid-1",
		runtime.LabelContainerName: "app",
		runtime.LabelManaged:       "true",
		runtime.LabelNode:          "node1",
	}
	if !reflect.DeepEqual(cfg.GetLabels(), want) {
		t.Fatalf("labels = %v, want %v", cfg.GetLabels(), want)
	}
}

func TestContainerConfig_Annotations(t *testing.T) {
	always := v1.ContainerRestartPolicyAlways
	preStop := &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"sh", "-c", "sleep 1"}}}
	ports := []v1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: v1.ProtocolTCP}}
	tests := []struct {
		name      string
		container v1.Container
		init      bool
		restarts  int32
		want      map[string]string // exact, apart from the hash, which is checked on its own
	}{
		{
			name:      "app container",
			container: v1.Container{Name: "app", Image: "busybox", TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: v1.TerminationMessageReadFile},
			restarts:  4,
			want: map[string]string{
				runtime.AnnotationRestartCount:              "4",
				runtime.AnnotationTerminationMessagePath:    "/dev/termination-log",
				runtime.AnnotationTerminationMessagePolicy:  "File",
				runtime.AnnotationPodTerminationGracePeriod: "30",
			},
		},
		{
			name: "preStop and ports",
			container: v1.Container{
				Name: "app", Image: "busybox", TerminationMessagePath: "/tmp/msg", TerminationMessagePolicy: v1.TerminationMessageFallbackToLogsOnError,
				Ports: ports, Lifecycle: &v1.Lifecycle{PreStop: preStop},
			},
			want: map[string]string{
				runtime.AnnotationRestartCount:              "0",
				runtime.AnnotationTerminationMessagePath:    "/tmp/msg",
				runtime.AnnotationTerminationMessagePolicy:  "FallbackToLogsOnError",
				runtime.AnnotationPodTerminationGracePeriod: "30",
				runtime.AnnotationPreStopHandler:            `{"exec":{"command":["sh","-c","sleep 1"]}}`,
				runtime.AnnotationContainerPorts:            `[{"name":"http","containerPort":80,"protocol":"TCP"}]`,
			},
		},
		{
			name:      "init container",
			container: v1.Container{Name: "init", Image: "busybox"},
			init:      true,
			want: map[string]string{
				runtime.AnnotationRestartCount:              "0",
				runtime.AnnotationTerminationMessagePath:    "",
				runtime.AnnotationTerminationMessagePolicy:  "",
				runtime.AnnotationPodTerminationGracePeriod: "30",
				runtime.AnnotationContainerIsInit:           "true",
			},
		},
		{
			name:      "sidecar",
			container: v1.Container{Name: "proxy", Image: "busybox", RestartPolicy: &always},
			init:      true,
			restarts:  1,
			want: map[string]string{
				runtime.AnnotationRestartCount:              "1",
				runtime.AnnotationTerminationMessagePath:    "",
				runtime.AnnotationTerminationMessagePolicy:  "",
				runtime.AnnotationPodTerminationGracePeriod: "30",
				runtime.AnnotationContainerIsInit:           "true",
				runtime.AnnotationContainerIsSidecar:        "true",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.container
			cfg := configFor(t, configPod(c), &c, tt.init, tt.restarts)
			got := map[string]string{}
			for k, v := range cfg.GetAnnotations() {
				got[k] = v
			}
			if got[runtime.AnnotationContainerHash] != containerHash(&c) || got[runtime.AnnotationContainerHash] == "" {
				t.Errorf("hash annotation = %q, want %q", got[runtime.AnnotationContainerHash], containerHash(&c))
			}
			delete(got, runtime.AnnotationContainerHash)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("annotations =\n%v\nwant\n%v", got, tt.want)
			}
			if s, ok := got[runtime.AnnotationPreStopHandler]; ok {
				var h v1.LifecycleHandler
				if err := json.Unmarshal([]byte(s), &h); err != nil || !reflect.DeepEqual(&h, preStop) {
					t.Errorf("preStop annotation %q decodes to %+v (%v), want %+v", s, h, err, preStop)
				}
			}
		})
	}
}

func TestContainerConfig_NoGracePeriodNoAnnotation(t *testing.T) {
	c := v1.Container{Name: "app", Image: "busybox"}
	pod := configPod(c)
	pod.Spec.TerminationGracePeriodSeconds = nil
	cfg := configFor(t, pod, &c, false, 0)
	if v, ok := cfg.GetAnnotations()[runtime.AnnotationPodTerminationGracePeriod]; ok {
		t.Fatalf("grace period annotation = %q, want none", v)
	}
}

func TestContainerHash_FollowsTheSpec(t *testing.T) {
	a := v1.Container{Name: "app", Image: "busybox:1.35", Command: []string{"sleep", "1"}}
	same := a
	changed := a
	changed.Image = "busybox:1.36"
	if containerHash(&a) != containerHash(&same) {
		t.Errorf("equal specs hash differently: %s vs %s", containerHash(&a), containerHash(&same))
	}
	if containerHash(&a) == containerHash(&changed) {
		t.Errorf("a new image keeps the hash %s", containerHash(&a))
	}
}

func fieldRef(path string) *v1.EnvVarSource {
	return &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: path}}
}

func TestContainerConfig_EnvFieldRefs(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{"metadata.name", "web-node1"},
		{"metadata.namespace", "prod"},
		{"metadata.uid", "uid-1"},
		{"spec.nodeName", "node1"},
		{"spec.serviceAccountName", "sa"},
		{"status.podIP", "10.88.0.5"},
		{"status.podIPs", "10.88.0.5,fd00::5"},
		{"status.hostIP", "192.168.1.10"},
		{"metadata.labels['app']", "web"},
		{"metadata.labels['missing']", ""},
		{"metadata.annotations['owner']", "team-a"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := v1.Container{Name: "app", Image: "busybox", Env: []v1.EnvVar{{Name: "V", ValueFrom: fieldRef(tt.path)}}}
			cfg := configFor(t, configPod(c), &c, false, 0)
			if got := envMap(cfg)["V"]; got != tt.want {
				t.Fatalf("V from %s = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestContainerConfig_PodIPWithoutIPs(t *testing.T) {
	c := v1.Container{Name: "app", Image: "busybox", Env: []v1.EnvVar{{Name: "IP", ValueFrom: fieldRef("status.podIP")}}}
	cfg, err := containerConfig(podContext{Pod: configPod(c)}, &c, false, 0, "busybox")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := envMap(cfg)["IP"]; !ok || got != "" {
		t.Fatalf("IP = %q (set %v), want an empty value", got, ok)
	}
}

func TestContainerConfig_EnvOrderAndExpansion(t *testing.T) {
	c := v1.Container{
		Name: "app", Image: "busybox",
		Env: []v1.EnvVar{
			{Name: "NAME", ValueFrom: fieldRef("metadata.name")},
			{Name: "GREETING", Value: "hello-$(NAME)"},
			{Name: "LATER_REF", Value: "$(LATE)"},
			{Name: "LATE", Value: "late"},
			{Name: "ESCAPED", Value: "$$(NAME)"},
			{Name: "UNKNOWN", Value: "$(NOPE)"},
			{Name: "CHAIN", Value: "$(GREETING)!"},
		},
		Command: []string{"sh", "-c", "echo $(GREETING) $$(NAME) $(NOPE) $(LATE)"},
		Args:    []string{"$(CHAIN)", "$(LATER_REF)", "$HOME"},
	}
	cfg := configFor(t, configPod(c), &c, false, 0)

	var keys []string
	for _, kv := range cfg.GetEnvs() {
		keys = append(keys, kv.GetKey())
	}
	if want := []string{"NAME", "GREETING", "LATER_REF", "LATE", "ESCAPED", "UNKNOWN", "CHAIN"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("env order = %v, want the spec's %v", keys, want)
	}
	wantEnv := map[string]string{
		"NAME":      "web-node1",
		"GREETING":  "hello-web-node1",
		"LATER_REF": "$(LATE)", // only earlier variables expand
		"LATE":      "late",
		"ESCAPED":   "$(NAME)",
		"UNKNOWN":   "$(NOPE)",
		"CHAIN":     "hello-web-node1!",
	}
	if got := envMap(cfg); !reflect.DeepEqual(got, wantEnv) {
		t.Errorf("env = %v, want %v", got, wantEnv)
	}
	// Command and args see every variable, each expanded once.
	if want := []string{"sh", "-c", "echo hello-web-node1 $(NAME) $(NOPE) late"}; !reflect.DeepEqual(cfg.GetCommand(), want) {
		t.Errorf("command = %q, want %q", cfg.GetCommand(), want)
	}
	if want := []string{"hello-web-node1!", "$(LATE)", "$HOME"}; !reflect.DeepEqual(cfg.GetArgs(), want) {
		t.Errorf("args = %q, want %q", cfg.GetArgs(), want)
	}
	if c.Command[2] != "echo $(GREETING) $$(NAME) $(NOPE) $(LATE)" {
		t.Errorf("containerConfig changed the spec's command: %q", c.Command)
	}
}

func TestContainerConfig_EnvResourceFieldRefs(t *testing.T) {
	resources := v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("250m"), v1.ResourceMemory: resource.MustParse("64Mi")},
		Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("1500m"), v1.ResourceMemory: resource.MustParse("100M"), v1.ResourceEphemeralStorage: resource.MustParse("1Gi")},
	}
	tests := []struct {
		name     string
		resource string
		divisor  string
		want     string
	}{
		{name: "limits.cpu in millicores", resource: "limits.cpu", divisor: "1m", want: "1500"},
		{name: "limits.cpu in cores rounds up", resource: "limits.cpu", want: "2"},
		{name: "requests.cpu in millicores", resource: "requests.cpu", divisor: "1m", want: "250"},
		{name: "requests.cpu in cores rounds up", resource: "requests.cpu", divisor: "1", want: "1"},
		{name: "requests.memory in Mi", resource: "requests.memory", divisor: "1Mi", want: "64"},
		{name: "requests.memory in bytes", resource: "requests.memory", want: "67108864"},
		{name: "limits.memory in Mi rounds up", resource: "limits.memory", divisor: "1Mi", want: "96"},
		{name: "limits.ephemeral-storage in Gi", resource: "limits.ephemeral-storage", divisor: "1Gi", want: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := &v1.ResourceFieldSelector{Resource: tt.resource}
			if tt.divisor != "" {
				ref.Divisor = resource.MustParse(tt.divisor)
			}
			c := v1.Container{Name: "app", Image: "busybox", Resources: resources, Env: []v1.EnvVar{{Name: "R", ValueFrom: &v1.EnvVarSource{ResourceFieldRef: ref}}}}
			cfg := configFor(t, configPod(c), &c, false, 0)
			if got := envMap(cfg)["R"]; got != tt.want {
				t.Fatalf("R from %s / %s = %q, want %q", tt.resource, tt.divisor, got, tt.want)
			}
		})
	}
}

func TestContainerConfig_EnvErrors(t *testing.T) {
	tests := []struct {
		name    string
		source  *v1.EnvVarSource
		wantErr []string
	}{
		{name: "unsupported fieldRef", source: fieldRef("spec.schedulerName"), wantErr: []string{"env BAD", "spec.schedulerName"}},
		{name: "unsupported resource", source: &v1.EnvVarSource{ResourceFieldRef: &v1.ResourceFieldSelector{Resource: "limits.example.com/gpu"}}, wantErr: []string{"env BAD", "limits.example.com/gpu"}},
		{name: "secret", source: &v1.EnvVarSource{SecretKeyRef: &v1.SecretKeySelector{Key: "k"}}, wantErr: []string{"env BAD", "secrets"}},
		{name: "config map", source: &v1.EnvVarSource{ConfigMapKeyRef: &v1.ConfigMapKeySelector{Key: "k"}}, wantErr: []string{"env BAD", "config maps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := v1.Container{Name: "app", Image: "busybox", Env: []v1.EnvVar{{Name: "OK", Value: "1"}, {Name: "BAD", ValueFrom: tt.source}}}
			_, err := containerConfig(podContext{Pod: configPod(c)}, &c, false, 0, "busybox")
			if err == nil {
				t.Fatal("containerConfig succeeded, want an error")
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestContainerConfig_SecurityContext(t *testing.T) {
	yes, no := true, false
	podUser, containerUser, group, fsGroup := int64(1000), int64(2000), int64(3000), int64(4000)
	tests := []struct {
		name   string
		podSC  *v1.PodSecurityContext
		sc     *v1.SecurityContext
		check  func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext)
		mutate func(*v1.Pod)
	}{
		{
			name: "nothing set",
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				if sc.GetPrivileged() || sc.GetReadonlyRootfs() || sc.GetNoNewPrivs() || sc.GetCapabilities() != nil || sc.GetRunAsUser() != nil {
					t.Errorf("security context = %v, want the defaults", sc)
				}
			},
		},
		{
			name: "privileged",
			sc:   &v1.SecurityContext{Privileged: &yes},
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				if !sc.GetPrivileged() {
					t.Error("privileged = false, want true")
				}
			},
		},
		{
			name: "read-only root filesystem",
			sc:   &v1.SecurityContext{ReadOnlyRootFilesystem: &yes},
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				if !sc.GetReadonlyRootfs() {
					t.Error("readonlyRootfs = false, want true")
				}
			},
		},
		{
			name: "allowPrivilegeEscalation false sets no_new_privs",
			sc:   &v1.SecurityContext{AllowPrivilegeEscalation: &no},
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				if !sc.GetNoNewPrivs() {
					t.Error("noNewPrivs = false, want true")
				}
			},
		},
		{
			name: "allowPrivilegeEscalation true leaves no_new_privs off",
			sc:   &v1.SecurityContext{AllowPrivilegeEscalation: &yes},
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				if sc.GetNoNewPrivs() {
					t.Error("noNewPrivs = true, want false")
				}
			},
		},
		{
			name: "capabilities",
			sc:   &v1.SecurityContext{Capabilities: &v1.Capabilities{Add: []v1.Capability{"NET_ADMIN", "SYS_TIME"}, Drop: []v1.Capability{"ALL"}}},
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				caps := sc.GetCapabilities()
				if !reflect.DeepEqual(caps.GetAddCapabilities(), []string{"NET_ADMIN", "SYS_TIME"}) || !reflect.DeepEqual(caps.GetDropCapabilities(), []string{"ALL"}) {
					t.Errorf("capabilities = add %v drop %v, want add [NET_ADMIN SYS_TIME] drop [ALL]", caps.GetAddCapabilities(), caps.GetDropCapabilities())
				}
			},
		},
		{
			name:  "pod user and groups",
			podSC: &v1.PodSecurityContext{RunAsUser: &podUser, RunAsGroup: &group, SupplementalGroups: []int64{10}, FSGroup: &fsGroup},
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				if sc.GetRunAsUser().GetValue() != podUser || sc.GetRunAsGroup().GetValue() != group || !reflect.DeepEqual(sc.GetSupplementalGroups(), []int64{10, fsGroup}) {
					t.Errorf("user %v group %v supplemental %v, want %d %d [10 %d]", sc.GetRunAsUser(), sc.GetRunAsGroup(), sc.GetSupplementalGroups(), podUser, group, fsGroup)
				}
			},
		},
		{
			name:  "container user wins over the pod's",
			podSC: &v1.PodSecurityContext{RunAsUser: &podUser},
			sc:    &v1.SecurityContext{RunAsUser: &containerUser},
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				if sc.GetRunAsUser().GetValue() != containerUser {
					t.Errorf("runAsUser = %v, want %d", sc.GetRunAsUser(), containerUser)
				}
			},
		},
		{
			name: "pod namespaces",
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				ns := sc.GetNamespaceOptions()
				if ns.GetNetwork() != runtimeapi.NamespaceMode_POD || ns.GetPid() != runtimeapi.NamespaceMode_CONTAINER || ns.GetIpc() != runtimeapi.NamespaceMode_POD {
					t.Errorf("namespaces = %v, want network POD pid CONTAINER ipc POD", ns)
				}
			},
		},
		{
			name:   "hostNetwork pod uses the node's network",
			mutate: func(p *v1.Pod) { p.Spec.HostNetwork = true },
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				if got := sc.GetNamespaceOptions().GetNetwork(); got != runtimeapi.NamespaceMode_NODE {
					t.Errorf("network namespace = %v, want NODE", got)
				}
			},
		},
		{
			name:   "hostPID and hostIPC pod",
			mutate: func(p *v1.Pod) { p.Spec.HostPID = true; p.Spec.HostIPC = true },
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				ns := sc.GetNamespaceOptions()
				if ns.GetPid() != runtimeapi.NamespaceMode_NODE || ns.GetIpc() != runtimeapi.NamespaceMode_NODE {
					t.Errorf("namespaces = %v, want pid NODE ipc NODE", ns)
				}
			},
		},
		{
			name:   "shareProcessNamespace pod",
			mutate: func(p *v1.Pod) { p.Spec.ShareProcessNamespace = &yes },
			check: func(t *testing.T, sc *runtimeapi.LinuxContainerSecurityContext) {
				if got := sc.GetNamespaceOptions().GetPid(); got != runtimeapi.NamespaceMode_POD {
					t.Errorf("pid namespace = %v, want POD", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := v1.Container{Name: "app", Image: "busybox", SecurityContext: tt.sc}
			pod := configPod(c)
			pod.Spec.SecurityContext = tt.podSC
			if tt.mutate != nil {
				tt.mutate(pod)
			}
			tt.check(t, configFor(t, pod, &c, false, 0).GetLinux().GetSecurityContext())
		})
	}
}
