package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const newForm = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: /etc/manifests
maxPods: 7
imageGCHighThresholdPercent: 90
evictionHard:
  memory.available: 200Mi
crashLoopBackOff:
  maxContainerRestartPeriod: 1m
logging:
  format: json
  verbosity: 2
---
apiVersion: minikubelet.io/v1alpha1
kind: MinikubeletConfiguration
rootDir: /var/lib/mk
nodeLabels:
  zone: a
crashLoopBackOff:
  initialContainerRestartPeriod: 1s
`

func TestLoad_NewForm(t *testing.T) {
	c, warnings, err := Load(writeConfig(t, newForm))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %v, want none", warnings)
	}
	high := int32(90)
	want := Config{
		StaticPodPath:               "/etc/manifests",
		MaxPods:                     7,
		ImageGCHighThresholdPercent: &high,
		EvictionHard:                map[string]string{"memory.available": "200Mi"},
		CrashLoopBackOff:            CrashLoopBackOff{InitialContainerRestartPeriod: d(time.Second), MaxContainerRestartPeriod: d(time.Minute)},
		Logging:                     Logging{Format: "json", Verbosity: 2},
		RootDir:                     "/var/lib/mk",
		NodeLabels:                  map[string]string{"zone": "a"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Load = %+v\nwant %+v", c, want)
	}
}

func TestLoad_EitherDocumentAlone(t *testing.T) {
	for _, content := range []string{
		"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: 3\n",
		"---\napiVersion: minikubelet.io/v1alpha1\nkind: MinikubeletConfiguration\nmaxParallelImagePulls: 3\n",
	} {
		_, _, err := Load(writeConfig(t, content))
		if strings.Contains(content, "maxParallelImagePulls") {
			if err == nil || !strings.Contains(err.Error(), `"maxParallelImagePulls" is a kubelet field`) {
				t.Errorf("a kubelet field in the MinikubeletConfiguration: error %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", content, err)
		}
	}
}

func TestLoad_OldFormWorksWithADeprecationWarning(t *testing.T) {
	path := writeConfig(t, "staticPodPath: /m\nrootDir: /r\nlogLevel: debug\n")
	c, warnings, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.StaticPodPath != "/m" || c.RootDir != "/r" || c.LogLevel != "debug" {
		t.Errorf("Load = %+v", c)
	}
	if len(warnings) != 1 {
		t.Fatalf("warnings %v, want one", warnings)
	}
	for _, s := range []string{path, "deprecated", "apiVersion: kubelet.config.k8s.io/v1beta1", "kind: KubeletConfiguration", "minikubelet.io/v1alpha1", "--print-config"} {
		if !strings.Contains(warnings[0].String(), s) {
			t.Errorf("warning %q does not say %q", warnings[0], s)
		}
	}
}

func TestLoad_KubeletFieldNotActedOnIsWarnedOnceAndNotTaken(t *testing.T) {
	path := writeConfig(t, `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
enableServer: false
maxPods: 5
authentication:
  anonymous:
    enabled: true
logging:
  format: text
  flushFrequency: 5s
