package node

import (
	"os"

	"go.uber.org/zap"

	"github.com/minikubelet/minikubelet/internal/config"
	"github.com/minikubelet/minikubelet/internal/credentials"
	"github.com/minikubelet/minikubelet/internal/images"
	"github.com/minikubelet/minikubelet/internal/runtime"
)

// newPuller makes the image puller of the pod workers: the node's registry
// credentials and the configured number of pulls at once.
func newPuller(cfg config.Config, rt *runtime.Client, log *zap.Logger) (*images.Puller, error) {
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
	log.Info("image pulls", zap.Int("atOnce", limit), zap.Bool("serialized", limit == 1))
	return images.NewPuller(rt, keys, limit, nil), nil
}
