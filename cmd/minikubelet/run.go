package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/minikubelet/minikubelet/internal/config"
	"github.com/minikubelet/minikubelet/internal/node"
)

func newRunCommand() *cobra.Command {
	var (
		configPath  string
		printConfig bool
		flagCfg     config.Config
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: start the pods of the manifest directory and keep them running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, warnings, err := loadConfig(configPath, func(cfg *config.Config) { overrideFromFlags(cmd.Flags(), cfg, flagCfg) })
			if err != nil {
				return err
			}
			if printConfig {
				for _, w := range warnings {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
				}
				out, err := cfg.Print()
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(out)
				return err
			}
			log, err := newLogger(cfg.LogLevel, cfg.Logging.Format)
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			for _, w := range warnings {
				fields := []zap.Field{zap.String("file", w.File)}
				if w.Field != "" {
					fields = append(fields, zap.String("field", w.Field))
				}
				log.Warn(w.Message, fields...)
			}
			tuneGC()
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return node.Run(ctx, cfg, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "configuration file: a KubeletConfiguration and a MinikubeletConfiguration document (YAML or JSON)")
	f.BoolVar(&printConfig, "print-config", false, "print the effective configuration (the file, flags and defaults) as YAML and exit")
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
	f.Int32Var(&flagCfg.MaxPods, "max-pods", 0, "number of pods the node admits (default 110)")
	f.StringVar(&flagCfg.LogLevel, "log-level", "", "debug, info, warn or error (default info, debug with -v 1 or more)")
	f.Uint32VarP(&flagCfg.Logging.Verbosity, "v", "v", 0, "log verbosity: 0 logs at info, any higher number at debug (minikubelet has one debug level); --log-level wins")
	f.StringVar(&flagCfg.Logging.Format, "log-format", "", "text or json (default text on a terminal, json otherwise)")
	f.StringVar(&flagCfg.HealthzBindAddress, "healthz-bind-address", "", "IP address of the plain-HTTP /healthz (default "+config.DefaultHealthzBindAddress+")")
	flagCfg.HealthzPort = new(int32)
	f.Int32Var(flagCfg.HealthzPort, "healthz-port", 0, fmt.Sprintf("port of the plain-HTTP /healthz, 0 for none (default %d)", config.DefaultHealthzPort))
	f.Int32Var(&flagCfg.Port, "port", 0, fmt.Sprintf("HTTPS port of the Kubernetes API kubectl uses, 0 for none (default %d)", config.DefaultPort))
	f.StringVar(&flagCfg.Address, "address", "", "IP address the HTTPS port is bound to (default "+config.DefaultAddress+")")
	f.Int32Var(&flagCfg.ReadOnlyPort, "read-only-port", 0, "plain-HTTP read-only port on 127.0.0.1: pods, events, node, discovery, healthz, metrics; no logs, exec, attach or port-forward (default 0: off)")
	f.StringVar(&flagCfg.KubeconfigPath, "kubeconfig-path", "", "where the admin kubeconfig for the HTTPS port is written (default "+config.DefaultKubeconfigPath+")")
	f.DurationVar(&flagCfg.ShutdownGracePeriod.Duration, "shutdown-grace-period", 0, "how long a node shutdown waits for the pods to stop (a logind delay lock; default 0: off)")
	f.DurationVar(&flagCfg.ShutdownGracePeriodCriticalPods.Duration, "shutdown-grace-period-critical-pods", 0, "the part of shutdown-grace-period kept for critical pods, stopped last")
	f.DurationVar(&flagCfg.ImageGCPeriod.Duration, "image-gc-period", 0, "period of image garbage collection (default 5m, the kubelet's; for tests)")
	_ = f.MarkHidden("image-gc-period")
	return cmd
}

// loadConfig reads the configuration file at path (none when empty), lets
// override change it, then defaults and validates it. The warnings are
// the file's, for the caller to report once.
func loadConfig(path string, override func(*config.Config)) (config.Config, []config.Warning, error) {
	var (
		cfg      config.Config
		warnings []config.Warning
	)
	if path != "" {
		loaded, ws, err := config.Load(path)
		if err != nil {
			return cfg, nil, err
		}
		cfg, warnings = loaded, ws
	}
	override(&cfg)
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		if path == "" {
			return cfg, nil, fmt.Errorf("invalid configuration (flags):\n%w", err)
		}
		return cfg, nil, fmt.Errorf("invalid configuration (%s and flags):\n%w", path, err)
	}
	return cfg, warnings, nil
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
	set("max-pods", func() { cfg.MaxPods = from.MaxPods })
	// -v on the command line beats the file's logLevel; --log-level beats
	// both.
	set("v", func() { cfg.Logging.Verbosity, cfg.LogLevel = from.Logging.Verbosity, "" })
	set("shutdown-grace-period", func() { cfg.ShutdownGracePeriod = from.ShutdownGracePeriod })
	set("shutdown-grace-period-critical-pods", func() { cfg.ShutdownGracePeriodCriticalPods = from.ShutdownGracePeriodCriticalPods })
	set("log-level", func() { cfg.LogLevel = from.LogLevel })
	set("log-format", func() { cfg.Logging.Format = from.Logging.Format })
	set("healthz-bind-address", func() { cfg.HealthzBindAddress = from.HealthzBindAddress })
	set("healthz-port", func() { cfg.HealthzPort = from.HealthzPort })
	set("port", func() { cfg.SetPort(from.Port) })
	set("address", func() { cfg.Address = from.Address })
	set("read-only-port", func() { cfg.ReadOnlyPort = from.ReadOnlyPort })
	set("kubeconfig-path", func() { cfg.KubeconfigPath = from.KubeconfigPath })
	set("image-gc-period", func() { cfg.ImageGCPeriod = from.ImageGCPeriod })
}
