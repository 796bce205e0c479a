package logs

import (
	"bufio"
	"bytes"
	"os"
	"strings"
)

// Tail returns the content of the last lines of a CRI log file, at most
// maxBytes of it (the end is kept), with partial lines joined. A missing
// or unreadable file gives "".
func Tail(path string, lines, maxBytes int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var out []string
	var partial strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		content, full, ok := parseLine(sc.Text())
		if !ok {
			continue
		}
		partial.WriteString(content)
		if full {
			out = append(out, partial.String())
			partial.Reset()
		}
	}
	if partial.Len() > 0 {
		out = append(out, partial.String())
	}
	if len(out) > lines {
		out = out[len(out)-lines:]
	}
	s := strings.Join(out, "\n")
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
	}
	return s
}

// parseLine splits one CRI log line into its content and whether it ends a
// line (tag F) or continues on the next (tag P).
func parseLine(line string) (content string, full, ok bool) {
	parts := strings.SplitN(line, " ", 4)
	if len(parts) < 3 {
		return "", false, false
	}
	if len(parts) == 4 {
		content = parts[3]
	}
	return content, parts[2] != "P", true
}
