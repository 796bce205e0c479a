package kubeapi

import (
	"fmt"
	"net/http"
	goruntime "runtime"
	"runtime/debug"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
)

// The API groups served besides the core group. metrics.k8s.io's handlers
// are the container routes'.
const (
	coordinationGroup   = "coordination.k8s.io"
	coordinationVersion = "v1"
	metricsGroup        = "metrics.k8s.io"
	metricsVersion      = "v1beta1"
	// kubeAPIModule is the module whose version says which Kubernetes the
	// daemon speaks: k8s.io/api v0.X.Y is Kubernetes v1.X.Y.
	kubeAPIModule = "k8s.io/api"
)

var (
	readVerbs      = metav1.Verbs{"get", "list", "watch"}
	subresourceGet = metav1.Verbs{"get"}
	streamVerbs    = metav1.Verbs{"create", "get"}
)

// coreResources is what GET /api/v1 lists.
var coreResources = []metav1.APIResource{
	{Name: "events", SingularName: "event", Namespaced: true, Kind: "Event", Verbs: readVerbs, ShortNames: []string{"ev"}},
	{Name: "namespaces", SingularName: "namespace", Kind: "Namespace", Verbs: readVerbs, ShortNames: []string{"ns"}},
	{Name: "nodes", SingularName: "node", Kind: "Node", Verbs: readVerbs, ShortNames: []string{"no"}},
	{Name: "nodes/status", Kind: "Node", Verbs: subresourceGet},
	{Name: "pods", SingularName: "pod", Namespaced: true, Kind: "Pod", Verbs: readVerbs, ShortNames: []string{"po"}, Categories: []string{"all"}},
	{Name: "pods/attach", Namespaced: true, Kind: "PodAttachOptions", Verbs: streamVerbs},
	{Name: "pods/exec", Namespaced: true, Kind: "PodExecOptions", Verbs: streamVerbs},
	{Name: "pods/log", Namespaced: true, Kind: "Pod", Verbs: subresourceGet},
	{Name: "pods/portforward", Namespaced: true, Kind: "PodPortForwardOptions", Verbs: streamVerbs},
	{Name: "pods/status", Namespaced: true, Kind: "Pod", Verbs: subresourceGet},
}

// groupResources is what GET /apis/<group>/<version> lists.
var groupResources = map[string][]metav1.APIResource{
	coordinationGroup + "/" + coordinationVersion: {
		{Name: "leases", SingularName: "lease", Namespaced: true, Kind: "Lease", Verbs: metav1.Verbs{"get", "list"}},
	},
	metricsGroup + "/" + metricsVersion: {
		{Name: "nodes", SingularName: "", Kind: "NodeMetrics", Verbs: metav1.Verbs{"get", "list"}},
		{Name: "pods", SingularName: "", Namespaced: true, Kind: "PodMetrics", Verbs: metav1.Verbs{"get", "list"}},
	},
}

// apiGroups is what GET /apis lists, in this order.
var apiGroups = []metav1.APIGroup{
	apiGroup(coordinationGroup, coordinationVersion),
	apiGroup(metricsGroup, metricsVersion),
}

func apiGroup(name, ver string) metav1.APIGroup {
	gv := metav1.GroupVersionForDiscovery{GroupVersion: name + "/" + ver, Version: ver}
	return metav1.APIGroup{
		TypeMeta:         metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"},
		Name:             name,
		Versions:         []metav1.GroupVersionForDiscovery{gv},
		PreferredVersion: gv,
	}
}

// registerDiscovery adds /api, /apis, the resource lists and /version.
// Discovery answers plain JSON whatever Accept prefers (protobuf, the
// aggregated apidiscovery.k8s.io/v2 form): kubectl falls back to it.
func (o *objects) registerDiscovery(mux *http.ServeMux) {
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		o.writeJSON(w, http.StatusOK, &metav1.APIVersions{
			TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
			Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{
				{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host},
			},
		})
	})
	mux.HandleFunc("GET /api/v1", func(w http.ResponseWriter, _ *http.Request) {
		o.writeJSON(w, http.StatusOK, resourceList("v1", coreResources))
	})
	mux.HandleFunc("GET /apis", func(w http.ResponseWriter, _ *http.Request) {
		o.writeJSON(w, http.StatusOK, &metav1.APIGroupList{
			TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
			Groups:   apiGroups,
		})
	})
	for _, g := range apiGroups {
		g := g
		mux.HandleFunc("GET /apis/"+g.Name, func(w http.ResponseWriter, _ *http.Request) {
			o.writeJSON(w, http.StatusOK, &g)
		})
		gv := g.PreferredVersion.GroupVersion
		mux.HandleFunc("GET /apis/"+gv, func(w http.ResponseWriter, _ *http.Request) {
			o.writeJSON(w, http.StatusOK, resourceList(gv, groupResources[gv]))
		})
	}
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		// The dispatching kubectl caches /version for hours without it.
		w.Header().Set("Cache-Control", "no-store")
		info, _ := debug.ReadBuildInfo()
		o.writeJSON(w, http.StatusOK, serverVersion(info))
	})
	// Anything else under /api and /apis is a resource this node does not
	// serve, said as the API server says it.
	notServed := func(w http.ResponseWriter, _ *http.Request) {
		o.writeError(w, errNotServed)
	}
	mux.HandleFunc("GET /api/", notServed)
	mux.HandleFunc("GET /apis/", notServed)
}

func resourceList(gv string, resources []metav1.APIResource) *metav1.APIResourceList {
	return &metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: gv,
		APIResources: resources,
	}
}

// serverVersion is /version: the Kubernetes version of the k8s.io/api the
// daemon is built with (v0.X.Y -> v1.X.Y), so that kubectl's version skew
// checks compare against the API the node really speaks.
func serverVersion(info *debug.BuildInfo) *version.Info {
	v := version.Info{
		Major:     "1",
		GoVersion: goruntime.Version(),
		Compiler:  goruntime.Compiler,
		Platform:  goruntime.GOOS + "/" + goruntime.GOARCH,
	}
	gitVersion := "v1.0.0"
	if info != nil {
		for _, dep := range info.Deps {
			if dep.Path != kubeAPIModule {
				continue
			}
			if k, ok := kubernetesVersion(dep.Version); ok {
				gitVersion = k
			}
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				v.GitCommit = s.Value
			case "vcs.time":
				v.BuildDate = s.Value
			case "vcs.modified":
				v.GitTreeState = map[string]string{"true": "dirty", "false": "clean"}[s.Value]
			}
		}
	}
	v.GitVersion = gitVersion
	v.Minor = strings.Split(strings.TrimPrefix(gitVersion, "v1."), ".")[0]
	return &v
}

// kubernetesVersion turns k8s.io/api's module version v0.X.Y into v1.X.Y.
func kubernetesVersion(moduleVersion string) (string, bool) {
	rest, ok := strings.CutPrefix(moduleVersion, "v0.")
	if !ok || rest == "" {
		return "", false
	}
	var minor, patch int
	if _, err := fmt.Sscanf(rest, "%d.%d", &minor, &patch); err != nil {
		return "", false
	}
	return fmt.Sprintf("v1.%d.%d", minor, patch), true
}

// KubernetesVersion is the Kubernetes version the daemon speaks (v1.X.Y
// of its k8s.io/api v0.X.Y): /version's gitVersion, and the node's
// kubeletVersion.
func KubernetesVersion() string {
	info, _ := debug.ReadBuildInfo()
	return serverVersion(info).GitVersion
}
