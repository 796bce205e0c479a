package staticpods

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// hostileCase is a file a user (or an attacker with write access to the
// manifest directory) may leave there, and the words its error must have.
type hostileCase struct {
	name string
	// make puts the file at path.
	make func(t *testing.T, path string)
	want string
}

func writeBytes(data []byte) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func symlinkTo(target string) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}
}

// aliasBomb is the "billion laughs" of YAML: ten levels of nine aliases,
// 10^9 strings once expanded, in under a kilobyte.
func aliasBomb() []byte {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata:\n  name: bomb\n  annotations:\n    a0: &a0 \"lol\"\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "    a%d: &a%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("spec:\n  containers:\n  - name: app\n    image: busybox\n")
	return []byte(b.String())
}

func deeplyNested(depth int) []byte {
	return []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: deep\n  annotations:\n    x: " +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n")
}

func manyEnv(n int) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata:\n  name: env\nspec:\n  containers:\n  - name: app\n    image: busybox\n    env:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - {name: V%d, value: x}\n", i)
	}
	return b.Bytes()
}

func garbage(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestScan_HostileFilesAreRefusedNamingTheFile puts files that are too
// big, self-referencing, bottomless or not files at all next to a good
// manifest: each is an error that names its file and says why, none blocks
// the scan, and the good pod is still read.
func TestScan_HostileFilesAreRefusedNamingTheFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "manifests")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []hostileCase{
		{"big.yaml", writeBytes(append([]byte(namedPod("big", "busybox")+"# "), bytes.Repeat([]byte("x"), maxManifestSize)...)), "larger than 10485760 bytes"},
		{"garbage.yaml", writeBytes(garbage(4096)), "not valid YAML or JSON"},
		{"bomb.yaml", writeBytes(aliasBomb()), "excessive aliasing"},
		{"deep.yaml", writeBytes(deeplyNested(100000)), "exceeded max depth"},
		{"env.yaml", writeBytes(manyEnv(1_000_000)), "larger than 10485760 bytes"},
		{"loop.yaml", symlinkTo("loop.yaml"), "too many levels of symbolic links"},
		{"zero.yaml", symlinkTo("/dev/zero"), "not a regular file"},
		{"fifo.yaml", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"dir-link.yaml", symlinkTo(root), "a directory"},
	}
	for _, c := range cases {
		c.make(t, filepath.Join(dir, c.name))
	}
	long := strings.Repeat("ü", 120) + ".yaml" // 245 bytes: a file name may have 255
	writeFile(t, filepath.Join(dir, long), namedPod(strings.Repeat("a", 250), "busybox") /* 253 with the node suffix at most */)
	writeFile(t, filepath.Join(dir, "good.yaml"), namedPod("good", "busybox"))

	src, _ := newTestSource(t, dir)
	snap := src.scan()

	if got := strings.Join(manifestFiles(snap), ","); got != "good.yaml" {
		t.Errorf("manifests from %s, want good.yaml only:%s", got, describe(snap))
	}
	errs := map[string]string{}
	for _, e := range snap.Errors {
		errs[filepath.Base(e.Path)] = e.Error()
	}
	for name, why := range src.skipped {
		errs[filepath.Base(name)] = "skipped: " + why
	}
	for _, c := range append(cases, hostileCase{name: long, want: "metadata.name"}) {
		got, ok := errs[c.name]
		if !ok {
			t.Errorf("%s: no error or note for it:%s", c.name, describe(snap))
			continue
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: error %q does not say %q", c.name, got, c.want)
		}
		if !strings.HasPrefix(got, "skipped: ") && !strings.Contains(got, c.name) {
			t.Errorf("%s: error %q does not name the file", c.name, got)
		}
	}
}

// TestReadManifest_NeverBlocksOnAFIFO: a file swapped for a FIFO between
// the scan's stat and its open must not hang the source.
func TestReadManifest_NeverBlocksOnAFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo.yaml")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := readManifest(p)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("readManifest of a FIFO: %v, want a not-a-regular-file error", err)
	}
}
