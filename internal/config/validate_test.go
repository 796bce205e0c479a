package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidate_KubeletFields(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string // nil means valid
	}{
		{name: "healthz port 0 turns it off", mutate: func(c *Config) { c.HealthzPort = i32(0) }},
		{name: "read-only port", mutate: func(c *Config) { c.ReadOnlyPort = 10255 }},
		{name: "a graceful shutdown", mutate: func(c *Config) {
			c.ShutdownGracePeriod, c.ShutdownGracePeriodCriticalPods = d(30*time.Second), d(10*time.Second)
		}},
		{name: "eviction at 0% and 100%", mutate: func(c *Config) {
			c.EvictionHard = map[string]string{"nodefs.available": "0%", "imagefs.available": "100%", "pid.available": "10%"}
		}},
		{name: "no eviction thresholds", mutate: func(c *Config) { c.EvictionHard = map[string]string{} }},
		{name: "json logs", mutate: func(c *Config) { c.Logging.Format = "json" }},
		{name: "port out of range", mutate: func(c *Config) { c.Port = 70000 }, wantErr: []string{"port: must be between 0 (off) and 65535, got 70000"}},
		{name: "read-only port too big", mutate: func(c *Config) { c.ReadOnlyPort = 65536 }, wantErr: []string{"readOnlyPort (--read-only-port) 65536 must be between 0 and 65535"}},
		{name: "healthz port negative", mutate: func(c *Config) { c.HealthzPort = i32(-1) }, wantErr: []string{"healthzPort (--healthz-port) -1 must be between 1 and 65535"}},
		{name: "address not an IP", mutate: func(c *Config) { c.Address = "localhost" }, wantErr: []string{"address", `"localhost"`}},
		{name: "healthzBindAddress not an IP", mutate: func(c *Config) { c.HealthzBindAddress = "x" }, wantErr: []string{"healthzBindAddress"}},
		{name: "negative maxPods", mutate: func(c *Config) { c.MaxPods = -1 }, wantErr: []string{"maxPods (--max-pods) -1 must not be a negative number"}},
		{name: "negative syncFrequency", mutate: func(c *Config) { c.SyncFrequency = d(-time.Second) }, wantErr: []string{"syncFrequency", "negative"}},
		{name: "critical pods' share above the period", mutate: func(c *Config) {
			c.ShutdownGracePeriod, c.ShutdownGracePeriodCriticalPods = d(10*time.Second), d(20*time.Second)
		}, wantErr: []string{"shutdownGracePeriodCriticalPods 20s must be <= shutdownGracePeriod 10s"}},
		{name: "shutdown period under a second", mutate: func(c *Config) { c.ShutdownGracePeriod = d(500 * time.Millisecond) }, wantErr: []string{"shutdownGracePeriod 500ms must be either zero or otherwise >= 1 sec"}},
		{name: "critical period negative", mutate: func(c *Config) { c.ShutdownGracePeriodCriticalPods = d(-time.Second) }, wantErr: []string{"shutdownGracePeriodCriticalPods -1s must be either zero or otherwise >= 1 sec"}},
		{name: "log size not a quantity", mutate: func(c *Config) { c.ContainerLogMaxSize = "ten megs" }, wantErr: []string{"containerLogMaxSize", `"ten megs"`}},
		{name: "log size zero", mutate: func(c *Config) { c.ContainerLogMaxSize = "0" }, wantErr: []string{"containerLogMaxSize", "greater than 0"}},
		{name: "one log file", mutate: func(c *Config) { c.ContainerLogMaxFiles = 1 }, wantErr: []string{"containerLogMaxFiles must be greater than 1"}},
		{name: "log monitor too often", mutate: func(c *Config) { c.ContainerLogMonitorInterval = d(time.Second) }, wantErr: []string{"containerLogMonitorInterval must be a positive time duration greater than or equal to 3s"}},
		{name: "image GC low above high", mutate: func(c *Config) { c.ImageGCLowThresholdPercent = i32(90) },
			wantErr: []string{"imageGCLowThresholdPercent (--image-gc-low-threshold) 90 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 85"}},
		{name: "image GC high above 100", mutate: func(c *Config) { c.ImageGCHighThresholdPercent = i32(101) },
			wantErr: []string{"imageGCHighThresholdPercent (--image-gc-high-threshold) 101 must be between 0 and 100, inclusive"}},
		{name: "image GC low negative", mutate: func(c *Config) { c.ImageGCLowThresholdPercent = i32(-1) },
			wantErr: []string{"imageGCLowThresholdPercent (--image-gc-low-threshold) -1 must be between 0 and 100, inclusive"}},
		{name: "negative image GC age", mutate: func(c *Config) { c.ImageMinimumGCAge = d(-time.Minute) }, wantErr: []string{"imageMinimumGCAge -1m0s must not be negative"}},
		{name: "unknown eviction signal", mutate: func(c *Config) { c.EvictionHard = map[string]string{"disk.available": "10%"} }, wantErr: []string{"unsupported eviction signal disk.available"}},
		{name: "eviction percentage above 100", mutate: func(c *Config) { c.EvictionHard = map[string]string{"nodefs.available": "110%"} }, wantErr: []string{"nodefs.available", "must be <= 100%"}},
		{name: "eviction quantity zero", mutate: func(c *Config) { c.EvictionHard = map[string]string{"memory.available": "0"} }, wantErr: []string{"memory.available", "must be positive"}},
		{name: "eviction value garbage", mutate: func(c *Config) { c.EvictionHard = map[string]string{"memory.available": "lots"} }, wantErr: []string{"memory.available", `"lots"`}},
		{name: "unknown log format", mutate: func(c *Config) { c.Logging.Format = "logfmt" }, wantErr: []string{"logging.format", `"logfmt"`, `"json", "text"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{}.WithDefaults()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %q", tt.wantErr)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}
