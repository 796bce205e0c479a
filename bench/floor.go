package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"sigs.k8s.io/yaml"

	"github.com/minikubelet/minikubelet/internal/cgroups"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
	"github.com/minikubelet/minikubelet/internal/staticpods"
)

// The floor is the least any CRI kubelet must do for a pod: a tiny client
// that calls containerd directly. Its sandbox configuration is the one
// minikubelet builds (same namespaces, same CNI network, same DNS and log
// directory), from the same manifest decoded the same way, so that only
// the daemon's own work differs. Its pods carry the node label of a node
// no daemon runs, so no daemon touches them.

// floorPod is a pod started by the floor client.
type floorPod struct {
	pod         *v1.Pod
	sandboxCfg  *runtimeapi.PodSandboxConfig
	sandboxID   string
	containerID string
	attempt     uint32
}

// floorStart runs the pod's sandbox and its first container directly and
// returns the pod and the moment the first call was made.
func floorStart(ctx context.Context, rt *runtime.Client, manifest *v1.Pod, node string) (*floorPod, time.Time, error) {
	data, err := yaml.Marshal(manifest)
	if err != nil {
		return nil, time.Time{}, err
	}
	pod, err := staticpods.DecodeManifest(manifest.Name+".yaml", data, node)
	if err != nil {
		return nil, time.Time{}, err
	}
	fp := &floorPod{pod: pod, sandboxCfg: sandbox.Config(pod, 0, sandbox.Options{})}
	// As every kubelet (cgroupsPerQOS): the sandbox in the pod's cgroup
	// under its QoS class's, which runc makes on the way.
	fp.sandboxCfg.Linux.CgroupParent = cgroups.PodCgroupName("/", pod)
	t0 := time.Now()
	if err := os.MkdirAll(fp.sandboxCfg.LogDirectory, 0o755); err != nil {
		return nil, t0, err
	}
	fp.sandboxID, err = rt.RunPodSandbox(ctx, fp.sandboxCfg, "")
	if err != nil {
		return nil, t0, fmt.Errorf("floor: RunPodSandbox %s: %w", pod.Name, err)
	}
	if err := fp.startContainer(ctx, rt); err != nil {
		return fp, t0, err
	}
	return fp, t0, nil
}

// startContainer creates and starts the pod's first container, as attempt
// fp.attempt.
func (fp *floorPod) startContainer(ctx context.Context, rt *runtime.Client) error {
	c := fp.pod.Spec.Containers[0]
	if err := os.MkdirAll(filepath.Join(fp.sandboxCfg.LogDirectory, c.Name), 0o755); err != nil {
		return err
	}
	var envs []*runtimeapi.KeyValue
	for _, e := range c.Env {
		envs = append(envs, &runtimeapi.KeyValue{Key: e.Name, Value: []byte(e.Value)})
	}
	// As every kubelet: the pod's /etc/hosts and the instance's
	// termination-log, each a file bind-mounted into the container.
	mounts, err := fp.kubeletMounts(c.Name)
	if err != nil {
		return err
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: fp.attempt},
		Image:    &runtimeapi.ImageSpec{Image: c.Image, UserSpecifiedImage: c.Image},
		Command:  c.Command,
		Args:     c.Args,
		Envs:     envs,
		Labels: map[string]string{
			runtime.LabelPodName:       fp.pod.Name,
			runtime.LabelPodNamespace:  fp.pod.Namespace,
			runtime.LabelPodUID:        string(fp.pod.UID),
			runtime.LabelContainerName: c.Name,
			runtime.LabelNode:          fp.pod.Spec.NodeName,
		},
		LogPath: filepath.Join(c.Name, fmt.Sprintf("%d.log", fp.attempt)),
		Mounts:  mounts,
		Linux: &runtimeapi.LinuxContainerConfig{
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: sandbox.NamespaceOptions(fp.pod),
			},
		},
	}
	id, err := rt.CreateContainer(ctx, fp.sandboxID, cfg, fp.sandboxCfg)
	if err != nil {
		return fmt.Errorf("floor: CreateContainer %s: %w", fp.pod.Name, err)
	}
	fp.containerID = id
	if err := rt.StartContainer(ctx, id); err != nil {
		return fmt.Errorf("floor: StartContainer %s: %w", fp.pod.Name, err)
	}
	return nil
}

