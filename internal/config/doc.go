// Package config holds the daemon's configuration: a YAML file whose field
// names follow the kubelet's KubeletConfiguration where the concept is the
// same, defaults, and validation. Flags of `minikubelet run` override the
// file's values.
package config
