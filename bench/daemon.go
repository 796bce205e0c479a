package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const (
	daemonStartTimeout = 30 * time.Second
	daemonStopTimeout  = 30 * time.Second
	// daemonMaxPods is the --max-pods of the bench's daemons: above the
	// largest stage of any scenario (the scale curve's 500), so that no
	// pod is refused admission (the kubelet's default is 110).
	daemonMaxPods = 1000
)

// daemon is one minikubelet run by the bench, with its own manifest
// directory, root directory, API socket and node name.
type daemon struct {
	bin  string
	node string
	dir  string // holds manifests/, root/, api.sock and daemon.log
	// port is its HTTPS port: a free one, so the bench measures a daemon
	// serving its API as a node does.
	port int
	cmd  *exec.Cmd
	done chan struct{}
	http *http.Client
}

func (d *daemon) manifestDir() string { return filepath.Join(d.dir, "manifests") }
func (d *daemon) socket() string      { return filepath.Join(d.dir, "api.sock") }
func (d *daemon) logPath() string     { return filepath.Join(d.dir, "daemon.log") }

// startDaemon starts minikubelet as node and waits for its API to answer.
func startDaemon(ctx context.Context, bin, node string) (*daemon, error) {
	dir, err := os.MkdirTemp("", "minikubelet-bench-"+node+"-")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "manifests"), 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	d := &daemon{bin: bin, node: node, dir: dir, port: port}
	d.http = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "unix", d.socket())
		}},
	}
	return d, d.start(ctx)
}

// start runs the daemon process (again, after a kill) and waits for its API.
func (d *daemon) start(ctx context.Context) error {
	logFile, err := os.OpenFile(d.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(d.bin, "run",
		"--pod-manifest-path", d.manifestDir(),
		"--hostname-override", d.node,
		"--api-socket", d.socket(),
		"--root-dir", filepath.Join(d.dir, "root"),
		// A port, a kubeconfig and no /healthz port of its own: the bench's
		// daemons would share the defaults with the machine's.
		"--port", strconv.Itoa(d.port),
		"--kubeconfig-path", filepath.Join(d.dir, "kubeconfig"),
		"--healthz-port", "0",
		"--max-pods", strconv.Itoa(daemonMaxPods),
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: a ^C to the bench must not kill the daemon
	// before the bench has removed the pods it made.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", d.bin, err)
	}
	d.cmd = cmd
	d.done = make(chan struct{})
	go func() {
		cmd.Wait()
		logFile.Close()
		close(d.done)
	}()
	deadline := time.Now().Add(daemonStartTimeout)
	for {
		if d.healthy(ctx) {
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("minikubelet exited at start (%s); log tail:\n%s", cmd.ProcessState, d.logTail(20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("minikubelet's API did not answer within %s; log tail:\n%s", daemonStartTimeout, d.logTail(20))
		}
	}
}

// freePort returns a TCP port free on the loopback now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

func (d *daemon) healthy(ctx context.Context) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://minikubelet/healthz", nil)
	resp, err := d.http.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// kill sends SIGKILL and waits for the process to be gone.
func (d *daemon) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop sends SIGTERM (pods keep running: call it after removing them) and
// waits; SIGKILL after daemonStopTimeout.
func (d *daemon) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(daemonStopTimeout):
		d.kill()
	}
}

func (d *daemon) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// pods returns GET /pods.
func (d *daemon) pods(ctx context.Context) ([]v1.Pod, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://minikubelet/pods", nil)
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /pods: %s", resp.Status)
	}
	var list v1.PodList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET /pods: %w", err)
	}
	return list.Items, nil
}

// podName is the name the daemon gives the pod of manifest name.
func (d *daemon) podName(name string) string { return name + "-" + d.node }

// writeManifest writes pod as <name>.yaml and returns the moment the file
// was closed.
func (d *daemon) writeManifest(pod *v1.Pod) (time.Time, error) {
	data, err := yaml.Marshal(pod)
	if err != nil {
		return time.Time{}, err
	}
	path := filepath.Join(d.manifestDir(), pod.Name+".yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return time.Time{}, err
	}
	return time.Now(), nil
}

// removeManifest removes <name>.yaml and returns the moment it was gone.
func (d *daemon) removeManifest(name string) (time.Time, error) {
	err := os.Remove(filepath.Join(d.manifestDir(), name+".yaml"))
	return time.Now(), err
}

// removeAllManifests empties the manifest directory.
func (d *daemon) removeAllManifests() error {
	entries, err := os.ReadDir(d.manifestDir())
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.Remove(filepath.Join(d.manifestDir(), e.Name())))
	}
	return errors.Join(errs...)
}

// logTail returns the last n lines of the daemon's log.
func (d *daemon) logTail(n int) string {
	data, err := os.ReadFile(d.logPath())
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitPod polls GET /pods every interval until cond holds for the pod
// named name (the manifest's name), and returns the moment it was seen.
func (d *daemon) waitPod(ctx context.Context, name string, timeout, interval time.Duration, cond func(*v1.Pod) bool) (time.Time, *v1.Pod, error) {
	full := d.podName(name)
	var last *v1.Pod
	err := poll(ctx, timeout, interval, func() (bool, error) {
		pods, err := d.pods(ctx)
		if err != nil {
			return false, nil // the daemon may be restarting
		}
		last = nil
		for i := range pods {
			if pods[i].Name == full {
				last = &pods[i]
				return cond(last), nil
			}
		}
		return false, nil
	})
	if err != nil {
		return time.Time{}, last, fmt.Errorf("pod %s: %w (last seen: %s)", full, err, describePod(last))
	}
	return time.Now(), last, nil
}

// poll calls f every interval until it returns true or an error, or
// timeout passes.
func poll(ctx context.Context, timeout, interval time.Duration, f func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := f()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// running says the pod's phase is Running with every container running.
func running(p *v1.Pod) bool {
	if p.Status.Phase != v1.PodRunning || len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
	}
	return true
}

// ready says the pod's Ready condition is True.
func ready(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}

// containerID is the CRI ID of the pod's container named name, from its
// status ("containerd://<id>"), or "".
func containerID(p *v1.Pod, name string) string {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == name {
			_, id, _ := strings.Cut(cs.ContainerID, "://")
			return id
		}
	}
	return ""
}

func describePod(p *v1.Pod) string {
	if p == nil {
		return "not listed"
	}
	s := string(p.Status.Phase)
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Running != nil:
			s += fmt.Sprintf(" %s:running(restarts %d, ready %t)", cs.Name, cs.RestartCount, cs.Ready)
		case cs.State.Waiting != nil:
			s += fmt.Sprintf(" %s:waiting(%s %s)", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
		case cs.State.Terminated != nil:
			s += fmt.Sprintf(" %s:terminated(%s, exit %d)", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
		}
	}
	return s
}

// saveProfile writes the daemon's /debug/pprof/<name>?<query> to file.
func (d *daemon) saveProfile(ctx context.Context, name, query, file string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://minikubelet/debug/pprof/"+name+"?"+query, nil)
	client := *d.http
	client.Timeout = 0 // a CPU profile takes its seconds
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: %s", name, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", name, err)
	}
	return f.Close()
}
