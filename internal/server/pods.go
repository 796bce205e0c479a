package server

import (
	"net/http"
	"net/url"
)

// podLog serves the socket's short log route through the Kubernetes API's
// pods/log (internal/kubeapi, mounted with ServeKubeAPI), so that one
// reader serves both: same parameters, same answers.
func (s *Server) podLog(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/api/v1/namespaces/" + url.PathEscape(r.PathValue("namespace")) + "/pods/" + url.PathEscape(r.PathValue("name")) + "/log"
	r2.URL.RawPath = ""
	r2.RequestURI = r2.URL.RequestURI()
	s.mux.ServeHTTP(w, r2)
}
