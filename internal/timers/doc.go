// Package timers holds what the daemon's goroutines share about
// k8s.io/utils/clock timers, so that their code reads the same with the
// real clock and with the fake clock of the unit tests. It keeps no state:
// a caller hands a timer in and keeps owning it.
package timers
