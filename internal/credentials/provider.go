package credentials

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"
)

// cacheLifetime is how long a docker config read stays in use, as the
// kubelet's CachingDockerConfigProvider (5 minutes, in
// pkg/credentialprovider/provider.go): an edited file counts within that.
const cacheLifetime = 5 * time.Minute

// Config says where a Provider reads credentials.
type Config struct {
	// File is read before the kubelet's search path (the configuration's
	// registryCredentialsFile); empty for none.
	File string
	// RootDir is the daemon's root directory, the search path's first
	// place, where the kubelet's root directory is for the kubelet.
	RootDir string
	// Home is the home directory of the search path ($HOME).
	Home   string
	Clock  clock.PassiveClock
	Logger *zap.Logger
}

// Provider hands out the node's registry credentials for an image. It is
// safe for concurrent use.
type Provider struct {
	sources []source
	clock   clock.PassiveClock
	log     *zap.Logger

	mu      sync.Mutex
	keyring *keyring
	expires time.Time
	// from is the file the keyring was read from, "" for none.
	from string
}

// NewProvider returns a Provider. A File that cannot be read or decoded is
// an error now, rather than credentials that silently never apply.
func NewProvider(cfg Config) (*Provider, error) {
	if cfg.File != "" {
		if _, err := readSource(source{path: cfg.File}); err != nil {
			return nil, fmt.Errorf("registry credentials file: %w", err)
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Provider{sources: searchPath(cfg.File, cfg.RootDir, cfg.Home), clock: cfg.Clock, log: cfg.Logger}, nil
}

// Lookup returns the credentials to try, in order, when pulling image;
// none means pulling without credentials. Each carries the username and
// password, as the kubelet's AuthConfig from a docker config does.
func (p *Provider) Lookup(image string) []*runtimeapi.AuthConfig {
	var out []*runtimeapi.AuthConfig
	for _, e := range p.current().lookup(image) {
		out = append(out, &runtimeapi.AuthConfig{Username: e.Username, Password: e.Password})
	}
	return out
}

// current is the keyring of the first docker config on the search path
// that reads, read again once cacheLifetime passed.
func (p *Provider) current() *keyring {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	if p.keyring != nil && now.Before(p.expires) {
		return p.keyring
	}
	entries, from := p.read()
	if from != p.from {
		p.log.Info("registry credentials", zap.String("file", from), zap.Int("registries", len(entries)))
	}
	p.keyring, p.expires, p.from = newKeyring(entries), now.Add(cacheLifetime), from
	return p.keyring
}

// read takes the first source that reads and decodes, as the kubelet's
// ReadDockerConfigFile: a file that does not decode is passed over.
func (p *Provider) read() (map[string]Entry, string) {
	for _, s := range p.sources {
		entries, err := readSource(s)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			p.log.Warn("registry credentials file skipped", zap.String("file", s.path), zap.Error(err))
			continue
		}
		return entries, s.path
	}
	return nil, ""
}