// kubeletMounts writes the files every kubelet mounts into a container,
// under the pod's log directory (which teardown removes).
func (fp *floorPod) kubeletMounts(container string) ([]*runtimeapi.Mount, error) {
	dir := filepath.Join(fp.sandboxCfg.LogDirectory, "floor-files")
	hosts := filepath.Join(dir, "etc-hosts")
	message := filepath.Join(dir, fmt.Sprintf("%s-termination-log-%d", container, fp.attempt))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(hosts, []byte("127.0.0.1\tlocalhost\n"), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(message, nil, 0o666); err != nil {
		return nil, err
	}
	return []*runtimeapi.Mount{
		{ContainerPath: "/etc/hosts", HostPath: hosts},
		{ContainerPath: "/dev/termination-log", HostPath: message},
	}, nil
}

// restartContainer replaces the container with a new attempt in the same
// sandbox: stop (with grace seconds), remove, create, start. It returns the
// moment the stop was asked.
func (fp *floorPod) restartContainer(ctx context.Context, rt *runtime.Client, grace int64) (time.Time, error) {
	t0 := time.Now()
	if err := rt.StopContainer(ctx, fp.containerID, grace); err != nil {
		return t0, fmt.Errorf("floor: StopContainer: %w", err)
	}
	if err := rt.RemoveContainer(ctx, fp.containerID); err != nil {
		return t0, fmt.Errorf("floor: RemoveContainer: %w", err)
	}
	fp.attempt++
	return t0, fp.startContainer(ctx, rt)
}

// teardown stops the container with grace seconds, then stops and removes
// the sandbox, as a kubelet does for a deleted pod.
func (fp *floorPod) teardown(ctx context.Context, rt *runtime.Client, grace int64) error {
	var errs []error
	if fp.containerID != "" {
		if err := rt.StopContainer(ctx, fp.containerID, grace); err != nil {
			errs = append(errs, fmt.Errorf("floor: StopContainer: %w", err))
		}
	}
	if err := rt.StopPodSandbox(ctx, fp.sandboxID); err != nil {
		errs = append(errs, fmt.Errorf("floor: StopPodSandbox: %w", err))
	}
	if err := rt.RemovePodSandbox(ctx, fp.sandboxID); err != nil {
		errs = append(errs, fmt.Errorf("floor: RemovePodSandbox: %w", err))
	}
	os.RemoveAll(fp.sandboxCfg.LogDirectory)
	removePodCgroup(fp.sandboxCfg.Linux.CgroupParent)
	return errors.Join(errs...)
}

// startedAt is the CRI's nanosecond start time of a container.
func startedAt(ctx context.Context, rt *runtime.Client, containerID string) (time.Time, error) {
	st, err := rt.ContainerStatus(ctx, containerID, false)
	if err != nil {
		return time.Time{}, err
	}
	if st.Status.StartedAt == 0 {
		return time.Time{}, fmt.Errorf("container %s has not started (%s)", containerID, st.Status.State)
	}
	return time.Unix(0, st.Status.StartedAt), nil
}

// finishedAt is the CRI's nanosecond exit time of a container, zero while
// it runs.
func finishedAt(ctx context.Context, rt *runtime.Client, containerID string) (time.Time, error) {
	st, err := rt.ContainerStatus(ctx, containerID, false)
	if err != nil {
		return time.Time{}, err
	}
	if st.Status.FinishedAt == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, st.Status.FinishedAt), nil
}

// containersOf lists the containers of the pod named podName (full name)
// on node, every attempt.
func containersOf(ctx context.Context, rt *runtime.Client, node, podName string) ([]*runtimeapi.Container, error) {
	return rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{
		runtime.LabelNode:    node,
		runtime.LabelPodName: podName,
	}})
}

// sandboxesOf lists the sandboxes labelled with node (and podName, when
// not empty).
func sandboxesOf(ctx context.Context, rt *runtime.Client, node, podName string) ([]*runtimeapi.PodSandbox, error) {
	sel := map[string]string{runtime.LabelNode: node}
	if podName != "" {
		sel[runtime.LabelPodName] = podName
	}
	return rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: sel})
}

// waitSandboxesGone polls until containerd lists no sandbox of node (and
// podName) and returns the moment it saw none. Failing calls are retried
// until the timeout: containerd may be restarting.
func waitSandboxesGone(ctx context.Context, rt *runtime.Client, node, podName string, timeout, interval time.Duration) (time.Time, error) {
	left := -1
	var lastErr error
	err := poll(ctx, timeout, interval, func() (bool, error) {
		sbs, err := sandboxesOf(ctx, rt, node, podName)
		if err != nil {
			lastErr = err
			return false, nil
		}
		left = len(sbs)
		return left == 0, nil
	})
	if err != nil {
		if left < 0 {
			return time.Time{}, fmt.Errorf("sandboxes of node %s pod %q: %w (containerd: %v)", node, podName, err, lastErr)
		}
		return time.Time{}, fmt.Errorf("sandboxes of node %s pod %q still there (%d): %w", node, podName, left, err)
	}
	return time.Now(), nil
}

// forceRemove stops and removes every sandbox labelled with node: the
// cleanup of last resort when a daemon did not remove its pods. It retries
// for a minute while containerd does not answer.
func forceRemove(ctx context.Context, rt *runtime.Client, node string) (int, error) {
	var sbs []*runtimeapi.PodSandbox
	err := poll(ctx, time.Minute, time.Second, func() (bool, error) {
		var err error
		sbs, err = sandboxesOf(ctx, rt, node, "")
		return err == nil, nil
	})
	if err != nil {
		return 0, fmt.Errorf("list the sandboxes of node %s: containerd does not answer: %w", node, err)
	}
	var errs []error
	for _, sb := range sbs {
		if err := rt.StopPodSandbox(ctx, sb.Id); err != nil && !runtime.IsNotFound(err) {
			errs = append(errs, err)
		}
		if err := rt.RemovePodSandbox(ctx, sb.Id); err != nil && !runtime.IsNotFound(err) {
			errs = append(errs, err)
		}
		os.RemoveAll(filepath.Join(sandbox.DefaultPodLogsDir, fmt.Sprintf("%s_%s_%s", sb.Metadata.Namespace, sb.Metadata.Name, sb.Metadata.Uid)))
	}
	return len(sbs), errors.Join(errs...)
}

// removePodCgroup removes the floor pod's cgroup from every hierarchy once
// its sandbox is gone (runc removes only the containers' own).
func removePodCgroup(name string) {
	if name == "" {
		return
	}
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", name))
	if unified := filepath.Join("/sys/fs/cgroup", name); isDir(unified) {
		dirs = append(dirs, unified)
	}
	for _, d := range dirs {
		os.Remove(d)
	}
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
