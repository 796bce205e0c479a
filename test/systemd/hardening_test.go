//go:build e2esystemd

package systemd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hardening is a systemd sandboxing option tried on the unit, and what it
// does to the daemon as measured by TestHardeningOptions.
type hardening struct {
	option string
	// breaks is "" for an option that breaks nothing measured (kept in
	// deploy/systemd/minikubelet.service), else what it breaks.
	breaks string
}

// The options tried, with the verdict measured here. A new mount
// namespace ("own mount namespace") is enough to drop an option: the
// daemon mounts tmpfs for memory emptyDirs and downwardAPI volumes and
// binds subPaths, and a mount made in a private namespace is invisible to
// containerd, which runs in the host's: the container would get the empty
// directory under it, silently.
var hardenings = []hardening{
	{"NoNewPrivileges=yes", ""},
	{"LockPersonality=yes", ""},
	{"RestrictRealtime=yes", ""},
	{"RestrictSUIDSGID=yes", ""},
	{"SystemCallArchitectures=native", ""},
	{"MemoryDenyWriteExecute=yes", ""},
	{"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK", ""},
	{"ProtectClock=yes", ""},
	{"ProtectHostname=yes", ""},
	// Read-only /etc: the daemon writes the kubeconfig of its HTTPS port
	// there (and it would be an own mount namespace besides).
	{"ProtectSystem=full", "does not start"},
	// Read-only /var/lib and /var/log: no root directory, no logs.
	{"ProtectSystem=strict", "does not start"},
	{"ProtectHome=yes", "own mount namespace"},
	{"PrivateTmp=yes", "own mount namespace"},
	{"PrivateDevices=yes", "own mount namespace"},
	{"ProtectKernelTunables=yes", "own mount namespace"},
	{"ProtectKernelModules=yes", "own mount namespace"},
	{"ProtectKernelLogs=yes", "own mount namespace"},
	// Read-only /sys/fs/cgroup: no pod cgroups.
	{"ProtectControlGroups=yes", "does not start"},
	{"RestrictNamespaces=yes", ""},
}

// TestHardeningOptions tries each option alone in a drop-in: the unit must
// start, stop the previous pod and start a new one, answer its API, and
// keep the mount namespace of PID 1. The verdicts must match the table.
func TestHardeningOptions(t *testing.T) {
	n := newNode(t, "")
	pid1, err := os.Readlink(vm.path("/proc/1/ns/mnt"))
	if err != nil {
		t.Fatal(err)
	}
	var report []string
	for i, h := range hardenings {
		n.dropIn("60-test-hardening.conf", "[Service]\n"+h.option+"\n")
		name := fmt.Sprintf("h%d", i)
		os.RemoveAll(filepath.Join(n.dir, "manifests"))
		os.MkdirAll(filepath.Join(n.dir, "manifests"), 0o755)
		n.writeManifest(name, sleeper(name), "", "")
		got := n.tryHardened(t, name, pid1)
		verdict := "kept"
		if got != "" {
			verdict = "dropped: " + got
		}
		report = append(report, fmt.Sprintf("%-62s %s", h.option, verdict))
		if got != h.breaks {
			t.Errorf("%s: measured %q, the table says %q", h.option, got, h.breaks)
		}
		vm.run("systemctl", "stop", unit)
		vm.run("systemctl", "reset-failed", unit)
	}
	fmt.Printf("hardening options, each alone:\n%s\n", strings.Join(report, "\n"))
}

// tryHardened starts the unit and says what is broken ("" for nothing).
func (n *node) tryHardened(t *testing.T, pod, pid1Mnt string) string {
	if _, err := vm.run("timeout", "30", "systemctl", "start", unit); err != nil {
		out, _ := vm.run("journalctl", "-u", unit, "--no-pager", "-o", "cat", "-n", "4")
		t.Logf("does not start:\n%s", out)
		return "does not start"
	}
	pid := n.show("MainPID")
	mnt, err := os.Readlink(vm.path("/proc/" + pid + "/ns/mnt"))
	if err != nil {
		return "no mount namespace: " + err.Error()
	}
	if mnt != pid1Mnt {
		return "own mount namespace"
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		running := n.running()
		if _, ok := running[pod]; ok && len(running) == 1 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("pods not replaced: running %v", running)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, err := vm.run("minikubelet", "get", "pods"); err != nil || !strings.Contains(out, pod+"-"+n.name) {
		return "API: " + lastLine(out)
	}
	return ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
