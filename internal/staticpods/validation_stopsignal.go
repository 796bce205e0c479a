package staticpods

// The API server's validation of a container's lifecycle.stopSignal
// (KEP-4960, ContainerStopSignals; kubernetes/kubernetes
// pkg/apis/core/validation/validation.go as of v1.37): it needs
// spec.os.name, and must be a signal of that OS.

import (
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// supportedStopSignalsLinux is every v1.Signal: the signals of Linux,
// sorted as upstream's sets.List lists them in its message.
var supportedStopSignalsLinux = sortedSignals(
	v1.SIGABRT, v1.SIGALRM, v1.SIGBUS, v1.SIGCHLD, v1.SIGCLD, v1.SIGCONT, v1.SIGFPE, v1.SIGHUP, v1.SIGILL, v1.SIGINT, v1.SIGIO, v1.SIGIOT, v1.SIGKILL, v1.SIGPIPE, v1.SIGPOLL, v1.SIGPROF, v1.SIGPWR, v1.SIGQUIT, v1.SIGSEGV, v1.SIGSTKFLT, v1.SIGSTOP, v1.SIGSYS, v1.SIGTERM, v1.SIGTRAP, v1.SIGTSTP, v1.SIGTTIN, v1.SIGTTOU, v1.SIGURG, v1.SIGUSR1, v1.SIGUSR2, v1.SIGVTALRM, v1.SIGWINCH, v1.SIGXCPU, v1.SIGXFSZ, v1.SIGRTMIN, v1.SIGRTMINPLUS1, v1.SIGRTMINPLUS2, v1.SIGRTMINPLUS3, v1.SIGRTMINPLUS4, v1.SIGRTMINPLUS5, v1.SIGRTMINPLUS6, v1.SIGRTMINPLUS7, v1.SIGRTMINPLUS8, v1.SIGRTMINPLUS9, v1.SIGRTMINPLUS10, v1.SIGRTMINPLUS11, v1.SIGRTMINPLUS12, v1.SIGRTMINPLUS13, v1.SIGRTMINPLUS14, v1.SIGRTMINPLUS15, v1.SIGRTMAXMINUS14, v1.SIGRTMAXMINUS13, v1.SIGRTMAXMINUS12, v1.SIGRTMAXMINUS11, v1.SIGRTMAXMINUS10, v1.SIGRTMAXMINUS9, v1.SIGRTMAXMINUS8, v1.SIGRTMAXMINUS7, v1.SIGRTMAXMINUS6, v1.SIGRTMAXMINUS5, v1.SIGRTMAXMINUS4, v1.SIGRTMAXMINUS3, v1.SIGRTMAXMINUS2, v1.SIGRTMAXMINUS1, v1.SIGRTMAX,
)

// supportedStopSignalsWindows are the only stop signals a Windows node takes.
var supportedStopSignalsWindows = []v1.Signal{v1.SIGKILL, v1.SIGTERM}

func sortedSignals(s ...v1.Signal) []v1.Signal {
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// validateStopSignal checks a container's lifecycle.stopSignal against the
// pod's spec.os.
func validateStopSignal(lc *v1.Lifecycle, os *v1.PodOS, p *field.Path) field.ErrorList {
	if lc == nil || lc.StopSignal == nil {
		return nil
	}
	sig := *lc.StopSignal
	var supported []v1.Signal
	switch {
	case os == nil:
		return field.ErrorList{field.Forbidden(p, "may not be set for containers with empty `spec.os.name`")}
	case os.Name == v1.Windows:
		supported = supportedStopSignalsWindows
	default:
		supported = supportedStopSignalsLinux
	}
	for _, s := range supported {
		if s == sig {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(p, sig, supported)}
}
