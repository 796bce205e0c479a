package e2e

import (
	"strings"
	"testing"
	"time"
)

// A manifest that gives metadata.uid keeps it, as the kubelet keeps it; an
// edit of its env restarts the container in the same pod (same uid, same
// sandbox), as the kubelet restarts a container whose definition changed.
func TestManifests_GivenUIDIsKeptAndAnEditRestartsTheContainer(t *testing.T) {
	const uid = "7e3a9c1f-2b4d-4e6f-8a0b-1c2d3e4f5a6b"
	n := startNode(t)
	withUID := func(value string) string {
		return strings.Replace(envPod("web", value), "  name: web\n", "  name: web\n  uid: "+uid+"\n", 1)
	}
	n.writeManifest("web.yaml", withUID("one"))
	before := n.waitRunningWith("web", "one", "", 10*time.Second)
	if before.UID != uid {
		t.Fatalf("GET /pods: pod %s has uid %s, want the manifest's %s", before.Name, before.UID, uid)
	}
	beforeID := before.Status.ContainerStatuses[0].ContainerID
	sandboxes := n.sandboxesOf("web")

	n.writeManifest("web.yaml", withUID("two"))
	after := n.waitRunningWith("web", "two", "", 15*time.Second)
	cs := after.Status.ContainerStatuses[0]
	if after.UID != uid || cs.ContainerID == beforeID || cs.RestartCount != 1 {
		t.Fatalf("after the edit: uid %s container %s restarts %d; want uid %s, a new container (not %s), restarts 1\ndaemon log tail:\n%s",
			after.UID, cs.ContainerID, cs.RestartCount, uid, beforeID, n.logTail())
	}
	n.waitOneSandbox("web", 5*time.Second)
	if now := n.sandboxesOf("web"); len(sandboxes) != 1 || now[0].Id != sandboxes[0].Id {
		t.Errorf("the sandbox was replaced (was %d, now %s); want it kept for an env change", len(sandboxes), now[0].Id)
	}
	var reasons []string
	found := false
	for _, ev := range n.events() {
		if ev.InvolvedObject.Name != after.Name {
			continue
		}
		reasons = append(reasons, ev.Reason+": "+ev.Message)
		if ev.Reason == "Killing" && ev.Message == "Container c definition changed, will be restarted" {
			found = true
		}
	}
	if !found {
		t.Errorf("no Killing event for the changed definition; events of the pod:\n%s", strings.Join(reasons, "\n"))
	}
}
