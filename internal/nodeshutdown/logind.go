package nodeshutdown

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/coreos/go-systemd/v22/login1"
	"github.com/godbus/dbus/v5"
)

const (
	logindDest      = "org.freedesktop.login1"
	logindPath      = dbus.ObjectPath("/org/freedesktop/login1")
	logindInterface = "org.freedesktop.login1.Manager"
	// logindDropIn raises InhibitDelayMaxSec. Under /run, not /etc (where
	// the kubelet writes its 99-kubelet.conf): it lasts until the next
	// boot, when the daemon writes it again, and a purged package leaves
	// nothing behind.
	logindDropIn = "/run/systemd/logind.conf.d/99-minikubelet.conf"
	// inhibitWho and inhibitWhy are what systemd-inhibit --list shows.
	inhibitWho = "minikubelet"
	inhibitWhy = "minikubelet stops its pods before the node shuts down"
)

// systemLogind is logind on the system bus: login1 for the lock and the
// signal, a plain connection for the property and the reload.
type systemLogind struct {
	login *login1.Conn
	bus   *dbus.Conn
}

// NewLogind connects to logind on the system bus.
func NewLogind() (Logind, error) {
	login, err := login1.New()
	if err != nil {
		return nil, err
	}
	bus, err := dbus.SystemBusPrivate()
	if err == nil {
		if err = bus.Auth(nil); err == nil {
			err = bus.Hello()
		}
		if err != nil {
			bus.Close()
		}
	}
	if err != nil {
		login.Close()
		return nil, err
	}
	return &systemLogind{login: login, bus: bus}, nil
}

func (l *systemLogind) InhibitDelayMax() (time.Duration, error) {
	v, err := l.bus.Object(logindDest, logindPath).GetProperty(logindInterface + ".InhibitDelayMaxUSec")
	if err != nil {
		return 0, err
	}
	usec, ok := v.Value().(uint64)
	if !ok {
		return 0, fmt.Errorf("InhibitDelayMaxUSec is a %T, not a uint64", v.Value())
	}
	return time.Duration(usec) * time.Microsecond, nil
}

func (l *systemLogind) RaiseInhibitDelayMax(d time.Duration) error {
	if err := os.MkdirAll(filepath.Dir(logindDropIn), 0o755); err != nil {
		return err
	}
	conf := fmt.Sprintf("# Written by minikubelet for its shutdownGracePeriod.\n[Login]\nInhibitDelayMaxSec=%.0f\n", d.Seconds())
	if err := os.WriteFile(logindDropIn, []byte(conf), 0o644); err != nil {
		return err
	}
	// As the kubelet: SIGHUP makes logind read its configuration again.
	call := l.bus.Object("org.freedesktop.systemd1", "/org/freedesktop/systemd1").
		Call("org.freedesktop.systemd1.Manager.KillUnit", 0, "systemd-logind.service", "all", int32(1))
	if call.Err != nil {
		return fmt.Errorf("reload logind: %w", call.Err)
	}
	return nil
}

func (l *systemLogind) InhibitShutdown() (io.Closer, error) {
	return l.login.Inhibit("shutdown", inhibitWho, inhibitWhy, "delay")
}

func (l *systemLogind) WatchShutdown() (<-chan bool, error) {
	signals := l.login.Subscribe("PrepareForShutdown")
	out := make(chan bool, 1)
	go func() {
		defer close(out)
		for sig := range signals {
			if sig == nil || sig.Name != logindInterface+".PrepareForShutdown" || len(sig.Body) == 0 {
				continue
			}
			if active, ok := sig.Body[0].(bool); ok {
				out <- active
			}
		}
	}()
	return out, nil
}

func (l *systemLogind) Close() {
	l.login.Close()
	l.bus.Close()
}
