// Package machine reads what the node has, as the kubelet's cadvisor
// machine info does: CPUs, memory (MemTotal), the huge page sizes the
// kernel offers with their pool sizes, the capacity of the filesystem
// holding the daemon's root directory, and whether this process may lower
// an oom_score_adj. Info turns it into the node's capacity and
// allocatable, as the kubelet reports them with its default hard eviction
// thresholds and no reservations.
//
// Read does the I/O once at start; everything else is pure.
package machine
