package pki

import (
	"crypto/x509"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func TestRenewAt(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		want     time.Duration // after notBefore
	}{
		{"a year: at 80%, 73 days before the end", 365 * day, 292 * day},
		{"ten years: at 80%", 3650 * day, 2920 * day},
		{"100 days: 30 days before the end comes first", 100 * day, 70 * day},
		{"40 days: never before half the lifetime", 40 * day, 20 * day},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renewAt(t0, t0.Add(tt.lifetime)).Sub(t0); got != tt.want {
				t.Fatalf("renewAt = notBefore + %v, want + %v", got, tt.want)
			}
		})
	}
}

func TestRenewalDue(t *testing.T) {
	cert := &x509.Certificate{NotBefore: t0, NotAfter: t0.Add(365 * day)}
	tests := []struct {
		now  time.Time
		want bool
	}{
		{t0, false},
		{t0.Add(292*day - time.Second), false},
		{t0.Add(292 * day), true},
		{t0.Add(400 * day), true},
	}
	for _, tt := range tests {
		if got := renewalDue(tt.now, cert); got != tt.want {
			t.Errorf("renewalDue at notBefore+%v = %v, want %v", tt.now.Sub(t0), got, tt.want)
		}
	}
}

func TestDecideIssuance(t *testing.T) {
	ca, err := newCA(t0, caLifetime)
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := newCA(t0, caLifetime)
	if err != nil {
		t.Fatal(err)
	}
	sans := servingSANs("node-a", nil)
	serving := mustServing(t, ca, "node-a", sans, t0)
	admin := mustClient(t, ca, t0)
	foreignAdmin := mustClient(t, otherCA, t0)
	narrow := mustServing(t, ca, "node-b", servingSANs("node-b", nil), t0)
	tests := []struct {
		name               string
		now                time.Time
		ca, serving, admin *x509.Certificate
		want               issuance
	}{
		{"nothing yet: everything", t0, nil, nil, nil, issuance{CA: true, Serving: true, Admin: true}},
		{"all fresh: nothing", t0.Add(day), ca.cert, serving.cert, admin.cert, issuance{}},
		{"serving missing", t0, ca.cert, nil, admin.cert, issuance{Serving: true}},
		{"leaves due, CA not", t0.Add(300 * day), ca.cert, serving.cert, admin.cert, issuance{Serving: true, Admin: true}},
		{"CA due: everything", t0.Add(2920 * day), ca.cert, serving.cert, admin.cert, issuance{CA: true, Serving: true, Admin: true}},
		{"admin from another CA", t0, ca.cert, serving.cert, foreignAdmin.cert, issuance{Admin: true}},
		{"serving for another node name", t0, ca.cert, narrow.cert, admin.cert, issuance{Serving: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decideIssuance(tt.now, tt.ca, tt.serving, tt.admin, sans); got != tt.want {
				t.Fatalf("decideIssuance = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func mustServing(t *testing.T, ca *keyPair, node string, sans sanSet, now time.Time) *keyPair {
	t.Helper()
	kp, err := newServing(ca, node, sans, now, leafLifetime)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func mustClient(t *testing.T, ca *keyPair, now time.Time) *keyPair {
	t.Helper()
	kp, err := newClient(ca, adminUser, []string{adminGroup}, now, leafLifetime)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}
