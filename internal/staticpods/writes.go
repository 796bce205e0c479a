package staticpods

import (
	"slices"
	"time"
)

// openWrites tracks the manifest files a writer may still hold open: written
// to (IN_MODIFY) or created (IN_CREATE) and not yet closed after writing
// (IN_CLOSE_WRITE), renamed or removed. Such a file is not read: a slow
// writer pauses between chunks, and a pause must not let a half-written
// file (an error, or worse a valid prefix) be taken for a new version.
//
// A writer that keeps its file open is waited for only so long: the file is
// read once no write has come for quiet, or once it has been written to for
// maxAge without such a pause. It takes values, including now; the Source
// owns the timer that wakes it.
type openWrites struct {
	quiet  time.Duration
	maxAge time.Duration
	files  map[string]openWrite // by path
}

type openWrite struct {
	since time.Time // first write since the file was last complete
	last  time.Time // latest write
}

func newOpenWrites(quiet, maxAge time.Duration) *openWrites {
	return &openWrites{quiet: quiet, maxAge: max(maxAge, quiet), files: map[string]openWrite{}}
}

// wrote records a write to p, or its creation.
func (o *openWrites) wrote(p string, now time.Time) {
	w, ok := o.files[p]
	if !ok || !now.Before(o.deadline(w)) {
		w.since = now
	}
	w.last = now
	o.files[p] = w
}

// done records that p is complete: closed after writing, renamed or removed.
func (o *openWrites) done(p string) {
	delete(o.files, p)
}

// busy tells whether p must not be read yet.
func (o *openWrites) busy(p string, now time.Time) bool {
	w, ok := o.files[p]
	return ok && now.Before(o.deadline(w))
}

// expire forgets the files that are no longer busy and returns them,
// sorted, with the time the next one will be (zero when none is open).
func (o *openWrites) expire(now time.Time) (expired []string, next time.Time) {
	for p, w := range o.files {
		d := o.deadline(w)
		if !now.Before(d) {
			expired = append(expired, p)
			delete(o.files, p)
			continue
		}
		if next.IsZero() || d.Before(next) {
			next = d
		}
	}
	slices.Sort(expired)
	return expired, next
}

func (o *openWrites) deadline(w openWrite) time.Time {
	quiet, old := w.last.Add(o.quiet), w.since.Add(o.maxAge)
	if old.Before(quiet) {
		return old
	}
	return quiet
}
