// Package staticpods owns the static pod manifest directory: which files in
// it are manifests, how a file becomes a *v1.Pod (strict decoding, the API
// server's defaults, the API server's validation plus the restrictions the
// kubelet puts on static pods and what this node cannot run), how a pod is
// named (<metadata.name>-<nodeName>) and given its UID (the manifest's
// metadata.uid, kept as the kubelet keeps it, or else a hash of the decoded
// pod, the node name and the file path), and the per-file errors a user
// needs to see. An edit to a manifest without a uid gives a new UID (a new
// pod); an edit to one with a uid gives the same UID with a new spec and a
// new config.seen, which the pod workers apply in place.
//
// Data enters as files in Config.Dir. Source.Run watches the directory
// (inotify, plus a periodic full rescan as a safety net) and leaves through
// the channel it is given: a complete Snapshot of the desired state each time
// the set of pods (by UID) or the set of errors changes. A file is read once
// it is complete: at once when its writer closed it after writing and the
// directory is quiet, else (renamed into place, removed, or a burst of
// writes) a short debounce after the last such event; a file still open for
// writing is not read, so that a slow writer's pause never shows a
// half-written file, and a read that overlapped a new write is kept back
// until the directory is quiet again.
// DecodeManifest is the same decoding as a pure function, for tools and
// tests.
//
// A file that becomes invalid while its pod runs does not stop the pod: the
// snapshot keeps its last good version, with the error beside it. With
// Config.StateDir set, that version outlives the daemon: each accepted
// version is saved there (one JSON file per manifest path, written before
// the snapshot that carries it, removed with the manifest), and a file that
// is invalid or unreadable at the first scan gets its saved version back,
// with the same UID, so that its running pod is kept rather than stopped as
// an orphan.
//
// Two files that declare the same pod (namespace and name, or metadata.uid):
// the first by file name wins, the second is reported as an error until the
// first goes away.
package staticpods
