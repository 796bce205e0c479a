package kubeapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

var errNoFlush = errors.New("the connection cannot stream a watch")

// registerWrites refuses every write: the node's pods come from its
// manifest directory, and a delete that answered success without a new
// pod would leave kubectl waiting for a week (the kubelet never restarts
// a static pod whose mirror pod is deleted).
func (o *objects) registerWrites(mux *http.ServeMux) {
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		mux.HandleFunc(method+" /api/", o.refuseWrite)
		mux.HandleFunc(method+" /apis/", o.refuseWrite)
	}
}

// writeTarget is what a write's path names.
type writeTarget struct {
	gr                   schema.GroupResource
	namespace, name, sub string
}

// parseWritePath reads /api/v1/[namespaces/NS/]RES[/NAME[/SUB]] and
// /apis/GROUP/VERSION/[namespaces/NS/]RES[/NAME[/SUB]].
func parseWritePath(path string) writeTarget {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var t writeTarget
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		t.gr.Group = parts[1]
		parts = parts[3:]
	default:
		return t
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) != 2 {
		t.namespace = parts[1]
		parts = parts[2:]
	}
	if len(parts) > 0 {
		t.gr.Resource = parts[0]
	}
	if len(parts) > 1 {
		t.name = parts[1]
	}
	if len(parts) > 2 {
		t.sub = parts[2]
	}
	return t
}

func (o *objects) refuseWrite(w http.ResponseWriter, r *http.Request) {
	t := parseWritePath(r.URL.Path)
	if t.gr.Resource == "" {
		o.writeError(w, errNotServed)
		return
	}
	o.writeError(w, o.writeRefusal(r.Method, t))
}

// writeRefusal is the 405 for a write, saying what to do instead.
func (o *objects) writeRefusal(method string, t writeTarget) error {
	dir := o.deps.StaticPodPath
	if t.gr.Group == "" && t.gr.Resource == "pods" {
		if t.name == "" {
			return methodNotAllowed(t.gr, "", fmt.Sprintf(
				"pods cannot be created through the API of this node: it runs static pods only; put the pod's manifest in %s", dir))
		}
		pods, _ := o.deps.Pods.ListAt()
		found := false
		for i := range pods {
			if pods[i].Namespace == t.namespace && pods[i].Name == t.name {
				found = true
			}
		}
		if !found && method == http.MethodDelete {
			return notFound(t.gr, t.name)
		}
		file, ok := "", false
		if o.deps.ManifestFor != nil {
			file, ok = o.deps.ManifestFor(t.namespace, t.name)
		}
		if ok {
			return methodNotAllowed(t.gr, t.name, fmt.Sprintf(
				"pod %q is a static pod owned by the manifest file %s on this node: edit or remove that file to change or delete the pod", t.name, file))
		}
		return methodNotAllowed(t.gr, t.name, fmt.Sprintf(
			"pod %q cannot be changed through the API of this node: its pods are static pods from the manifest directory %s; edit or remove the pod's manifest there", t.name, dir))
	}
	what := t.gr.String()
	if t.name != "" {
		what = fmt.Sprintf("%s %q", what, t.name)
	}
	return methodNotAllowed(t.gr, t.name, fmt.Sprintf(
		"%s cannot be changed through the API of this node: it is read-only; the node's pods come from the manifest directory %s", what, dir))
}
