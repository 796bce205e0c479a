// Package config holds the daemon's configuration. A file is read by Load:
// a KubeletConfiguration document (kubelet.config.k8s.io/v1beta1), checked
// against the kubelet's own type so that every kubelet field is known, and
// a MinikubeletConfiguration document (minikubelet.io/v1alpha1) for the
// settings the kubelet has as flags or not at all; the flat form of
// earlier releases, with a deprecation warning. Config holds every field
// the daemon acts on, by the kubelet's names; which document a field
// belongs in follows from whether the kubelet has it (schema.go). Load
// returns warnings (kubelet fields not acted on, the deprecated form) for
// the caller to log once. The flags of `minikubelet run` override the
// file's values; WithDefaults fills in the kubelet's defaults, Validate
// checks with its messages, Print renders the two documents back.
package config
