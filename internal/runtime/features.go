package runtime

import (
	"context"
	"encoding/json"
	"fmt"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Handler is one runtime handler the runtime serves (what a RuntimeClass's
// handler names) and what it supports.
type Handler struct {
	RecursiveReadOnlyMounts bool
}

// Features is what the runtime reports it can do.
type Features struct {
	// Handlers by name; the default handler is also listed under "".
	Handlers map[string]Handler
	// SELinux and AppArmor say whether the runtime applies the options of
	// these security modules (containerd's enable_selinux and
	// disable_apparmor); whether the host has them is another question.
	SELinux  bool
	AppArmor bool
}

// criConfig is the part of containerd's CRI configuration, as its verbose
// Status reports it in Info["config"], that Features reads.
type criConfig struct {
	Containerd struct {
		DefaultRuntimeName string                     `json:"defaultRuntimeName"`
		Runtimes           map[string]json.RawMessage `json:"runtimes"`
	} `json:"containerd"`
	EnableSelinux   bool `json:"enableSelinux"`
	DisableApparmor bool `json:"disableApparmor"`
}

// RuntimeFeatures asks the runtime what it supports. Runtimes that report
// their handlers in Status (CRI RuntimeHandlers, containerd 2.0 and later)
// are taken at their word; containerd 1.6 and 1.7 do not, and their
// handlers are read from the configuration their verbose Status returns,
// none of them with recursive read-only mounts.
func (c *Client) RuntimeFeatures(ctx context.Context) (Features, error) {
	st, err := c.Status(ctx, true)
	if err != nil {
		return Features{}, fmt.Errorf("runtime status: %w", err)
	}
	return featuresFromStatus(st)
}

func featuresFromStatus(st *runtimeapi.StatusResponse) (Features, error) {
	f := Features{Handlers: map[string]Handler{}}
	var cfg criConfig
	if raw, ok := st.GetInfo()["config"]; ok {
		if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
			return Features{}, fmt.Errorf("read the runtime's configuration from its status: %w", err)
		}
		f.SELinux, f.AppArmor = cfg.EnableSelinux, !cfg.DisableApparmor
	}
	if hs := st.GetRuntimeHandlers(); len(hs) > 0 {
		for _, h := range hs {
			f.Handlers[h.GetName()] = Handler{RecursiveReadOnlyMounts: h.GetFeatures().GetRecursiveReadOnlyMounts()}
		}
		if d, ok := f.Handlers[""]; ok && cfg.Containerd.DefaultRuntimeName != "" {
			if _, named := f.Handlers[cfg.Containerd.DefaultRuntimeName]; !named {
				f.Handlers[cfg.Containerd.DefaultRuntimeName] = d
			}
		}
		return f, nil
	}
	for name := range cfg.Containerd.Runtimes {
		f.Handlers[name] = Handler{}
	}
	if len(f.Handlers) == 0 {
		return Features{}, fmt.Errorf("the runtime reports no runtime handlers, neither in its status nor in its configuration")
	}
	f.Handlers[""] = f.Handlers[cfg.Containerd.DefaultRuntimeName]
	return f, nil
}
