package config

import (
	"fmt"
	"path/filepath"
)

// serializeImagePulls is serializeImagePulls, true when unset as the
// kubelet's default. maxParallelImagePulls has no default: unset means no
// limit once pulls are not serialized, as the kubelet's.
func (c Config) serializeImagePulls() bool {
	return c.SerializeImagePulls == nil || *c.SerializeImagePulls
}

// validateImagePulls checks the image pull settings with the kubelet's
// rules and messages (pkg/kubelet/apis/config/validation/validation.go).
func (c Config) validateImagePulls() []error {
	var errs []error
	if n := c.MaxParallelImagePulls; n != nil {
		if *n < 1 {
			errs = append(errs, fmt.Errorf("maxParallelImagePulls: %d must be a positive number", *n))
		} else if c.serializeImagePulls() && *n > 1 {
			errs = append(errs, fmt.Errorf("maxParallelImagePulls: %d must be 1 or unset when serializeImagePulls is true (set serializeImagePulls: false to pull in parallel)", *n))
		}
	}
	if f := c.RegistryCredentialsFile; f != "" && !filepath.IsAbs(f) {
		errs = append(errs, fmt.Errorf("registryCredentialsFile: must be an absolute path, got %q", f))
	}
	return errs
}

// ImagePullLimit is how many image pulls may run at once: 1 when pulls are
// serialized, else maxParallelImagePulls, 0 (no limit) when that is unset.
func (c Config) ImagePullLimit() int {
	if c.serializeImagePulls() {
		return 1
	}
	if c.MaxParallelImagePulls == nil {
		return 0
	}
	return int(*c.MaxParallelImagePulls)
}
