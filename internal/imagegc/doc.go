// Package imagegc removes unused images as the kubelet's image garbage
// collector (pkg/kubelet/images/image_gc_manager.go) does: every 5
// minutes (its ImageGCPeriod) it reads the image filesystem's usage
// (CRI ImageFsInfo, then statfs of its mount point), and when usage is at
// imageGCHighThresholdPercent or over it removes images that no container
// of the runtime uses (whichever daemon made it: the runtime is shared),
// least recently used first, until usage would be down to
// imageGCLowThresholdPercent. An image first seen less than
// imageMinimumGCAge ago, a pinned image and the pause image are never
// removed. Failures are node events as the kubelet's (FreeDiskSpaceFailed,
// InvalidDiskCapacity, ImageGCFailed on a repeated failure).
//
// Dead containers and sandboxes are not this package's: the pod workers
// remove them (podworker's collectGarbage), one place for that policy.
//
// The decisions (what to free, which images, in which order) are pure
// functions of the records, the usage and now (decide.go); Manager keeps
// the records (when each image was first seen and last used) and talks to
// the runtime.
package imagegc
