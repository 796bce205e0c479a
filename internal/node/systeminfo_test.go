package node

import "testing"

func TestPrettyName(t *testing.T) {
	tests := map[string]string{
		"NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n": "Debian GNU/Linux 12 (bookworm)",
		"PRETTY_NAME='Alpine Linux v3.19'\n":                                                     "Alpine Linux v3.19",
		"PRETTY_NAME=Plain\n":                                                                    "Plain",
		"NAME=nothing\n":                                                                         "",
	}
	for in, want := range tests {
		if got := prettyName([]byte(in)); got != want {
			t.Errorf("prettyName(%q) = %q, want %q", in, got, want)
		}
	}
}
