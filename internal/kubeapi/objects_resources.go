package kubeapi

import (
	"context"
	"net/http"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// resource is one kind of object the API lists, gets and watches.
type resource struct {
	gr         schema.GroupResource
	apiVersion string // of the objects: "v1"
	kind       string
	namespaced bool
	// list returns every object and the version the list is at.
	list func(ctx context.Context, now time.Time) ([]runtime.Object, uint64)
	// fields are the object's selectable fields, as the API server's
	// registry for the kind offers them (ToSelectableFields).
	fields func(obj runtime.Object) fields.Set
	// owns reports whether a change in the feed is about this kind; nil
	// for a kind the feed does not carry (a watch then sends the current
	// state and waits).
	owns func(obj runtime.Object) bool
	// columns and row are the API server's printer for the kind.
	columns []metav1.TableColumnDefinition
	row     func(obj runtime.Object, now time.Time) metav1.TableRow
	// status says the kind has a status subresource that reads the same.
	status bool
}

// listKind is the kind of a list of the resource: PodList.
func (r *resource) listKind() string { return r.kind + "List" }

// resources are the kinds of the core group this node serves.
func (o *objects) resources() []*resource {
	return []*resource{o.podResource(), o.eventResource(), o.nodeResource(), o.namespaceResource()}
}

// registerResource adds list, get and watch of res, in a namespace and
// across namespaces, with the API server's paths.
func (o *objects) registerResource(mux *http.ServeMux, res *resource) {
	name := res.gr.Resource
	if res.namespaced {
		mux.HandleFunc("GET /api/v1/"+name, func(w http.ResponseWriter, r *http.Request) {
			o.serveCollection(w, r, res, "", "", false)
		})
		mux.HandleFunc("GET /api/v1/namespaces/{namespace}/"+name, func(w http.ResponseWriter, r *http.Request) {
			o.serveCollection(w, r, res, r.PathValue("namespace"), "", false)
		})
		mux.HandleFunc("GET /api/v1/namespaces/{namespace}/"+name+"/{name}", func(w http.ResponseWriter, r *http.Request) {
			o.serveObject(w, r, res, r.PathValue("namespace"), r.PathValue("name"))
		})
		mux.HandleFunc("GET /api/v1/watch/"+name, func(w http.ResponseWriter, r *http.Request) {
			o.serveCollection(w, r, res, "", "", true)
		})
		mux.HandleFunc("GET /api/v1/watch/namespaces/{namespace}/"+name, func(w http.ResponseWriter, r *http.Request) {
			o.serveCollection(w, r, res, r.PathValue("namespace"), "", true)
		})
		mux.HandleFunc("GET /api/v1/watch/namespaces/{namespace}/"+name+"/{name}", func(w http.ResponseWriter, r *http.Request) {
			o.serveCollection(w, r, res, r.PathValue("namespace"), r.PathValue("name"), true)
		})
		if res.status {
			mux.HandleFunc("GET /api/v1/namespaces/{namespace}/"+name+"/{name}/status", func(w http.ResponseWriter, r *http.Request) {
				o.serveObject(w, r, res, r.PathValue("namespace"), r.PathValue("name"))
			})
		}
		return
	}
	mux.HandleFunc("GET /api/v1/"+name, func(w http.ResponseWriter, r *http.Request) {
		o.serveCollection(w, r, res, "", "", false)
	})
	mux.HandleFunc("GET /api/v1/"+name+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		o.serveObject(w, r, res, "", r.PathValue("name"))
	})
	mux.HandleFunc("GET /api/v1/watch/"+name, func(w http.ResponseWriter, r *http.Request) {
		o.serveCollection(w, r, res, "", "", true)
	})
	mux.HandleFunc("GET /api/v1/watch/"+name+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		o.serveCollection(w, r, res, "", r.PathValue("name"), true)
	})
	if res.status {
		mux.HandleFunc("GET /api/v1/"+name+"/{name}/status", func(w http.ResponseWriter, r *http.Request) {
			o.serveObject(w, r, res, "", r.PathValue("name"))
		})
	}
}

// objectList is a list of any kind, as JSON: PodList, EventList, ...
type objectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []runtime.Object `json:"items"`
}

// serveCollection answers a list, or a watch when asked (watch=true or a
// /watch/ path); name restricts a /watch/ path to one object.
func (o *objects) serveCollection(w http.ResponseWriter, r *http.Request, res *resource, namespace, name string, watchPath bool) {
	q := r.URL.Query()
	sel, err := parseSelectors(res, q.Get("labelSelector"), q.Get("fieldSelector"))
	if err != nil {
		o.writeError(w, err)
		return
	}
	if name != "" {
		sel = sel.withName(name)
	}
	sel.namespace = namespace
	tbl, err := tableRequest(r)
	if err != nil {
		o.writeError(w, err)
		return
	}
	if watchPath || isTrue(q.Get("watch")) {
		o.watch(w, r, res, sel, tbl)
		return
	}
	now := o.clock.Now()
	all, rv := res.list(r.Context(), now)
	var items []runtime.Object
	for _, obj := range all {
		if sel.matches(res, obj) {
			items = append(items, obj)
		}
	}
	// limit is honoured by answering everything at once: the list is
	// complete, so continue is empty, as the API server does for a limit
	// larger than the collection.
	if tbl != nil {
		o.writeJSON(w, http.StatusOK, tbl.table(res, items, rv, now, true))
		return
	}
	list := &objectList{
		TypeMeta: metav1.TypeMeta{Kind: res.listKind(), APIVersion: res.apiVersion},
		ListMeta: metav1.ListMeta{ResourceVersion: formatRV(rv)},
		Items:    append([]runtime.Object{}, items...),
	}
	o.writeJSON(w, http.StatusOK, list)
}

// serveObject answers one object by name.
func (o *objects) serveObject(w http.ResponseWriter, r *http.Request, res *resource, namespace, name string) {
	tbl, err := tableRequest(r)
	if err != nil {
		o.writeError(w, err)
		return
	}
	now := o.clock.Now()
	all, rv := res.list(r.Context(), now)
	for _, obj := range all {
		m, err := meta.Accessor(obj)
		if err != nil || m.GetName() != name || (res.namespaced && m.GetNamespace() != namespace) {
			continue
		}
		if tbl != nil {
			o.writeJSON(w, http.StatusOK, tbl.table(res, []runtime.Object{obj}, rv, now, true))
			return
		}
		o.writeJSON(w, http.StatusOK, obj)
		return
	}
	o.writeError(w, notFound(res.gr, name))
}

// objectsOf turns typed items into objects, each with its kind set.
func podObjects(pods []v1.Pod) []runtime.Object {
	out := make([]runtime.Object, len(pods))
	for i := range pods {
		p := &pods[i]
		p.TypeMeta = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
		out[i] = p
	}
	return out
}

func isTrue(s string) bool { return s == "true" || s == "1" }
