// Package images pulls container images the way the kubelet's image
// manager does below its pull policy and backoff: with the node's registry
// credentials, each tried in turn (pkg/kubelet/kuberuntime's PullImage),
// and no more pulls at once than the configuration allows (one, the
// kubelet's serialized puller, by default). Pod workers and `minikubelet
// images pull` call it; it calls the CRI image service they hand it and
// starts no goroutine.
package images
