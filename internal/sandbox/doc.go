// Package sandbox owns the pod sandbox: the pause image (built by the
// project, embedded in the binary, imported into containerd when missing)
// and the CRI PodSandboxConfig derived from a pod (metadata, hostname, log
// directory, DNS, port mappings, namespaces, labels and annotations).
//
// Config is pure. EnsurePauseImage talks to the runtime through the small
// interfaces it declares.
package sandbox
