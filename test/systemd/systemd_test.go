//go:build e2esystemd

package systemd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startPods writes count sleeper manifests named p0, p1, ... and starts the
// unit, returning how long `systemctl start` took.
func (n *node) startPods(count int) time.Duration {
	n.t.Helper()
	for i := 0; i < count; i++ {
		name := fmt.Sprintf("p%d", i)
		n.writeManifest(name, sleeper(name), "", "")
	}
	start := time.Now()
	n.systemctl("start", unit)
	return time.Since(start)
}

func TestUnitVerifiesClean(t *testing.T) {
	out, err := vm.run("systemd-analyze", "verify", unit)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
}

func TestStartReturnsOnceTheStartupPodsRun(t *testing.T) {
	n := newNode(t, "")
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("p%d", i)
		n.writeManifest(name, sleeper(name), "", "")
	}
	start := time.Now()
	n.systemctl("enable", "--now", unit)
	took := time.Since(start)
	t.Cleanup(func() { vm.run("systemctl", "disable", unit) })
	// No waiting: systemctl returned after READY=1, which comes once each
	// pod of the first scan had its first start attempt.
	if got := n.running(); len(got) != 3 {
		t.Fatalf("when systemctl enable --now returned %d pods ran (%v), want 3", len(got), got)
	}
	t.Logf("systemctl enable --now with 3 manifests took %.2fs", took.Seconds())

	var status string
	n.waitFor("the STATUS line in systemctl status", 10*time.Second, func() (bool, string) {
		out, _ := vm.run("systemctl", "status", "--no-pager", "--lines=0", unit)
		status = out
		return strings.Contains(out, `Status: "3 pods: 3 running`), out
	})
	t.Logf("systemctl status:\n%s", status)

	var starting, podLine bool
	for _, e := range n.journal() {
		msg, _ := e["MESSAGE"].(string)
		f := fields(msg)
		if f == nil || f["node"] != n.name {
			continue
		}
		if e["SYSLOG_IDENTIFIER"] != "minikubelet" {
			t.Errorf("journal entry %q has SYSLOG_IDENTIFIER %v, want minikubelet", msg, e["SYSLOG_IDENTIFIER"])
		}
		starting = starting || strings.Contains(msg, "starting")
		podLine = podLine || f["pod"] != nil
	}
	if !starting || !podLine {
		t.Errorf("the journal (journalctl -u %s -o json) has no structured lines of node %s: starting %v, a line with a pod field %v", unit, n.name, starting, podLine)
	}
}

func TestStartWithTwentyManifests(t *testing.T) {
	n := newNode(t, "")
	took := n.startPods(20)
	if got := n.running(); len(got) != 20 {
		t.Fatalf("when systemctl start returned %d pods ran, want 20", len(got))
	}
	fmt.Printf("figure: systemctl start to active with 20 manifests: %.2fs\n", took.Seconds())
}

func TestWatchdogRestartsAFrozenDaemonAndItAdoptsItsPods(t *testing.T) {
	n := newNode(t, "")
	// A short watchdog keeps the test fast; the unit's own is 30 s.
	n.dropIn("50-test-watchdog.conf", "[Service]\nWatchdogSec=4s\nRestartSec=1\n")
	n.startPods(2)
	before := n.running()
	if len(before) != 2 {
		t.Fatalf("%d pods run, want 2", len(before))
	}
	pid := n.show("MainPID")
	frozen := time.Now()
	if _, err := vm.run("systemctl", "kill", "--kill-whom=main", "--signal=SIGSTOP", unit); err != nil {
		t.Fatal(err)
	}
	newPID := n.waitActive(pid, 60*time.Second)
	took := time.Since(frozen)
	fmt.Printf("figure: watchdog restart (SIGSTOP to active again, WatchdogSec=4s RestartSec=1s): %.2fs\n", took.Seconds())
	if r := n.show("Result"); r != "success" && r != "watchdog" {
		t.Logf("unit result %s", r)
	}
	if restarts := n.show("NRestarts"); restarts == "0" {
		t.Errorf("NRestarts is 0 after the watchdog (pid %s -> %s)", pid, newPID)
	}
	if after := n.running(); !reflect.DeepEqual(after, before) {
		t.Errorf("containers after the watchdog restart %v, want the same %v", after, before)
	}
	found := false
	for _, e := range n.journal() {
		if msg, _ := e["MESSAGE"].(string); strings.Contains(msg, "Watchdog timeout") {
			found = true
		}
	}
	if !found {
		t.Error("the journal does not say the watchdog timed out")
	}
}

