// Package volumes makes the volumes a pod's containers share on the node
// and turns volumeMounts into CRI mounts: emptyDir (a directory under the
// daemon's root dir, or a tmpfs for medium Memory), hostPath (with the
// kubelet's type checks), and downwardAPI and projected volumes (a tmpfs
// with files from the pod's metadata and its containers' resources,
// written by the kubelet's atomic writer and mounted read-only). A pod's
// volumes live in <rootDir>/pods/<uid>/volumes/<plugin>/<name>; emptyDir
// content survives container restarts and is removed with the pod by
// Cleanup. Setup is idempotent: called again, it rewrites only the
// downwardAPI files whose content changed.
package volumes
