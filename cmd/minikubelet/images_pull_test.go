package main

import (
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestPrintImages(t *testing.T) {
	list := []*runtimeapi.Image{
		{Id: "sha256:0123456789abcdef0123", RepoTags: []string{"docker.io/library/busybox:1.35", "127.0.0.1:5000/e2e/busybox:1"}, Size: 2047488},
		{Id: "sha256:fedcba9876543210", RepoDigests: []string{"127.0.0.1:5000/e2e/old@sha256:aa"}, Size: 999},
	}
	var b strings.Builder
	if err := printImages(&b, list); err != nil {
		t.Fatal(err)
	}
	want := `IMAGE                        TAG      IMAGE ID        SIZE
127.0.0.1:5000/e2e/busybox   1        0123456789abc   2.05MB
127.0.0.1:5000/e2e/old       <none>   fedcba9876543   999B
docker.io/library/busybox    1.35     0123456789abc   2.05MB
`
	if b.String() != want {
		t.Fatalf("printed\n%s\nwant\n%s", b.String(), want)
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[uint64]string{0: "0B", 999: "999B", 1000: "1kB", 1634816: "1.63MB", 1_500_000_000: "1.5GB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
