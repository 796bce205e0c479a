// Package systemd holds the tests of minikubelet under a real systemd
// (`make e2e-systemd`, build tag e2esystemd): a Debian tree booted with
// systemd-nspawn, the package installed in it, the unit driven with
// systemctl, the pods checked on the host's containerd through the CRI.
package systemd
