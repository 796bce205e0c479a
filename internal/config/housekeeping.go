package config

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// The kubelet's defaults of log rotation and image garbage collection
// (pkg/kubelet/apis/config/v1beta1/defaults.go).
const (
	DefaultContainerLogMaxSize         = "10Mi"
	DefaultContainerLogMaxFiles        = 5
	DefaultContainerLogMonitorInterval = 10 * time.Second
	DefaultImageGCHighThresholdPercent = 85
	DefaultImageGCLowThresholdPercent  = 80
	DefaultImageMinimumGCAge           = 2 * time.Minute
	// minContainerLogMonitorInterval is the kubelet's validation floor.
	minContainerLogMonitorInterval = 3 * time.Second
)

func (c *Config) housekeepingDefaults() {
	setString(&c.ContainerLogMaxSize, DefaultContainerLogMaxSize)
	if c.ContainerLogMaxFiles == 0 {
		c.ContainerLogMaxFiles = DefaultContainerLogMaxFiles
	}
	setDuration(&c.ContainerLogMonitorInterval, DefaultContainerLogMonitorInterval)
	if c.ImageGCHighThresholdPercent == nil {
		v := int32(DefaultImageGCHighThresholdPercent)
		c.ImageGCHighThresholdPercent = &v
	}
	if c.ImageGCLowThresholdPercent == nil {
		v := int32(DefaultImageGCLowThresholdPercent)
		c.ImageGCLowThresholdPercent = &v
	}
	setDuration(&c.ImageMinimumGCAge, DefaultImageMinimumGCAge)
}

// validateHousekeeping checks log rotation and image garbage collection
// with the kubelet's rules (pkg/kubelet/apis/config/validation).
func (c Config) validateHousekeeping() []error {
	var errs []error
	if _, err := c.ContainerLogMaxSizeBytes(); err != nil {
		errs = append(errs, err)
	}
	if c.ContainerLogMaxFiles < 2 {
		errs = append(errs, fmt.Errorf("containerLogMaxFiles: %d must be greater than 1", c.ContainerLogMaxFiles))
	}
	if d := c.ContainerLogMonitorInterval.Duration; d < minContainerLogMonitorInterval {
		errs = append(errs, fmt.Errorf("containerLogMonitorInterval: %s must be a positive time duration greater than or equal to %s", d, minContainerLogMonitorInterval))
	}
	high, low := c.ImageGCHighThresholdPercent, c.ImageGCLowThresholdPercent
	if high != nil && (*high < 0 || *high > 100) {
		errs = append(errs, fmt.Errorf("imageGCHighThresholdPercent: %d must be between 0 and 100, inclusive", *high))
	}
	if low != nil && (*low < 0 || *low > 100) {
		errs = append(errs, fmt.Errorf("imageGCLowThresholdPercent: %d must be between 0 and 100, inclusive", *low))
	}
	if high != nil && low != nil && *low >= *high {
		errs = append(errs, fmt.Errorf("imageGCLowThresholdPercent: %d must be less than imageGCHighThresholdPercent %d", *low, *high))
	}
	if c.ImageMinimumGCAge.Duration < 0 {
		errs = append(errs, fmt.Errorf("imageMinimumGCAge: must not be negative, got %s", c.ImageMinimumGCAge.Duration))
	}
	return errs
}

// ContainerLogMaxSizeBytes is containerLogMaxSize in bytes (a quantity:
// "10Mi", "100Ki").
func (c Config) ContainerLogMaxSizeBytes() (int64, error) {
	q, err := resource.ParseQuantity(c.ContainerLogMaxSize)
	if err != nil {
		return 0, fmt.Errorf("containerLogMaxSize: %q is not a quantity such as 10Mi: %w", c.ContainerLogMaxSize, err)
	}
	n, ok := q.AsInt64()
	if !ok || n <= 0 {
		return 0, fmt.Errorf("containerLogMaxSize: %q must be a positive number of bytes", c.ContainerLogMaxSize)
	}
	return n, nil
}
