package status

import (
	"sort"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
)

// Store holds the latest published copy of every pod, by UID. It is the
// only place the server reads pods from. Readers get deep copies. Every
// change that alters a pod is numbered by the store's Feed.
type Store struct {
	mu   sync.RWMutex
	pods map[types.UID]*v1.Pod
	feed *Feed
}

// NewStore returns an empty store with a feed of its own.
func NewStore() *Store { return NewStoreOn(NewFeed(0)) }

// NewStoreOn returns an empty store recording its changes in feed.
func NewStoreOn(feed *Feed) *Store {
	return &Store{pods: make(map[types.UID]*v1.Pod), feed: feed}
}

// Feed is the feed the store records into.
func (s *Store) Feed() *Feed { return s.feed }

// Set publishes pod, replacing what was there for its UID. The store keeps
// its own copy. A pod equal to the one published (its resourceVersion
// aside) changes nothing, so watchers hear only of real changes.
func (s *Store) Set(pod *v1.Pod) {
	p := pod.DeepCopy()
	p.TypeMeta.Kind, p.TypeMeta.APIVersion = "Pod", "v1"
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.pods[p.UID]
	if had {
		p.ResourceVersion = prev.ResourceVersion
		if equality.Semantic.DeepEqual(prev, p) {
			return
		}
	}
	typ := Added
	if had {
		typ = Modified
	}
	// The feed keeps p and prev: from now on neither is modified in place.
	if had {
		s.feed.record(typ, p, prev)
	} else {
		s.feed.record(typ, p, nil)
	}
	s.pods[p.UID] = p
}

// Delete forgets the pod with uid.
func (s *Store) Delete(uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, ok := s.pods[uid]
	if !ok {
		return
	}
	delete(s.pods, uid)
	gone := prev.DeepCopy()
	s.feed.record(Deleted, gone, prev)
}

// List returns copies of all pods, ordered by namespace, name and creation.
func (s *Store) List() []v1.Pod {
	pods, _ := s.ListAt()
	return pods
}

// ListAt is List with the resourceVersion the list is at: a watch from it
// sees exactly the changes the list does not hold.
func (s *Store) ListAt() ([]v1.Pod, uint64) {
	s.mu.RLock()
	out := make([]v1.Pod, 0, len(s.pods))
	for _, p := range s.pods {
		out = append(out, *p.DeepCopy())
	}
	rv := s.feed.Current()
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
	return out, rv
}
