package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/minikubelet/minikubelet/internal/ociimage"
)

// podmanDir holds the peer's private storage, configuration and events
// log. It is kept between runs so that the busybox image and podman's pause
// image are not rebuilt every time; the bench removes every pod it made.
const podmanDir = "/var/tmp/minikubelet-bench/podman"

// podmanConf is the private containers.conf. On these machines podman's
// default ulimits fail inside runc (no CAP_SYS_RESOURCE); PID 1 is not
// systemd, hence cgroupfs and file events; k8s-file logs need no journal.
// crun is not installed: runc, as containerd uses.
const podmanConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=16384:16384"]
log_driver = "k8s-file"

[network]
network_backend = "netavark"
network_config_dir = "%[1]s/networks"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "%[1]s/events.log"
runtime = "runc"
tmp_dir = "%[1]s/tmp"
`

// podman is the peer: `podman kube play` with a private storage.
type podman struct {
	version string
	dir     string
	yamlDir string
}

// newPodman prepares the private storage, loads the busybox image built
// from the same bytes as containerd's (so the same digest), and checks that
// a pod runs. Its error says why podman cannot be measured here.
func newPodman(ctx context.Context) (*podman, error) {
	if _, err := exec.LookPath("podman"); err != nil {
		return nil, fmt.Errorf("podman is not installed (apt-get install -y podman): %w", err)
	}
	p := &podman{dir: podmanDir, yamlDir: filepath.Join(podmanDir, "yaml")}
	for _, d := range []string{"networks", "tmp", "yaml"} {
		if err := os.MkdirAll(filepath.Join(p.dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	// Each run reads only its own events.
	os.Remove(filepath.Join(p.dir, "events.log"))
	if err := os.WriteFile(filepath.Join(p.dir, "containers.conf"), fmt.Appendf(nil, podmanConf, p.dir), 0o644); err != nil {
		return nil, err
	}
	out, err := p.run(ctx, "version", "--format", "{{.Client.Version}}")
	if err != nil {
		return nil, err
	}
	p.version = strings.TrimSpace(out)
	if _, err := p.run(ctx, "image", "exists", ociimage.BusyboxRef); err != nil {
		if err := p.loadBusybox(ctx); err != nil {
			return nil, err
		}
	}
	// Whatever an interrupted run left.
	p.run(ctx, "pod", "rm", "--all", "--force", "--time", "0")
	// A first pod: podman builds its pause image from catatonit here.
	probe := basePod("bench-podman-check", true, sleepForever)
	path, err := p.writeYAML(probe)
	if err != nil {
		return nil, err
	}
	if _, err := p.run(ctx, "kube", "play", path); err != nil {
		return nil, fmt.Errorf("podman cannot run a pod on this machine: %w", err)
	}
	if _, err := p.run(ctx, "kube", "play", "--down", path); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *podman) loadBusybox(ctx context.Context) error {
	data, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("read /bin/busybox (apt-get install busybox-static): %w", err)
	}
	archive := filepath.Join(p.dir, "busybox.tar")
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	if err := ociimage.Busybox(data, ociimage.BusyboxRef).WriteArchive(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	defer os.Remove(archive)
	if _, err := p.run(ctx, "load", "-i", archive); err != nil {
		return fmt.Errorf("load busybox into podman: %w", err)
	}
	return nil
}

// command returns a podman command on the private storage and config.
func (p *podman) command(ctx context.Context, args ...string) *exec.Cmd {
	base := []string{
		"--root", filepath.Join(p.dir, "root"),
		"--runroot", filepath.Join(p.dir, "runroot"),
		"--storage-driver", "overlay",
	}
	cmd := exec.CommandContext(ctx, "podman", append(base, args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(p.dir, "containers.conf"))
	return cmd
}

func (p *podman) run(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := p.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// writeYAML writes pods (one YAML document each) to a file for kube play.
func (p *podman) writeYAML(pods ...*v1.Pod) (string, error) {
	var buf bytes.Buffer
	for i, pod := range pods {
		if i > 0 {
			buf.WriteString("---\n")
		}
		data, err := yaml.Marshal(pod)
		if err != nil {
			return "", err
		}
		buf.Write(data)
	}
	path := filepath.Join(p.yamlDir, pods[0].Name+".yaml")
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
}

// play runs `podman kube play` on the pods and returns the moment it
// began.
func (p *podman) play(ctx context.Context, pods ...*v1.Pod) (string, time.Time, error) {
	path, err := p.writeYAML(pods...)
	if err != nil {
		return "", time.Time{}, err
	}
	t0 := time.Now()
	_, err = p.run(ctx, "kube", "play", path)
	return path, t0, err
}

// replace runs `podman kube play --replace`, podman's way to apply an
// edited manifest, and returns the moment it began.
func (p *podman) replace(ctx context.Context, pod *v1.Pod) (time.Time, error) {
	path, err := p.writeYAML(pod)
	if err != nil {
		return time.Time{}, err
	}
	t0 := time.Now()
	_, err = p.run(ctx, "kube", "play", "--replace", path)
	return t0, err
}

// down runs `podman kube play --down` and returns when it began and ended.
func (p *podman) down(ctx context.Context, path string) (time.Time, time.Time, error) {
	t0 := time.Now()
	_, err := p.run(ctx, "kube", "play", "--down", path)
	return t0, time.Now(), err
}

// podmanState is what podman inspect says of a container.
type podmanState struct {
	StartedAt, FinishedAt time.Time
	RestartCount          int
	Running               bool
}

// inspect returns the state of the container of pod named container, as
// podman names it (<pod>-<container>).
func (p *podman) inspect(ctx context.Context, pod, container string) (podmanState, error) {
	out, err := p.run(ctx, "inspect", "--format", "{{.State.StartedAt.UnixNano}} {{.State.FinishedAt.UnixNano}} {{.RestartCount}} {{.State.Running}}", pod+"-"+container)
	if err != nil {
		return podmanState{}, err
	}
	var started, finished int64
	var st podmanState
	if _, err := fmt.Sscan(out, &started, &finished, &st.RestartCount, &st.Running); err != nil {
		return st, fmt.Errorf("parse podman inspect %q: %w", out, err)
	}
	if started > 0 {
		st.StartedAt = time.Unix(0, started)
	}
	if finished > 0 {
		st.FinishedAt = time.Unix(0, finished)
	}
	return st, nil
}

// podmanEvent is one line of podman's file events log.
type podmanEvent struct {
	Name     string
	Status   string
	Time     time.Time
	ExitCode int `json:"ContainerExitCode"`
}

// events returns the events of the container named name (<pod>-<container>)
// with status, in order.
func (p *podman) events(name, status string) ([]podmanEvent, error) {
	f, err := os.Open(filepath.Join(p.dir, "events.log"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []podmanEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(strconv.Quote(name))) {
			continue
		}
		var ev podmanEvent
		if json.Unmarshal(line, &ev) == nil && ev.Name == name && ev.Status == status {
			out = append(out, ev)
		}
	}
	return out, sc.Err()
}

// cleanup removes every pod of the private storage.
func (p *podman) cleanup(ctx context.Context) error {
	_, err := p.run(ctx, "pod", "rm", "--all", "--force", "--time", "0")
	return err
}
