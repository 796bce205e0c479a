package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func TestParseEnvFile(t *testing.T) {
	tests := []struct {
		name, file string
		want       map[string]string
		wantErr    string
	}{
		{name: "plain", file: "A=1\nB=two words\n", want: map[string]string{"A": "1", "B": "two words"}},
		{name: "whitespace, blanks and comments", file: "  # comment\n\n   A = 1   \n\t\nB=\n", want: map[string]string{"A": "1", "B": ""}},
		{name: "single-quoted", file: "DB_ADDRESS='address'\nQ='it''s'\n", want: map[string]string{"DB_ADDRESS": "address", "Q": "it''s"}},
		{name: "equals in the value", file: "URL=http://x/?a=b\n", want: map[string]string{"URL": "http://x/?a=b"}},
		{name: "continuation joins with a space", file: "A=one \\\n   two\\\nthree\nB=2\n", want: map[string]string{"A": "one two three", "B": "2"}},
		{name: "later line wins", file: "A=1\nA=2\n", want: map[string]string{"A": "2"}},
		{name: "no equals", file: "A=1\njunk\n", wantErr: "line 2: want VAR=VALUE"},
		{name: "empty key", file: "=1\n", wantErr: "line 1"},
		{name: "continuation into a comment", file: "A=1\\\n# no\n", wantErr: "line 2: the value of A continues into a blank line or comment"},
		{name: "continuation at the end", file: "A=1\\\n", wantErr: "continues past the end of the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEnvFile(strings.NewReader(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestFileKeyValue(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.env"), []byte("DB=db.local\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.env"), []byte("nonsense\n"), 0o644)
	outside := filepath.Join(t.TempDir(), "host.env")
	os.WriteFile(outside, []byte("DB=host-secret\n"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "escape.env"))
	vols := Volumes{"data": {Path: dir}}
	yes := true
	tests := []struct {
		name      string
		ref       v1.FileKeySelector
		want      string
		wantFound bool
		wantErr   string
	}{
		{name: "found", ref: v1.FileKeySelector{VolumeName: "data", Path: "config.env", Key: "DB"}, want: "db.local", wantFound: true},
		{name: "missing key", ref: v1.FileKeySelector{VolumeName: "data", Path: "config.env", Key: "NOPE"}, wantErr: `key "NOPE" not found in env file "config.env" of volume "data"`},
		{name: "missing key, optional", ref: v1.FileKeySelector{VolumeName: "data", Path: "config.env", Key: "NOPE", Optional: &yes}},
		{name: "missing file", ref: v1.FileKeySelector{VolumeName: "data", Path: "none.env", Key: "DB"}, wantErr: `read env file "none.env" of volume "data"`},
		{name: "missing file, optional", ref: v1.FileKeySelector{VolumeName: "data", Path: "none.env", Key: "DB", Optional: &yes}},
		{name: "unparsable, even optional", ref: v1.FileKeySelector{VolumeName: "data", Path: "bad.env", Key: "DB", Optional: &yes}, wantErr: "parse env file"},
		{name: "a symlink stays inside the volume", ref: v1.FileKeySelector{VolumeName: "data", Path: "escape.env", Key: "DB"}, wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := FileKeyValue(vols, &tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || found != tt.wantFound {
				t.Fatalf("got %q found %v (%v), want %q found %v", got, found, err, tt.want, tt.wantFound)
			}
		})
	}
}
