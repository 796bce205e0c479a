// Package logrotate rotates the log files of running containers as the
// kubelet's container log manager (pkg/kubelet/logs) does: every
// containerLogMonitorInterval it lists this node's running containers
// through the CRI, and a container whose log reached containerLogMaxSize
// has its log renamed to <log>.<timestamp> and reopened by the runtime
// (CRI ReopenContainerLog), after older rotated files were compressed
// with gzip and the oldest removed so that at most containerLogMaxFiles
// files of the log remain. The newest rotated file stays uncompressed:
// the runtime may still be writing to it until it reopens.
//
// It owns the decision of what to remove and compress (plan, pure) and
// the file operations; the file names and the reading across rotated
// files are internal/logs'. Data enters from the CRI and leaves as files.
package logrotate
