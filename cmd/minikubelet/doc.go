// Command minikubelet is a single-node kubelet for static pods. It is thin:
// flags, wiring and output formatting; the behaviour lives in internal/.
//
//   - run is the daemon: it reads the configuration file and flags
//     (internal/config), sets up the logger, and hands over to
//     internal/node.Run until SIGINT or SIGTERM.
//   - get pods|manifests, describe pod, logs, exec and drain are clients of
//     a running daemon: they talk HTTP to its API socket (--api-socket or
//     $MINIKUBELET_API_SOCKET; see internal/server), and print what it
//     answers as kubectl would (status.PrintPods for get pods, kubectl
//     describe's layout for describe, -o json|yaml|wide|name). exec exits
//     with the command's exit code.
//   - images pause|busybox import the images a node needs into containerd's
//     k8s.io namespace without a registry: the pause image embedded in the
//     binary (or an archive) and a busybox image built from the node's
//     static busybox (internal/ociimage, internal/runtime).
//   - version prints the build's version.
//
// Errors go to stderr; the exit code is 1, or exec's command's.
package main