func TestRestartAndStopLeavePodsRunningAndStartAdoptsThem(t *testing.T) {
	n := newNode(t, "")
	n.startPods(2)
	before := n.running()
	if len(before) != 2 {
		t.Fatalf("%d pods run, want 2", len(before))
	}
	pid := n.show("MainPID")
	n.systemctl("restart", unit)
	pid = n.waitActive(pid, 30*time.Second)
	if after := n.running(); !reflect.DeepEqual(after, before) {
		t.Fatalf("containers after systemctl restart %v, want the same %v", after, before)
	}
	n.systemctl("stop", unit)
	if state := n.show("ActiveState"); state != "inactive" {
		t.Fatalf("after systemctl stop the unit is %s", state)
	}
	if after := n.running(); !reflect.DeepEqual(after, before) {
		t.Fatalf("containers after systemctl stop %v, want the same %v still running", after, before)
	}
	n.systemctl("start", unit)
	n.waitActive(pid, 30*time.Second)
	if after := n.running(); !reflect.DeepEqual(after, before) {
		t.Fatalf("containers after the next start %v, want the same %v adopted", after, before)
	}
}

func TestFailingConfigFailsTheUnitWithTheReason(t *testing.T) {
	n := newNode(t, "bogusField: 1\n")
	if out, err := vm.run("systemctl", "start", unit); err == nil {
		t.Fatalf("systemctl start succeeded with a bad config: %s", out)
	}
	var reason string
	n.waitFor("the reason in the journal", 10*time.Second, func() (bool, string) {
		out, _ := vm.run("journalctl", "-u", unit, "--no-pager", "-o", "cat", "-n", "30")
		reason = out
		return strings.Contains(out, "bogusField") && strings.Contains(out, "unknown field"), out
	})
	t.Logf("journal:\n%s", reason)
	if state := n.show("ActiveState"); state == "active" {
		t.Errorf("the unit is %s with a bad config", state)
	}
}

// TestRemoveAndPurge removes and purges the package, then installs it
// again for the tests after it.
func TestRemoveAndPurge(t *testing.T) {
	n := newNode(t, "")
	n.startPods(1)
	before := n.running()
	exists := func(p string) bool { _, err := os.Lstat(vm.path(p)); return err == nil }
	// The pods' data at the default places.
	for _, f := range []string{"/var/lib/minikubelet/pod-data", "/var/log/pods/pod-log"} {
		if err := vm.writeFile(f, "x"); err != nil {
			t.Fatal(err)
		}
	}
	install := func() {
		if _, err := vm.run("apt-get", "install", "-y", "-q", "--no-install-recommends", debInMachine); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if !exists("/usr/bin/minikubelet") {
			install()
		}
	})

	if _, err := vm.run("apt-get", "remove", "-y", "-q", "minikubelet"); err != nil {
		t.Fatal(err)
	}
	if state := n.show("ActiveState"); state == "active" {
		t.Errorf("the daemon is %s after apt-get remove", state)
	}
	if after := n.running(); !reflect.DeepEqual(after, before) {
		t.Errorf("containers after apt-get remove %v, want the pods %v left running", after, before)
	}
	if exists("/usr/bin/minikubelet") || exists("/lib/systemd/system/minikubelet.service") {
		t.Error("apt-get remove left the binary or the unit")
	}
	if !exists(configPath) {
		t.Error("apt-get remove removed the config, a conffile kept until purge")
	}

	if _, err := vm.run("apt-get", "purge", "-y", "-q", "minikubelet"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/etc/minikubelet", "/etc/cni/net.d/10-minikubelet.conflist", "/lib/systemd/system/containerd.service.d/minikubelet.conf"} {
		if exists(p) {
			t.Errorf("apt-get purge left %s", p)
		}
	}
	for _, p := range []string{"/var/lib/minikubelet/pod-data", "/var/log/pods/pod-log"} {
		if !exists(p) {
			t.Errorf("apt-get purge removed the pods' data %s unasked", p)
		}
	}

	install()
	if !exists(configPath) || !exists("/etc/kubernetes/manifests") {
		t.Error("the package installed again lacks its config or the manifest directory")
	}
	if _, err := vm.run("env", "MINIKUBELET_PURGE_DATA=1", "apt-get", "purge", "-y", "-q", "minikubelet"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/var/lib/minikubelet", "/var/log/pods"} {
		if exists(p) {
			t.Errorf("apt-get purge with MINIKUBELET_PURGE_DATA=1 left %s", p)
		}
	}
	install()
}

