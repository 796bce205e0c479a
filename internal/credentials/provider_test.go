package credentials

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func users(t *testing.T, p *Provider, image string) []string {
	t.Helper()
	var out []string
	for _, a := range p.Lookup(image) {
		out = append(out, a.Username+":"+a.Password)
	}
	return out
}

func TestProvider_SearchPathOrder(t *testing.T) {
	const image = "127.0.0.1:5000/app:1"
	entry := func(user string) string {
		return `{"auths":{"127.0.0.1:5000":{"username":"` + user + `","password":"p"}}}`
	}
	tests := []struct {
		name  string
		files map[string]string // relative to a temp dir
		file  string
		want  string
	}{
		{name: "nothing anywhere"},
		{name: "the configured file first", file: "etc/creds.json", files: map[string]string{"etc/creds.json": entry("file"), "root/config.json": entry("root")}, want: "file:p"},
		{name: "root dir config.json before home", files: map[string]string{"root/config.json": entry("root"), "home/.docker/config.json": entry("home")}, want: "root:p"},
		{name: "home config.json", files: map[string]string{"home/.docker/config.json": entry("home")}, want: "home:p"},
		{name: "config.json before .dockercfg", files: map[string]string{"home/.docker/config.json": entry("json"), "root/.dockercfg": `{"127.0.0.1:5000":{"username":"cfg","password":"p"}}`}, want: "json:p"},
		{name: "legacy .dockercfg", files: map[string]string{"home/.dockercfg": `{"127.0.0.1:5000":{"auth":"Y2ZnOnA="}}`}, want: "cfg:p"},
		{name: "a file that does not decode is passed over", files: map[string]string{"root/config.json": "{", "home/.docker/config.json": entry("home")}, want: "home:p"},
		// As the kubelet: only the first file that reads counts, even when
		// it has nothing for this registry.
		{name: "the first file wins whole", files: map[string]string{"root/config.json": `{"auths":{"other:1":{"username":"x"}}}`, "home/.docker/config.json": entry("home")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for rel, content := range tt.files {
				write(t, filepath.Join(dir, rel), content)
			}
			cfg := Config{RootDir: filepath.Join(dir, "root"), Home: filepath.Join(dir, "home")}
			if tt.file != "" {
				cfg.File = filepath.Join(dir, tt.file)
			}
			p, err := NewProvider(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := users(t, p, image)
			if (tt.want == "" && len(got) != 0) || (tt.want != "" && (len(got) != 1 || got[0] != tt.want)) {
				t.Fatalf("Lookup = %v, want [%s]", got, tt.want)
			}
		})
	}
}

func TestNewProvider_ConfiguredFileMustRead(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"missing.json": "", "bad.json": "{"} {
		path := filepath.Join(dir, name)
		if content != "" {
			write(t, path, content)
		}
		if _, err := NewProvider(Config{File: path}); err == nil {
			t.Errorf("NewProvider with %s: no error", name)
		}
	}
}

func TestProvider_RereadsAfterFiveMinutes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root", "config.json")
	write(t, path, `{"auths":{"127.0.0.1:5000":{"username":"old","password":"p"}}}`)
	clk := clocktesting.NewFakePassiveClock(time.Unix(1000, 0))
	p, err := NewProvider(Config{RootDir: filepath.Join(dir, "root"), Home: dir, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	const image = "127.0.0.1:5000/app"
	if got := users(t, p, image); len(got) != 1 || got[0] != "old:p" {
		t.Fatalf("Lookup = %v", got)
	}
	write(t, path, `{"auths":{"127.0.0.1:5000":{"username":"new","password":"p"}}}`)
	clk.SetTime(clk.Now().Add(cacheLifetime - time.Second))
	if got := users(t, p, image); len(got) != 1 || got[0] != "old:p" {
		t.Fatalf("Lookup within the cache lifetime = %v, want old:p", got)
	}
	clk.SetTime(clk.Now().Add(time.Second))
	if got := users(t, p, image); len(got) != 1 || got[0] != "new:p" {
		t.Fatalf("Lookup after the cache lifetime = %v, want new:p", got)
	}
}
