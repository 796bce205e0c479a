//go:build e2esystemd

package systemd

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// machine is a Debian tree booted by systemd-nspawn with systemd as its
// PID 1. It shares the host's network, and sees the host's containerd
// socket and the test's work directory at the same paths as the host.
type machine struct {
	nspawn  *exec.Cmd
	exited  chan struct{}
	leader  int // the machine's systemd, as a host PID
	console *syncBuffer
	// booted is how long the boot took, to `systemctl is-system-running`
	// answering running (or degraded).
	booted time.Duration
}

// bootMachine boots tree (mounted read-only under a tmpfs overlay, so the
// cached tree stays clean), binding in each of binds at the same path.
func bootMachine(tree, name string, binds []string, readOnly map[string]string) (*machine, error) {
	args := []string{"--boot", "--register=no", "--keep-unit", "-D", tree, "--volatile=overlay",
		"--console=pipe", "--machine=" + name}
	for _, b := range binds {
		args = append(args, "--bind="+b)
	}
	for src, dst := range readOnly {
		args = append(args, "--bind-ro="+src+":"+dst)
	}
	m := &machine{nspawn: exec.Command("systemd-nspawn", args...), exited: make(chan struct{}), console: &syncBuffer{}}
	m.nspawn.Stdout, m.nspawn.Stderr = m.console, m.console
	// A test binary killed (go test's timeout) takes its machine along.
	m.nspawn.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	start := time.Now()
	if err := m.nspawn.Start(); err != nil {
		return nil, fmt.Errorf("start systemd-nspawn: %w", err)
	}
	go func() {
		m.nspawn.Wait()
		close(m.exited)
	}()
	deadline := time.Now().Add(90 * time.Second)
	for m.leader == 0 {
		if err := m.alive(); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			m.terminate()
			return nil, fmt.Errorf("systemd-nspawn started no systemd within 90s; console:\n%s", m.consoleTail())
		}
		m.leader = systemdChild(m.nspawn.Process.Pid)
		time.Sleep(50 * time.Millisecond)
	}
	for {
		out, _ := m.run("systemctl", "is-system-running")
		state := strings.TrimSpace(out)
		if state == "running" || state == "degraded" {
			break
		}
		if err := m.alive(); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			m.terminate()
			return nil, fmt.Errorf("the machine is %q, not running, after 90s; console:\n%s", state, m.consoleTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.booted = time.Since(start)
	return m, nil
}

// systemdChild finds the systemd that nspawn runs as its child.
func systemdChild(pid int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(data)) {
			child, err := strconv.Atoi(field)
			if err != nil {
				continue
			}
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", child))
			if strings.TrimSpace(string(comm)) == "systemd" {
				return child
			}
		}
	}
	return 0
}

func (m *machine) alive() error {
	select {
	case <-m.exited:
		return fmt.Errorf("systemd-nspawn exited (%v); console:\n%s", m.nspawn.ProcessState, m.consoleTail())
	default:
		return nil
	}
}

// run runs a command in the machine (all its namespaces) and returns its
// output, stdout and stderr together.
func (m *machine) run(args ...string) (string, error) {
	full := append([]string{"-t", strconv.Itoa(m.leader), "-a", "--", "env", "-i",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
		"DEBIAN_FRONTEND=noninteractive", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}, args...)
	out, err := exec.Command("nsenter", full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s in the machine: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// path is where the host sees a path of the machine's root.
func (m *machine) path(p string) string {
	return filepath.Join(fmt.Sprintf("/proc/%d/root", m.leader), p)
}

// writeFile writes a file into the machine.
func (m *machine) writeFile(p, content string) error {
	if err := os.MkdirAll(filepath.Dir(m.path(p)), 0o755); err != nil {
		return err
	}
	return os.WriteFile(m.path(p), []byte(content), 0o644)
}

// remountCgroupsWritable makes the machine's view of the host's cgroup v1
// controllers writable. nspawn mounts them read-only; their paths are the
// host's (nspawn gives the machine a cgroup namespace of its own only in
// the name=systemd and unified hierarchies), so the daemon inside makes
// the pod cgroups the host's containerd is handed.
func (m *machine) remountCgroupsWritable() error {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", m.leader))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, fl := range fields {
			if fl == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(fields) || fields[sep+1] != "cgroup" || strings.Contains(fields[sep+3], "name=") {
			continue
		}
		mnt := fields[4]
		out, err := exec.Command("nsenter", "-t", strconv.Itoa(m.leader), "-m", "--", "mount", "-o", "remount,bind,rw", mnt).CombinedOutput()
		if err != nil {
			return fmt.Errorf("remount %s writable in the machine: %w: %s", mnt, err, out)
		}
	}
	return sc.Err()
}

// terminate stops the machine as nspawn documents: SIGTERM to nspawn's
// own PID (the machine's systemd shuts down), SIGKILL after 60 s.
func (m *machine) terminate() {
	if m.alive() != nil {
		return
	}
	m.nspawn.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(60 * time.Second):
		m.nspawn.Process.Kill()
		<-m.exited
	}
}

func (m *machine) consoleTail() string {
	s := m.console.String()
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is the console: nspawn's stdout and stderr write it, the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
