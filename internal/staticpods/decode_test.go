package staticpods

import (
	"errors"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	testNode = "node-1"
	testPath = "/etc/kubernetes/manifests/web.yaml"
)

// podYAML is a manifest named web with the given spec (indented by two).
func podYAML(spec string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n" + spec
}

const oneContainer = `  containers:
  - name: app
    image: busybox:1.36
`

func mustDecode(t *testing.T, manifest string) *v1.Pod {
	t.Helper()
	pod, err := DecodeManifest(testPath, []byte(manifest), testNode)
	if err != nil {
		t.Fatalf("DecodeManifest: %v", err)
	}
	return pod
}

func TestDecodeManifest_DefaultsLikeTheAPIServer(t *testing.T) {
	pod := mustDecode(t, podYAML(`  initContainers:
  - name: setup
    image: busybox
  - name: proxy
    image: envoy:v1.30
    restartPolicy: Always
    readinessProbe:
      httpGet:
        port: 9901
  containers:
  - name: app
    image: registry.local:5000/app
    ports:
    - containerPort: 8080
    env:
    - name: POD
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    resources:
      limits:
        cpu: "0.5"
        memory: 128Mi
    livenessProbe:
      httpGet:
        port: 8080
    startupProbe:
      grpc:
        port: 9090
    lifecycle:
      preStop:
        httpGet:
          port: 8080
  - name: pinned
    image: busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000
  - name: tagged
    image: busybox:latest
  volumes:
  - name: scratch
  - name: host
    hostPath:
      path: /var/log
  - name: info
    downwardAPI:
      items:
      - path: labels
        fieldRef:
          fieldPath: metadata.labels
`))
	spec := pod.Spec
	if pod.Namespace != "default" {
		t.Errorf("namespace = %q, want default", pod.Namespace)
	}
	if spec.RestartPolicy != v1.RestartPolicyAlways || spec.DNSPolicy != v1.DNSClusterFirst ||
		spec.SchedulerName != "default-scheduler" || *spec.TerminationGracePeriodSeconds != 30 ||
		spec.SecurityContext == nil || spec.EnableServiceLinks == nil || !*spec.EnableServiceLinks {
		t.Errorf("pod spec defaults wrong: %+v", spec)
	}

	setup, proxy := spec.InitContainers[0], spec.InitContainers[1]
	app, pinned, tagged := spec.Containers[0], spec.Containers[1], spec.Containers[2]
	for _, tc := range []struct {
		name string
		got  v1.PullPolicy
		want v1.PullPolicy
	}{
		{"untagged init", setup.ImagePullPolicy, v1.PullAlways},
		{"tagged sidecar", proxy.ImagePullPolicy, v1.PullIfNotPresent},
		{"registry port, no tag", app.ImagePullPolicy, v1.PullAlways},
		{"digest only", pinned.ImagePullPolicy, v1.PullIfNotPresent},
		{":latest", tagged.ImagePullPolicy, v1.PullAlways},
	} {
		if tc.got != tc.want {
			t.Errorf("imagePullPolicy for %s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	for _, c := range []v1.Container{setup, proxy, app} {
		if c.TerminationMessagePath != "/dev/termination-log" || c.TerminationMessagePolicy != v1.TerminationMessageReadFile {
			t.Errorf("container %s termination message defaults: %q %q", c.Name, c.TerminationMessagePath, c.TerminationMessagePolicy)
		}
	}
	if app.Ports[0].Protocol != v1.ProtocolTCP {
		t.Errorf("port protocol = %q, want TCP", app.Ports[0].Protocol)
	}
	if app.Env[0].ValueFrom.FieldRef.APIVersion != "v1" {
		t.Errorf("fieldRef apiVersion = %q, want v1", app.Env[0].ValueFrom.FieldRef.APIVersion)
	}
	for name, p := range map[string]*v1.Probe{"liveness": app.LivenessProbe, "startup": app.StartupProbe, "sidecar readiness": proxy.ReadinessProbe} {
		if p.PeriodSeconds != 10 || p.TimeoutSeconds != 1 || p.SuccessThreshold != 1 || p.FailureThreshold != 3 {
			t.Errorf("%s probe defaults = %d/%d/%d/%d, want 10/1/1/3", name, p.PeriodSeconds, p.TimeoutSeconds, p.SuccessThreshold, p.FailureThreshold)
		}
	}
	if h := app.LivenessProbe.HTTPGet; h.Path != "/" || h.Scheme != v1.URISchemeHTTP {
		t.Errorf("httpGet defaults = %q %q", h.Path, h.Scheme)
	}
	if h := app.Lifecycle.PreStop.HTTPGet; h.Path != "/" || h.Scheme != v1.URISchemeHTTP {
		t.Errorf("preStop httpGet defaults = %q %q", h.Path, h.Scheme)
	}
	if s := app.StartupProbe.GRPC.Service; s == nil || *s != "" {
		t.Errorf("grpc service default = %v, want empty string", s)
	}
	if got := app.Resources.Requests[v1.ResourceCPU]; got.Cmp(resource.MustParse("500m")) != 0 {
		t.Errorf("cpu request = %s, want it defaulted to the 500m limit", got.String())
	}
	if got := app.Resources.Requests[v1.ResourceMemory]; got.Cmp(resource.MustParse("128Mi")) != 0 {
		t.Errorf("memory request = %s, want it defaulted to the limit", got.String())
	}
	if spec.Volumes[0].EmptyDir == nil {
		t.Errorf("a volume without a source should default to emptyDir")
	}
	if typ := spec.Volumes[1].HostPath.Type; typ == nil || *typ != v1.HostPathUnset {
		t.Errorf("hostPath type default = %v", typ)
	}
	if d := spec.Volumes[2].DownwardAPI; *d.DefaultMode != 0o644 || d.Items[0].FieldRef.APIVersion != "v1" {
		t.Errorf("downwardAPI defaults = %v %q", *d.DefaultMode, d.Items[0].FieldRef.APIVersion)
	}
}

func TestDecodeManifest_HostNetworkPortsDefaultToHostPorts(t *testing.T) {
	pod := mustDecode(t, podYAML(`  hostNetwork: true
  containers:
  - name: app
    image: busybox:1.36
    ports:
    - containerPort: 8080
`))
	if got := pod.Spec.Containers[0].Ports[0].HostPort; got != 8080 {
		t.Errorf("hostPort = %d, want 8080", got)
	}
}

func TestDecodeManifest_RoundsQuantitiesToMilli(t *testing.T) {
	pod := mustDecode(t, podYAML(`  containers:
  - name: app
    image: busybox:1.36
    resources:
      requests:
        cpu: "0.0001"
`))
	if got := pod.Spec.Containers[0].Resources.Requests[v1.ResourceCPU]; got.String() != "1m" {
		t.Errorf("cpu request = %s, want it rounded up to 1m", got.String())
	}
}

func TestSetDefaults_EphemeralContainers(t *testing.T) {
	pod := &v1.Pod{Spec: v1.PodSpec{EphemeralContainers: []v1.EphemeralContainer{{
		EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debug", Image: "busybox", Ports: []v1.ContainerPort{{ContainerPort: 1}}},
	}}}}
	setDefaults(pod)
	c := pod.Spec.EphemeralContainers[0]
	if c.ImagePullPolicy != v1.PullAlways || c.TerminationMessagePath != "/dev/termination-log" || c.Ports[0].Protocol != v1.ProtocolTCP {
		t.Errorf("ephemeral container defaults: %+v", c)
	}
}

func TestDecodeManifest_NamesAnnotatesAndBindsToTheNode(t *testing.T) {
	pod := mustDecode(t, podYAML(oneContainer))
	if pod.Name != "web-node-1" {
		t.Errorf("name = %q, want web-node-1", pod.Name)
	}
	if pod.Spec.NodeName != testNode {
		t.Errorf("spec.nodeName = %q", pod.Spec.NodeName)
	}
	if len(pod.UID) != 32 || strings.Trim(string(pod.UID), "0123456789abcdef") != "" {
		t.Errorf("UID %q is not a hex md5", pod.UID)
	}
	if pod.Annotations[ConfigSourceAnnotationKey] != "file" || pod.Annotations[ConfigHashAnnotationKey] != string(pod.UID) {
		t.Errorf("annotations = %v", pod.Annotations)
	}
	if _, ok := pod.Annotations[ConfigFirstSeenAnnotationKey]; ok {
		t.Errorf("DecodeManifest must not set config.seen (it needs a clock)")
	}
	want := v1.Toleration{Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute}
	if len(pod.Spec.Tolerations) != 1 || pod.Spec.Tolerations[0] != want {
		t.Errorf("tolerations = %+v, want the kubelet's NoExecute toleration", pod.Spec.Tolerations)
	}
	if pod.Status.Phase != v1.PodPending {
		t.Errorf("phase = %q", pod.Status.Phase)
	}
}

func TestDecodeManifest_ExistingNoExecuteTolerationNotDuplicated(t *testing.T) {
	pod := mustDecode(t, podYAML(oneContainer+`  tolerations:
  - operator: Exists
    effect: NoExecute
    tolerationSeconds: 30
  - key: example.com/x
    operator: Exists
`))
	if len(pod.Spec.Tolerations) != 2 || pod.Spec.Tolerations[0].TolerationSeconds != nil {
		t.Errorf("tolerations = %+v", pod.Spec.Tolerations)
	}
}

func TestDecodeManifest_UIDStability(t *testing.T) {
	base := podYAML(`  containers:
  - name: app
    image: busybox:1.36
    resources:
      limits:
        cpu: "0.5"
`)
	uid := func(manifest, path, node string) string {
		t.Helper()
		pod, err := DecodeManifest(path, []byte(manifest), node)
		if err != nil {
			t.Fatalf("DecodeManifest: %v", err)
		}
		return string(pod.UID)
	}
	want := uid(base, testPath, testNode)

	same := map[string]string{
		"decoded again":  base,
		"comment added":  "# a comment\n" + base,
		"keys reordered": "kind: Pod\napiVersion: v1\nmetadata:\n  name: web\nspec:\n  containers:\n  - image: busybox:1.36\n    name: app\n    resources:\n      limits:\n        cpu: 500m\n",
		"defaults spelt": strings.Replace(base, "  containers:", "  restartPolicy: Always\n  terminationGracePeriodSeconds: 30\n  containers:", 1),
		"JSON":           `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"app","image":"busybox:1.36","resources":{"limits":{"cpu":"0.5"}}}]}}`,
		"kubelet annotations copied from a mirror pod": strings.Replace(base, "  name: web\n", "  name: web\n  annotations:\n    kubernetes.io/config.seen: \"2020-01-01T00:00:00Z\"\n    kubernetes.io/config.hash: abc\n", 1),
		"status copied from kubectl get":               base + "status:\n  phase: Running\n",
	}
	for name, m := range same {
		if got := uid(m, testPath, testNode); got != want {
			t.Errorf("%s: UID %s, want unchanged %s", name, got, want)
		}
	}

	differ := map[string]string{
		"value edited": strings.Replace(base, "busybox:1.36", "busybox:1.37", 1),
		"label added":  strings.Replace(base, "  name: web\n", "  name: web\n  labels:\n    app: web\n", 1),
	}
	for name, m := range differ {
		if got := uid(m, testPath, testNode); got == want {
			t.Errorf("%s: UID unchanged, want a new one", name)
		}
	}
	if uid(base, "/etc/kubernetes/manifests/other.yaml", testNode) == want {
		t.Errorf("another file with the same content must give another UID")
	}
	if uid(base, testPath, "node-2") == want {
		t.Errorf("another node must give another UID")
	}
}

func TestDecodeManifest_UnknownFieldNamesFileAndField(t *testing.T) {
	for _, tc := range []struct {
		name, manifest, want string
	}{
		{"typo in container", podYAML("  containers:\n  - name: app\n    image: busybox\n    imagePullPolicyy: Always\n"), `unknown field "spec.containers[0].imagePullPolicyy"`},
		{"wrong case", podYAML("  containers:\n  - name: app\n    Image: busybox\n"), `unknown field "spec.containers[0].Image"`},
		{"in metadata", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  lables:\n    a: b\nspec:\n" + oneContainer, `unknown field "metadata.lables"`},
		{"in JSON", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"a","image":"b","foo":1}]}}`, `unknown field "spec.containers[0].foo"`},
		{"duplicate key", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  name: web2\nspec:\n" + oneContainer, `key "name" already set in map`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeManifest(testPath, []byte(tc.manifest), testNode)
			if err == nil {
				t.Fatal("DecodeManifest succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), testPath+": ") {
				t.Errorf("error %q does not name the file and contain %q", err, tc.want)
			}
		})
	}
}

func TestDecodeManifest_WrongTypeNamesField(t *testing.T) {
	for _, tc := range []struct {
		name, manifest, want string
	}{
		{"string port", podYAML("  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: http\n"),
			"spec.containers.ports.containerPort: Invalid value: string: must be of type int32"},
		{"fractional probe port", podYAML("  containers:\n  - name: app\n    image: busybox\n    livenessProbe:\n      httpGet:\n        port: 1.5\n"),
			"spec.containers.livenessProbe.httpGet.port"},
		{"bad quantity", podYAML("  containers:\n  - name: app\n    image: busybox\n  - name: two\n    image: busybox\n    resources:\n      limits:\n        memory: 1Gb\n"),
			`spec.containers[1].resources.limits[memory]: Invalid value: "1Gb": must be a quantity`},
		{"huge negative exponent", podYAML("  containers:\n  - name: app\n    image: busybox\n    resources:\n      requests:\n        cpu: \"1e-100000000\"\n"),
			`spec.containers[0].resources.requests[cpu]: Invalid value: "1e-100000000": must be a quantity such as 500m, 1, 128Mi; the exponent must be between -1000 and 1000`},
		{"endless quantity", podYAML("  containers:\n  - name: app\n    image: busybox\n    resources:\n      requests:\n        memory: \"0." + strings.Repeat("0", 100) + "1\"\n"),
			"spec.containers[0].resources.requests[memory]: Invalid value"},
		{"bad divisor in a projected volume", podYAML(oneContainer + "  volumes:\n  - name: v\n    projected:\n      sources:\n      - downwardAPI:\n          items:\n          - path: mem\n            resourceFieldRef:\n              containerName: app\n              resource: limits.memory\n              divisor: one\n"),
			`spec.volumes[0].projected.sources[0].downwardAPI.items[0].resourceFieldRef.divisor: Invalid value: "one"`},
		{"bad sizeLimit", podYAML(oneContainer + "  volumes:\n  - name: v\n    emptyDir:\n      sizeLimit: lots\n"),
			`spec.volumes[0].emptyDir.sizeLimit: Invalid value: "lots"`},
		{"spec not an object", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec: [1]\n",
			"spec: Invalid value: array: must be of type v1.PodSpec"},
		{"string for a bool", podYAML("  hostNetwork: \"yes\"\n" + oneContainer),
			"spec.hostNetwork: Invalid value: string: must be of type bool"},
		{"number for a list in an embedded struct", podYAML("  containers:\n  - name: app\n    image: busybox\n    startupProbe:\n      exec:\n        command: 5\n"),
			"spec.containers.startupProbe.exec.command: Invalid value: number: must be of type []string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeManifest(testPath, []byte(tc.manifest), testNode)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), testPath) {
				t.Errorf("error = %v, want it to name the file and contain %q", err, tc.want)
			}
		})
	}
}

func TestDecodeManifest_FileShape(t *testing.T) {
	for _, tc := range []struct {
		name, manifest, want string
	}{
		{"empty", "", "the file is empty"},
		{"only comments", "# nothing yet\n", "the file is empty"},
		{"two documents", podYAML(oneContainer) + "---\n" + podYAML(oneContainer), "holds 2 YAML documents"},
		{"not YAML", "apiVersion: v1\nkind: Pod\nmetadata: [\n", "not valid YAML or JSON"},
		{"half-written JSON", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":`, "not valid YAML or JSON"},
		{"not a Pod", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n", `kind: Unsupported value: "Deployment": supported values: "Pod"`},
		{"no kind", "apiVersion: v1\nmetadata:\n  name: web\nspec:\n" + oneContainer, `kind: Required value`},
		{"wrong version", "apiVersion: v2\nkind: Pod\nmetadata:\n  name: web\nspec:\n" + oneContainer, `apiVersion: Unsupported value: "v2"`},
		{"no apiVersion", "kind: Pod\nmetadata:\n  name: web\nspec:\n" + oneContainer, `apiVersion: Required value`},
		{"a list", "apiVersion: v1\nkind: PodList\nitems: []\n", `kind: Unsupported value: "PodList"`},
		{"a YAML sequence", "- name: web\n", "not a YAML or JSON object"},
		{"a scalar", "hello\n", "not a YAML or JSON object"},
		{"too big", podYAML(oneContainer) + "# " + strings.Repeat("x", maxManifestSize), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeManifest(testPath, []byte(tc.manifest), testNode)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// A trailing document separator is not a second document.
	mustDecode(t, "---\n"+podYAML(oneContainer)+"---\n")
}

func TestDecodeManifest_ErrorsAreManifestErrors(t *testing.T) {
	_, err := DecodeManifest(testPath, []byte(podYAML("  containers:\n  - name: Bad_Name\n    image: busybox\n")), testNode)
	var merr *ManifestError
	if !errors.As(err, &merr) {
		t.Fatalf("error %T is not a *ManifestError", err)
	}
	if merr.Path != testPath || len(merr.Fields) == 0 || merr.Fields[0].Field != "spec.containers[0].name" {
		t.Errorf("ManifestError = %+v", merr)
	}
	if _, err := DecodeManifest(testPath, []byte(podYAML(oneContainer)), ""); err == nil {
		t.Errorf("an empty node name must be an error")
	}
}

// badManifests are manifests the API server or the kubelet refuses, each
// with a fragment the error must contain.
var badManifests = []struct {
	name, manifest, want string
}{
	// Names.
	{"no name", "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n" + oneContainer, "metadata.name: Required value: name or generateName is required"},
	{"name not a subdomain", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Web_1\nspec:\n" + oneContainer, `metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain`},
	{"name too long with the node", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + strings.Repeat("a", 250) + "\nspec:\n" + oneContainer, `the static pod's name "` + strings.Repeat("a", 250) + `-node-1" (<metadata.name>-<nodeName>) is invalid`},
	{"bad namespace", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: Kube.System\nspec:\n" + oneContainer, `metadata.namespace: Invalid value: "Kube.System"`},
	{"bad label", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: \"-x-\"\nspec:\n" + oneContainer, `metadata.labels: Invalid value: "-x-"`},
	{"bad annotation key", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    \"a b\": x\nspec:\n" + oneContainer, `metadata.annotations: Invalid value: "a b"`},
	// Containers.
	{"no containers", podYAML("  restartPolicy: Always\n"), "spec.containers: Required value"},
	{"container name missing", podYAML("  containers:\n  - image: busybox\n"), "spec.containers[0].name: Required value"},
	{"container name not a label", podYAML("  containers:\n  - name: my.app\n    image: busybox\n"), `spec.containers[0].name: Invalid value: "my.app": must not contain dots`},
	{"duplicate container names", podYAML("  containers:\n  - name: app\n    image: busybox\n  - name: app\n    image: busybox\n"), `spec.containers[1].name: Duplicate value: "app"`},
	{"init and app share a name", podYAML("  initContainers:\n  - name: app\n    image: busybox\n" + oneContainer), `spec.initContainers[0].name: Duplicate value: "app"`},
	{"image missing", podYAML("  containers:\n  - name: app\n"), "spec.containers[0].image: Required value"},
	{"image with spaces", podYAML("  containers:\n  - name: app\n    image: \" busybox\"\n"), "spec.containers[0].image: Invalid value: \" busybox\": must not have leading or trailing whitespace"},
	{"bad pull policy", podYAML("  containers:\n  - name: app\n    image: busybox\n    imagePullPolicy: Sometimes\n"), `spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`},
	{"bad termination message policy", podYAML("  containers:\n  - name: app\n    image: busybox\n    terminationMessagePolicy: Logs\n"), `spec.containers[0].terminationMessagePolicy: Unsupported value: "Logs"`},
	// Ports.
	{"port zero", podYAML("  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 0\n"), "spec.containers[0].ports[0].containerPort: Required value"},
	{"port too big", podYAML("  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 70000\n"), "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
	{"host port negative", podYAML("  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 80\n      hostPort: -1\n"), "spec.containers[0].ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive"},
	{"bad protocol", podYAML("  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 80\n      protocol: HTTP\n"), `spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`},
	{"bad port name", podYAML("  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 80\n      name: http_web\n"), `spec.containers[0].ports[0].name: Invalid value: "http_web"`},
	{"duplicate port name", podYAML("  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 80\n      name: http\n    - containerPort: 81\n      name: http\n"), `spec.containers[0].ports[1].name: Duplicate value: "http"`},
	{"duplicate container port", podYAML("  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 80\n    - containerPort: 80\n"), `spec.containers[0].ports[1].containerPort: Duplicate value: "80/TCP"`},
	{"host port clash between containers", podYAML("  containers:\n  - name: a\n    image: busybox\n    ports:\n    - containerPort: 80\n      hostPort: 8080\n  - name: b\n    image: busybox\n    ports:\n    - containerPort: 81\n      hostPort: 8080\n"), `spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"`},
	{"hostNetwork port mismatch", podYAML("  hostNetwork: true\n  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 80\n      hostPort: 8080\n"), "spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"},
	// Probes and hooks.
	{"probe without handler", podYAML("  containers:\n  - name: app\n    image: busybox\n    livenessProbe:\n      periodSeconds: 5\n"), "spec.containers[0].livenessProbe: Required value: must specify a handler type"},
	{"probe with two handlers", podYAML("  containers:\n  - name: app\n    image: busybox\n    readinessProbe:\n      exec:\n        command: [\"true\"]\n      tcpSocket:\n        port: 80\n"), "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"},
	{"probe port out of range", podYAML("  containers:\n  - name: app\n    image: busybox\n  - name: web\n    image: nginx\n    livenessProbe:\n      httpGet:\n        port: 0\n"), "spec.containers[1].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"},
	{"probe names a port the container lacks", podYAML("  containers:\n  - name: app\n    image: busybox\n    ports:\n    - containerPort: 80\n      name: http\n    livenessProbe:\n      httpGet:\n        port: metrics\n"), `spec.containers[0].livenessProbe.httpGet.port: Not found: "metrics": container "app" has no port with this name`},
	{"exec without command", podYAML("  containers:\n  - name: app\n    image: busybox\n    startupProbe:\n      exec: {}\n"), "spec.containers[0].startupProbe.exec.command: Required value"},
	{"liveness success threshold", podYAML("  containers:\n  - name: app\n    image: busybox\n    livenessProbe:\n      successThreshold: 2\n      tcpSocket:\n        port: 80\n"), "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"},
	{"negative period", podYAML("  containers:\n  - name: app\n    image: busybox\n    readinessProbe:\n      periodSeconds: -1\n      tcpSocket:\n        port: 80\n"), "spec.containers[0].readinessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0"},
	{"readiness grace period", podYAML("  containers:\n  - name: app\n    image: busybox\n    readinessProbe:\n      terminationGracePeriodSeconds: 5\n      tcpSocket:\n        port: 80\n"), "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes"},
	{"bad http scheme", podYAML("  containers:\n  - name: app\n    image: busybox\n    livenessProbe:\n      httpGet:\n        port: 80\n        scheme: FTP\n"), `spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value: "FTP"`},
	{"grpc port", podYAML("  containers:\n  - name: app\n    image: busybox\n    livenessProbe:\n      grpc:\n        port: 99999\n"), "spec.containers[0].livenessProbe.grpc.port: Invalid value: 99999"},
	{"sleep longer than grace", podYAML("  terminationGracePeriodSeconds: 10\n  containers:\n  - name: app\n    image: busybox\n    lifecycle:\n      preStop:\n        sleep:\n          seconds: 20\n"), "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 20: must be non-negative and less than terminationGracePeriodSeconds (10)"},
	{"hook without handler", podYAML("  containers:\n  - name: app\n    image: busybox\n    lifecycle:\n      postStart: {}\n"), "spec.containers[0].lifecycle.postStart: Required value: must specify a handler type"},
	{"probe on plain init container", podYAML("  initContainers:\n  - name: setup\n    image: busybox\n    livenessProbe:\n      exec:\n        command: [\"true\"]\n" + oneContainer), "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"},
	{"sidecar probe checked", podYAML("  initContainers:\n  - name: proxy\n    image: envoy\n    restartPolicy: Always\n    readinessProbe:\n      httpGet:\n        port: 0\n" + oneContainer), "spec.initContainers[0].readinessProbe.httpGet.port: Invalid value: 0"},
	{"stopSignal without spec.os", podYAML("  containers:\n  - name: app\n    image: busybox\n    lifecycle:\n      stopSignal: SIGUSR1\n"), "spec.containers[0].lifecycle.stopSignal: Forbidden: may not be set for containers with empty `spec.os.name`"},
	{"stopSignal not a signal", podYAML("  os:\n    name: linux\n  containers:\n  - name: app\n    image: busybox\n    lifecycle:\n      stopSignal: SIGNOPE\n"), `spec.containers[0].lifecycle.stopSignal: Unsupported value: "SIGNOPE": supported values: "SIGABRT", "SIGALRM"`},
	{"stopSignal on this runtime", podYAML("  os:\n    name: linux\n  containers:\n  - name: app\n    image: busybox\n    lifecycle:\n      stopSignal: SIGUSR1\n"), "spec.containers[0].lifecycle.stopSignal: Forbidden: not supported by this node's container runtime (containerd 1.6 ignores the CRI stop signal"},
	// Restart policies.
	{"bad restartPolicy", podYAML("  restartPolicy: Sometimes\n" + oneContainer), `spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`},
	{"container restartPolicy on app container", podYAML("  containers:\n  - name: app\n    image: busybox\n    restartPolicy: Always\n"), "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"},
	{"init restartPolicy not Always", podYAML("  initContainers:\n  - name: setup\n    image: busybox\n    restartPolicy: OnFailure\n" + oneContainer), `spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": supported values: "Always"`},
	{"bad dnsPolicy", podYAML("  dnsPolicy: Google\n" + oneContainer), `spec.dnsPolicy: Unsupported value: "Google"`},
	{"dnsPolicy None without config", podYAML("  dnsPolicy: None\n" + oneContainer), "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"},
	{"negative grace period", podYAML("  terminationGracePeriodSeconds: -1\n" + oneContainer), "spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"},
	{"activeDeadlineSeconds zero", podYAML("  activeDeadlineSeconds: 0\n" + oneContainer), "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"},
	// Resources.
	{"request above limit", podYAML("  containers:\n  - name: app\n    image: busybox\n    resources:\n      requests:\n        cpu: \"2\"\n      limits:\n        cpu: \"1\"\n"), `spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`},
	{"negative memory", podYAML("  containers:\n  - name: app\n    image: busybox\n    resources:\n      requests:\n        memory: -1Mi\n"), `spec.containers[0].resources.requests[memory]: Invalid value: "-1Mi": must be greater than or equal to 0`},
	{"unknown resource", podYAML("  containers:\n  - name: app\n    image: busybox\n    resources:\n      limits:\n        gpu: \"1\"\n"), `spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers`},
	{"fractional extended resource", podYAML("  containers:\n  - name: app\n    image: busybox\n    resources:\n      limits:\n        example.com/dongle: 500m\n"), `spec.containers[0].resources.limits[example.com/dongle]: Invalid value: "500m": must be an integer`},
	// Volumes and mounts.
	{"duplicate volume names", podYAML(oneContainer + "  volumes:\n  - name: data\n    emptyDir: {}\n  - name: data\n    emptyDir: {}\n"), `spec.volumes[1].name: Duplicate value: "data"`},
	{"bad volume name", podYAML(oneContainer + "  volumes:\n  - name: Data\n    emptyDir: {}\n"), `spec.volumes[0].name: Invalid value: "Data"`},
	{"two volume types", podYAML(oneContainer + "  volumes:\n  - name: data\n    emptyDir: {}\n    hostPath:\n      path: /data\n"), "spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type"},
	{"mount of an undeclared volume", podYAML("  containers:\n  - name: app\n    image: busybox\n    volumeMounts:\n    - name: data\n      mountPath: /data\n"), `spec.containers[0].volumeMounts[0].name: Not found: "data"`},
	{"mount path missing", podYAML("  containers:\n  - name: app\n    image: busybox\n    volumeMounts:\n    - name: data\n  volumes:\n  - name: data\n"), "spec.containers[0].volumeMounts[0].mountPath: Required value"},
	{"mount path twice", podYAML("  containers:\n  - name: app\n    image: busybox\n    volumeMounts:\n    - name: a\n      mountPath: /data\n    - name: b\n      mountPath: /data\n  volumes:\n  - name: a\n  - name: b\n"), `spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique`},
	{"subPath escapes", podYAML("  containers:\n  - name: app\n    image: busybox\n    volumeMounts:\n    - name: a\n      mountPath: /data\n      subPath: ../etc\n  volumes:\n  - name: a\n"), `spec.containers[0].volumeMounts[0].subPath: Invalid value: "../etc": must not contain '..'`},
	{"bidirectional without privilege", podYAML("  containers:\n  - name: app\n    image: busybox\n    volumeMounts:\n    - name: a\n      mountPath: /data\n      mountPropagation: Bidirectional\n  volumes:\n  - name: a\n"), "Bidirectional mount propagation is available only to privileged containers"},
	{"bad hostPath type", podYAML(oneContainer + "  volumes:\n  - name: h\n    hostPath:\n      path: /var/run/x.sock\n      type: Sock\n"), `spec.volumes[0].hostPath.type: Unsupported value: "Sock": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"`},
	{"hostPath without path", podYAML(oneContainer + "  volumes:\n  - name: h\n    hostPath:\n      type: Directory\n"), "spec.volumes[0].hostPath.path: Required value"},
	{"hostPath with ..", podYAML(oneContainer + "  volumes:\n  - name: h\n    hostPath:\n      path: /var/../etc\n"), `spec.volumes[0].hostPath.path: Invalid value: "/var/../etc": must not contain '..'`},
	{"bad emptyDir medium", podYAML(oneContainer + "  volumes:\n  - name: e\n    emptyDir:\n      medium: Disk\n"), `spec.volumes[0].emptyDir.medium: Unsupported value: "Disk": supported values: "", "Memory"`},
	{"FQDN hostname with a subdomain", podYAML(oneContainer + "  subdomain: web\n  setHostnameAsFQDN: true\n"), `spec.setHostnameAsFQDN: Forbidden: this node has no cluster domain`},
	{"hugepages emptyDir", podYAML(oneContainer + "  volumes:\n  - name: e\n    emptyDir:\n      medium: HugePages\n"), `spec.volumes[0].emptyDir.medium: Invalid value: "HugePages": this node does not mount hugetlbfs volumes for pods`},
	{"downwardAPI bad field", podYAML(oneContainer + "  volumes:\n  - name: d\n    downwardAPI:\n      items:\n      - path: x\n        fieldRef:\n          fieldPath: spec.nodeName\n"), `spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value: "spec.nodeName"`},
	// Environment.
	{"env without name", podYAML("  containers:\n  - name: app\n    image: busybox\n    env:\n    - value: x\n"), "spec.containers[0].env[0].name: Required value"},
	{"env value and valueFrom", podYAML("  containers:\n  - name: app\n    image: busybox\n    env:\n    - name: A\n      value: x\n      valueFrom:\n        fieldRef:\n          fieldPath: metadata.name\n"), "spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty"},
	{"env bad fieldPath", podYAML("  containers:\n  - name: app\n    image: busybox\n    env:\n    - name: A\n      valueFrom:\n        fieldRef:\n          fieldPath: spec.hostname\n"), `spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.hostname"`},
	// What a static pod may not reference.
	{"secret volume", podYAML(oneContainer + "  volumes:\n  - name: s\n    secret:\n      secretName: creds\n"), "spec.volumes[0].secret: Forbidden: static pods may not reference secrets: the API server rejects mirror pods that reference API objects"},
	{"configMap volume", podYAML(oneContainer + "  volumes:\n  - name: c\n    configMap:\n      name: conf\n"), "spec.volumes[0].configMap: Forbidden: static pods may not reference configmaps"},
	{"persistentVolumeClaim volume", podYAML(oneContainer + "  volumes:\n  - name: p\n    persistentVolumeClaim:\n      claimName: data\n"), "spec.volumes[0].persistentVolumeClaim: Forbidden: static pods may not reference persistentvolumeclaims"},
	{"projected token", podYAML(oneContainer + "  volumes:\n  - name: t\n    projected:\n      sources:\n      - serviceAccountToken:\n          path: token\n"), "spec.volumes[0].projected.sources[0].serviceAccountToken: Forbidden: static pods may not reference serviceaccounts (via projected volumes)"},
	{"service account", podYAML("  serviceAccountName: default\n" + oneContainer), "spec.serviceAccountName: Forbidden: static pods may not reference serviceaccounts"},
	{"deprecated service account", podYAML("  serviceAccount: builder\n" + oneContainer), "spec.serviceAccount"},
	{"env from secret", podYAML("  containers:\n  - name: app\n    image: busybox\n    env:\n    - name: P\n      valueFrom:\n        secretKeyRef:\n          name: creds\n          key: password\n"), "spec.containers[0].env[0].valueFrom.secretKeyRef: Forbidden: static pods may not reference secrets"},
	{"envFrom configMap", podYAML("  containers:\n  - name: app\n    image: busybox\n    envFrom:\n    - configMapRef:\n        name: conf\n"), "spec.containers[0].envFrom[0].configMapRef: Forbidden: static pods may not reference configmaps"},
	{"image pull secret", podYAML("  imagePullSecrets:\n  - name: regcred\n" + oneContainer), "spec.imagePullSecrets: Forbidden: static pods may not reference secrets"},
	// Other pod fields.
	{"ephemeral containers", podYAML(oneContainer + "  ephemeralContainers:\n  - name: debug\n    image: busybox\n"), "spec.ephemeralContainers: Forbidden: cannot be set on create"},
	{"windows pod", podYAML("  os:\n    name: windows\n" + oneContainer), `spec.os.name: Unsupported value: "windows": supported values: "linux"`},
	{"scheduling gates", podYAML("  schedulingGates:\n  - name: example.com/wait\n" + oneContainer), "spec.schedulingGates: Forbidden"},
	{"bad toleration operator", podYAML("  tolerations:\n  - key: a\n    operator: Maybe\n" + oneContainer), `spec.tolerations[0].operator: Unsupported value: "Maybe"`},
	{"bad hostname", podYAML("  hostname: My_Host\n" + oneContainer), `spec.hostname: Invalid value: "My_Host"`},
	{"bad runAsUser", podYAML("  securityContext:\n    runAsUser: -5\n" + oneContainer), "spec.securityContext.runAsUser: Invalid value: -5"},
	{"privileged without escalation", podYAML("  containers:\n  - name: app\n    image: busybox\n    securityContext:\n      privileged: true\n      allowPrivilegeEscalation: false\n"), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"},
	{"bad sysctl", podYAML("  securityContext:\n    sysctls:\n    - name: \"net..ipv4\"\n      value: \"1\"\n" + oneContainer), `spec.securityContext.sysctls[0].name: Invalid value: "net..ipv4"`},
	{"bad hostAlias IP", podYAML("  hostAliases:\n  - ip: 300.1.1.1\n    hostnames: [a]\n" + oneContainer), `spec.hostAliases[0].ip: Invalid value: "300.1.1.1"`},
}

func TestDecodeManifest_RejectsWhatTheAPIServerOrKubeletRejects(t *testing.T) {
	if len(badManifests) < 40 {
		t.Fatalf("only %d bad manifests; keep at least 40", len(badManifests))
	}
	for _, tc := range badManifests {
		t.Run(tc.name, func(t *testing.T) {
			pod, err := DecodeManifest(testPath, []byte(tc.manifest), testNode)
			if err == nil {
				t.Fatalf("accepted, want an error containing %q; pod: %+v", tc.want, pod.Spec)
			}
			if !strings.HasPrefix(err.Error(), testPath+": ") {
				t.Errorf("error %q does not start with the file's path", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %s\ndoes not contain\n  %s", err, tc.want)
			}
		})
	}
}

func TestDecodeManifest_AcceptsWhatAStaticPodMayUse(t *testing.T) {
	pod := mustDecode(t, podYAML(`  hostNetwork: true
  priorityClassName: system-node-critical
  securityContext:
    runAsUser: 1000
    sysctls:
    - name: kernel.shm_rmid_forced
      value: "1"
  initContainers:
  - name: proxy
    image: envoy:v1.30
    restartPolicy: Always
    ports:
    - containerPort: 9901
      name: admin
    readinessProbe:
      httpGet:
        port: admin
    lifecycle:
      preStop:
        sleep:
          seconds: 5
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "sleep 3600"]
    ports:
    - containerPort: 8080
      name: http
    - containerPort: 8080
      protocol: UDP
    livenessProbe:
      tcpSocket:
        port: http
    env:
    - name: NODE
      valueFrom:
        fieldRef:
          fieldPath: spec.nodeName
    - name: LIMIT
      valueFrom:
        resourceFieldRef:
          resource: limits.memory
          divisor: 1Mi
    - name: my.dotted-name
      value: x
    resources:
      requests:
        cpu: 100m
        memory: 64Mi
      limits:
        memory: 128Mi
        example.com/dongle: "1"
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
    - name: info
      mountPath: /etc/podinfo
      readOnly: true
    - name: cache
      mountPath: /cache
      subPath: app
  volumes:
  - name: logs
    hostPath:
      path: /var/log/app
      type: DirectoryOrCreate
  - name: info
    projected:
      sources:
      - downwardAPI:
          items:
          - path: labels
            fieldRef:
              fieldPath: metadata.labels
  - name: cache
    emptyDir:
      medium: Memory
      sizeLimit: 64Mi
`))
	if got := pod.Spec.InitContainers[0].ReadinessProbe.HTTPGet.Port; got != intstr.FromString("admin") {
		t.Errorf("named probe port = %v", got)
	}
}

func TestImageTag(t *testing.T) {
	for image, want := range map[string]string{
		"busybox":                         "latest",
		"busybox:1.36":                    "1.36",
		"busybox:latest":                  "latest",
		"localhost:5000/busybox":          "latest",
		"localhost:5000/busybox:v2":       "v2",
		"busybox@sha256:abc":              "",
		"busybox:1.36@sha256:abc":         "1.36",
		"registry.example.com/a/b/c:edge": "edge",
	} {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestFieldChanges(t *testing.T) {
	old := mustDecode(t, podYAML(`  containers:
  - name: app
    image: busybox:1.36
    env:
    - name: A
      value: "1"
    resources:
      limits:
        cpu: "0.5"
`))
	edited := mustDecode(t, strings.NewReplacer(`value: "1"`, `value: "2"`, `cpu: "0.5"`, `cpu: 500m`, "  name: web\n", "  name: web\n  labels:\n    app: web\n").Replace(podYAML(`  containers:
  - name: app
    image: busybox:1.36
    env:
    - name: A
      value: "1"
    resources:
      limits:
        cpu: "0.5"
`)+"  - name: extra\n    image: busybox\n"))
	got := FieldChanges(old, edited)
	want := []string{"metadata.labels[app]", "spec.containers[0].env[0].value", "spec.containers[1]"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("FieldChanges = %v, want %v", got, want)
	}
	if got := FieldChanges(old, old.DeepCopy()); len(got) != 0 {
		t.Errorf("FieldChanges of equal pods = %v", got)
	}
}
