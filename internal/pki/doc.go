// Package pki owns the node's certificates and the kubeconfig that uses
// them, made with the standard library's crypto/x509 (ECDSA P-256 keys).
//
// At first start Ensure makes, under <rootDir>/pki, a CA (ca.crt, ca.key,
// ten years), a serving certificate for the HTTPS port (serving.crt,
// serving.key; sanSet 127.0.0.1, ::1, localhost, the node name and any
// address the port is bound to) and an admin client certificate
// (admin.crt, admin.key; CN minikubelet-admin, O system:masters), both
// for one year. Keys are written 0600. Later starts load them and reissue
// what is due (renewal.go) or no longer fits (another node name or
// address, another CA).
//
// Certs.ServerTLS picks the current serving certificate and CA at each
// handshake (tls.Config.GetConfigForClient), so RunRenewal, which reissues
// each certificate when it falls due, takes effect without a restart;
// Kubeconfig renders the admin kubeconfig with every datum inline, and
// WriteKubeconfig puts it in place with the configured mode and group.
package pki
