package server

import (
	"net/http"
	"sync"
)

// Manifest is one file of the manifest directory as GET /manifests shows
// it: the pod it runs, or why it runs none.
type Manifest struct {
	// File is the manifest's path.
	File string `json:"file"`
	// Pod is namespace/name of the pod the file asks for, when it decoded.
	Pod string `json:"pod,omitempty"`
	// UID is the pod's UID.
	UID string `json:"uid,omitempty"`
	// Error says what is wrong with the file, naming the field. With Pod
	// set, the pod keeps running on the file's last good version.
	Error string `json:"error,omitempty"`
	// Changes are the fields in which the running version differs from the
	// one before it: why the last edit replaced the pod.
	Changes []string `json:"changes,omitempty"`
}

// ManifestList is the answer of GET /manifests.
type ManifestList struct {
	Items []Manifest `json:"items"`
}

// Manifests holds the latest view of the manifest directory.
type Manifests struct {
	mu    sync.Mutex
	items []Manifest
}

// Set replaces the view.
func (m *Manifests) Set(items []Manifest) {
	m.mu.Lock()
	m.items = append([]Manifest(nil), items...)
	m.mu.Unlock()
}

// List returns a copy of the view.
func (m *Manifests) List() []Manifest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Manifest(nil), m.items...)
}

func (s *Server) listManifests(w http.ResponseWriter, _ *http.Request) {
	list := ManifestList{Items: []Manifest{}}
	if s.manifests != nil {
		list.Items = append(list.Items, s.manifests.List()...)
	}
	writeJSON(w, s.log, &list)
}
