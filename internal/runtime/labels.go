package runtime

// Labels and annotations on CRI objects, as the kubelet sets them, so that
// the truth about which pod owns what lives in containerd and survives a
// restart of the daemon.
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"

	// LabelManaged marks the sandboxes and containers this daemon created,
	// so that it never touches what another kubelet on the same containerd
	// owns.
	LabelManaged = "io.minikubelet.managed"
	// LabelNode names the node a pod runs as, so that daemons with
	// different node names (tests, mostly) can share one containerd.
	LabelNode = "io.minikubelet.node"

	AnnotationContainerHash             = "io.kubernetes.container.hash"
	AnnotationRestartCount              = "io.kubernetes.container.restartCount"
	AnnotationTerminationMessagePath    = "io.kubernetes.container.terminationMessagePath"
	AnnotationTerminationMessagePolicy  = "io.kubernetes.container.terminationMessagePolicy"
	AnnotationPreStopHandler            = "io.kubernetes.container.preStopHandler"
	AnnotationContainerPorts            = "io.kubernetes.container.ports"
	AnnotationPodTerminationGracePeriod = "io.kubernetes.pod.terminationGracePeriod"
	AnnotationContainerIsSidecar        = "io.minikubelet.container.sidecar"
	AnnotationContainerIsInit           = "io.minikubelet.container.init"
)
