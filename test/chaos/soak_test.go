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

// TestChaos_Soak: pods serving httpGet readiness and tcpSocket liveness
// probes for a while. The daemon's goroutines, open files and RSS do not
// grow by more than 10% between the start and the end, every probe worker
// is accounted for in prober_probe_total with no failure, and no
// container restarts.
func TestChaos_Soak(t *testing.T) {
	pods := override("SOAK_PODS", size(50, 250))
	window := time.Duration(override("SOAK_SECONDS", size(60, 600))) * time.Second
	n := startNode(t)
	base := freePorts(t, pods)
	names := make([]string, pods)
	for i := range names {
		names[i] = fmt.Sprintf("soak-%d", i)
		n.writeManifest(names[i]+".yaml", soakPod(names[i], base+i))
	}
	started := time.Now()
	for _, name := range names {
		n.waitPod(name, 5*time.Minute, func(p *v1.Pod) bool { return running(p) && ready(p) })
	}
	t.Logf("%d pods Running and Ready %.1fs after their manifests were written", pods, time.Since(started).Seconds())
	time.Sleep(3 * soakProbePeriod * time.Second) // let every probe worker reach its period

	first, err := sampleProc(n)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := n.metrics()
	if err != nil {
		t.Fatal(err)
	}
	before := probeCounts(fams)
	cpu0, _ := cpuTicks(n.pid())
	var worstRSS int
	end := time.Now().Add(window)
	for time.Now().Before(end) {
		time.Sleep(5 * time.Second)
		if !n.alive() {
			t.Fatalf("the daemon died during the soak:\n%s", n.logTail())
		}
		if r, err := rssKB(n.pid()); err == nil {
			worstRSS = max(worstRSS, r)
		}
	}
	last, err := sampleProc(n)
	if err != nil {
		t.Fatal(err)
	}
	cpu1, _ := cpuTicks(n.pid())
	fams, err = n.metrics()
	if err != nil {
		t.Fatal(err)
	}
	after := probeCounts(fams)

	grew := func(what string, a, b float64) {
		if b > a*1.10 {
			t.Errorf("%s grew from %.0f to %.0f (over 10%%) during the soak", what, a, b)
		}
	}
	grew("goroutines", first.goroutines, last.goroutines)
	grew("open fds", float64(first.fds), float64(last.fds))
	grew("RSS (kB)", float64(first.rssKB), float64(last.rssKB))

	var results, failures float64
	var silent []string
	for _, name := range names {
		pod := n.podName(name)
		for _, kind := range []string{"Readiness", "Liveness"} {
			ok := after[pod+"/"+kind+"/successful"] - before[pod+"/"+kind+"/successful"]
			results += ok
			for _, bad := range []string{"failed", "unknown"} {
				d := after[pod+"/"+kind+"/"+bad] - before[pod+"/"+kind+"/"+bad]
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
		t.Errorf("probe workers with no result in prober_probe_total over %s: %s", window, strings.Join(silent, ", "))
	}
	if failures > 0 {
		t.Errorf("%.0f probe results failed or unknown during the soak", failures)
	}
	all, err := n.pods()
	if err != nil {
		t.Fatal(err)
	}
	restarts := int32(0)
	for _, name := range names {
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
	expected := float64(pods) * 2 * window.Seconds() / soakProbePeriod
	t.Logf("chaos: soak: %d pods, httpGet + tcpSocket probes every %ds, %s: start %s, end %s, peak RSS %.1f MB, daemon CPU %.1f%% of one core; prober_probe_total +%.0f results (%.0f expected by the periods), %.0f failed, %d restarts",
		pods, soakProbePeriod, window, first, last, float64(worstRSS)/1024, float64(cpu1-cpu0)/window.Seconds(), results, expected, failures, restarts)
}

func ready(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}
