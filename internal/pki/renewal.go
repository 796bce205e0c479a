package pki

import (
	"crypto/x509"
	"time"
)

// renewalFraction and renewalMargin decide when a certificate is
// reissued: at 80% of its lifetime, or once less than 30 days are left,
// whichever comes first. The kubelet's certificate manager picks a
// jittered point between 70% and 90%; one node has no herd to spread.
const (
	renewalFraction = 0.8
	renewalMargin   = 30 * 24 * time.Hour
)

// renewAt is when a certificate valid from notBefore to notAfter is due
// for renewal: the earlier of 80% of its lifetime and 30 days before its
// end, but never before half its lifetime, so that a short-lived
// certificate is not reissued the moment it is made.
func renewAt(notBefore, notAfter time.Time) time.Time {
	lifetime := notAfter.Sub(notBefore)
	at := notBefore.Add(time.Duration(float64(lifetime) * renewalFraction))
	if margin := notAfter.Add(-renewalMargin); margin.Before(at) {
		at = margin
	}
	if half := notBefore.Add(lifetime / 2); at.Before(half) {
		at = half
	}
	return at
}

// renewalDue reports whether cert must be reissued at now.
func renewalDue(now time.Time, cert *x509.Certificate) bool {
	return !now.Before(renewAt(cert.NotBefore, cert.NotAfter))
}

// issuance says which certificates to (re)issue.
type issuance struct {
	CA, Serving, Admin bool
}

func (i issuance) any() bool { return i.CA || i.Serving || i.Admin }

// names lists what is issued, for the log.
func (i issuance) names() []string {
	var n []string
	if i.CA {
		n = append(n, "ca")
	}
	if i.Serving {
		n = append(n, "serving")
	}
	if i.Admin {
		n = append(n, "admin")
	}
	return n
}

// decideIssuance decides what to issue given what exists (nil: missing or
// unreadable) at now: a new CA reissues everything; a leaf is reissued
// when due, when another CA signed it, or (serving) when it does not
// cover the names the port now answers to.
func decideIssuance(now time.Time, ca, serving, admin *x509.Certificate, sans sanSet) issuance {
	if ca == nil || renewalDue(now, ca) {
		return issuance{CA: true, Serving: true, Admin: true}
	}
	leafStale := func(c *x509.Certificate) bool {
		return c == nil || renewalDue(now, c) || c.CheckSignatureFrom(ca) != nil
	}
	return issuance{
		Serving: leafStale(serving) || !sans.coveredBy(serving),
		Admin:   leafStale(admin),
	}
}
