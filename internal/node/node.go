package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	goruntime "runtime"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/cgroups"
	"github.com/minikubelet/minikubelet/internal/config"
	"github.com/minikubelet/minikubelet/internal/desired"
	"github.com/minikubelet/minikubelet/internal/kubeapi"
	"github.com/minikubelet/minikubelet/internal/machine"
	"github.com/minikubelet/minikubelet/internal/podworker"
	"github.com/minikubelet/minikubelet/internal/probes"
	"github.com/minikubelet/minikubelet/internal/runtime"
	"github.com/minikubelet/minikubelet/internal/sandbox"
	"github.com/minikubelet/minikubelet/internal/sdnotify"
	"github.com/minikubelet/minikubelet/internal/server"
	"github.com/minikubelet/minikubelet/internal/staticpods"
	"github.com/minikubelet/minikubelet/internal/status"
	"github.com/minikubelet/minikubelet/internal/volumes"
)

// Run runs the daemon with cfg (defaulted and validated) until ctx ends.
// Pods keep running when it returns: the next run adopts them.
func Run(ctx context.Context, cfg config.Config, log *zap.Logger) error {
	nodeName, err := cfg.NodeName()
	if err != nil {
		return err
	}
	log = log.With(zap.String("node", nodeName))
	rt, err := runtime.Dial(ctx, cfg.ContainerRuntimeEndpoint, cfg.RuntimeRequestTimeout.Duration)
	if err != nil {
		return err
	}
	defer rt.Close()
	importer := func(ctx context.Context, archive io.Reader, ref string) error {
		return runtime.ImportImage(ctx, runtime.SocketPath(cfg.ContainerRuntimeEndpoint), archive, ref, "")
	}
	sandboxImage, err := sandbox.EnsurePauseImage(ctx, rt, rt, importer, log)
	if err != nil {
		return err
	}
	features, err := nodeFeatures(ctx, rt)
	if err != nil {
		return err
	}
	hostIP := nodeAddress()
	machineInfo, err := machine.Read(cfg.RootDir)
	if err != nil {
		return err
	}
	if machineInfo.OOMScoreAdjFloor > -1000 {
		// Said once: every container's oom_score_adj is clamped to it.
		log.Info("this node forbids lowering oom_score_adj (no CAP_SYS_RESOURCE): the kubelet's values below the floor (-997 for Guaranteed and system-node-critical pods, low Burstable scores) are set to the floor",
			zap.Int("oomScoreAdjFloor", machineInfo.OOMScoreAdjFloor))
	}
	log.Info("starting", zap.String("runtime", cfg.ContainerRuntimeEndpoint), zap.String("sandboxImage", sandboxImage),
		zap.String("staticPodPath", cfg.StaticPodPath), zap.String("hostIP", hostIP),
		zap.Bool("appArmor", features.AppArmor), zap.Bool("seLinux", features.SELinux), zap.Strings("runtimeHandlers", handlerNames(features)))

	puller, err := NewImagePuller(cfg, rt, log)
	if err != nil {
		return err
	}

	podCgroups, err := cgroups.New(cfg.CgroupRoot, machineInfo)
	if err != nil {
		return err
	}

	allocatable := machineInfo.Allocatable()
	if !podCgroups.HugetlbAvailable() {
		// Without the hugetlb controller no huge page limit holds: admit
		// no pod that asks for huge pages.
		for _, p := range machineInfo.HugePages {
			allocatable[machine.HugePageResource(p.PageSize)] = resource.Quantity{}
		}
	}
	nodeInfo := &staticpods.Node{Name: nodeName, Labels: nodeLabels(nodeName, cfg.NodeLabels), Allocatable: allocatable}
	log.Info("node", zap.Any("labels", nodeInfo.Labels), zap.Any("allocatable", allocatable), zap.Bool("hugetlb", podCgroups.HugetlbAvailable()))

	store := status.NewStore()
	// The notifier is made below, with the manager it watches; pod
	// workers start only once Run runs.
	var notifier *sdnotify.Notifier
	events := status.NewEvents(nodeName)
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	manager := podworker.NewManager(podworker.Config{
		Runtime: rt,
		Images:  rt,
		Puller:  puller,
		Status:  store,
		Volumes: volumes.NewManager(cfg.RootDir),
		Events:  events,
		NewProber: func(onUpdate func(probes.Update)) podworker.Prober {
			return probes.NewManager(probes.Config{Exec: rt, Logger: log.Named("probes"), Registerer: registry, OnUpdate: onUpdate})
		},
		Logger:                    log,
		NodeName:                  nodeName,
		Sandbox:                   sandbox.Options{PodLogsDir: cfg.PodLogsDir},
		RootDir:                   cfg.RootDir,
		RecursiveReadOnlyHandlers: recursiveReadOnlyHandlers(features),
		HostIP:                    hostIP,
		BackoffInitial:            cfg.CrashLoopBackOff.InitialContainerRestartPeriod.Duration,
		BackoffMax:                cfg.CrashLoopBackOff.MaxContainerRestartPeriod.Duration,
		Node:                      machineInfo,
		Cgroups:                   podCgroups,
		OnFirstSync:               func(uid types.UID) { notifier.FirstSync(uid) },
	})
	// Made now that the runtime answers and the pause image is present.
	notifier = sdnotify.New(sdnotify.Config{Pods: store, Progress: manager, Logger: log.Named("sdnotify")})
	source := staticpods.New(staticpods.Config{
		Dir:            cfg.StaticPodPath,
		NodeName:       nodeName,
		Node:           features,
		CheckFrequency: cfg.FileCheckFrequency.Duration,
		StateDir:       filepath.Join(cfg.RootDir, "manifests"),
		Admit:          nodeInfo,
		Logger:         log.Named("staticpods"),
	})
	srv := server.New(store, events, registry, log.Named("api"))
	srv.CheckRuntime(func(ctx context.Context) error { return runtimeHealth(ctx, rt) })
	manifests := &server.Manifests{}
	srv.ServeManifests(manifests)
	srv.ServeDrain(manager)
	srv.ServeKubeAPI(kubeapi.New(kubeapi.Deps{Log: log.Named("kubeapi")}).Handler())
	srv.ServeContainers(func(pod *v1.Pod, container string, restartCount int32) string {
		return filepath.Join(sandbox.LogDirectory(cfg.PodLogsDir, pod), container, fmt.Sprintf("%d.log", restartCount))
	}, rt)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 6)
	goRun := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	snapshots := make(chan staticpods.Snapshot)
	goRun("pod workers", func() error { return manager.Run(ctx) })
	goRun("static pod source", func() error { return source.Run(ctx, snapshots) })
	goRun("API server", func() error { return srv.ServeUnix(ctx, cfg.APISocket) })
	goRun("containerd events", func() error {
		return runtime.WatchExits(ctx, runtime.SocketPath(cfg.ContainerRuntimeEndpoint), log.Named("events"), manager.ContainerExited)
	})
	// The notifier learns of a snapshot before the pod workers do.
	feed := desired.New(desired.Config{Pods: podSetters{notifier, manager}, View: manifests, Events: events})
	goRun("desired pods", func() error { return feed.Run(ctx, snapshots) })
	goRun("systemd notifications", func() error { return notifier.Run(ctx) })

	<-ctx.Done()
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// podSetters hands each desired set to all of them, in order.
type podSetters []interface{ SetDesired(pods []*v1.Pod) }

