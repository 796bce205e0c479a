package machine

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCRIPageSize(t *testing.T) {
	for size, want := range map[int64]string{2 << 20: "2MB", 1 << 30: "1GB", 64 << 10: "64KB", 1000: "1000B"} {
		if got := CRIPageSize(size); got != want {
			t.Errorf("CRIPageSize(%d) = %s, want %s", size, got, want)
		}
	}
}

func TestReadHugePages(t *testing.T) {
	dir := t.TempDir()
	for name, n := range map[string]string{"hugepages-2048kB": "4\n", "hugepages-1048576kB": "0\n"} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "nr_hugepages"), []byte(n), 0o644)
	}
	pools, err := readHugePages(dir)
	if err != nil {
		t.Fatal(err)
	}
	info := Info{MemoryCapacity: 1 << 30, HugePages: pools}
	capacity, alloc := info.Capacity(), info.Allocatable()
	if q := capacity["hugepages-2Mi"]; q.Value() != 8<<20 {
		t.Errorf("hugepages-2Mi capacity = %s, want 8Mi", q.String())
	}
	if q := capacity["hugepages-1Gi"]; q.Value() != 0 {
		t.Errorf("hugepages-1Gi capacity = %s, want 0", q.String())
	}
	if q := alloc["memory"]; q.Value() != 1<<30-100<<20-8<<20 {
		t.Errorf("allocatable memory = %d, want capacity less 100Mi and the huge pages", q.Value())
	}
	if got := info.HugePageSizes(); len(got) != 2 || got[0] != "2MB" || got[1] != "1GB" {
		t.Errorf("HugePageSizes = %v, want [2MB 1GB]", got)
	}
}

func TestParse(t *testing.T) {
	if n, err := memTotal([]byte("MemTotal:       24576000 kB\nMemFree: 1 kB\n")); err != nil || n != 24576000*1024 {
		t.Errorf("memTotal = %d, %v", n, err)
	}
	status := []byte("Name:\tx\nCapEff:\t0000000001000000\n")
	if !hasCapability(status, capSysResource) || hasCapability(status, 21) {
		t.Error("hasCapability misreads CapEff")
	}
}
