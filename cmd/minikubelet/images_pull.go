package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/distribution/reference"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minikubelet/minikubelet/internal/config"
	"github.com/minikubelet/minikubelet/internal/node"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

func newImagesPullCommand(opts *imagesOptions) *cobra.Command {
	var configPath, credentialsFile string
	cmd := &cobra.Command{
		Use:   "pull IMAGE",
		Short: "Pull an image as the daemon would, with the node's registry credentials",
		Long: "Pull an image through containerd's CRI with the credentials the daemon would send:\n" +
			"registryCredentialsFile of --config (or --registry-credentials-file), else the\n" +
			"first docker config.json or .dockercfg on the kubelet's search path.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := loadConfig(configPath, func(cfg *config.Config) {
				if cmd.Flags().Changed("registry-credentials-file") {
					cfg.RegistryCredentialsFile = credentialsFile
				}
			})
			if err != nil {
				return err
			}
			return withCRI(cmd, opts, func(ctx context.Context, rt *runtime.Client) error {
				puller, err := node.NewImagePuller(cfg, rt, zap.NewNop())
				if err != nil {
					return err
				}
				pulled, err := puller.Pull(ctx, &runtimeapi.ImageSpec{Image: args[0], UserSpecifiedImage: args[0]}, nil)
				if err != nil {
					return fmt.Errorf("pull image %q: %s", args[0], runtime.Message(err))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Successfully pulled image %q in %s. Image size: %d bytes.\nImage is up to date for %s\n",
					args[0], pulled.Took.Truncate(time.Millisecond), pulled.Size, pulled.Ref)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the daemon's configuration file, for its rootDir and registryCredentialsFile")
	cmd.Flags().StringVar(&credentialsFile, "registry-credentials-file", "", "docker config.json to read before the kubelet's search path")
	return cmd
}

func newImagesListCommand(opts *imagesOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the images containerd's CRI has, as crictl images does",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withCRI(cmd, opts, func(ctx context.Context, rt *runtime.Client) error {
				list, err := rt.ListImages(ctx, nil)
				if err != nil {
					return fmt.Errorf("list images: %s", runtime.Message(err))
				}
				return printImages(cmd.OutOrStdout(), list)
			})
		},
	}
}

// withCRI runs f with a CRI client of the containerd at --containerd-address,
// within --timeout.
func withCRI(cmd *cobra.Command, opts *imagesOptions, f func(context.Context, *runtime.Client) error) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), opts.timeout)
	defer cancel()
	rt, err := runtime.Dial(ctx, opts.address, opts.timeout)
	if err != nil {
		return err
	}
	defer rt.Close()
	return f(ctx, rt)
}

// printImages prints crictl's columns: a line per repository and tag
// (<none> for an image known only by digest), the ID's first 13 hex
// digits, and the size in decimal units.
func printImages(out io.Writer, list []*runtimeapi.Image) error {
	type row struct{ repo, tag, id, size string }
	var rows []row
	for _, img := range list {
		id := strings.TrimPrefix(img.Id, "sha256:")
		if len(id) > 13 {
			id = id[:13]
		}
		size := humanSize(img.Size)
		var tagged bool
		for _, t := range img.RepoTags {
			repo, tag := splitRepoTag(t)
			rows = append(rows, row{repo, tag, id, size})
			tagged = true
		}
		if !tagged {
			repo := "<none>"
			if len(img.RepoDigests) > 0 {
				repo, _, _ = strings.Cut(img.RepoDigests[0], "@")
			}
			rows = append(rows, row{repo, "<none>", id, size})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].repo != rows[j].repo {
			return rows[i].repo < rows[j].repo
		}
		return rows[i].tag < rows[j].tag
	})
	tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tTAG\tIMAGE ID\tSIZE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.repo, r.tag, r.id, r.size)
	}
	return tw.Flush()
}

func splitRepoTag(s string) (string, string) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return s, "<none>"
	}
	if t, ok := named.(reference.Tagged); ok {
		return named.Name(), t.Tag()
	}
	return named.Name(), "<none>"
}

// humanSize writes n bytes with three significant digits in decimal
// units, as crictl (docker's units.HumanSizeWithPrecision): 1.64MB.
func humanSize(n uint64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	v := float64(n)
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", v, units[i])
}
