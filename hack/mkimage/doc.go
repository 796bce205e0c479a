// Command mkimage writes the OCI image archives the project builds instead
// of pulling: the pause image, from the binary built from cmd/pause, and a
// busybox image, from a static busybox such as Debian's busybox-static.
//
// Usage:
//
//	go run ./hack/mkimage pause --binary bin/pause [--ref REF] -o internal/sandbox/pause.tar
//	go run ./hack/mkimage busybox [--busybox /bin/busybox] [--ref REF] -o busybox.tar
//
// The archive is written to a temporary file and renamed into place, so a
// failed run never leaves a truncated archive for go:embed to pick up. The
// same inputs always give the same archive.
package main
