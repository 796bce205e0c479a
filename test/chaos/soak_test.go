package chaos

import (
	"fmt"
	"math/rand"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

const soakProbePeriod = 2 // seconds

func soakPod(name string, port int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "mkdir -p /tmp/www && echo ok > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:%d -h /tmp/www"]
    readinessProbe:
      httpGet: {host: 127.0.0.1, port: %d, path: /index.html}
      periodSeconds: %d
    livenessProbe:
      tcpSocket: {host: 127.0.0.1, port: %d}
      periodSeconds: %d
`, name, busyboxImage, port, port, soakProbePeriod, port, soakProbePeriod)
}

// freePorts finds n consecutive free loopback ports.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 20; try++ {
		// Below the ephemeral range (32768-60999): a port the probes'
		// own outgoing connections may take is no port for a server.
		base := 10000 + rand.Intn(32768-10000-n)
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

// soakPodsPerNode keeps each daemon under the node's maxPods (the
// kubelet's 110, not configurable here): a larger soak runs several
// daemons side by side, each sampled on its own.
const soakPodsPerNode = 100

// soakNode is one daemon of the soak and the pods it runs.
type soakNode struct {
	n           *node
	names       []string
	first, last procSample
	before      map[string]float64
	cpu0, cpu1  int
	worstRSS    int
}

// TestChaos_Soak: pods serving httpGet readiness and tcpSocket liveness
// probes for a while. Each daemon's goroutines, open files and RSS do not
// grow by more than 10% between the start and the end, every probe worker
// is accounted for in prober_probe_total with no failure, and no
// container restarts.
func TestChaos_Soak(t *testing.T) {
	pods := override("SOAK_PODS", size(50, 250))
	window := time.Duration(override("SOAK_SECONDS", size(60, 600))) * time.Second
	base := freePorts(t, pods)
	var nodes []*soakNode
	for i := 0; i < pods; i++ {
		if i%soakPodsPerNode == 0 {
			nodes = append(nodes, &soakNode{n: startNode(t)})
		}
		sn := nodes[len(nodes)-1]
		name := fmt.Sprintf("soak-%d", i)
		sn.names = append(sn.names, name)
		sn.n.writeManifest(name+".yaml", soakPod(name, base+i))
	}
	started := time.Now()
	for _, sn := range nodes {
		for _, name := range sn.names {
			sn.n.waitPod(name, 5*time.Minute, func(p *v1.Pod) bool { return running(p) && ready(p) })
		}
	}
	t.Logf("%d pods on %d daemons Running and Ready %.1fs after their manifests were written", pods, len(nodes), time.Since(started).Seconds())
	time.Sleep(3 * soakProbePeriod * time.Second) // let every probe worker reach its period

	for _, sn := range nodes {
		var err error
		if sn.first, err = sampleProc(sn.n); err != nil {
			t.Fatal(err)
		}
		fams, err := sn.n.metrics()
		if err != nil {
			t.Fatal(err)
		}
		sn.before = probeCounts(fams)
		sn.cpu0, _ = cpuTicks(sn.n.pid())
	}
	end := time.Now().Add(window)
	for time.Now().Before(end) {
		time.Sleep(5 * time.Second)
		for _, sn := range nodes {
			if !sn.n.alive() {
				t.Fatalf("a daemon died during the soak:\n%s", sn.n.logTail())
			}
			if r, err := rssKB(sn.n.pid()); err == nil {
				sn.worstRSS = max(sn.worstRSS, r)
			}
		}
	}
	grew := func(what string, a, b float64) {
		if b > a*1.10 {
			t.Errorf("%s grew from %.0f to %.0f (over 10%%) during the soak", what, a, b)
		}
	}
	var results, failures float64
	var restarts int32
	var samples []string
	for _, sn := range nodes {
		var err error
		if sn.last, err = sampleProc(sn.n); err != nil {
			t.Fatal(err)
		}
		sn.cpu1, _ = cpuTicks(sn.n.pid())
		fams, err := sn.n.metrics()
		if err != nil {
			t.Fatal(err)
		}
		after := probeCounts(fams)
		grew(sn.n.name+" goroutines", sn.first.goroutines, sn.last.goroutines)
		grew(sn.n.name+" open fds", float64(sn.first.fds), float64(sn.last.fds))
		grew(sn.n.name+" RSS (kB)", float64(sn.first.rssKB), float64(sn.last.rssKB))
		r, f, rc := sn.check(t, after)
		results, failures, restarts = results+r, failures+f, restarts+rc
		samples = append(samples, fmt.Sprintf("%d pods: start %s, end %s, peak RSS %.1f MB, CPU %.1f%% of a core",
			len(sn.names), sn.first, sn.last, float64(sn.worstRSS)/1024, float64(sn.cpu1-sn.cpu0)/window.Seconds()))
	}
	expected := float64(pods) * 2 * window.Seconds() / soakProbePeriod
	t.Logf("chaos: soak: %d pods, httpGet + tcpSocket probes every %ds, %s; per daemon: %s; prober_probe_total +%.0f results (%.0f expected by the periods), %.0f failed, %d restarts",
		pods, soakProbePeriod, window, strings.Join(samples, "; "), results, expected, failures, restarts)
}

// check counts a daemon's probe results since the start sample and fails
// the test for a silent probe worker, a failed probe, a pod not running
// or restarted.
func (sn *soakNode) check(t *testing.T, after map[string]float64) (results, failures float64, restarts int32) {
	t.Helper()
	var silent []string
	for _, name := range sn.names {
		pod := sn.n.podName(name)
		for _, kind := range []string{"Readiness", "Liveness"} {
			ok := after[pod+"/"+kind+"/successful"] - sn.before[pod+"/"+kind+"/successful"]
			results += ok
			for _, bad := range []string{"failed", "unknown"} {
				d := after[pod+"/"+kind+"/"+bad] - sn.before[pod+"/"+kind+"/"+bad]
				results += d
				failures += d
			}
			if ok == 0 {
				silent = append(silent, pod+" "+kind)
			}
		}
	}
	if len(silent) > 0 {
		sort.Strings(silent)
		t.Errorf("probe workers with no result in prober_probe_total: %s", strings.Join(silent, ", "))
	}
	if failures > 0 {
		t.Errorf("%s: %.0f probe results failed or unknown during the soak", sn.n.name, failures)
	}
	all, err := sn.n.pods()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sn.names {
		p := all[name]
		if p == nil || !running(p) {
			t.Errorf("pod %s not running at the end:\n%s", name, podJSON(p))
			continue
		}
		if rc := p.Status.ContainerStatuses[0].RestartCount; rc != 0 {
			restarts += rc
			t.Errorf("pod %s restarted %d times", name, rc)
		}
	}
	return results, failures, restarts
}

func ready(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}
