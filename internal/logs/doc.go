// Package logs reads container log files written by the runtime in the
// CRI format ("<RFC3339Nano time> <stream> <P|F> <content>" per line):
// tails for termination messages and, through the API, for `logs`.
package logs
