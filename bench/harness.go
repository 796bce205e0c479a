package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// cleanupTimeout bounds the removal of a scenario's pods: 250 pods take a
// while on two cores.
const cleanupTimeout = 5 * time.Minute

func nowUTC() string { return time.Now().UTC().Format(time.RFC3339) }

// withDaemon runs f with a fresh daemon for the scenario, then removes
// every pod it made and stops it, whatever f did.
func (e *env) withDaemon(ctx context.Context, scenario string, res *Result, f func(d *daemon) error) error {
	d, err := startDaemon(ctx, e.bin, e.node(scenario))
	if err != nil {
		if d != nil {
			e.cleanupDaemon(d, res, false)
		}
		return err
	}
	ok := false
	defer func() { e.cleanupDaemon(d, res, ok) }()
	err = f(d)
	ok = err == nil
	return err
}

// cleanupDaemon removes the daemon's manifests, waits for containerd to
// list none of its sandboxes, stops it by its pid and removes what it
// left. Its directory (with daemon.log) is kept when the scenario failed.
func (e *env) cleanupDaemon(d *daemon, res *Result, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if d.cmd != nil && d.alive() {
		if err := d.removeAllManifests(); err != nil {
			res.note("cleanup: %v", err)
		}
		if _, err := waitSandboxesGone(ctx, e.rt, d.node, "", cleanupTimeout-10*time.Second, 200*time.Millisecond); err != nil {
			res.note("cleanup: the daemon did not remove its pods: %v", err)
			ok = false
		}
		d.stop()
	} else if d.cmd != nil {
		res.note("the daemon had exited (%s); log tail: %s", d.cmd.ProcessState, d.logTail(5))
		ok = false
	}
	if n, err := forceRemove(ctx, e.rt, d.node); n > 0 || err != nil {
		res.note("cleanup: removed %d sandboxes the daemon left (%v)", n, err)
	}
	if ok {
		os.RemoveAll(d.dir)
	} else {
		res.note("daemon directory kept for debugging: %s", d.dir)
	}
}

// cleanupFloor removes whatever the floor client left of a scenario.
func (e *env) cleanupFloor(scenario string, res *Result) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if n, err := forceRemove(ctx, e.rt, e.floorNode(scenario)); n > 0 || err != nil {
		res.note("cleanup: removed %d floor sandboxes left over (%v)", n, err)
	}
}

// order returns the order in which the implementations run in repetition
// i, rotated so that none always runs first (on a warmer or colder node).
func order(i int, impls ...string) []string {
	out := make([]string, len(impls))
	for j := range impls {
		out[j] = impls[(i+j)%len(impls)]
	}
	return out
}

// errorf formats an error for a sample that could not be taken.
func errorf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
