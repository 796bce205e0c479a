package kubeapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minikubelet/minikubelet/internal/status"
)

// bookmarkInterval is how often a watch that allows bookmarks gets one, as
// the API server's watch cache sends them (about once a minute).
const bookmarkInterval = time.Minute

// The watch event types besides the changes (k8s.io/apimachinery/pkg/watch).
const (
	watchBookmark = "BOOKMARK"
	watchError    = "ERROR"
)

// watchEvent is one event of a watch stream, as JSON.
type watchEvent struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

// watchStream writes the events of one watch, flushed one by one.
type watchStream struct {
	w       http.ResponseWriter
	flusher http.Flusher
	enc     *json.Encoder
	res     *resource
	tbl     *tableOptions
	columns bool // the column definitions were sent
	now     func() time.Time
}

func (s *watchStream) send(typ string, obj runtime.Object, rv uint64) error {
	var v any = obj
	if s.tbl != nil && typ != watchError && typ != watchBookmark {
		v = s.tbl.table(s.res, []runtime.Object{obj}, rv, s.now(), !s.columns)
		s.columns = true
	}
	if err := s.enc.Encode(watchEvent{Type: typ, Object: v}); err != nil {
		return err
	}
	s.flusher.Flush()
	return nil
}

// watch streams the changes of res in the selection until the client goes
// or timeoutSeconds pass, with the API server's resourceVersion rules: ""
// or "0" first sends the current state as ADDED; a version sends only the
// later changes; sendInitialEvents (a streaming list) sends the current
// state, then a BOOKMARK marked k8s.io/initial-events-end; a version older than the feed keeps gets an ERROR event
// with a 410 Expired Status. An object that leaves the selection is
// DELETED, one that enters it ADDED.
func (o *objects) watch(w http.ResponseWriter, r *http.Request, res *resource, sel selector, tbl *tableOptions) {
	q := r.URL.Query()
	flusher, ok := w.(http.Flusher)
	if !ok {
		o.writeError(w, apierrors.NewInternalError(errNoFlush))
		return
	}
	rvParam := q.Get("resourceVersion")
	var from uint64
	if rvParam != "" && rvParam != "0" {
		v, err := strconv.ParseUint(rvParam, 10, 64)
		if err != nil {
			o.writeError(w, badRequest("invalid resource version %q", rvParam))
			return
		}
		from = v
	}
	var timeout <-chan time.Time
	if ts := q.Get("timeoutSeconds"); ts != "" {
		secs, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || secs < 0 {
			o.writeError(w, badRequest("invalid timeoutSeconds %q", ts))
			return
		}
		if secs > 0 {
			t := o.clock.NewTimer(time.Duration(secs) * time.Second)
			defer t.Stop()
			timeout = t.C()
		}
	}
	var bookmarks <-chan time.Time
	if isTrue(q.Get("allowWatchBookmarks")) {
		t := o.clock.NewTicker(bookmarkInterval)
		defer t.Stop()
		bookmarks = t.C()
	}

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	s := &watchStream{w: w, flusher: flusher, enc: json.NewEncoder(w), res: res, tbl: tbl, now: o.clock.Now}
	flusher.Flush()
	log := o.api.log.With(zap.String("resource", res.gr.String()))

	initialEvents := isTrue(q.Get("sendInitialEvents"))
	if rvParam == "" || rvParam == "0" || initialEvents {
		objs, rv := res.list(r.Context(), o.clock.Now())
		for _, obj := range objs {
			if sel.matches(res, obj) {
				if err := s.send(string(status.Added), obj, rv); err != nil {
					return
				}
			}
		}
		from = rv
		if initialEvents {
			// A streaming list (client-go's WatchList, kubectl wait)
			// waits for this bookmark to know the state is complete.
			end := bookmarkObject(res, rv)
			end.Annotations = map[string]string{metav1.InitialEventsAnnotationKey: "true"}
			if err := s.send(watchBookmark, end, rv); err != nil {
				return
			}
		}
	}
	ctx := r.Context()
	for {
		var next <-chan struct{}
		if res.owns != nil && o.deps.Feed != nil {
			changes, n, oldest, ok := o.deps.Feed.Since(from)
			if !ok {
				st := apierrors.NewResourceExpired("too old resource version: " + strconv.FormatUint(from, 10) + " (" + strconv.FormatUint(oldest-1, 10) + ")").Status()
				st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
				_ = s.send(watchError, &st, 0)
				return
			}
			next = n
			for _, c := range changes {
				from = c.RV
				typ, obj := changeEvent(res, sel, c)
				if typ == "" {
					continue
				}
				if err := s.send(typ, obj, c.RV); err != nil {
					log.Debug("watch client gone", zap.Error(err))
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-o.deps.Stop:
			return
		case <-timeout:
			return
		case <-bookmarks:
			if err := s.send(watchBookmark, bookmarkObject(res, from), from); err != nil {
				return
			}
		case <-next:
		}
	}
}

// changeEvent turns a change into the event a watch with sel sees, or ""
// for none: the API server's rules for an object entering or leaving the
// selection (it sends the previous state, at the new version, as DELETED).
func changeEvent(res *resource, sel selector, c status.Change) (string, runtime.Object) {
	if !res.owns(c.Object) {
		return "", nil
	}
	cur := sel.matches(res, c.Object)
	switch c.Type {
	case status.Added:
		if cur {
			return string(status.Added), c.Object
		}
	case status.Deleted:
		if cur {
			return string(status.Deleted), c.Object
		}
	case status.Modified:
		prev := c.Prev != nil && sel.matches(res, c.Prev)
		switch {
		case cur && prev:
			return string(status.Modified), c.Object
		case cur:
			return string(status.Added), c.Object
		case prev:
			gone := c.Prev.DeepCopyObject()
			if m, err := meta.Accessor(gone); err == nil {
				m.SetResourceVersion(formatRV(c.RV))
			}
			return string(status.Deleted), gone
		}
	}
	return "", nil
}

// bookmarkObject is a BOOKMARK's object: only the kind and the version.
func bookmarkObject(res *resource, rv uint64) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{Kind: res.kind, APIVersion: res.apiVersion},
		ObjectMeta: metav1.ObjectMeta{ResourceVersion: formatRV(rv)},
	}
}
