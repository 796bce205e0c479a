package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
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
	"github.com/minikubelet/minikubelet/internal/eviction"
	"github.com/minikubelet/minikubelet/internal/imagegc"
	"github.com/minikubelet/minikubelet/internal/kubeapi"
	"github.com/minikubelet/minikubelet/internal/logrotate"
	"github.com/minikubelet/minikubelet/internal/machine"
	"github.com/minikubelet/minikubelet/internal/nodeshutdown"
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
	// Each package registers the metrics it observes.
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rt, err := runtime.Dial(ctx, cfg.ContainerRuntimeEndpoint, cfg.RuntimeRequestTimeout.Duration, runtime.WithMetrics(registry))
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

	machineInfo.MaxPods = int(cfg.MaxPods)
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

	started := time.Now()
	// resourceVersions start above any an earlier run handed out, so a
	// client resuming from one is told to relist.
	changes := status.NewFeed(uint64(started.UnixMicro()))
	store := status.NewStoreOn(changes)
	// The notifier is made below, with the manager it watches; pod
	// workers start only once Run runs.
	var notifier *sdnotify.Notifier
	events := status.NewEventsOn(nodeName, changes)
	sysInfo, err := systemInfo(ctx, rt, kubeapi.KubernetesVersion())
	if err != nil {
		return err
	}
	vols := volumes.NewManager(cfg.RootDir)
	thresholds, err := eviction.ParseThresholds(cfg.EvictionHard)
	if err != nil {
		return err
	}
	watchdog, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("read systemd's watchdog period", zap.Error(err))
	}
	manager := podworker.NewManager(podworker.Config{
		ResyncInterval: relistInterval(watchdog),
		SyncFrequency:  cfg.SyncFrequency.Duration,
		Runtime:        rt,
		Images:         rt,
		Puller:         puller,
		Status:         store,
		Volumes:        vols,
		Events:         events,
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
		Metrics:                   registry,
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
	evictions := eviction.New(eviction.Config{Thresholds: thresholds, NodeName: nodeName, RootDir: cfg.RootDir,
		PodDir: vols.PodDir, PodLogDir: func(pod *v1.Pod) string { return sandbox.LogDirectory(cfg.PodLogsDir, pod) },
		MemoryCapacity: machineInfo.MemoryCapacity, Images: rt, Stats: rt, Pods: store, Evictor: manager, Events: events,
		Logger: log.Named("eviction")})
	srv.ServeKubeAPI(kubeapi.New(kubeapi.Deps{
		Containers: kubeapi.ContainerDeps{
			Pods:      store,
			Instances: rt,
			LogPath: func(pod *v1.Pod, container string, restartCount int32) string {
				return filepath.Join(sandbox.LogDirectory(cfg.PodLogsDir, pod), container, fmt.Sprintf("%d.log", restartCount))
			},
			Streams:   rt,
			Sandboxes: rt,
			Stats:     rt,
			NodeName:  nodeName,
		},
		Objects: kubeapi.ObjectDeps{
			Pods:   store,
			Events: events,
			Feed:   changes,
			Node: kubeapi.NodeFacts{
				Name:   nodeName,
				Labels: nodeInfo.Labels,
				Addresses: []v1.NodeAddress{
					{Type: v1.NodeInternalIP, Address: hostIP},
					{Type: v1.NodeHostName, Address: nodeName},
				},
				Capacity:    machineInfo.Capacity(),
				Allocatable: allocatable,
				Info:        sysInfo,
			},
			Runtime:       rt,
			Relist:        manager,
			Pressure:      evictions,
			ManifestFor:   manifestFor(manifests),
			StaticPodPath: cfg.StaticPodPath,
			Started:       started,
			Stop:          ctx.Done(),
		},
		Log: log.Named("kubeapi"),
	}).Handler())
	recordNodeStarting(events, nodeName, started)
	var https *httpsPort
	if cfg.Port != 0 {
		if https, err = newHTTPSPort(cfg, nodeName, hostIP, log.Named("https")); err != nil {
			return err
		}
		srv.ServeKubeconfig(https.kubeconfig)
	} else {
		log.Info("the HTTPS port is off (port 0): kubectl cannot reach this node")
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 16)
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
	goRun("change feed", func() error { changes.Run(ctx); return nil })
	logMaxSize, err := cfg.ContainerLogMaxSizeBytes()
	if err != nil {
		return err
	}
	rotation := logrotate.New(logrotate.Config{Runtime: rt, NodeName: nodeName, MaxSize: logMaxSize,
		MaxFiles: int(cfg.ContainerLogMaxFiles), Interval: cfg.ContainerLogMonitorInterval.Duration, Logger: log.Named("logrotate")})
	goRun("container log rotation", func() error { return rotation.Run(ctx) })
	imageGC := imagegc.New(imagegc.Config{Images: rt, Containers: rt, Events: events, PauseImage: sandboxImage,
		Policy: imagegc.Policy{HighThresholdPercent: int(*cfg.ImageGCHighThresholdPercent), LowThresholdPercent: int(*cfg.ImageGCLowThresholdPercent),
			MinAge: cfg.ImageMinimumGCAge.Duration},
		Period: cfg.ImageGCPeriod.Duration, Logger: log.Named("imagegc"), Metrics: registry})
	goRun("image garbage collection", func() error { return imageGC.Run(ctx) })
	goRun("eviction manager", func() error { return evictions.Run(ctx) })
	snapshots := make(chan staticpods.Snapshot)
	goRun("pod workers", func() error { return manager.Run(ctx) })
	goRun("static pod source", func() error { return source.Run(ctx, snapshots) })
	goRun("API server", func() error { return srv.ServeUnix(ctx, cfg.APISocket) })
	if https != nil {
		goRun("HTTPS API server", func() error { return srv.ServeHTTPS(ctx, https.addr, https.also, https.certs.ServerTLS()) })
		goRun("certificate renewal", func() error { return https.runRenewal(ctx, log.Named("pki")) })
	}
	if port := *cfg.HealthzPort; port != 0 {
		addr := net.JoinHostPort(cfg.HealthzBindAddress, strconv.Itoa(int(port)))
		goRun("healthz server", func() error { return srv.ServeHealthz(ctx, addr) })
	}
	if cfg.ReadOnlyPort != 0 {
		goRun("read-only API server", func() error { return srv.ServeReadOnly(ctx, readOnlyAddress(cfg.ReadOnlyPort)) })
	}
	goRun("containerd events", func() error {
		return runtime.WatchEvents(ctx, runtime.SocketPath(cfg.ContainerRuntimeEndpoint), log.Named("events"), runtime.EventHandlers{
			Exited: manager.ContainerExited, Changed: manager.ContainerChanged, Subscribed: manager.Resync,
		})
	})
	// The notifier learns of a snapshot before the pod workers do.
	feed := desired.New(desired.Config{Pods: podSetters{notifier, manager}, View: manifests, Events: events, Metrics: registry})
	goRun("desired pods", func() error { return feed.Run(ctx, snapshots) })
	goRun("systemd notifications", func() error { return notifier.Run(ctx) })
	if cfg.ShutdownGracePeriod.Duration > 0 {
		shutdown := nodeshutdown.New(nodeshutdown.Config{
			Connect: nodeshutdown.NewLogind, Pods: manager, Logger: log.Named("nodeshutdown"),
			GracePeriod: cfg.ShutdownGracePeriod.Duration, CriticalGracePeriod: cfg.ShutdownGracePeriodCriticalPods.Duration,
		})
		goRun("node shutdown", func() error { return shutdown.Run(ctx) })
	}

	<-ctx.Done()
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// manifestFor names the manifest file of a pod from the directory's view.
func manifestFor(m *server.Manifests) func(namespace, name string) (string, bool) {
	return func(namespace, name string) (string, bool) {
		key := types.NamespacedName{Namespace: namespace, Name: name}.String()
		for _, item := range m.List() {
			if item.Pod == key {
				return item.File, true
			}
		}
		return "", false
	}
}

// recordNodeStarting records the events the kubelet records about its
// node when it starts and first posts its status: the runtime answers and
// the pause image is there by now.
func recordNodeStarting(events *status.Events, nodeName string, now time.Time) {
	ref := status.NodeRef(nodeName)
	events.RecordFor(ref, v1.EventTypeNormal, "Starting", "Starting kubelet.", now)
	for _, reason := range []string{"NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"} {
		events.RecordFor(ref, v1.EventTypeNormal, reason, fmt.Sprintf("Node %s status is now: %s", nodeName, reason), now)
	}
	events.RecordFor(ref, v1.EventTypeNormal, "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods", now)
	events.RecordFor(ref, v1.EventTypeNormal, "NodeReady", fmt.Sprintf("Node %s status is now: NodeReady", nodeName), now)
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

// relistInterval is the period of the full relist behind containerd's
// events: the pod workers' default (0), or a third of systemd's watchdog
// period when that is shorter than three defaults, since the watchdog is
// petted only while relists complete (internal/sdnotify).
func relistInterval(watchdog time.Duration) time.Duration {
	if watchdog <= 0 || watchdog/3 >= podworker.DefaultRelistInterval {
		return 0
	}
	return watchdog / 3
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
