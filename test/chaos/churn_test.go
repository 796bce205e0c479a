package chaos

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// churnKind is the part a pod plays in the churn.
type churnKind int

const (
	// steady pods run forever and are added, edited and removed.
	steady churnKind = iota
	// never is a restartPolicy Never pod that runs forever, left alone:
	// its one container must never be replaced.
	never
	// once is a restartPolicy Never pod that exits 0: it must never run
	// again.
	once
	// crash exits 1 at once under restartPolicy Always: its restarts
	// must keep the backoff across daemon restarts.
	crash
)

type churnPod struct {
	name string
	kind churnKind
	// withUID pods carry metadata.uid: an edit restarts the container in
	// the same sandbox; the others get a new UID with each edit.
	withUID bool
	gen     int
}

func (p *churnPod) manifest() string {
	uid := ""
	if p.withUID {
		uid = "\n  uid: " + p.name + "-uid"
	}
	policy, cmd := "Always", `trap 'exit 0' TERM; sleep 3600 & wait`
	switch p.kind {
	case never:
		policy = "Never"
	case once:
		policy, cmd = "Never", "exit 0"
	case crash:
		cmd = "exit 1"
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s%s
spec:
  hostNetwork: true
  restartPolicy: %s
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", %q]
    env:
    - name: GEN
      value: "%d"
`, p.name, uid, policy, busyboxImage, cmd, p.gen)
}

// TestChaos_DaemonKilledDuringChurn: rounds of random adds, edits and
// removals of manifests, the daemon SIGKILLed at a random moment of each
// and started again with the same node name and root directory. After
// each round containerd holds one sandbox per manifest and one live
// instance per container, nothing of a removed or replaced pod, restart
// counts never went back, the Never pods never ran twice and the crash
// loop kept its backoff.
func TestChaos_DaemonKilledDuringChurn(t *testing.T) {
	pods, rounds := override("PODS", size(20, 50)), override("ROUNDS", size(5, 20))
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("seed %d, %d pods, %d rounds", seed, pods, rounds)

	n := startNode(t)
	model := map[string]*churnPod{}
	next := 0
	add := func(kind churnKind) {
		p := &churnPod{name: fmt.Sprintf("churn-%d", next), kind: kind, withUID: next%2 == 0}
		next++
		model[p.name] = p
		n.writeManifest(p.name+".yaml", p.manifest())
	}
	add(never)
	add(once)
	add(crash)
	for len(model) < pods {
		add(steady)
	}
	inv := newInvariants(t, n)
	inv.settle(model, 0)

	var worstRecovery time.Duration
	for round := 1; round <= rounds; round++ {
		ops := churnOps(rng, model, pods, &next)
		window := 2 * time.Second
		killAt := time.Duration(rng.Int63n(int64(window)))
		start := time.Now()
		killed := false
		for _, op := range ops {
			if !killed && op.at >= killAt {
				time.Sleep(time.Until(start.Add(killAt)))
				n.kill()
				killed = true
			}
			time.Sleep(time.Until(start.Add(op.at)))
			op.do(n, model)
		}
		if !killed {
			time.Sleep(time.Until(start.Add(killAt)))
			n.kill()
		}
		back := time.Now()
		n.start()
		recovery, last := inv.waitRunning(model, back)
		worstRecovery = max(worstRecovery, recovery)
		if recovery > 3*time.Second {
			t.Logf("round %d: recovery over 3s; the last pods to run: %v; daemon log kept at %s", round, last, inv.keepLog(round))
		}
		settled := inv.settle(model, round)
		t.Logf("round %d: %d ops, killed at %s, all pods Running %.2fs after the restart, containerd settled in %.2fs",
			round, len(ops), killAt.Round(time.Millisecond), recovery.Seconds(), settled.Seconds())
	}
	t.Logf("chaos: daemon SIGKILL during churn: %d pods, %d rounds, worst recovery %.2fs (goal 3s), lost nothing, duplicated nothing",
		pods, rounds, worstRecovery.Seconds())
}

type churnOp struct {
	at time.Duration
	do func(n *node, model map[string]*churnPod)
}

// churnOps plans a round: about a fifth of the pods added, edited or
// removed at random moments of a 2 s window.
func churnOps(rng *rand.Rand, model map[string]*churnPod, pods int, next *int) []churnOp {
	var steadyNames []string
	for name, p := range model {
		if p.kind == steady {
			steadyNames = append(steadyNames, name)
		}
	}
	sort.Strings(steadyNames)
	rng.Shuffle(len(steadyNames), func(i, j int) { steadyNames[i], steadyNames[j] = steadyNames[j], steadyNames[i] })
	var ops []churnOp
	k := max(3, pods/5)
	for i := 0; i < k && i < len(steadyNames); i++ {
		name := steadyNames[i]
		at := time.Duration(rng.Int63n(int64(2 * time.Second)))
		switch rng.Intn(3) {
		case 0: // edit
			ops = append(ops, churnOp{at, func(n *node, model map[string]*churnPod) {
				p := model[name]
				p.gen++
				n.writeManifest(name+".yaml", p.manifest())
			}})
		case 1: // remove, and a new pod in its place
			fresh := fmt.Sprintf("churn-%d", *next)
			*next++
			ops = append(ops, churnOp{at, func(n *node, model map[string]*churnPod) {
				delete(model, name)
				n.removeManifest(name + ".yaml")
				p := &churnPod{name: fresh, kind: steady, withUID: rng.Intn(2) == 0}
				model[fresh] = p
				n.writeManifest(fresh+".yaml", p.manifest())
			}})
		case 2: // remove
			ops = append(ops, churnOp{at, func(n *node, model map[string]*churnPod) {
				delete(model, name)
				n.removeManifest(name + ".yaml")
			}})
		}
	}
	if len(model)-len(ops) < pods/2 { // keep the node populated
		for i := 0; i < pods/5; i++ {
			fresh := fmt.Sprintf("churn-%d", *next)
			*next++
			at := time.Duration(rng.Int63n(int64(2 * time.Second)))
			ops = append(ops, churnOp{at, func(n *node, model map[string]*churnPod) {
				p := &churnPod{name: fresh, kind: steady, withUID: rng.Intn(2) == 0}
				model[fresh] = p
				n.writeManifest(fresh+".yaml", p.manifest())
			}})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].at < ops[j].at })
	return ops
}

// invariants carries what earlier rounds saw, for the checks across
// rounds.
type invariants struct {
	t *testing.T
	n *node
	// restarts is the highest restart count seen per pod UID.
	restarts map[string]int32
	// onlyRun is the one container ID of each Never pod.
	onlyRun map[string]string
}

func newInvariants(t *testing.T, n *node) *invariants {
	return &invariants{t: t, n: n, restarts: map[string]int32{}, onlyRun: map[string]string{}}
}

// waitRunning polls /pods until every pod the model wants running is
// Running at its current generation, and returns how long that took from
// since and the pods still missing at the poll before.
func (inv *invariants) waitRunning(model map[string]*churnPod, since time.Time) (time.Duration, []string) {
	inv.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var missing, prev []string
	for time.Now().Before(deadline) {
		pods, err := inv.n.pods()
		if err == nil {
			missing = nil
			for name, p := range model {
				if p.kind != steady && p.kind != never {
					continue
				}
				got := pods[name]
				if got == nil || !running(got) || podGen(got) != p.gen {
					missing = append(missing, name)
				}
			}
			if len(missing) == 0 {
				sort.Strings(prev)
				return time.Since(since), prev
			}
			prev = missing
		}
		time.Sleep(pollInterval)
	}
	sort.Strings(missing)
	inv.t.Fatalf("pods not Running 60s after the daemon's restart: %v\ndaemon log tail:\n%s", missing, inv.n.logTail())
	return 0, nil
}

// keepLog copies the daemon's log out of the node's directory (removed
// when the test passes) and returns where.
func (inv *invariants) keepLog(round int) string {
	data, err := os.ReadFile(inv.n.logPath)
	if err != nil {
		return err.Error()
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("minikubelet-chaos-%s-round%d.log", inv.n.name, round))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err.Error()
	}
	return path
}

func podGen(p *v1.Pod) int {
	for _, c := range p.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == "GEN" {
				var g int
				fmt.Sscan(e.Value, &g)
				return g
			}
		}
	}
	return -1
}

// settle waits for containerd to hold exactly what the model asks for,
// then checks the invariants across rounds; it returns how long
// containerd took to settle.
func (inv *invariants) settle(model map[string]*churnPod, round int) time.Duration {
	inv.t.Helper()
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	var problems []string
	var pods map[string]*v1.Pod
	for time.Now().Before(deadline) {
		var err error
		pods, err = inv.n.pods()
		if err != nil {
			time.Sleep(pollInterval)
			continue
		}
		wants := map[string]want{}
		problems = problems[:0]
		for name, p := range model {
			got := pods[name]
			if got == nil {
				problems = append(problems, fmt.Sprintf("pod %s: not in /pods", name))
				continue
			}
			if podGen(got) != p.gen {
				problems = append(problems, fmt.Sprintf("pod %s: /pods shows generation %d, want %d", name, podGen(got), p.gen))
			}
			wants[name] = want{uid: string(got.UID), running: p.kind == steady || p.kind == never}
		}
		problems = append(problems, inv.n.criState().problems(wants)...)
		if len(problems) == 0 {
			break
		}
		time.Sleep(pollInterval)
	}
	if len(problems) > 0 {
		inv.t.Fatalf("round %d: containerd did not settle within 60s:\n  %s\ndaemon log tail:\n%s", round, strings.Join(problems, "\n  "), inv.n.logTail())
	}
	took := time.Since(start)
	state := inv.n.criState()
	for name, p := range model {
		got := pods[name]
		inv.checkRestarts(round, name, got)
		switch p.kind {
		case never, once:
			inv.checkRanOnce(round, name, state.containers[name], got)
		case crash:
			inv.checkBackoff(round, name, state.containers[name])
		}
	}
	return took
}

// checkRestarts: a pod's restart count never goes back, in /pods or in
// containerd's annotations.
func (inv *invariants) checkRestarts(round int, name string, p *v1.Pod) {
	for _, cs := range p.Status.ContainerStatuses {
		key := string(p.UID) + "/" + cs.Name
		if prev, ok := inv.restarts[key]; ok && cs.RestartCount < prev {
			inv.t.Errorf("round %d: pod %s container %s: restart count went back from %d to %d", round, name, cs.Name, prev, cs.RestartCount)
		}
		inv.restarts[key] = max(inv.restarts[key], cs.RestartCount)
	}
}

// checkRanOnce: a restartPolicy Never pod has one container instance,
// always the same one.
func (inv *invariants) checkRanOnce(round int, name string, cs []*runtimeapi.Container, p *v1.Pod) {
	if len(cs) != 1 {
		var ids []string
		for _, c := range cs {
			ids = append(ids, fmt.Sprintf("%.12s(attempt %d, %s)", c.Id, restartCount(c), c.State))
		}
		inv.t.Errorf("round %d: Never pod %s has %d container instances, want 1: %v", round, name, len(cs), ids)
		return
	}
	id := cs[0].Id
	key := string(p.UID)
	if prev, ok := inv.onlyRun[key]; ok && prev != id {
		inv.t.Errorf("round %d: Never pod %s ran again: container %.12s replaced by %.12s", round, name, prev, id)
	}
	inv.onlyRun[key] = id
	for _, st := range p.Status.ContainerStatuses {
		if st.RestartCount != 0 {
			inv.t.Errorf("round %d: Never pod %s shows restart count %d", round, name, st.RestartCount)
		}
	}
}

// checkBackoff: each restart of the crash loop after the first waited the
// kubelet's backoff (10 s doubling, 300 s cap) after the previous
// instance ended, daemon restarts or not.
func (inv *invariants) checkBackoff(round int, name string, cs []*runtimeapi.Container) {
	byAttempt := map[int]*runtimeapi.Container{}
	for _, c := range cs {
		byAttempt[restartCount(c)] = c
	}
	for k, c := range byAttempt {
		prev, ok := byAttempt[k-1]
		if k < 2 || !ok {
			continue
		}
		ended, err := finishedAt(inv.n.cri, prev.Id)
		if err != nil {
			continue // removed meanwhile
		}
		wait := min(10*time.Second<<(k-2), 300*time.Second)
		if gap := time.Unix(0, c.CreatedAt).Sub(ended); gap < wait-time.Second {
			inv.t.Errorf("round %d: crash pod %s: attempt %d created %.1fs after attempt %d ended, want the backoff of %s", round, name, k, gap.Seconds(), k-1, wait)
		}
	}
}
