package config

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

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
