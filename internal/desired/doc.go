// Package desired hands each snapshot of the static pod directory on: the
// pods it asks for to the pod workers, the directory's view (each file with
// its pod or its error, and the fields the last edit changed) to the API's
// GET /manifests, and a ManifestChanged event to the event store when an
// edit of a file replaced its pod.
//
// Data enters as staticpods.Snapshot values on the channel Feed.Run reads,
// and leaves through the three consumers in Config, called from Run's
// goroutine in that order for every snapshot: events, view, pods.
package desired
