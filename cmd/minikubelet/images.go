package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/minikubelet/minikubelet/internal/ociimage"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

// defaultImportTimeout bounds one `images` command: importing and unpacking
// a few megabytes takes well under a second on a healthy node.
const defaultImportTimeout = 2 * time.Minute

// imagesOptions are the flags every `images` subcommand shares.
type imagesOptions struct {
	address     string
	snapshotter string
	timeout     time.Duration
}

// newImagesCommand returns `minikubelet images`, which imports the images a
// node needs without any registry into containerd's k8s.io namespace: the
// pause image (pauseArchive, the archive embedded in the binary, unless
// --archive names another) and a busybox image built from the node's static
// busybox.
func newImagesCommand(pauseArchive []byte) *cobra.Command {
	opts := &imagesOptions{}
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Pull and list images; import the pause and busybox images with no registry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.PersistentFlags().StringVar(&opts.address, "containerd-address", runtime.DefaultContainerdAddress, "containerd's socket")
	cmd.PersistentFlags().StringVar(&opts.snapshotter, "snapshotter", runtime.DefaultSnapshotter, "snapshotter to unpack images for: the one containerd's CRI plugin uses")
	cmd.PersistentFlags().DurationVar(&opts.timeout, "timeout", defaultImportTimeout, "give up after this long")
	cmd.AddCommand(newImagesPauseCommand(opts, pauseArchive), newImagesBusyboxCommand(opts), newImagesPullCommand(opts), newImagesListCommand(opts))
	return cmd
}

func newImagesPauseCommand(opts *imagesOptions, pauseArchive []byte) *cobra.Command {
	var archivePath, ref string
	cmd := &cobra.Command{
		Use:   "pause",
		Short: "Import the pause image, the one containerd's CRI runs in every sandbox",
		Long: "Import the pause image built from this project's cmd/pause: the one embedded in\n" +
			"this binary, or the OCI archive given with --archive. Name it --ref, the\n" +
			"sandbox_image of containerd's CRI configuration.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			archive := pauseArchive
			if archivePath != "" {
				data, err := os.ReadFile(archivePath)
				if err != nil {
					return fmt.Errorf("read the pause image archive: %w", err)
				}
				if len(data) == 0 {
					return fmt.Errorf("the pause image archive %s is empty: rebuild it (make images)", archivePath)
				}
				archive = data
			}
			if len(archive) == 0 {
				return errors.New("this binary embeds no pause image: give an archive with --archive (make images writes internal/sandbox/pause.tar)")
			}
			return importArchive(cmd, opts, archive, ref)
		},
	}
	cmd.Flags().StringVar(&archivePath, "archive", "", "OCI archive of the pause image (default: the one embedded in this binary)")
	cmd.Flags().StringVar(&ref, "ref", ociimage.PauseRef, "name to import the image under")
	return cmd
}

func newImagesBusyboxCommand(opts *imagesOptions) *cobra.Command {
	var busyboxPath, ref string
	cmd := &cobra.Command{
		Use:   "busybox",
		Short: "Build a busybox image from the node's static busybox and import it",
		Long: "Build an image from a static busybox binary (Debian: apt-get install\n" +
			"busybox-static) with a link for each usual applet, and import it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			binary, err := os.ReadFile(busyboxPath)
			if err != nil {
				return fmt.Errorf("read the busybox binary (is busybox-static installed?): %w", err)
			}
			archive, err := ociimage.Busybox(binary, ref).Archive()
			if err != nil {
				return err
			}
			return importArchive(cmd, opts, archive, ref)
		},
	}
	cmd.Flags().StringVar(&busyboxPath, "busybox", "/bin/busybox", "static busybox binary")
	cmd.Flags().StringVar(&ref, "ref", ociimage.BusyboxRef, "name to import the image under")
	return cmd
}

// importArchive imports archive as ref and says what it imported.
func importArchive(cmd *cobra.Command, opts *imagesOptions, archive []byte, ref string) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), opts.timeout)
	defer cancel()
	name, err := ociimage.NormalizeRef(ref)
	if err != nil {
		return err
	}
	if err := runtime.ImportImage(ctx, opts.address, bytes.NewReader(archive), name, opts.snapshotter); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "imported %s into containerd at %s (namespace %s, snapshotter %s)\n",
		name, opts.address, runtime.CRINamespace, opts.snapshotter)
	return nil
}
