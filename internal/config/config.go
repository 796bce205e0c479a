package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults, the kubelet's where it has one.
const (
	DefaultStaticPodPath            = "/etc/kubernetes/manifests"
	DefaultContainerRuntimeEndpoint = "unix:///run/containerd/containerd.sock"
	DefaultRootDir                  = "/var/lib/minikubelet"
	DefaultAPISocket                = "/run/minikubelet/minikubelet.sock"
	DefaultPodLogsDir               = "/var/log/pods"
	DefaultFileCheckFrequency       = 20 * time.Second
	DefaultRuntimeRequestTimeout    = 2 * time.Minute
	DefaultBackoffInitial           = 10 * time.Second
	DefaultBackoffMax               = 300 * time.Second
	DefaultCgroupRoot               = "/"

	DefaultHealthzBindAddress          = "127.0.0.1"
	DefaultHealthzPort                 = 10248
	DefaultSyncFrequency               = time.Minute
	DefaultMaxPods                     = 110
	DefaultContainerLogMaxSize         = "10Mi"
	DefaultContainerLogMaxFiles        = 5
	DefaultContainerLogMonitorInterval = 10 * time.Second
	DefaultImageGCHighThresholdPercent = 85
	DefaultImageGCLowThresholdPercent  = 80
	DefaultImageMinimumGCAge           = 2 * time.Minute
)

// DefaultEvictionHard returns the kubelet's hard eviction thresholds on
// Linux (k8s.io/kubelet/config/v1beta1, evictionHard).
func DefaultEvictionHard() map[string]string {
	return map[string]string{
		"memory.available":   "100Mi",
		"nodefs.available":   "10%",
		"nodefs.inodesFree":  "5%",
		"imagefs.available":  "15%",
		"imagefs.inodesFree": "5%",
	}
}

// Config is the daemon's configuration.
type Config struct {
	// StaticPodPath is the directory of pod manifests.
	StaticPodPath string `json:"staticPodPath,omitempty"`
	// ContainerRuntimeEndpoint is the CRI socket.
	ContainerRuntimeEndpoint string `json:"containerRuntimeEndpoint,omitempty"`
	// HostnameOverride names the node instead of the hostname.
	HostnameOverride string `json:"hostnameOverride,omitempty"`
	// RootDir holds the daemon's state (emptyDir volumes, ...).
	RootDir string `json:"rootDir,omitempty"`
	// APISocket is the unix socket of the local API.
	APISocket string `json:"apiSocket,omitempty"`
	// PodLogsDir is the root of the pods' log directories.
	PodLogsDir string `json:"podLogsDir,omitempty"`
	// FileCheckFrequency is the period of the full rescan of StaticPodPath.
	FileCheckFrequency metav1.Duration `json:"fileCheckFrequency,omitempty"`
	// RuntimeRequestTimeout bounds each CRI call.
	RuntimeRequestTimeout metav1.Duration `json:"runtimeRequestTimeout,omitempty"`
	// CrashLoopBackOff shapes the container restart backoff.
	CrashLoopBackOff CrashLoopBackOff `json:"crashLoopBackOff,omitempty"`
	// NodeLabels are the node's labels beyond the well-known ones the
	// kubelet sets (kubernetes.io/hostname, kubernetes.io/os,
	// kubernetes.io/arch), as its --node-labels; node selectors and node
	// affinity are matched against them.
	NodeLabels map[string]string `json:"nodeLabels,omitempty"`
	// CgroupRoot is the cgroup (cgroupfs name) under which the kubepods
	// hierarchy and the pod cgroups are made, as the kubelet's cgroupRoot.
	CgroupRoot string `json:"cgroupRoot,omitempty"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"logLevel,omitempty"`
	// SerializeImagePulls, MaxParallelImagePulls and
	// RegistryCredentialsFile shape image pulls (images.go).
	SerializeImagePulls     *bool  `json:"serializeImagePulls,omitempty"`
	MaxParallelImagePulls   *int32 `json:"maxParallelImagePulls,omitempty"`
	RegistryCredentialsFile string `json:"registryCredentialsFile,omitempty"`

	// Port is the HTTPS port of the Kubernetes API subset (0: off), bound
	// to Address; ReadOnlyPort the kubelet's plain-HTTP read-only port on
	// loopback (0, the default: off). Serving holds the rest (serving.go).
	Port         int32  `json:"port,omitempty"`
	Address      string `json:"address,omitempty"`
	ReadOnlyPort int32  `json:"readOnlyPort,omitempty"`
	// HealthzBindAddress and HealthzPort are where /healthz is served;
	// port 0 means nowhere.
	HealthzBindAddress string `json:"healthzBindAddress,omitempty"`
	HealthzPort        *int32 `json:"healthzPort,omitempty"`
	// SyncFrequency is the longest time between two syncs of a pod.
	SyncFrequency metav1.Duration `json:"syncFrequency,omitempty"`
	// MaxPods is the number of pods the node admits.
	MaxPods int32 `json:"maxPods,omitempty"`
	// ShutdownGracePeriod and ShutdownGracePeriodCriticalPods are how long
	// a node shutdown is delayed for pods to stop, the part of it kept for
	// critical pods; 0 turns graceful node shutdown off.
	ShutdownGracePeriod             metav1.Duration `json:"shutdownGracePeriod,omitempty"`
	ShutdownGracePeriodCriticalPods metav1.Duration `json:"shutdownGracePeriodCriticalPods,omitempty"`
	// ContainerLogMaxSize (a quantity), ContainerLogMaxFiles and
	// ContainerLogMonitorInterval shape container log rotation.
	ContainerLogMaxSize         string          `json:"containerLogMaxSize,omitempty"`
	ContainerLogMaxFiles        int32           `json:"containerLogMaxFiles,omitempty"`
	ContainerLogMonitorInterval metav1.Duration `json:"containerLogMonitorInterval,omitempty"`
	// ImageGCHighThresholdPercent, ImageGCLowThresholdPercent and
	// ImageMinimumGCAge shape image garbage collection.
	ImageGCHighThresholdPercent *int32          `json:"imageGCHighThresholdPercent,omitempty"`
	ImageGCLowThresholdPercent  *int32          `json:"imageGCLowThresholdPercent,omitempty"`
	ImageMinimumGCAge           metav1.Duration `json:"imageMinimumGCAge,omitempty"`
	// EvictionHard are the hard eviction thresholds by signal
	// ("memory.available": "100Mi", "nodefs.available": "10%").
	EvictionHard map[string]string `json:"evictionHard,omitempty"`
	// ImageGCPeriod is how often images are collected: the kubelet's
	// fixed ImageGCPeriod (5m) when zero. Only a hidden flag sets it, for
	// tests; the file has no such field, as the kubelet's has none.
	ImageGCPeriod metav1.Duration `json:"-"`
	// Logging is the log format and verbosity.
	Logging Logging `json:"logging,omitempty"`
	// Serving is minikubelet's own settings of the HTTPS port
	// (serving.go).
	Serving
}

