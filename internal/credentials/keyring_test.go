package credentials

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestKeyringLookup(t *testing.T) {
	a, b, c := Entry{Username: "a"}, Entry{Username: "b"}, Entry{Username: "c"}
	tests := []struct {
		name    string
		entries map[string]Entry
		image   string
		want    []Entry
	}{
		{name: "host", entries: map[string]Entry{"127.0.0.1:5000": a}, image: "127.0.0.1:5000/app:1", want: []Entry{a}},
		{name: "scheme and API prefix are ignored", entries: map[string]Entry{"http://127.0.0.1:5000/v2/": a}, image: "127.0.0.1:5000/app:1", want: []Entry{a}},
		{name: "port must match", entries: map[string]Entry{"127.0.0.1:5001": a}, image: "127.0.0.1:5000/app:1"},
		{name: "no port is not any port", entries: map[string]Entry{"127.0.0.1": a}, image: "127.0.0.1:5000/app:1"},
		{name: "a longer path comes first", entries: map[string]Entry{"reg.example.com": a, "reg.example.com/team": b}, image: "reg.example.com/team/app@sha256:" + sha, want: []Entry{b, a}},
		{name: "a path of another repository does not match", entries: map[string]Entry{"reg.example.com/team": b}, image: "reg.example.com/other/app"},
		// As the kubelet: the path is a string prefix, not a path prefix.
		{name: "path prefix is a string prefix", entries: map[string]Entry{"reg.example.com/team": b}, image: "reg.example.com/teamwork/app", want: []Entry{b}},
		{name: "glob label", entries: map[string]Entry{"*.example.com": a}, image: "reg.example.com/app", want: []Entry{a}},
		{name: "a glob is one label", entries: map[string]Entry{"*.example.com": a}, image: "a.reg.example.com/app"},
		{name: "a short name is Docker Hub's", entries: map[string]Entry{"https://index.docker.io/v1/": c}, image: "busybox:1.35", want: []Entry{c}},
		{name: "docker.io is Docker Hub", entries: map[string]Entry{"index.docker.io": c}, image: "docker.io/me/app", want: []Entry{c}},
		{name: "another registry is not Docker Hub", entries: map[string]Entry{"index.docker.io": c}, image: "quay.io/me/app"},
		{name: "no entries", image: "busybox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newKeyring(tt.entries).lookup(tt.image)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("lookup(%q) = %v, want %v", tt.image, got, tt.want)
			}
		})
	}
}

const sha = "0123456789012345678901234567890123456789012345678901234567890123"

func TestEntryUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    Entry
		wantErr bool
	}{
		{name: "username and password", json: `{"username":"u","password":"p"}`, want: Entry{"u", "p"}},
		{name: "auth, padded", json: `{"auth":"dXNlcjpwYXNz"}`, want: Entry{"user", "pass"}},
		{name: "auth, unpadded, password with a colon", json: `{"auth":"dTpwOnE"}`, want: Entry{"u", "p:q"}},
		{name: "auth wins", json: `{"username":"x","password":"y","auth":"dXNlcjpwYXNz"}`, want: Entry{"user", "pass"}},
		{name: "auth without a colon", json: `{"auth":"dXNlcg=="}`, wantErr: true},
		{name: "auth not base64", json: `{"auth":"!!"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Entry
			err := json.Unmarshal([]byte(tt.json), &e)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal: %v, want error %v", err, tt.wantErr)
			}
			if err == nil && e != tt.want {
				t.Fatalf("Unmarshal = %+v, want %+v", e, tt.want)
			}
		})
	}
}
