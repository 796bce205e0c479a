// Package ociimage builds small, deterministic OCI image archives from a list
// of files, so that a node needs no registry for the images minikubelet
// itself needs (the pause image) and the images its tests run (busybox).
//
// An Image holds the files of its single layer and the few config fields a
// container needs (entrypoint, command, environment, working directory).
// WriteArchive turns it into a tar of an OCI image layout (oci-layout,
// index.json, blobs/sha256/...) that containerd's importer reads; the index
// entry is annotated with the image's name, as containerd's own export does.
// Every timestamp is fixed and entries are sorted, so the same inputs always
// give the same bytes and therefore the same digests.
//
// Pause and Busybox describe the two images the project ships. Nothing here
// talks to containerd: internal/runtime imports the archives.
package ociimage
