package node

import (
	"net"
	"testing"
)

func TestKubeconfigServerAndOtherLoopback(t *testing.T) {
	tests := []struct {
		address, server, also string
	}{
		{"127.0.0.1", "https://127.0.0.1:10260", "[::1]:10260"},
		{"::1", "https://[::1]:10260", "127.0.0.1:10260"},
		{"0.0.0.0", "https://127.0.0.1:10260", ""},
		{"::", "https://127.0.0.1:10260", ""},
		{"192.0.2.7", "https://192.0.2.7:10260", ""},
	}
	for _, tt := range tests {
		ip := net.ParseIP(tt.address)
		if got := kubeconfigServer(ip, "10260"); got != tt.server {
			t.Errorf("kubeconfigServer(%s) = %s, want %s", tt.address, got, tt.server)
		}
		if got := otherLoopback(ip, "10260"); got != tt.also {
			t.Errorf("otherLoopback(%s) = %q, want %q", tt.address, got, tt.also)
		}
	}
}
