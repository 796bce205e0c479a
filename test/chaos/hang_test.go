package chaos

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// simplePod is a manifest of one long-running busybox container.
func simplePod(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
`, name, busyboxImage)
}

// TestChaos_HungCreateContainer: containerd takes CreateContainer of one
// pod and does not answer. The daemon's runtimeRequestTimeout fires, the
// other pods (those there before and those added meanwhile) are served,
// and once containerd answers again the stalled pod runs with one
// container: the instance containerd created after the daemon gave up
// does not run beside it.
func TestChaos_HungCreateContainer(t *testing.T) {
	others := size(5, 20)
	timeout := 5 * time.Second
	proxy := startCRIProxy(t, runtime.SocketPath(criEndpoint))
	n := newNode(t, cri)
	n.args = []string{"--container-runtime-endpoint", "unix://" + proxy.socket, "--runtime-request-timeout", timeout.String()}
	n.start()
	n.waitHealthy()

	proxy.stall("stalled")
	n.writeManifest("stalled.yaml", simplePod("stalled"))
	model := map[string]want{"stalled": {running: true}}
	for i := 0; i < others; i++ {
		name := fmt.Sprintf("other-%d", i)
		n.writeManifest(name+".yaml", simplePod(name))
		model[name] = want{running: true}
		if i == others/2 {
			// half of them only once the stalled call's timeout fired
			deadline := time.Now().Add(30 * time.Second)
			for _, gaveUp := proxy.counts(); gaveUp == 0; _, gaveUp = proxy.counts() {
				if time.Now().After(deadline) {
					t.Fatalf("the daemon did not give up on the hung CreateContainer within 30s (runtimeRequestTimeout %s):\n%s", timeout, n.logTail())
				}
				time.Sleep(pollInterval)
			}
		}
	}
	start := time.Now()
	for name := range model {
		if name != "stalled" {
			n.waitPod(name, 30*time.Second, running)
		}
	}
	t.Logf("the other %d pods ran %.2fs after the last was written, while the stalled pod's CreateContainer hung", others, time.Since(start).Seconds())
	if p, _ := n.pods(); p["stalled"] != nil && running(p["stalled"]) {
		t.Fatalf("the stalled pod runs although containerd never answered its CreateContainer:\n%s", podJSON(p["stalled"]))
	}
	held, gaveUp := proxy.counts()

	proxy.release()
	released := time.Now()
	p := n.waitPod("stalled", 60*time.Second, running)
	recovered := time.Since(released)
	wants := map[string]want{}
	pods, err := n.pods()
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range model {
		w.uid = string(pods[name].UID)
		wants[name] = w
	}
	deadline := time.Now().Add(30 * time.Second)
	var problems []string
	for {
		if problems = n.criState().problems(wants); len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(pollInterval)
	}
	if len(problems) > 0 {
		t.Fatalf("containerd's state 30s after the release: %v\ndaemon log tail:\n%s", problems, n.logTail())
	}
	proxy.late.Wait()
	// A container containerd created after the daemon gave up is either
	// the one instance that runs (adopted: the daemon starts a created
	// container it finds) or not running; never a second instance (the
	// state check above counts live instances).
	ghosts, adopted := proxy.ghostIDs(), 0
	for _, id := range ghosts {
		if id == strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://") {
			adopted++
		}
	}
	t.Logf("chaos: hung CreateContainer: %d calls held, %d timed out in the daemon, %d created late by containerd (%d adopted as the one instance), %d other pods served meanwhile, the stalled pod ran %.2fs after the release (restart count %d), no duplicate",
		held, gaveUp, len(ghosts), adopted, others, recovered.Seconds(), p.Status.ContainerStatuses[0].RestartCount)
}
