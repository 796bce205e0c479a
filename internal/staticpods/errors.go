package staticpods

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// FileError is a problem with one file; Err's message names the file and the field path.
type FileError struct {
	Path string
	Err  error
}

// Error returns Err's message, which already names the file.
func (e FileError) Error() string {
	if e.Err == nil {
		return e.Path + ": unknown error"
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e FileError) Unwrap() error { return e.Err }

// ManifestError says why one manifest file gives no (new) pod. Its message
// starts with the file's path; for validation problems it lists each field
// path in the style of the API server ("spec.containers[1].livenessProbe.httpGet.port:
// Invalid value: 0: must be between 1 and 65535, inclusive").
type ManifestError struct {
	// Path is the manifest file.
	Path string
	// Fields holds the validation errors, if the problem is with fields of
	// the pod; it is sorted by message.
	Fields field.ErrorList
	// Err is the problem when it is not one with a field (the file cannot
	// be read, is not YAML, holds two documents, ...).
	Err error
}

// Error names the file and every field in error.
func (e *ManifestError) Error() string {
	if len(e.Fields) > 0 {
		msgs := make([]string, len(e.Fields))
		for i, fe := range e.Fields {
			msgs[i] = fe.Error()
		}
		return fmt.Sprintf("%s: invalid pod: %s", e.Path, strings.Join(msgs, "; "))
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

// Unwrap returns Err, or the field errors as an aggregate.
func (e *ManifestError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	if len(e.Fields) > 0 {
		return e.Fields.ToAggregate()
	}
	return nil
}
