package qos

// Linux CFS numbers of pkg/kubelet/cm/helpers_linux.go.
const (
	MinShares      = 2
	MaxShares      = 262144
	sharesPerCPU   = 1024
	milliCPUToCPU  = 1000
	QuotaPeriod    = 100000
	minQuotaPeriod = 1000
)

// MilliCPUToShares is cpu.shares for a CPU request: 1024 a CPU, within the
// kernel's 2..262144; no request gives 2.
func MilliCPUToShares(milliCPU int64) int64 {
	if milliCPU == 0 {
		return MinShares
	}
	return min(max(milliCPU*sharesPerCPU/milliCPUToCPU, MinShares), MaxShares)
}

// MilliCPUToQuota is cpu.cfs_quota_us for a CPU limit over QuotaPeriod, at
// least 1 ms; no limit (or a limit of 0) gives 0, which sets none.
func MilliCPUToQuota(milliCPU int64) int64 {
	if milliCPU == 0 {
		return 0
	}
	return max(milliCPU*QuotaPeriod/milliCPUToCPU, minQuotaPeriod)
}