// Logging is the part of the kubelet's logging configuration the daemon
// acts on.
type Logging struct {
	// Format is "text" (zap's console encoder) or "json"; unset means text
	// on a terminal and JSON otherwise (the kubelet: always text).
	Format string `json:"format,omitempty"`
	// Verbosity above 0 logs at debug level unless logLevel says
	// otherwise: minikubelet has one debug level.
	Verbosity uint32 `json:"verbosity,omitempty"`
}

// CrashLoopBackOff is the container restart backoff: the first restart is
// immediate, then InitialContainerRestartPeriod, doubling up to
// MaxContainerRestartPeriod.
type CrashLoopBackOff struct {
	InitialContainerRestartPeriod metav1.Duration `json:"initialContainerRestartPeriod,omitempty"`
	MaxContainerRestartPeriod     metav1.Duration `json:"maxContainerRestartPeriod,omitempty"`
}

// WithDefaults fills in what is not set.
func (c Config) WithDefaults() Config {
	setString(&c.StaticPodPath, DefaultStaticPodPath)
	setString(&c.ContainerRuntimeEndpoint, DefaultContainerRuntimeEndpoint)
	setString(&c.RootDir, DefaultRootDir)
	setString(&c.APISocket, DefaultAPISocket)
	setString(&c.PodLogsDir, DefaultPodLogsDir)
	if c.LogLevel == "" {
		c.LogLevel = "info"
		if c.Logging.Verbosity > 0 {
			c.LogLevel = "debug"
		}
	}
	setString(&c.CgroupRoot, DefaultCgroupRoot)
	setDuration(&c.FileCheckFrequency, DefaultFileCheckFrequency)
	setDuration(&c.RuntimeRequestTimeout, DefaultRuntimeRequestTimeout)
	setDuration(&c.CrashLoopBackOff.InitialContainerRestartPeriod, DefaultBackoffInitial)
	setDuration(&c.CrashLoopBackOff.MaxContainerRestartPeriod, DefaultBackoffMax)
	c.defaultServing()
	setString(&c.HealthzBindAddress, DefaultHealthzBindAddress)
	setInt32Ptr(&c.HealthzPort, DefaultHealthzPort)
	setDuration(&c.SyncFrequency, DefaultSyncFrequency)
	setInt32(&c.MaxPods, DefaultMaxPods)
	setString(&c.ContainerLogMaxSize, DefaultContainerLogMaxSize)
	setInt32(&c.ContainerLogMaxFiles, DefaultContainerLogMaxFiles)
	setDuration(&c.ContainerLogMonitorInterval, DefaultContainerLogMonitorInterval)
	setInt32Ptr(&c.ImageGCHighThresholdPercent, DefaultImageGCHighThresholdPercent)
	setInt32Ptr(&c.ImageGCLowThresholdPercent, DefaultImageGCLowThresholdPercent)
	setDuration(&c.ImageMinimumGCAge, DefaultImageMinimumGCAge)
	if c.EvictionHard == nil {
		c.EvictionHard = DefaultEvictionHard()
	}
	return c
}

