package kubeapi

import "net/http"

// openAPIV2Type is the Content-Type of the protobuf /openapi/v2 kubectl
// asks for. (The media type it asks with, ...spec.v2@v1.0+protobuf, does
// not parse as a Content-Type in client-go.)
const openAPIV2Type = "application/octet-stream"

// registerOpenAPI serves empty OpenAPI documents. kubectl create and apply
// validate a manifest against the server's OpenAPI before sending it and
// stop at "failed to download openapi" without one; with empty documents
// the node claims no server-side field validation, kubectl's own
// validation finds no schema and skips, and the write reaches the node,
// which refuses it with its reason. (An empty protobuf message is zero
// bytes.) kubectl explain finds nothing to explain.
func (o *objects) registerOpenAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /openapi/v2", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", openAPIV2Type)
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /openapi/v3", func(w http.ResponseWriter, _ *http.Request) {
		o.writeJSON(w, http.StatusOK, map[string]map[string]any{"paths": {}})
	})
}
