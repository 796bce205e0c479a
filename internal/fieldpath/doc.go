// Package fieldpath reads the pod fields the downward API exposes, for env
// variables (podworker) and downwardAPI volumes (volumes), as the
// kubelet's pkg/fieldpath and pkg/api/v1/resource helpers do: metadata
// fields by path, labels and annotations whole or by key, and a
// container's resources by name. It takes values and returns values; it
// does no I/O.
package fieldpath
