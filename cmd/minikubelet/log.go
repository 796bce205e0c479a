package main

import (
	"fmt"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sys/unix"
)

// logEncoding is zap's encoder for a logging.format: "text" is the
// console encoder, "json" JSON; unset, the console on a terminal and JSON
// otherwise (a file, a pipe, the journal).
func logEncoding(format string, terminal bool) string {
	switch format {
	case "json":
		return "json"
	case "text":
		return "console"
	}
	if terminal {
		return "console"
	}
	return "json"
}

// isTerminal tells whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// newLogger builds the daemon's logger on stderr at level (debug, info,
// warn or error) with the encoding logEncoding picks.
func newLogger(level, format string) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Encoding = logEncoding(format, isTerminal(os.Stderr))
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	if zc.Encoding == "console" {
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	}
	zc.Sampling = nil
	zc.OutputPaths = []string{"stderr"}
	if os.Getenv("INVOCATION_ID") != "" {
		// Under systemd the journal stamps each line itself.
		zc.EncoderConfig.TimeKey = ""
	}
	return zc.Build()
}
