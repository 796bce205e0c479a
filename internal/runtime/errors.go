package runtime

import (
	"fmt"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
)

// IsNotFound reports whether err says the sandbox, container or image is
// not there (any more).
func IsNotFound(err error) bool {
	if err == nil {
		return false
	}
	// FromError looks through wrapping.
	s, ok := grpcstatus.FromError(err)
	return ok && s.Code() == codes.NotFound
}

// ExitError is returned by ExecSync when the command ran and exited with a
// status other than zero.
type ExitError struct {
	Code int32
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.Code)
}

// ExitStatus returns the exit code, as os/exec and the kubelet's exec
// errors do.
func (e *ExitError) ExitStatus() int { return int(e.Code) }

// Message returns the runtime's own words for a failed call: the gRPC
// status message without the transport's prefix.
func Message(err error) string {
	if s, ok := grpcstatus.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}
