package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/minikubelet/minikubelet/internal/ociimage"
)

const usage = `usage:
  mkimage pause --binary FILE [--ref REF] -o FILE
  mkimage busybox [--busybox FILE] [--ref REF] -o FILE
`

// usageError is a command line that cannot be run; main then prints the
// usage.
type usageError string

func (e usageError) Error() string { return string(e) }

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		}
		var ue usageError
		if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(os.Stderr, usage)
		}
		os.Exit(2)
	}
}

func run(args []string, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("missing image kind")
	}
	kind, args := args[0], args[1:]
	fl := flag.NewFlagSet("mkimage "+kind, flag.ContinueOnError)
	fl.SetOutput(stderr)
	out := fl.String("o", "", "archive to write (required)")

	var binary, ref *string
	var build func([]byte, string) ociimage.Image
	switch kind {
	case "pause":
		binary = fl.String("binary", "bin/pause", "static pause binary built from ./cmd/pause")
		ref = fl.String("ref", ociimage.PauseRef, "image name")
		build = ociimage.Pause
	case "busybox":
		binary = fl.String("busybox", "/bin/busybox", "static busybox binary (Debian: busybox-static)")
		ref = fl.String("ref", ociimage.BusyboxRef, "image name")
		build = ociimage.Busybox
	default:
		return usageError(fmt.Sprintf("unknown image kind %q", kind))
	}
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *out == "" || fl.NArg() != 0 {
		return usageError("-o FILE is required and no argument is accepted")
	}

	data, err := os.ReadFile(*binary)
	if err != nil {
		return fmt.Errorf("read %s binary: %w", kind, err)
	}
	archive, err := build(data, *ref).Archive()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(*out, archive); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "mkimage: wrote %s (%s, %d bytes)\n", *out, *ref, len(archive))
	return nil
}

// writeFileAtomic replaces name with data in one rename, so that readers
// never see a partial archive.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
