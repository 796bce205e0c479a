package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// Where the kubelet's cadvisor reads the node's identity.
const (
	machineIDFile   = "/etc/machine-id"
	systemUUIDFile  = "/sys/class/dmi/id/product_uuid"
	bootIDFile      = "/proc/sys/kernel/random/boot_id"
	osReleaseFile   = "/etc/os-release"
	defaultOSImage  = "Linux"
	criVersionAsked = "v1"
)

// systemInfo is the node's nodeInfo as the kubelet reports it: identity
// files, kernel, OS image, the runtime's name and version
// (containerd://1.6.20), the Kubernetes version the daemon speaks.
func systemInfo(ctx context.Context, rt *runtime.Client, kubeletVersion string) (v1.NodeSystemInfo, error) {
	info := v1.NodeSystemInfo{
		MachineID:       readTrimmed(machineIDFile),
		SystemUUID:      readTrimmed(systemUUIDFile),
		BootID:          readTrimmed(bootIDFile),
		KubeletVersion:  kubeletVersion,
		OperatingSystem: goruntime.GOOS,
		Architecture:    goruntime.GOARCH,
		OSImage:         defaultOSImage,
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		info.KernelVersion = unix.ByteSliceToString(uts.Release[:])
	}
	if data, err := os.ReadFile(osReleaseFile); err == nil {
		if name := prettyName(data); name != "" {
			info.OSImage = name
		}
	}
	v, err := rt.Version(ctx, criVersionAsked)
	if err != nil {
		return info, fmt.Errorf("ask the container runtime its version: %w", err)
	}
	info.ContainerRuntimeVersion = v.RuntimeName + "://" + v.RuntimeVersion
	return info, nil
}

func readTrimmed(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// prettyName is PRETTY_NAME of an os-release file, unquoted, as cadvisor
// reads the OS image.
func prettyName(osRelease []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(osRelease))
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "PRETTY_NAME=")
		if !ok {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
		return strings.Trim(v, `'"`)
	}
	return ""
}
