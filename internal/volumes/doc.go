// Package volumes makes the volumes a pod's containers share on the node
// and turns volumeMounts into CRI mounts: emptyDir (a directory under the
// daemon's root dir, or a tmpfs for medium Memory) and hostPath (with the
// kubelet's type checks). A pod's volumes live in
// <rootDir>/pods/<uid>/volumes/<plugin>/<name>; emptyDir content survives
// container restarts and is removed with the pod by Cleanup.
package volumes