func (s podSetters) SetDesired(pods []*v1.Pod) {
	for _, p := range s {
		p.SetDesired(pods)
	}
}

// nodeLabels are the labels the kubelet gives its node (hostname, os and
// arch, with their beta names) and the configured ones, which win.
func nodeLabels(nodeName string, extra map[string]string) map[string]string {
	labels := map[string]string{
		v1.LabelHostname:          nodeName,
		v1.LabelOSStable:          goruntime.GOOS,
		v1.LabelArchStable:        goruntime.GOARCH,
		"beta.kubernetes.io/os":   goruntime.GOOS,
		"beta.kubernetes.io/arch": goruntime.GOARCH,
	}
	for k, v := range extra {
		labels[k] = v
	}
	return labels
}

// nodeAddress picks the node's address: the first global unicast IPv4
// address of an interface that is up and not a bridge for pods.
func nodeAddress() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 || isPodInterface(iface.Name) {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func isPodInterface(name string) bool {
	for _, prefix := range []string{"mkbr", "cni", "veth", "docker", "podman", "flannel"} {
		if len(name) >= len(prefix) && name[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

// runtimeHealth is /healthz's reading of the runtime, as the kubelet's
// runtime state: down when CRI Status fails, not ready when its
// RuntimeReady condition is false. NetworkReady is not required: a
// host-network pod runs without it.
func runtimeHealth(ctx context.Context, rt *runtime.Client) error {
	st, err := rt.Status(ctx, false)
	if err != nil {
		return fmt.Errorf("container runtime is down: %w", err)
	}
	for _, c := range st.GetStatus().GetConditions() {
		if c.Type == runtimeapi.RuntimeReady && !c.Status {
			return fmt.Errorf("container runtime is not ready: %s: %s", c.Reason, c.Message)
		}
	}
	return nil
}
