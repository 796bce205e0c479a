// Package credentials holds the node's registry credentials as the kubelet
// reads them: docker config files (config.json, else the legacy
// .dockercfg) found on the kubelet's search path, after the file the
// daemon's configuration names, re-read every five minutes, and a keyring
// that matches an image's registry host and path against their entries as
// the kubelet's keyring does (pkg/credentialprovider). Data enters as
// files and leaves as the CRI AuthConfigs to try, most specific first; the
// package pulls nothing itself.
package credentials
