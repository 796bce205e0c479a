// Package logs owns reading the container log files the runtime writes in
// the CRI format ("<RFC3339Nano time> <stream> <P|F> <content>" per line,
// tag P for a line continued on the next). Nothing else in minikubelet
// opens or parses them.
//
// Data enters as the path of a log file; the package never writes one and
// keeps no state between calls. It leaves two ways:
//
//   - Tail gives the pod worker the end of a log as one string, partial
//     lines joined, for a termination message taken from the log
//     (terminationMessagePolicy FallbackToLogsOnError).
//   - Open gives the API server a File whose Copy writes the log as
//     `kubectl logs` shows it (all lines or the last TailLines, those since a
//     time, with or without timestamps) and whose Follow then writes the lines appended
//     later, polling the file, until the request ends or the container
//     stops.
//
// Only complete lines are shown; a line the runtime is still writing waits
// for its newline.
package logs
