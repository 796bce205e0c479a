package node

import (
	"os"

	"go.uber.org/zap"

	"github.com/minikubelet/minikubelet/internal/config"
	"github.com/minikubelet/minikubelet/internal/credentials"
	"github.com/minikubelet/minikubelet/internal/images"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

// NewImagePuller makes the image puller of a node configured with cfg
// (defaulted): the node's registry credentials and the configured number
// of pulls at once. The daemon's pod workers and `minikubelet images pull`
// use it.
func NewImagePuller(cfg config.Config, rt *runtime.Client, log *zap.Logger) (*images.Puller, error) {
	home, _ := os.UserHomeDir()
	keys, err := credentials.NewProvider(credentials.Config{
		File:    cfg.RegistryCredentialsFile,
		RootDir: cfg.RootDir,
		Home:    home,
		Logger:  log.Named("credentials"),
	})
	if err != nil {
		return nil, err
	}
	limit := cfg.ImagePullLimit()
	log.Debug("image pulls", zap.Int("maxParallel", limit), zap.Bool("serialized", limit == 1))
	return images.NewPuller(rt, keys, limit, nil), nil
}