// TestPoweroffStopsPodsGracefully shuts the machine down: it runs last.
func TestPoweroffStopsPodsGracefully(t *testing.T) {
	n := newNode(t, "shutdownGracePeriod: 20s\nshutdownGracePeriodCriticalPods: 8s\n")
	prestop := func(name string) string { return fmt.Sprintf("cat /proc/uptime > /out/%s.prestop", name) }
	n.writeManifest("web", sleeper("web"), prestop("web"), "")
	n.writeManifest("dns", sleeper("dns"), prestop("dns"), "  priorityClassName: system-node-critical\n")
	n.systemctl("start", unit)
	if got := n.running(); len(got) != 2 {
		t.Fatalf("%d pods run, want 2", len(got))
	}
	n.waitFor("the daemon's delay inhibitor lock", 10*time.Second, func() (bool, string) {
		out, _ := vm.run("systemd-inhibit", "--list", "--no-pager")
		return strings.Contains(out, "minikubelet") && strings.Contains(out, "delay"), out
	})
	out, err := vm.run("busctl", "get-property", "org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "InhibitDelayMaxUSec")
	if err != nil || strings.TrimSpace(out) != "t 20000000" {
		t.Errorf("logind's InhibitDelayMaxUSec is %q (%v), want it raised to the 20 s grace period", strings.TrimSpace(out), err)
	}
	start := time.Now()
	vm.run("systemctl", "poweroff")
	select {
	case <-vm.exited:
	case <-time.After(90 * time.Second):
		t.Fatalf("the machine did not power off within 90s; console:\n%s", vm.consoleTail())
	}
	fmt.Printf("figure: systemctl poweroff to the machine gone, 2 pods stopped: %.2fs\n", time.Since(start).Seconds())
	read := func(file string) float64 {
		data, err := os.ReadFile(filepath.Join(n.dir, "hostpath", file))
		if err != nil {
			t.Errorf("%s: %v (the pod was not stopped gracefully)", file, err)
		}
		up, _ := strconv.ParseFloat(strings.Fields(string(data) + " 0")[0], 64)
		return up
	}
	webTerm, dnsPreStop := read("web.term"), read("dns.prestop")
	read("web.prestop")
	read("dns.term")
	if !t.Failed() && dnsPreStop < webTerm {
		t.Errorf("the critical pod's preStop ran at uptime %.2f, before the regular pod's SIGTERM at %.2f: critical pods go last", dnsPreStop, webTerm)
	}
	if left := n.running(); len(left) != 0 {
		t.Errorf("containers still running after the poweroff: %v", left)
	}
	// The machine is gone; its journal is in work.
	raw, err := exec.Command("journalctl", "-D", journalDir, "-u", unit, "--no-pager", "-o", "cat").CombinedOutput()
	if err != nil {
		t.Fatalf("read the machine's journal: %v: %s", err, raw)
	}
	journal := string(raw)
	for _, want := range []string{"node shutting down: stopping pods", `"pod":"default/web-` + n.name, `"pod":"default/dns-` + n.name, "released the shutdown inhibitor lock"} {
		if !strings.Contains(journal, want) {
			t.Errorf("the journal of the shutdown lacks %q:\n%s", want, lastLines(journal, 30))
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
