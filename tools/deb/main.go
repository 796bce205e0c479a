// Command deb builds minikubelet's Debian package from deploy/deb/nfpm.yaml
// with nfpm used as a library (`make deb`). It lives in its own module so
// that the daemon's go.mod does not carry nfpm's dependencies.
//
//	go run . -config ../../deploy/deb/nfpm.yaml -root ../.. -o minikubelet.deb
//
// ${VERSION}, ${ARCH} and ${BIN} in the config are taken from the
// environment.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
)

func main() {
	config := flag.String("config", "deploy/deb/nfpm.yaml", "nfpm configuration")
	root := flag.String("root", ".", "directory the configuration's source paths are relative to")
	out := flag.String("o", "", "package file to write")
	flag.Parse()
	if err := run(*config, *root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "deb:", err)
		os.Exit(1)
	}
}

func run(configPath, root, out string) error {
	if out == "" {
		return fmt.Errorf("-o is required")
	}
	data, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	// nfpm expands the environment in a few fields only; the sources too
	// are named by it here.
	cfg, err := nfpm.Parse(strings.NewReader(os.ExpandEnv(string(data))))
	if err != nil {
		return fmt.Errorf("read %s: %w", configPath, err)
	}
	// Source paths are relative to the repository root.
	if err := os.Chdir(root); err != nil {
		return err
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.Validate(info); err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(out)
		return fmt.Errorf("build %s: %w", out, err)
	}
	return f.Close()
}
