// Package cgroups owns the pod cgroups, as the kubelet's cgroupfs driver
// makes them (pkg/kubelet/cm): a kubepods cgroup under the configured
// cgroup root, sized to the node; burstable and besteffort QoS children;
// and one cgroup per pod (pod<uid>, under kubepods for Guaranteed pods,
// under their QoS child otherwise), sized by the pod's requests and limits
// with its overhead and pod-level resources. The pod worker makes a pod's
// cgroup before its sandbox, passes its name as the sandbox's cgroup
// parent (runc creates the containers' cgroups below it) and removes it
// after the sandbox.
//
// podConfig and qosShares are pure; Manager writes cgroup v1 files under
// the mount points it found in /proc/self/mountinfo. cgroup v2 is not
// supported yet: New says so.
package cgroups
