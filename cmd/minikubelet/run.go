package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/minikubelet/minikubelet/internal/config"
	"github.com/minikubelet/minikubelet/internal/node"
)

func newRunCommand() *cobra.Command {
	var (
		configPath string
		flagCfg    config.Config
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: start the pods of the manifest directory and keep them running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(configPath, func(cfg *config.Config) { overrideFromFlags(cmd.Flags(), cfg, flagCfg) })
			if err != nil {
				return err
			}
			log, err := newLogger(cfg.LogLevel)
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return node.Run(ctx, cfg, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "configuration file (YAML, KubeletConfiguration field names)")
	f.StringVar(&flagCfg.StaticPodPath, "pod-manifest-path", "", "directory of pod manifests (default "+config.DefaultStaticPodPath+")")
	f.StringVar(&flagCfg.ContainerRuntimeEndpoint, "container-runtime-endpoint", "", "CRI socket (default "+config.DefaultContainerRuntimeEndpoint+")")
	f.StringVar(&flagCfg.HostnameOverride, "hostname-override", "", "node name instead of the hostname")
	f.StringVar(&flagCfg.RootDir, "root-dir", "", "state directory (default "+config.DefaultRootDir+")")
	f.StringVar(&flagCfg.APISocket, "api-socket", "", "unix socket of the local API (default "+config.DefaultAPISocket+")")
	f.StringVar(&flagCfg.PodLogsDir, "pod-logs-dir", "", "root of pod log directories (default "+config.DefaultPodLogsDir+")")
	f.DurationVar(&flagCfg.FileCheckFrequency.Duration, "file-check-frequency", 0, "period of the full rescan of the manifest directory (default 20s)")
	f.DurationVar(&flagCfg.RuntimeRequestTimeout.Duration, "runtime-request-timeout", 0, "bound on each CRI call (default 2m)")
	f.StringToStringVar(&flagCfg.NodeLabels, "node-labels", nil, "the node's labels beyond the well-known ones, key=value,... (matched by node selectors and node affinity)")
	f.StringVar(&flagCfg.CgroupRoot, "cgroup-root", "", "cgroup under which the kubepods hierarchy is made (default "+config.DefaultCgroupRoot+")")
	f.StringVar(&flagCfg.LogLevel, "log-level", "", "debug, info, warn or error (default info)")
	f.DurationVar(&flagCfg.ImageGCPeriod.Duration, "image-gc-period", 0, "period of image garbage collection (default 5m, the kubelet's; for tests)")
	_ = f.MarkHidden("image-gc-period")
	return cmd
}

// loadConfig reads the configuration file at path (none when empty), lets
// override change it, then defaults and validates it.
func loadConfig(path string, override func(*config.Config)) (config.Config, error) {
	var cfg config.Config
	if path != "" {
		loaded, err := config.Load(path)
		if err != nil {
			return cfg, err
		}
		cfg = loaded
	}
	override(&cfg)
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// overrideFromFlags copies into cfg the settings given on the command line.
func overrideFromFlags(flags *pflag.FlagSet, cfg *config.Config, from config.Config) {
	set := func(name string, apply func()) {
		if flags.Changed(name) {
			apply()
		}
	}
	set("pod-manifest-path", func() { cfg.StaticPodPath = from.StaticPodPath })
	set("container-runtime-endpoint", func() { cfg.ContainerRuntimeEndpoint = from.ContainerRuntimeEndpoint })
	set("hostname-override", func() { cfg.HostnameOverride = from.HostnameOverride })
	set("root-dir", func() { cfg.RootDir = from.RootDir })
	set("api-socket", func() { cfg.APISocket = from.APISocket })
	set("pod-logs-dir", func() { cfg.PodLogsDir = from.PodLogsDir })
	set("file-check-frequency", func() { cfg.FileCheckFrequency = from.FileCheckFrequency })
	set("runtime-request-timeout", func() { cfg.RuntimeRequestTimeout = from.RuntimeRequestTimeout })
	set("node-labels", func() { cfg.NodeLabels = from.NodeLabels })
	set("cgroup-root", func() { cfg.CgroupRoot = from.CgroupRoot })
	set("log-level", func() { cfg.LogLevel = from.LogLevel })
	set("image-gc-period", func() { cfg.ImageGCPeriod = from.ImageGCPeriod })
}

func newLogger(level string) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Encoding = "console"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	zc.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	zc.Sampling = nil
	zc.OutputPaths = []string{"stderr"}
	if os.Getenv("INVOCATION_ID") != "" {
		// Under systemd the journal stamps each line itself.
		zc.EncoderConfig.TimeKey = ""
	}
	return zc.Build()
}
