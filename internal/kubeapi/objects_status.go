package kubeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// writeJSON answers v as JSON with code.
func (o *objects) writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		o.api.log.Debug("write answer", zap.Error(err))
	}
}

// writeError answers err as a metav1.Status, the way kubectl prints
// "Error from server (Reason): message". An error that is not an
// APIStatus is an internal error.
func (o *objects) writeError(w http.ResponseWriter, err error) {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		st = apierrors.NewInternalError(err)
	}
	s := st.Status()
	s.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	o.writeJSON(w, int(s.Code), &s)
}

// notFound is the API server's NotFound: `pods "x" not found`.
func notFound(gr schema.GroupResource, name string) error {
	return apierrors.NewNotFound(gr, name)
}

// methodNotAllowed is a 405 Status with message, as kubectl prints it for
// create, apply, edit, delete and debug.
func methodNotAllowed(gr schema.GroupResource, name, message string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusMethodNotAllowed,
		Reason:  metav1.StatusReasonMethodNotAllowed,
		Details: &metav1.StatusDetails{Name: name, Group: gr.Group, Kind: gr.Resource},
		Message: message,
	}}
}

// badRequest is a 400 Status, as the API server answers a bad selector.
func badRequest(format string, args ...any) error {
	return apierrors.NewBadRequest(fmt.Sprintf(format, args...))
}

// errNotServed is the API server's answer to a path it has no handler for.
var errNotServed = &apierrors.StatusError{ErrStatus: metav1.Status{
	Status:  metav1.StatusFailure,
	Code:    http.StatusNotFound,
	Reason:  metav1.StatusReasonNotFound,
	Details: &metav1.StatusDetails{},
	Message: "the server could not find the requested resource",
}}
