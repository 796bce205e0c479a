package staticpods

// This file ports the probe and lifecycle hook checks of the API server's
// pod validation: k8s.io/kubernetes pkg/apis/core/validation/validation.go
// at v1.33, one function for each upstream function of the same name
// (exported ones unexported here), for the v1.Pod fields of k8s.io/api
// v0.37. Messages and field paths are the API server's.

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var supportedHTTPSchemes = []v1.URIScheme{v1.URISchemeHTTP, v1.URISchemeHTTPS}

func validateLifecycle(lc *v1.Lifecycle, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if lc.PostStart != nil {
		errs = append(errs, validateHandler(handlerFromLifecycle(lc.PostStart), grace, p.Child("postStart"))...)
	}
	if lc.PreStop != nil {
		errs = append(errs, validateHandler(handlerFromLifecycle(lc.PreStop), grace, p.Child("preStop"))...)
	}
	return errs
}

func validateLivenessProbe(pr *v1.Probe, grace *int64, p *field.Path) field.ErrorList {
	if pr == nil {
		return nil
	}
	errs := validateProbe(pr, grace, p)
	if pr.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	return errs
}

func validateReadinessProbe(pr *v1.Probe, grace *int64, p *field.Path) field.ErrorList {
	if pr == nil {
		return nil
	}
	errs := validateProbe(pr, grace, p)
	if pr.TerminationGracePeriodSeconds != nil {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *pr.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
	}
	return errs
}

// validateStartupProbe: a startup probe has a liveness probe's rules.
func validateStartupProbe(pr *v1.Probe, grace *int64, p *field.Path) field.ErrorList {
	return validateLivenessProbe(pr, grace, p)
}

func validateProbe(pr *v1.Probe, grace *int64, p *field.Path) field.ErrorList {
	errs := validateHandler(handlerFromProbe(&pr.ProbeHandler), grace, p)
	for _, f := range []struct {
		name string
		v    int32
	}{
		{"initialDelaySeconds", pr.InitialDelaySeconds},
		{"timeoutSeconds", pr.TimeoutSeconds},
		{"periodSeconds", pr.PeriodSeconds},
		{"successThreshold", pr.SuccessThreshold},
		{"failureThreshold", pr.FailureThreshold},
	} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(f.v), p.Child(f.name))...)
	}
	if t := pr.TerminationGracePeriodSeconds; t != nil && *t <= 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *t, "must be greater than 0"))
	}
	return errs
}

// commonHandler holds the actions of a probe or a lifecycle hook.
type commonHandler struct {
	Exec      *v1.ExecAction
	HTTPGet   *v1.HTTPGetAction
	TCPSocket *v1.TCPSocketAction
	GRPC      *v1.GRPCAction
	Sleep     *v1.SleepAction
}

func handlerFromProbe(ph *v1.ProbeHandler) commonHandler {
	return commonHandler{Exec: ph.Exec, HTTPGet: ph.HTTPGet, TCPSocket: ph.TCPSocket, GRPC: ph.GRPC}
}

func handlerFromLifecycle(lh *v1.LifecycleHandler) commonHandler {
	return commonHandler{Exec: lh.Exec, HTTPGet: lh.HTTPGet, TCPSocket: lh.TCPSocket, Sleep: lh.Sleep}
}

// validateHandler requires exactly one action, as the API server does for
// probes and lifecycle hooks; only the first action set is checked.
func validateHandler(h commonHandler, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	one := func(name string) bool {
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child(name), "may not specify more than 1 handler type"))
			return false
		}
		n++
		return true
	}
	if h.Exec != nil && one("exec") {
		errs = append(errs, validateExecAction(h.Exec, p.Child("exec"))...)
	}
	if h.HTTPGet != nil && one("httpGet") {
		errs = append(errs, validateHTTPGetAction(h.HTTPGet, p.Child("httpGet"))...)
	}
	if h.TCPSocket != nil && one("tcpSocket") {
		errs = append(errs, validateTCPSocketAction(h.TCPSocket, p.Child("tcpSocket"))...)
	}
	if h.GRPC != nil && one("grpc") {
		errs = append(errs, validateGRPCAction(h.GRPC, p.Child("grpc"))...)
	}
	if h.Sleep != nil && one("sleep") {
		errs = append(errs, validateSleepAction(h.Sleep, grace, p.Child("sleep"))...)
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a handler type"))
	}
	return errs
}

func validateExecAction(exec *v1.ExecAction, p *field.Path) field.ErrorList {
	if len(exec.Command) == 0 {
		return field.ErrorList{field.Required(p.Child("command"), "")}
	}
	return nil
}

func validateHTTPGetAction(http *v1.HTTPGetAction, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if http.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	}
	errs = append(errs, validatePortNumOrName(http.Port, p.Child("port"))...)
	if !contains(supportedHTTPSchemes, http.Scheme) {
		errs = append(errs, field.NotSupported(p.Child("scheme"), http.Scheme, supportedHTTPSchemes))
	}
	for _, hdr := range http.HTTPHeaders {
		for _, msg := range validation.IsHTTPHeaderName(hdr.Name) {
			errs = append(errs, field.Invalid(p.Child("httpHeaders"), hdr.Name, msg))
		}
	}
	return errs
}

func validateTCPSocketAction(tcp *v1.TCPSocketAction, p *field.Path) field.ErrorList {
	return validatePortNumOrName(tcp.Port, p.Child("port"))
}

func validateGRPCAction(grpc *v1.GRPCAction, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(grpc.Port)) {
		errs = append(errs, field.Invalid(p.Child("port"), grpc.Port, msg))
	}
	return errs
}

// validateSleepAction: a nil grace period is reported on its own field.
func validateSleepAction(sleep *v1.SleepAction, grace *int64, p *field.Path) field.ErrorList {
	if grace == nil {
		return nil
	}
	if s := sleep.Seconds; s < 0 || s > *grace {
		return field.ErrorList{field.Invalid(p, s, fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", *grace))}
	}
	return nil
}

// validatePortNumOrName checks a probe or hook port: a number in range or a
// valid port name. That a named port exists in the container is this
// node's own check (validateDeclaredPort).
func validatePortNumOrName(port intstr.IntOrString, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.Int {
		for _, msg := range validation.IsValidPortNum(port.IntValue()) {
			errs = append(errs, field.Invalid(p, port.IntValue(), msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortName(port.StrVal) {
		errs = append(errs, field.Invalid(p, port.StrVal, msg))
	}
	return errs
}
