package podworker

import (
	"context"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/images"
	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/volumes"
)

// runtimeService is what a pod worker needs of the CRI runtime service.
// internal/runtime's Client and cri-api's FakeRuntimeService both have it.
type runtimeService interface {
	RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error)
	StopPodSandbox(ctx context.Context, podSandboxID string) error
	RemovePodSandbox(ctx context.Context, podSandboxID string) error
	PodSandboxStatus(ctx context.Context, podSandboxID string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error)
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
	CreateContainer(ctx context.Context, podSandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
	StartContainer(ctx context.Context, containerID string) error
	StopContainer(ctx context.Context, containerID string, timeout int64) error
	RemoveContainer(ctx context.Context, containerID string) error
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)
	ContainerStats(ctx context.Context, containerID string) (*runtimeapi.ContainerStats, error)
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout []byte, stderr []byte, err error)
}

// imageService is what a pod worker needs of the CRI image service.
type imageService interface {
	ImageStatus(ctx context.Context, image *runtimeapi.ImageSpec, verbose bool) (*runtimeapi.ImageStatusResponse, error)
}

// imagePuller pulls images with the node's credentials, as many at once
// as the configuration allows (images.Puller).
type imagePuller interface {
	Pull(ctx context.Context, spec *runtimeapi.ImageSpec, sandbox *runtimeapi.PodSandboxConfig) (images.Pulled, error)
}

// volumeManager sets up and removes what a pod's containers mount.
type volumeManager interface {
	Setup(pod *v1.Pod) (volumes.Volumes, error)
	Mounts(pod *v1.Pod, c *v1.Container, vols volumes.Volumes, env map[string]string, recursiveReadOnly bool) ([]*runtimeapi.Mount, error)
	TerminationMessageFile(uid types.UID, container string, restartCount int32) (string, error)
	HostsFile(uid types.UID, content []byte) (string, error)
	Cleanup(uid types.UID) error
	EmptyDirPath(uid types.UID, name string) string
}

// eventRecorder keeps events about pods for users to read.
type eventRecorder interface {
	Record(pod *v1.Pod, fieldPath, eventType, reason, message string, now time.Time)
	Forget(uid types.UID)
}

// Prober runs the probes of running containers (probes.Manager); workers
// pull their results. The manager owns it: Run stops it on its way out.
type Prober interface {
	Sync(podUID types.UID, targets []probes.Target)
	StopLivenessAndStartup(podUID types.UID)
	RemovePod(podUID types.UID)
	Result(containerID string, k probes.Kind) (probes.Result, bool)
	Started(containerID string) bool
	Ready(containerID string) bool
	Stop()
}

// statusSink receives every pod's latest status (status.Store has it).
type statusSink interface {
	Set(pod *v1.Pod)
	Delete(uid types.UID)
}

// podCgroups makes and removes the pods' cgroups (cgroups.Manager).
type podCgroups interface {
	EnsurePod(pod *v1.Pod) (string, error)
	RemovePod(pod *v1.Pod) error
}