`)
	c, warnings, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, w := range warnings {
		if w.File != path || !strings.Contains(w.Message, "does not act on") {
			t.Errorf("warning %+v", w)
		}
		fields = append(fields, w.Field)
	}
	if want := []string{"authentication", "enableServer", "logging.flushFrequency"}; !reflect.DeepEqual(fields, want) {
		t.Errorf("warned fields %v, want %v", fields, want)
	}
	if c.MaxPods != 5 || c.Logging.Format != "text" {
		t.Errorf("Load = %+v", c)
	}
}

func TestLoad_Errors(t *testing.T) {
	const kubelet = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
	const own = "apiVersion: minikubelet.io/v1alpha1\nkind: MinikubeletConfiguration\n"
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{name: "unknown field", content: kubelet + "maxPod: 3\n", want: []string{"KubeletConfiguration", `unknown field "maxPod"`}},
		{name: "unknown nested field", content: kubelet + "logging:\n  formats: json\n", want: []string{`unknown field "logging.formats"`}},
		{name: "unknown field inside a kubelet field not acted on", content: kubelet + "authentication:\n  anonymous:\n    enable: true\n", want: []string{`unknown field "authentication.anonymous.enable"`}},
		{name: "unknown field in a list inside a kubelet field not acted on", content: kubelet + "registerWithTaints:\n- key: a\n  effect: NoSchedule\n  colour: red\n", want: []string{`unknown field "registerWithTaints[0].colour"`}},
		{name: "case matters", content: kubelet + "MaxPods: 3\n", want: []string{`unknown field "MaxPods"`}},
		{name: "a minikubelet field in the kubelet's document", content: kubelet + "rootDir: /r\n", want: []string{`unknown field "rootDir"`, "MinikubeletConfiguration", "minikubelet.io/v1alpha1"}},
		{name: "a nested minikubelet field in the kubelet's document", content: kubelet + "crashLoopBackOff:\n  initialContainerRestartPeriod: 1s\n", want: []string{`"crashLoopBackOff.initialContainerRestartPeriod"`, "MinikubeletConfiguration"}},
		{name: "a kubelet field in the minikubelet document", content: own + "maxPods: 3\n", want: []string{"MinikubeletConfiguration", `"maxPods" is a kubelet field`}},
		{name: "unknown minikubelet field", content: own + "rootDirectory: /r\n", want: []string{`unknown field "rootDirectory"`}},
		{name: "duplicate field", content: kubelet + "maxPods: 3\nmaxPods: 4\n", want: []string{"maxPods", "already set"}},
		{name: "duplicate field in the old form", content: "rootDir: /a\nrootDir: /b\n", want: []string{"rootDir", "already set"}},
		{name: "unknown field in the old form", content: "staticPodDir: /m\n", want: []string{`unknown field "staticPodDir"`}},
		{name: "bad type of an acted-on field", content: kubelet + "maxPods: many\n", want: []string{"maxPods"}},
		{name: "bad type of a field not acted on", content: kubelet + "enableServer: maybe\n", want: []string{"enableServer"}},
		{name: "bad duration", content: kubelet + "syncFrequency: often\n", want: []string{"often"}},
		{name: "unknown kind", content: "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfig\n", want: []string{"document 1", `"KubeletConfig"`, "KubeletConfiguration"}},
		{name: "old apiVersion", content: "apiVersion: kubelet.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n", want: []string{`"kubelet.config.k8s.io/v1alpha1"`}},
		{name: "two kubelet documents", content: kubelet + "---\n" + kubelet, want: []string{"document 2", "a second KubeletConfiguration"}},
		{name: "an untyped document beside a typed one", content: kubelet + "---\nrootDir: /r\n", want: []string{"document 2", "no apiVersion"}},
		{name: "not a mapping", content: "- a\n- b\n", want: []string{"document 1", "not a mapping"}},
		{name: "not YAML", content: "maxPods: [\n", want: []string{"not valid YAML"}},
		{name: "every bad field is named", content: kubelet + "a: 1\nb: 2\n", want: []string{`"a"`, `"b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			c, _, err := Load(path)
			if err == nil {
				t.Fatalf("Load = %+v, nil; want an error", c)
			}
			for _, s := range append(tt.want, path) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestPrint_RoundTrips(t *testing.T) {
	loaded, _, err := Load(writeConfig(t, newForm))
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{"defaults": Config{}.WithDefaults(), "the new form": loaded.WithDefaults()} {
		t.Run(name, func(t *testing.T) {
			out, err := c.Print()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(out), "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n") ||
				!strings.Contains(string(out), "\n---\napiVersion: minikubelet.io/v1alpha1\nkind: MinikubeletConfiguration\n") {
				t.Fatalf("Print =\n%s", out)
			}
			back, warnings, err := Load(writeConfig(t, string(out)))
			if err != nil || len(warnings) > 0 {
				t.Fatalf("Load(Print) = %v, %v\n%s", warnings, err, out)
			}
			if back = back.WithDefaults(); !reflect.DeepEqual(back, c) {
				t.Fatalf("Load(Print) = %+v\nwant %+v\n%s", back, c, out)
			}
		})
	}
}

func TestPrint_KubeletFieldsInTheKubeletDocument(t *testing.T) {
	out, err := Config{}.WithDefaults().Print()
	if err != nil {
		t.Fatal(err)
	}
	kubelet, own, _ := strings.Cut(string(out), "---\n")
	for _, s := range []string{"maxPods: 110", "containerLogMaxSize: 10Mi", "imageGCHighThresholdPercent: 85", "nodefs.available: 10%", "syncFrequency: 1m0s", "healthzPort: 10248"} {
		if !strings.Contains(kubelet, s) {
			t.Errorf("KubeletConfiguration has no %q:\n%s", s, kubelet)
		}
	}
	for _, s := range []string{"rootDir: /var/lib/minikubelet", "apiSocket:", "logLevel: info", "initialContainerRestartPeriod: 10s"} {
		if !strings.Contains(own, s) {
			t.Errorf("MinikubeletConfiguration has no %q:\n%s", s, own)
		}
	}
}

// TestSchema_SharedFieldsHaveTheKubeletsShape guards the split of a
// document by field name: a field Config shares with the kubelet is a
// struct in both or a leaf in both.
func TestSchema_SharedFieldsHaveTheKubeletsShape(t *testing.T) {
	var check func(own, kubelet schema, prefix string)
	check = func(own, kubelet schema, prefix string) {
		for k, cs := range own {
			ks, ok := kubelet[k]
			if !ok {
				continue
			}
			if (cs == nil) != (ks == nil) {
				t.Errorf("%s%s: a struct in one of Config and KubeletConfiguration, not in the other", prefix, k)
				continue
			}
			if cs != nil {
				check(cs, ks, prefix+k+".")
			}
		}
	}
	check(configSchema, kubeletSchema, "")
	for _, f := range []string{"maxPods", "evictionHard", "logging", "crashLoopBackOff", "staticPodPath"} {
		if _, ok := kubeletSchema[f]; !ok {
			t.Errorf("kubeletSchema has no %s", f)
		}
	}
	if _, ok := kubeletSchema["logging"]["format"]; !ok {
		t.Errorf("kubeletSchema has no logging.format: %v", kubeletSchema["logging"])
	}
}

func TestDeployConfig_LoadsWithoutWarnings(t *testing.T) {
	path := filepath.Join("..", "..", "deploy", "config.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	c, warnings, err := Load(path)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Load(%s) = %v, %v", path, warnings, err)
	}
	if err := c.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
}
