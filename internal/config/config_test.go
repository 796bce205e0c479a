package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func d(v time.Duration) metav1.Duration { return metav1.Duration{Duration: v} }

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    Config
		wantErr []string // substrings; the file's path is always expected too
	}{
		{name: "empty file", content: ""},
		{
			name: "every field",
			content: `staticPodPath: /etc/manifests
containerRuntimeEndpoint: unix:///run/c.sock
hostnameOverride: Node1
rootDir: /var/lib/mk
apiSocket: /run/mk.sock
podLogsDir: /var/log/mk
fileCheckFrequency: 20s
runtimeRequestTimeout: 1m30s
crashLoopBackOff:
  initialContainerRestartPeriod: 500ms
  maxContainerRestartPeriod: 1h
logLevel: debug
`,
			want: Config{
				StaticPodPath:            "/etc/manifests",
				ContainerRuntimeEndpoint: "unix:///run/c.sock",
				HostnameOverride:         "Node1",
				RootDir:                  "/var/lib/mk",
				APISocket:                "/run/mk.sock",
				PodLogsDir:               "/var/log/mk",
				FileCheckFrequency:       d(20 * time.Second),
				RuntimeRequestTimeout:    d(90 * time.Second),
				CrashLoopBackOff:         CrashLoopBackOff{InitialContainerRestartPeriod: d(500 * time.Millisecond), MaxContainerRestartPeriod: d(time.Hour)},
				LogLevel:                 "debug",
			},
		},
		{name: "JSON works too", content: `{"staticPodPath": "/m", "fileCheckFrequency": "5s"}`, want: Config{StaticPodPath: "/m", FileCheckFrequency: d(5 * time.Second)}},
		{name: "unknown field", content: "staticPodPath: /m\nstaticPodDir: /x\n", wantErr: []string{"staticPodDir"}},
		{name: "unknown nested field", content: "crashLoopBackOff:\n  maxRestartPeriod: 1m\n", wantErr: []string{"maxRestartPeriod"}},
		{name: "bad duration", content: "fileCheckFrequency: often\n", wantErr: []string{"often"}},
		{name: "duration without unit", content: "fileCheckFrequency: 20\n", wantErr: []string{"fileCheckFrequency"}},
		{name: "not YAML", content: "staticPodPath: [\n", wantErr: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			got, _, err := Load(path)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Load = %+v, nil; want an error", got)
				}
				for _, s := range append(tt.wantErr, path) {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Load = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLoad_MissingFileNamesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, _, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error = %v, want a not-exist error naming %s", err, path)
	}
}

// allDefaults is what WithDefaults gives an empty Config.
func allDefaults() Config {
	i32 := func(v int32) *int32 { return &v }
	return Config{
		StaticPodPath:               DefaultStaticPodPath,
		ContainerRuntimeEndpoint:    DefaultContainerRuntimeEndpoint,
		RootDir:                     DefaultRootDir,
		APISocket:                   DefaultAPISocket,
		PodLogsDir:                  DefaultPodLogsDir,
		FileCheckFrequency:          d(20 * time.Second),
		RuntimeRequestTimeout:       d(2 * time.Minute),
		CrashLoopBackOff:            CrashLoopBackOff{InitialContainerRestartPeriod: d(10 * time.Second), MaxContainerRestartPeriod: d(300 * time.Second)},
		CgroupRoot:                  DefaultCgroupRoot,
		LogLevel:                    "info",
		Port:                        10260,
		Address:                     "127.0.0.1",
		Serving:                     Serving{KubeconfigPath: DefaultKubeconfigPath, KubeconfigMode: DefaultKubeconfigMode},
		HealthzBindAddress:          "127.0.0.1",
		HealthzPort:                 i32(10248),
		SyncFrequency:               d(time.Minute),
		MaxPods:                     110,
		ContainerLogMaxSize:         "10Mi",
		ContainerLogMaxFiles:        5,
		ContainerLogMonitorInterval: d(10 * time.Second),
		ImageGCHighThresholdPercent: i32(85),
		ImageGCLowThresholdPercent:  i32(80),
		ImageMinimumGCAge:           d(2 * time.Minute),
		EvictionHard:                map[string]string{"memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%", "imagefs.available": "15%", "imagefs.inodesFree": "5%"},
	}
}

