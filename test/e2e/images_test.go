package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minikubelet/minikubelet/internal/ociimage"
)

// The registries hack/registry.sh runs (hack/node-up.sh starts them).
const (
	openRegistry    = "127.0.0.1:5000"
	authRegistry    = "127.0.0.1:5001"
	registryLogDir  = "/var/log/minikubelet"
	authUser        = "e2e"
	authPassword    = "e2e-secret"
	registryPrereqs = "run hack/node-up.sh, which starts them with hack/registry.sh"
)

// requireRegistry fails the test (skips it outside CI) when the registry
// at addr does not answer.
func requireRegistry(t *testing.T, addr string) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/v2/")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
			return
		}
		err = fmt.Errorf("GET /v2/: %s", resp.Status)
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no registry on %s (%s): %v", addr, registryPrereqs, err)
	}
	t.Skipf("no registry on %s (%s): %v", addr, registryPrereqs, err)
}

// pushImage pushes a busybox image whose /version holds version to ref
// with skopeo, and removes ref from containerd when the test ends.
func pushImage(t *testing.T, ref, version string, creds string) {
	t.Helper()
	bin, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("read /bin/busybox (apt-get install busybox-static): %v", err)
	}
	img := ociimage.Busybox(bin, ref)
	img.Files = append(img.Files,
		ociimage.File{Path: "/version", Data: []byte(version + "\n")},
		ociimage.File{Path: "/image", Data: []byte(ref + "\n")})
	var archive bytes.Buffer
	if err := img.WriteArchive(&archive); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(path, archive.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"copy", "--quiet", "--dest-tls-verify=false"}
	if creds != "" {
		args = append(args, "--dest-creds", creds)
	}
	args = append(args, "oci-archive:"+path, "docker://"+ref)
	if out, err := execCommand("skopeo", args...); err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Cleanup(func() { removeImages(ref) })
}

// removeImages removes from containerd every image of ref's repository
// under each of its names: tags, the digests the CRI names pulled images
// by, and the CRI's ID. Each test pushes to a repository of its own, with
// content of its own, so no other test's image shares a name or an ID.
func removeImages(ref string) {
	repo := ref[:strings.LastIndex(ref, ":")]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, _ := cri.ListImages(ctx, nil)
	for _, img := range list {
		var names []string
		for _, name := range append(img.RepoTags, img.RepoDigests...) {
			if strings.HasPrefix(name, repo+":") || strings.HasPrefix(name, repo+"@") {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			execCommand("ctr", append([]string{"-n", "k8s.io", "images", "rm"}, append(names, img.Id)...)...)
		}
	}
}

// registryPull is a manifest request by tag from containerd, in the
// registry's access log: one per pull (a HEAD, before the manifest is
// fetched by digest), more when the registry asks for credentials.
type registryPull struct {
	at     time.Time // to the second, as the access log has it
	status string
}

var accessLine = regexp.MustCompile(`^\S+ - \S+ \[([^\]]+)\] "HEAD (\S+) HTTP/[0-9.]+" (\d{3}) .*"containerd/`)

// registryPulls lists containerd's pulls of repo:tag the registry at addr
// logged.
func registryPulls(t *testing.T, addr, repo, tag string) []registryPull {
	t.Helper()
	name := "open"
	if addr == authRegistry {
		name = "auth"
	}
	f, err := os.Open(filepath.Join(registryLogDir, "registry-"+name+".log"))
	if err != nil {
		t.Fatalf("registry log: %v", err)
	}
	defer f.Close()
	uri := "/v2/" + repo + "/manifests/" + tag
	var out []registryPull
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := accessLine.FindStringSubmatch(sc.Text())
		if m == nil || m[2] != uri {
			continue
		}
		at, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[1])
		if err != nil {
			t.Fatalf("registry log time %q: %v", m[1], err)
		}
		out = append(out, registryPull{at: at, status: m[3]})
	}
	return out
}

// eventsFor lists the messages of the pod's events with reason, once per
// occurrence.
func (n *testNode) eventsFor(name, reason string) []string {
	var out []string
	for _, e := range n.events() {
		if e.InvolvedObject.Name == n.podName(name) && e.Reason == reason {
			for i := int32(0); i < max(e.Count, 1); i++ {
				out = append(out, e.Message)
			}
		}
	}
	return out
}

func imagePod(name, image string, policy v1.PullPolicy) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    imagePullPolicy: %s
    command: ["sleep", "3600"]
