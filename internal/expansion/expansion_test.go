package expansion

import "testing"

func TestExpand(t *testing.T) {
	vars := map[string]string{
		"VAR_A":     "A",
		"VAR_B":     "B",
		"VAR_EMPTY": "",
		"VAR_REF":   "$(VAR_A)",
		"VAR_SPACE": "a b",
	}
	lookup := func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
	// Cases from the kubelet's expansion tests
	// (third_party/forked/golang/expansion).
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "no reference", in: "plain text", want: "plain text"},
		{name: "empty", in: "", want: ""},
		{name: "defined", in: "$(VAR_A)", want: "A"},
		{name: "defined in the middle", in: "___$(VAR_B)___", want: "___B___"},
		{name: "twice", in: "$(VAR_A)-$(VAR_A)", want: "A-A"},
		{name: "adjacent", in: "$(VAR_A)$(VAR_B)", want: "AB"},
		{name: "defined empty", in: "x$(VAR_EMPTY)y", want: "xy"},
		{name: "value with spaces", in: "[$(VAR_SPACE)]", want: "[a b]"},
		{name: "undefined left as written", in: "$(VAR_DNE)", want: "$(VAR_DNE)"},
		{name: "undefined among defined", in: "$(VAR_A)$(VAR_DNE)$(VAR_B)", want: "A$(VAR_DNE)B"},
		{name: "empty name left as written", in: "$()", want: "$()"},
		{name: "values are not expanded again", in: "$(VAR_REF)", want: "$(VAR_A)"},
		{name: "escaped dollar", in: "f000-$$VAR_A", want: "f000-$VAR_A"},
		{name: "escaped reference", in: "$$(VAR_A)", want: "$(VAR_A)"},
		{name: "escape then reference", in: "$$$(VAR_A)", want: "$A"},
		{name: "two escapes then reference", in: "$$$$$(VAR_A)", want: "$$A"},
		{name: "two escapes of a reference", in: "$$$$(VAR_A)", want: "$$(VAR_A)"},
		{name: "lone dollar", in: "$", want: "$"},
		{name: "double dollar", in: "$$", want: "$"},
		{name: "triple dollar", in: "$$$", want: "$$"},
		{name: "trailing dollar", in: "$(VAR_A)$", want: "A$"},
		{name: "shell variable untouched", in: "$VAR_A ${VAR_A}", want: "$VAR_A ${VAR_A}"},
		{name: "backslash is not an escape", in: `foo\$(VAR_A)bar`, want: `foo\Abar`},
		{name: "unterminated", in: "$(VAR_A", want: "$(VAR_A"},
		{name: "unterminated at the end", in: "$(VAR_A) $(", want: "A $("},
		{name: "unterminated after a reference", in: "$(VAR_A)-$(VAR_B", want: "A-$(VAR_B"},
		{name: "nested opener reads to the first closer", in: "$(VAR_A$(VAR_B)", want: "$(VAR_A$(VAR_B)"},
		{name: "nested unterminated", in: "$(VAR_A$(VAR_B", want: "$(VAR_A$(VAR_B"},
		// As the kubelet: an unterminated $( is copied and scanning goes on,
		// so a later $$ is still an escape.
		{name: "escape after unterminated", in: "$(VAR_A $$B", want: "$(VAR_A $B"},
		{name: "escapes after unterminated", in: "$(X $$ $$$$", want: "$(X $ $$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Expand(tt.in, lookup); got != tt.want {
				t.Fatalf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
