package status

import (
	"sort"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Store holds the latest published copy of every pod, by UID. It is the
// only place the server reads pods from. Readers get deep copies.
type Store struct {
	mu   sync.RWMutex
	pods map[types.UID]*v1.Pod
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{pods: make(map[types.UID]*v1.Pod)}
}

// Set publishes pod, replacing what was there for its UID. The store keeps
// its own copy.
func (s *Store) Set(pod *v1.Pod) {
	p := pod.DeepCopy()
	s.mu.Lock()
	s.pods[p.UID] = p
	s.mu.Unlock()
}

// Delete forgets the pod with uid.
func (s *Store) Delete(uid types.UID) {
	s.mu.Lock()
	delete(s.pods, uid)
	s.mu.Unlock()
}

// List returns copies of all pods, ordered by namespace, name and creation.
func (s *Store) List() []v1.Pod {
	s.mu.RLock()
	out := make([]v1.Pod, 0, len(s.pods))
	for _, p := range s.pods {
		out = append(out, *p.DeepCopy())
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
	return out
}