`, name, image, policy)
}

// As the kubelet (pkg/kubelet/images/image_manager.go): Always pulls at
// every start, so a restart runs what the tag points to now; IfNotPresent
// takes the image on the node without asking the registry.
func TestImages_AlwaysPullsAndRepullsAMovedTagIfNotPresentDoesNot(t *testing.T) {
	t.Parallel()
	requireRegistry(t, openRegistry)
	n := startNode(t)
	repo := n.name + "/app"
	image := openRegistry + "/" + repo + ":1"
	pushImage(t, image, "v1", "")

	n.writeManifest("always.yaml", imagePod("always", image, v1.PullAlways))
	p := n.waitPod("always", 30*time.Second, "running", podRunning)
	if out, err := n.exec(p, "app", "cat", "/version"); err != nil || out != "v1" {
		t.Fatalf("/version in the Always container: %q (%v), want v1", out, err)
	}
	if got := registryPulls(t, openRegistry, repo, "1"); len(got) != 1 {
		t.Fatalf("the registry saw %d pulls of %s, want 1", len(got), image)
	}

	n.writeManifest("ifnotpresent.yaml", imagePod("ifnotpresent", image, v1.PullIfNotPresent))
	n.waitPod("ifnotpresent", 30*time.Second, "running", podRunning)
	if got := registryPulls(t, openRegistry, repo, "1"); len(got) != 1 {
		t.Fatalf("the registry saw %d pulls of %s after the IfNotPresent pod started, want still 1", len(got), image)
	}
	if got := n.eventsFor("ifnotpresent", "Pulled"); len(got) != 1 || got[0] != fmt.Sprintf("Container image %q already present on machine", image) {
		t.Fatalf("Pulled events of the IfNotPresent pod %q, want one saying the image is already present", got)
	}

	// The tag moves; the Always container's next start pulls it again.
	pushImage(t, image, "v2", "")
	id := strings.TrimPrefix(statusOf(p, "app").ContainerID, "containerd://")
	if out, err := execCommand("ctr", "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id); err != nil {
		t.Fatalf("kill the Always container: %v\n%s", err, out)
	}
	p = n.waitPod("always", 30*time.Second, "restarted and running", func(p *v1.Pod) bool {
		return podRunning(p) && restartsOf(p, "app") == 1
	})
	if out, err := n.exec(p, "app", "cat", "/version"); err != nil || out != "v2" {
		t.Fatalf("/version in the restarted Always container: %q (%v), want v2 (the moved tag)", out, err)
	}
	if got := registryPulls(t, openRegistry, repo, "1"); len(got) != 2 {
		t.Fatalf("the registry saw %d pulls of %s, want 2", len(got), image)
	}
	pulled := n.eventsFor("always", "Pulled")
	want := regexp.MustCompile(`^Successfully pulled image "` + regexp.QuoteMeta(image) + `" in [0-9.]+m?s \([0-9.]+m?s including waiting\)\. Image size: [1-9][0-9]* bytes\.$`)
	if len(pulled) != 2 || !want.MatchString(pulled[0]) || !want.MatchString(pulled[1]) {
		t.Fatalf("Pulled events of the Always pod %q, want two matching %s", pulled, want)
	}
	if got := n.eventsFor("always", "Pulling"); len(got) != 2 || got[0] != fmt.Sprintf("Pulling image %q", image) {
		t.Fatalf("Pulling events of the Always pod %q, want two", got)
	}
}

// As the kubelet: a missing image shows ErrImagePull, then
// ImagePullBackOff, and is pulled again 10 s after the first failure and
// 20 s after the second (imageBackOffPeriod 10 s doubling to 300 s in
// pkg/kubelet/kubelet.go), as the registry's own log shows.
func TestImages_MissingImageInARealRegistryBacksOffTenThenTwentySeconds(t *testing.T) {
	t.Parallel()
	requireRegistry(t, openRegistry)
	n := startNode(t)
	repo := n.name + "/missing"
	image := openRegistry + "/" + repo + ":1"
	start := time.Now()
	n.writeManifest("missing.yaml", imagePod("missing", image, v1.PullAlways))
	var reasons []string
	var messages []string
	n.samplePod("missing", 100*time.Millisecond, 45*time.Second, start, "pulled three times", func(p *v1.Pod, _ time.Duration) (string, bool) {
		if c := statusOf(p, "app"); c != nil && c.State.Waiting != nil {
			if r := c.State.Waiting.Reason; len(reasons) == 0 || reasons[len(reasons)-1] != r {
				reasons = append(reasons, r)
				messages = append(messages, c.State.Waiting.Message)
			}
		}
		return "", len(registryPulls(t, openRegistry, repo, "1")) >= 3
	})
	pulls := registryPulls(t, openRegistry, repo, "1")
	var gaps []time.Duration
	for i := 1; i < len(pulls); i++ {
		gaps = append(gaps, pulls[i].at.Sub(pulls[i-1].at))
	}
	t.Logf("registry saw %d pulls, %v apart; waiting reasons %v", len(pulls), gaps, reasons)
	for _, p := range pulls {
		if p.status != "404" {
			t.Errorf("the registry answered a pull with %s, want 404", p.status)
		}
	}
	// The access log counts whole seconds: a 10.2 s gap may read as 11 s.
	if len(gaps) != 2 || gaps[0] < 9*time.Second || gaps[0] > 12*time.Second || gaps[1] < 19*time.Second || gaps[1] > 22*time.Second {
		t.Errorf("pulls %v apart, want about 10s then 20s", gaps)
	}
	if i := indexOf(reasons, "ErrImagePull"); i < 0 || indexOf(reasons[i:], "ImagePullBackOff") < 0 {
		t.Fatalf("waiting reasons %v, want ErrImagePull then ImagePullBackOff", reasons)
	}
	if m := messages[indexOf(reasons, "ImagePullBackOff")]; m != fmt.Sprintf("Back-off pulling image %q", image) {
		t.Errorf("ImagePullBackOff message %q", m)
	}
	if m := messages[indexOf(reasons, "ErrImagePull")]; !strings.Contains(m, "not found") {
		t.Errorf("ErrImagePull message %q, want the registry's not found", m)
	}
	failed := n.eventsFor("missing", "Failed")
	prefix := fmt.Sprintf("Failed to pull image %q: ", image)
	var pullFailures int
	for _, m := range failed {
		if strings.HasPrefix(m, prefix) {
			pullFailures++
		}
	}
	if pullFailures != len(pulls) {
		t.Errorf("%d Failed events starting %q for %d pulls: %q", pullFailures, prefix, len(pulls), failed)
	}
	if got := n.eventsFor("missing", "BackOff"); len(got) == 0 || got[0] != fmt.Sprintf("Back-off pulling image %q", image) {
		t.Errorf("BackOff events %q, want Back-off pulling image", got)
	}
}

// dockerConfig is a docker config.json with one registry's credentials.
func dockerConfig(registry, user, password string) string {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return fmt.Sprintf(`{"auths":{"http://%s":{"auth":%q}}}`, registry, auth)
}

// As the kubelet (pkg/credentialprovider): the node's docker config.json
// in the daemon's root directory, the kubelet's preferred place, is sent
// as the CRI AuthConfig for the registry it names; a configured
// registryCredentialsFile with a wrong password gives ErrImagePull with
// the registry's own 401.
func TestImages_NodeCredentialsPullFromAProtectedRegistry(t *testing.T) {
	t.Parallel()
	requireRegistry(t, authRegistry)
	work := t.TempDir()
	wrong := filepath.Join(work, "wrong.json")
	if err := os.WriteFile(wrong, []byte(dockerConfig(authRegistry, authUser, "wrong")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(work, "config.yaml")
	if err := os.WriteFile(cfg, []byte("registryCredentialsFile: "+wrong+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	right := startNode(t)
	bad := startNode(t, "--config", cfg)
	repo := right.name + "/private"
	image := authRegistry + "/" + repo + ":1"
	pushImage(t, image, "private", authUser+":"+authPassword)

	rootDir := filepath.Join(filepath.Dir(right.dir), "root")
	if err := os.MkdirAll(rootDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootDir, "config.json"), []byte(dockerConfig(authRegistry, authUser, authPassword)), 0o600); err != nil {
		t.Fatal(err)
	}
	right.writeManifest("private.yaml", imagePod("private", image, v1.PullAlways))
	p := right.waitPod("private", 30*time.Second, "running", podRunning)
	if out, err := right.exec(p, "app", "cat", "/version"); err != nil || out != "private" {
		t.Fatalf("/version: %q (%v), want private", out, err)
	}

	bad.writeManifest("private.yaml", imagePod("private", image, v1.PullAlways))
	p = bad.waitPod("private", 30*time.Second, "waiting with ErrImagePull or ImagePullBackOff", func(p *v1.Pod) bool {
		c := statusOf(p, "app")
		return c != nil && c.State.Waiting != nil && (c.State.Waiting.Reason == "ErrImagePull" || c.State.Waiting.Reason == "ImagePullBackOff")
	})
	var failed string
	for _, m := range bad.eventsFor("private", "Failed") {
		if strings.HasPrefix(m, "Failed to pull image") {
			failed = m
		}
	}
	if !strings.Contains(failed, "401 Unauthorized") {
		bad.failPod(p, "Failed event %q, want the registry's 401 Unauthorized", failed)
	}
	var statuses []string
	for _, pull := range registryPulls(t, authRegistry, repo, "1") {
		statuses = append(statuses, pull.status)
	}
	// containerd asks anonymously first (a 401), then with the credentials:
	// the right node's pull ends in a 200, the wrong one's in 401s.
	if indexOf(statuses, "200") < 0 || indexOf(statuses, "401") < 0 {
		t.Errorf("the registry answered the pulls with %v, want a 200 and a 401", statuses)
	}
}

// As the kubelet's configuration validation: maxParallelImagePulls above 1
// needs serializeImagePulls false; the daemon refuses to start and says so.
func TestImages_ParallelPullLimitNeedsSerializeImagePullsFalse(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("maxParallelImagePulls: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := execCommand(binary, "run", "--config", cfg, "--pod-manifest-path", t.TempDir(), "--hostname-override", "e2e-refused", "--api-socket", filepath.Join(t.TempDir(), "api.sock"))
	if err == nil || !strings.Contains(out, "maxParallelImagePulls") || !strings.Contains(out, "serializeImagePulls") {
		t.Fatalf("minikubelet run with maxParallelImagePulls 2 and pulls serialized: %v\n%s\nwant an error naming both fields", err, out)
	}
}
