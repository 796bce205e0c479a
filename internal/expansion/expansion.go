// Package expansion expands $(VAR) references in container commands, args
// and env values, as the kubelet does.
package expansion

import "strings"

// Expand replaces $(VAR) references in s with values from lookup, as the
// kubelet expands command, args and env values: $$ escapes a $, and a
// reference to an unknown variable is left as written.
func Expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				// As the kubelet: an unterminated $( is copied and the scan
				// goes on, so a later $$ is still an escape.
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
