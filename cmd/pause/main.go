package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Buffered so that a burst of SIGCHLD arriving while children are being
	// reaped is not lost: one pending SIGCHLD is enough, because every
	// wake-up reaps until nothing is left.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)

	// Children may have been handed to us before the handler was installed.
	if err := reapChildren(); err != nil {
		fmt.Fprintf(os.Stderr, "pause: %v\n", err)
	}
	for sig := range sigs {
		switch sig {
		case syscall.SIGTERM, syscall.SIGINT:
			os.Exit(0)
		case syscall.SIGCHLD:
			if err := reapChildren(); err != nil {
				fmt.Fprintf(os.Stderr, "pause: %v\n", err)
			}
		}
	}
}

// reapChildren collects every exited child without blocking, so none stays a
// zombie. It returns nil when no child is left or none has exited yet.
func reapChildren() error {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.ECHILD):
			return nil
		case err != nil:
			return fmt.Errorf("reap children: %w", err)
		case pid <= 0:
			return nil
		}
	}
}
