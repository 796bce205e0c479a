package logs

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"time"
)

// followPollInterval paces reading a followed log file for growth.
const followPollInterval = 100 * time.Millisecond

// readChunk is how much of a followed file one read asks for.
const readChunk = 64 << 10

// Options says how to show a container log, as the flags of kubectl logs.
type Options struct {
	// TailLines, when >= 0, shows only the last TailLines lines of what is
	// in the file when Copy reads it. A negative value shows every line.
	TailLines int
	// Timestamps starts each line with the time the runtime recorded for
	// it (RFC 3339 with nanoseconds) and a space.
	Timestamps bool
	// Since, when not zero, leaves out the lines the runtime recorded
	// before it (kubectl logs --since and --since-time). TailLines counts
	// lines before Since is applied, as the kubelet's ReadLogs does.
	Since time.Time
}

// File is a CRI log file open for showing, with the files it was rotated
// to before: Copy writes what they hold, and Follow writes what is
// appended later, into the file the runtime reopens at the same path
// after a rotation too. Only complete lines are written; a line the
// runtime is still writing waits for its newline. A File is read by one
// goroutine.
type File struct {
	path string
	f    *os.File
	// rotated are the older files of the log, oldest first, as they were
	// when it was opened.
	rotated []string
	// offset is where the next read starts; pending holds what was read
	// past the last newline.
	offset  int64
	pending []byte
	// poll is how often Follow looks for growth.
	poll time.Duration
}

// Open opens the CRI log file at path and finds the files it was rotated
// to.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rotated, err := Rotated(path)
	if err != nil {
		f.Close()
		return nil, err
	}
	// A rotation between the open and the listing renamed the open file:
	// it is read as the live one, not twice.
	if st, err := f.Stat(); err == nil && len(rotated) > 0 {
		if last, err := os.Stat(rotated[len(rotated)-1]); err == nil && os.SameFile(st, last) {
			rotated = rotated[:len(rotated)-1]
		}
	}
	return &File{path: path, f: f, rotated: rotated, poll: followPollInterval}, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Copy writes the content of the file's complete lines to w (the last
// opts.TailLines of them when that is >= 0), as `kubectl logs` shows
// them: a partial line (tag P) is written without a newline, so that it
// joins the line that completes it.
func (f *File) Copy(w io.Writer, opts Options) error {
	var older []byte
	for _, r := range f.rotated {
		data, err := readRotated(r)
		if os.IsNotExist(err) {
			continue // removed as an excess file meanwhile
		}
		if err != nil {
			return err
		}
		older = append(older, data...)
		if len(older) > 0 && older[len(older)-1] != '\n' {
			older = append(older, '\n')
		}
	}
	data, err := io.ReadAll(f.f)
	if err != nil {
		return err
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	f.offset = int64(end)
	data = append(older, data[:end]...)
	lines := strings.Split(string(data), "\n")
	lines = lines[:len(lines)-1] // what follows the last newline
	if opts.TailLines >= 0 && len(lines) > opts.TailLines {
		lines = lines[len(lines)-opts.TailLines:]
	}
	bw := bufio.NewWriter(w)
	for _, line := range lines {
		writeLine(bw, line, opts)
	}
	return bw.Flush()
}

// Follow writes the lines appended to the file after what Copy (or the
// previous Follow) wrote, looking for growth every 100 ms, until ctx ends
// or running, asked after each look, reports that the container is no
// longer running. When w is an http.Flusher (any Flush() method), it is
// flushed before each wait, so that a client sees lines as they come.
func (f *File) Follow(ctx context.Context, w io.Writer, opts Options, running func() bool) error {
	flusher, _ := w.(interface{ Flush() })
	ticker := time.NewTicker(f.poll)
	defer ticker.Stop()
	buf := make([]byte, readChunk)
	for {
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		if err := f.readToEnd(buf); err != nil {
			return err
		}
		if err := f.followRotation(buf); err != nil {
			return err
		}
		for {
			i := bytes.IndexByte(f.pending, '\n')
			if i < 0 {
				break
			}
			writeLine(w, string(f.pending[:i]), opts)
			f.pending = f.pending[i+1:]
		}
		if !running() {
			return nil
		}
	}
}

// readToEnd appends what the open file holds past the offset to pending.
func (f *File) readToEnd(buf []byte) error {
	for {
		n, err := f.f.ReadAt(buf, f.offset)
		f.offset += int64(n)
		f.pending = append(f.pending, buf[:n]...)
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// followRotation moves to the file the runtime reopened at the path when
// the open one was rotated away, once the old one was read to its end:
// what the runtime wrote before it reopened is kept. Before the new file
// is there, the old one stays open.
func (f *File) followRotation(buf []byte) error {
	cur, err := os.Stat(f.path)
	if err != nil {
		return nil // renamed, not reopened yet
	}
	open, err := f.f.Stat()
	if err != nil || os.SameFile(open, cur) {
		return err
	}
	if err := f.readToEnd(buf); err != nil {
		return err
	}
	next, err := os.Open(f.path)
	if err != nil {
		return nil
	}
	f.f.Close()
	f.f, f.offset = next, 0
	return f.readToEnd(buf)
}

// writeLine writes the content of one CRI log line, with its timestamp
// when opts.Timestamps is set, and a newline unless the line is partial.
// A line that is not in the CRI format, or older than opts.Since, is
// skipped.
func writeLine(w io.Writer, line string, opts Options) {
	content, full, ok := parseLine(line)
	if !ok {
		return
	}
	if opts.Timestamps || !opts.Since.IsZero() {
		raw, _, _ := strings.Cut(line, " ")
		ts, err := time.Parse(time.RFC3339Nano, raw)
		if !opts.Since.IsZero() && err == nil && ts.Before(opts.Since) {
			return
		}
		if opts.Timestamps {
			// As the kubelet writes it: RFC 3339 with the nanoseconds'
			// trailing zeros trimmed.
			if err == nil {
				raw = ts.Format(time.RFC3339Nano)
			}
			io.WriteString(w, raw+" ")
		}
	}
	io.WriteString(w, content)
	if full {
		io.WriteString(w, "\n")
	}
}