func TestWithDefaults(t *testing.T) {
	zero := int32(0)
	set := Config{
		StaticPodPath:               "/m",
		ContainerRuntimeEndpoint:    "/run/c.sock",
		HostnameOverride:            "n1",
		RootDir:                     "/r",
		APISocket:                   "/a.sock",
		PodLogsDir:                  "/l",
		FileCheckFrequency:          d(time.Second),
		RuntimeRequestTimeout:       d(time.Second),
		CrashLoopBackOff:            CrashLoopBackOff{InitialContainerRestartPeriod: d(time.Second), MaxContainerRestartPeriod: d(time.Minute)},
		CgroupRoot:                  "/kube",
		LogLevel:                    "warn",
		Port:                        1,
		Address:                     "::1",
		Serving:                     Serving{KubeconfigPath: "/k", KubeconfigGroup: "0", KubeconfigMode: "0640"},
		HealthzBindAddress:          "0.0.0.0",
		HealthzPort:                 &zero,
		SyncFrequency:               d(time.Second),
		MaxPods:                     3,
		ContainerLogMaxSize:         "1Mi",
		ContainerLogMaxFiles:        2,
		ContainerLogMonitorInterval: d(time.Minute),
		ImageGCHighThresholdPercent: &zero,
		ImageGCLowThresholdPercent:  &zero,
		ImageMinimumGCAge:           d(time.Second),
		EvictionHard:                map[string]string{},
		Logging:                     Logging{Format: "json", Verbosity: 3},
	}
	negative := allDefaults()
	negative.FileCheckFrequency = d(-time.Second)
	verbose := allDefaults()
	verbose.LogLevel, verbose.Logging.Verbosity = "debug", 2
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{name: "empty gets every default", want: allDefaults()},
		{name: "set values are kept, a set 0 of a pointer too", in: set, want: set},
		{name: "negative durations are left for Validate", in: Config{FileCheckFrequency: d(-time.Second)}, want: negative},
		{name: "verbosity without logLevel is debug", in: Config{Logging: Logging{Verbosity: 2}}, want: verbose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			want := tt.want
			if got := tt.in.WithDefaults(); !reflect.DeepEqual(got, want) {
				t.Fatalf("WithDefaults = %+v\nwant %+v", got, want)
			}
			if !reflect.DeepEqual(in, tt.in) {
				t.Fatalf("WithDefaults changed its receiver")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string // every substring must appear; nil means valid
	}{
		{name: "defaults are valid"},
		{name: "endpoint as a path", mutate: func(c *Config) { c.ContainerRuntimeEndpoint = "/run/containerd/containerd.sock" }},
		{name: "hostnameOverride with capitals is lowercased", mutate: func(c *Config) { c.HostnameOverride = "Node-1.Example" }},
		{name: "every log level", mutate: func(c *Config) { c.LogLevel = "error" }},
		{name: "equal backoff periods", mutate: func(c *Config) {
			c.CrashLoopBackOff.InitialContainerRestartPeriod = d(time.Minute)
			c.CrashLoopBackOff.MaxContainerRestartPeriod = d(time.Minute)
		}},
		{name: "relative staticPodPath", mutate: func(c *Config) { c.StaticPodPath = "manifests" }, wantErr: []string{"staticPodPath", "absolute", `"manifests"`}},
		{name: "relative rootDir", mutate: func(c *Config) { c.RootDir = "./state" }, wantErr: []string{"rootDir", "absolute"}},
		{name: "relative apiSocket", mutate: func(c *Config) { c.APISocket = "mk.sock" }, wantErr: []string{"apiSocket", "absolute"}},
		{name: "relative podLogsDir", mutate: func(c *Config) { c.PodLogsDir = "logs" }, wantErr: []string{"podLogsDir", "absolute"}},
		{name: "tcp endpoint", mutate: func(c *Config) { c.ContainerRuntimeEndpoint = "tcp://127.0.0.1:1234" }, wantErr: []string{"containerRuntimeEndpoint", "unix", "tcp://127.0.0.1:1234"}},
		{name: "relative endpoint", mutate: func(c *Config) { c.ContainerRuntimeEndpoint = "containerd.sock" }, wantErr: []string{"containerRuntimeEndpoint"}},
		{name: "negative fileCheckFrequency", mutate: func(c *Config) { c.FileCheckFrequency = d(-time.Second) }, wantErr: []string{"fileCheckFrequency", "negative", "-1s"}},
		{name: "negative runtimeRequestTimeout", mutate: func(c *Config) { c.RuntimeRequestTimeout = d(-time.Second) }, wantErr: []string{"runtimeRequestTimeout", "negative"}},
		{name: "negative initial backoff", mutate: func(c *Config) { c.CrashLoopBackOff.InitialContainerRestartPeriod = d(-time.Second) }, wantErr: []string{"crashLoopBackOff.initialContainerRestartPeriod", "negative"}},
		{name: "negative max backoff", mutate: func(c *Config) { c.CrashLoopBackOff.MaxContainerRestartPeriod = d(-time.Second) }, wantErr: []string{"crashLoopBackOff.maxContainerRestartPeriod", "negative"}},
		{name: "max below initial", mutate: func(c *Config) {
			c.CrashLoopBackOff.InitialContainerRestartPeriod = d(time.Minute)
			c.CrashLoopBackOff.MaxContainerRestartPeriod = d(time.Second)
		}, wantErr: []string{"maxContainerRestartPeriod", "initialContainerRestartPeriod"}},
		{name: "graceful node shutdown", mutate: func(c *Config) {
			c.ShutdownGracePeriod = d(30 * time.Second)
			c.ShutdownGracePeriodCriticalPods = d(10 * time.Second)
		}},
		{name: "critical shutdown period over the whole", mutate: func(c *Config) {
			c.ShutdownGracePeriod = d(10 * time.Second)
			c.ShutdownGracePeriodCriticalPods = d(20 * time.Second)
		}, wantErr: []string{"shutdownGracePeriodCriticalPods", "shutdownGracePeriod 10s"}},
		{name: "negative shutdownGracePeriod", mutate: func(c *Config) { c.ShutdownGracePeriod = d(-time.Second) }, wantErr: []string{"shutdownGracePeriod -1s must be either zero or otherwise >= 1 sec"}},
		{name: "bad log level", mutate: func(c *Config) { c.LogLevel = "verbose" }, wantErr: []string{"logLevel", `"verbose"`}},
		{name: "log level is case-sensitive", mutate: func(c *Config) { c.LogLevel = "INFO" }, wantErr: []string{"logLevel"}},
		{name: "hostnameOverride with underscore", mutate: func(c *Config) { c.HostnameOverride = "node_1" }, wantErr: []string{"hostnameOverride", `"node_1"`}},
		{name: "hostnameOverride too long", mutate: func(c *Config) { c.HostnameOverride = strings.Repeat("a", 254) }, wantErr: []string{"hostnameOverride"}},
		{name: "every bad field is named", mutate: func(c *Config) {
			c.StaticPodPath = "m"
			c.PodLogsDir = "l"
			c.LogLevel = "loud"
		}, wantErr: []string{"staticPodPath", "podLogsDir", "logLevel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{}.WithDefaults()
			if tt.mutate != nil {
				tt.mutate(&c)
			}
			err := c.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want an error naming %q", tt.wantErr)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestNodeName(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skipf("no hostname: %v", err)
	}
	tests := []struct {
		name     string
		override string
		want     string
	}{
		{name: "override is lowercased", override: "Node-1.Example.COM", want: "node-1.example.com"},
		{name: "override is trimmed", override: "  node1\n", want: "node1"},
		{name: "hostname when no override", want: strings.ToLower(strings.TrimSpace(host))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Config{HostnameOverride: tt.override}.NodeName()
			if err != nil {
				t.Fatalf("NodeName: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("NodeName = %q, want %q", got, tt.want)
			}
		})
	}
}