func setString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func setInt32(n *int32, def int32) {
	if *n == 0 {
		*n = def
	}
}

// setInt32Ptr sets an unset *int32; a set 0 is kept, as the kubelet's
// defaulting of its pointer fields.
func setInt32Ptr(n **int32, def int32) {
	if *n == nil {
		*n = &def
	}
}

func setDuration(d *metav1.Duration, def time.Duration) {
	if d.Duration == 0 {
		d.Duration = def
	}
}

// Validate checks a defaulted configuration; the error names every bad
// field.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct{ field, path string }{
		{"staticPodPath", c.StaticPodPath}, {"rootDir", c.RootDir}, {"apiSocket", c.APISocket}, {"podLogsDir", c.PodLogsDir}, {"cgroupRoot", c.CgroupRoot},
	} {
		if !filepath.IsAbs(f.path) {
			errs = append(errs, fmt.Errorf("%s: must be an absolute path, got %q", f.field, f.path))
		}
	}
	if !strings.HasPrefix(c.ContainerRuntimeEndpoint, "unix://") && !strings.HasPrefix(c.ContainerRuntimeEndpoint, "/") {
		errs = append(errs, fmt.Errorf("containerRuntimeEndpoint: must be a unix socket (unix:///path), got %q", c.ContainerRuntimeEndpoint))
	}
	if c.HostnameOverride != "" {
		for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(c.HostnameOverride)) {
			errs = append(errs, fmt.Errorf("hostnameOverride: %q: %s", c.HostnameOverride, msg))
		}
	}
	for _, f := range []struct {
		field string
		d     time.Duration
	}{
		{"fileCheckFrequency", c.FileCheckFrequency.Duration},
		{"runtimeRequestTimeout", c.RuntimeRequestTimeout.Duration},
		{"crashLoopBackOff.initialContainerRestartPeriod", c.CrashLoopBackOff.InitialContainerRestartPeriod.Duration},
		{"crashLoopBackOff.maxContainerRestartPeriod", c.CrashLoopBackOff.MaxContainerRestartPeriod.Duration},
	} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative, got %s", f.field, f.d))
		}
	}
	if c.CrashLoopBackOff.MaxContainerRestartPeriod.Duration < c.CrashLoopBackOff.InitialContainerRestartPeriod.Duration {
		errs = append(errs, errors.New("crashLoopBackOff: maxContainerRestartPeriod must not be less than initialContainerRestartPeriod"))
	}
	for k, v := range c.NodeLabels {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, fmt.Errorf("nodeLabels: key %q: %s", k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, fmt.Errorf("nodeLabels: value %q of %q: %s", v, k, msg))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("logLevel: must be debug, info, warn or error, got %q", c.LogLevel))
	}
	errs = append(errs, c.validateImagePulls()...)
	errs = append(errs, c.validateKubelet()...)
	errs = append(errs, c.validateServing()...)
	return errors.Join(errs...)
}

// NodeName is the node's name: the hostname override or the hostname,
// lowercased, as the kubelet names its node.
func (c Config) NodeName() (string, error) {
	if c.HostnameOverride != "" {
		return strings.ToLower(strings.TrimSpace(c.HostnameOverride)), nil
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("read the hostname (set hostnameOverride): %w", err)
	}
	return strings.ToLower(strings.TrimSpace(h)), nil
}
