package images

import (
	"context"
	"fmt"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// imageService is what a Puller needs of the CRI image service.
type imageService interface {
	PullImage(ctx context.Context, image *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig, podSandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
	ImageStatus(ctx context.Context, image *runtimeapi.ImageSpec, verbose bool) (*runtimeapi.ImageStatusResponse, error)
}

// keyring gives the credentials to try for an image, in order
// (credentials.Provider has it).
type keyring interface {
	Lookup(image string) []*runtimeapi.AuthConfig
}

// Puller pulls images. It is safe for concurrent use: callers beyond the
// limit wait their turn, first come first served.
type Puller struct {
	images imageService
	keys   keyring
	clock  clock.PassiveClock
	// slots holds a token per pull in progress; nil for no limit.
	slots chan struct{}
}

// NewPuller returns a Puller that pulls through images with the
// credentials of keys (nil: none), at most limit at once (0: no limit;
// 1 serializes pulls, the kubelet's default).
func NewPuller(images imageService, keys keyring, limit int, clk clock.PassiveClock) *Puller {
	p := &Puller{images: images, keys: keys, clock: clk}
	if p.clock == nil {
		p.clock = clock.RealClock{}
	}
	if limit > 0 {
		p.slots = make(chan struct{}, limit)
	}
	return p
}

// Pulled is what a successful pull found.
type Pulled struct {
	// Ref is the image's reference in the runtime (its ID).
	Ref string
	// Size is the image's size in bytes, 0 when the runtime did not say.
	Size uint64
	// Took is how long the pull itself took, without the wait for a turn.
	Took time.Duration
}

// Pull pulls the image, waiting for a turn first. With credentials for the
// image, each is tried until one pulls; without, the image is pulled with
// none. A failure's message is the runtime's, or all of them in brackets
// when several credentials failed, as the kubelet's aggregate error.
func (p *Puller) Pull(ctx context.Context, spec *runtimeapi.ImageSpec, sandbox *runtimeapi.PodSandboxConfig) (Pulled, error) {
	if p.slots != nil {
		select {
		case p.slots <- struct{}{}:
			defer func() { <-p.slots }()
		case <-ctx.Done():
			return Pulled{}, fmt.Errorf("wait for a turn to pull %s: %w", spec.Image, ctx.Err())
		}
	}
	start := p.clock.Now()
	ref, err := p.pull(ctx, spec, sandbox)
	if err != nil {
		return Pulled{}, err
	}
	out := Pulled{Ref: ref}
	// As the kubelet: the size is best effort, and counts in the pull's time.
	if st, err := p.images.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false); err == nil {
		out.Size = st.GetImage().GetSize()
	}
	out.Took = p.clock.Since(start)
	return out, nil
}

func (p *Puller) pull(ctx context.Context, spec *runtimeapi.ImageSpec, sandbox *runtimeapi.PodSandboxConfig) (string, error) {
	var auths []*runtimeapi.AuthConfig
	if p.keys != nil {
		auths = p.keys.Lookup(spec.Image)
	}
	if len(auths) == 0 {
		return p.images.PullImage(ctx, spec, nil, sandbox)
	}
	var errs pullErrors
	for _, auth := range auths {
		ref, err := p.images.PullImage(ctx, spec, auth, sandbox)
		if err == nil {
			return ref, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 1 {
		return "", errs[0]
	}
	return "", errs
}

// pullErrors are the failures of a pull tried with several credentials.
type pullErrors []error

// Error reads as the kubelet's aggregate error: the messages in brackets,
// each the runtime's own words.
func (e pullErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = runtime.Message(err)
	}
	return "[" + strings.Join(msgs, ", ") + "]"
}
