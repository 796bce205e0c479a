package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcstatus "google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const (
	// DefaultEndpoint is containerd's CRI socket.
	DefaultEndpoint = "unix:///run/containerd/containerd.sock"
	// DefaultRequestTimeout bounds every CRI call, as the kubelet's
	// --runtime-request-timeout (2m) does.
	DefaultRequestTimeout = 2 * time.Minute

	// versionCheckTimeout bounds the startup check: a runtime that does not
	// answer a Version call in this time is reported as unreachable.
	versionCheckTimeout = 5 * time.Second
	maxMsgSize          = 16 << 20
	criVersion          = "v1"
)

// Client is a CRI v1 client for the runtime and image services. Its method
// signatures match k8s.io/cri-api's RuntimeService and ImageManagerService
// where they overlap, so consumers' interfaces are satisfied by both this
// client and the fakes in k8s.io/cri-api/pkg/apis/testing.
type Client struct {
	endpoint string
	conn     *grpc.ClientConn
	rt       runtimeapi.RuntimeServiceClient
	img      runtimeapi.ImageServiceClient
	timeout  time.Duration
}

// DialOption shapes the client Dial makes.
type DialOption func(*dialOptions)

type dialOptions struct {
	metrics prometheus.Registerer
}

// WithMetrics counts and times every CRI call in reg as the kubelet's
// kubelet_runtime_operations_total, _errors_total and _duration_seconds
// by operation_type.
func WithMetrics(reg prometheus.Registerer) DialOption {
	return func(o *dialOptions) { o.metrics = reg }
}

// Dial connects to the CRI endpoint (a unix:// address or a socket path)
// and checks that the runtime answers and speaks CRI v1. The connection
// retries with gRPC's capped exponential backoff, never faster.
func Dial(ctx context.Context, endpoint string, timeout time.Duration, opts ...DialOption) (*Client, error) {
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	var o dialOptions
	for _, opt := range opts {
		opt(&o)
	}
	target, err := grpcTarget(endpoint)
	if err != nil {
		return nil, err
	}
	grpcOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize), grpc.MaxCallSendMsgSize(maxMsgSize)),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: versionCheckTimeout}),
	}
	if o.metrics != nil {
		grpcOpts = append(grpcOpts, grpc.WithUnaryInterceptor(newOperationMetrics(o.metrics).interceptor))
	}
	conn, err := grpc.NewClient(target, grpcOpts...)
	if err != nil {
		return nil, fmt.Errorf("connect to the container runtime at %s: %w", endpoint, err)
	}
	c := &Client{
		endpoint: endpoint,
		conn:     conn,
		rt:       runtimeapi.NewRuntimeServiceClient(conn),
		img:      runtimeapi.NewImageServiceClient(conn),
		timeout:  timeout,
	}
	if err := c.check(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func grpcTarget(endpoint string) (string, error) {
	switch {
	case strings.HasPrefix(endpoint, "unix://"):
		return endpoint, nil
	case strings.HasPrefix(endpoint, "/"):
		return "unix://" + endpoint, nil
	default:
		return "", fmt.Errorf("container runtime endpoint %q: only unix sockets are supported (unix:///path or /path)", endpoint)
	}
}

// SocketPath returns the filesystem path of a unix endpoint.
func SocketPath(endpoint string) string {
	return strings.TrimPrefix(endpoint, "unix://")
}

func (c *Client) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, versionCheckTimeout)
	defer cancel()
	v, err := c.rt.Version(ctx, &runtimeapi.VersionRequest{Version: criVersion}, grpc.WaitForReady(true))
	if err != nil {
		if s, ok := grpcstatus.FromError(err); ok && s.Code() == codes.Unimplemented {
			return fmt.Errorf("the container runtime at %s does not speak CRI v1 (is the CRI plugin of containerd disabled?): %w", c.endpoint, err)
		}
		return fmt.Errorf("cannot reach the container runtime at %s: is containerd running?: %w", c.endpoint, err)
	}
	if v.RuntimeApiVersion != criVersion {
		return fmt.Errorf("the container runtime at %s speaks CRI %q, minikubelet needs %q", c.endpoint, v.RuntimeApiVersion, criVersion)
	}
	return nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// Version returns the runtime's name and version.
func (c *Client) Version(ctx context.Context, apiVersion string) (*runtimeapi.VersionResponse, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	return c.rt.Version(ctx, &runtimeapi.VersionRequest{Version: apiVersion})
}

// Status returns the runtime's conditions and, when verbose, its
// configuration as JSON strings in Info.
func (c *Client) Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	return c.rt.Status(ctx, &runtimeapi.StatusRequest{Verbose: verbose})
}

// RunPodSandbox creates and starts a pod sandbox and returns its ID.
func (c *Client) RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error) {
	// The kubelet gives RunPodSandbox twice the usual time: it pulls the
	// sandbox image and sets up the network.
	ctx, cancel := context.WithTimeout(ctx, 2*c.timeout)
	defer cancel()
	resp, err := c.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: config, RuntimeHandler: runtimeHandler})
	if err != nil {
		return "", err
	}
	if resp.PodSandboxId == "" {
		return "", errors.New("RunPodSandbox returned an empty sandbox ID")
	}
	return resp.PodSandboxId, nil
}

// StopPodSandbox stops the sandbox and every container in it.
func (c *Client) StopPodSandbox(ctx context.Context, podSandboxID string) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: podSandboxID})
	return err
}

// RemovePodSandbox removes the sandbox and every container in it.
func (c *Client) RemovePodSandbox(ctx context.Context, podSandboxID string) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: podSandboxID})
	return err
}

// PodSandboxStatus returns the status of one sandbox.
func (c *Client) PodSandboxStatus(ctx context.Context, podSandboxID string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	return c.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: podSandboxID, Verbose: verbose})
}

// ListPodSandbox lists sandboxes matching filter.
func (c *Client) ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: filter})
	if err != nil {
		return nil, err
	}
	return resp.Items, nil
}

// CreateContainer creates a container in a sandbox and returns its ID.
func (c *Client) CreateContainer(ctx context.Context, podSandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: podSandboxID, Config: config, SandboxConfig: sandboxConfig})
	if err != nil {
		return "", err
	}
	if resp.ContainerId == "" {
		return "", errors.New("CreateContainer returned an empty container ID")
	}
	return resp.ContainerId, nil
}

// StartContainer starts a created container.
func (c *Client) StartContainer(ctx context.Context, containerID string) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: containerID})
	return err
}

// StopContainer sends the container's stop signal and, after timeout
// seconds, SIGKILL.
func (c *Client) StopContainer(ctx context.Context, containerID string, timeout int64) error {
	// The call itself lasts up to timeout seconds, on top of the usual bound.
	ctx, cancel := context.WithTimeout(ctx, c.timeout+time.Duration(timeout)*time.Second)
	defer cancel()
	_, err := c.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: containerID, Timeout: timeout})
	return err
}

// RemoveContainer removes a container.
func (c *Client) RemoveContainer(ctx context.Context, containerID string) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: containerID})
	return err
}

// ListContainers lists containers matching filter.
func (c *Client) ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: filter})
	if err != nil {
		return nil, err
	}
	return resp.Containers, nil
}

// ContainerStatus returns the status of one container.
func (c *Client) ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	return c.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: containerID, Verbose: verbose})
}

// ContainerStats returns the resource usage of one container, its
// writable layer's included.
func (c *Client) ContainerStats(ctx context.Context, containerID string) (*runtimeapi.ContainerStats, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rt.ContainerStats(ctx, &runtimeapi.ContainerStatsRequest{ContainerId: containerID})
	if err != nil {
		return nil, err
	}
	return resp.Stats, nil
}

// ExecSync runs cmd in the container and waits for it, at most timeout
// (zero means no limit beyond the request timeout). A command that exits
// non-zero returns its output and an *ExitError.
func (c *Client) ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout []byte, stderr []byte, err error) {
	callTimeout := c.timeout
	if timeout > 0 {
		callTimeout += timeout
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := c.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{
		ContainerId: containerID,
		Cmd:         cmd,
		Timeout:     int64(timeout.Seconds()),
	})
	if err != nil {
		return nil, nil, err
	}
	if resp.ExitCode != 0 {
		return resp.Stdout, resp.Stderr, &ExitError{Code: resp.ExitCode}
	}
	return resp.Stdout, resp.Stderr, nil
}

// ImageStatus returns the image with the given reference, or nil when it is
// not present.
func (c *Client) ImageStatus(ctx context.Context, image *runtimeapi.ImageSpec, verbose bool) (*runtimeapi.ImageStatusResponse, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	return c.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: image, Verbose: verbose})
}

// PullImage pulls an image and returns its reference.
func (c *Client) PullImage(ctx context.Context, image *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig, podSandboxConfig *runtimeapi.PodSandboxConfig) (string, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.img.PullImage(ctx, &runtimeapi.PullImageRequest{Image: image, Auth: auth, SandboxConfig: podSandboxConfig})
	if err != nil {
		return "", err
	}
	return resp.ImageRef, nil
}

// ListImages lists the images the runtime has.
func (c *Client) ListImages(ctx context.Context, filter *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.img.ListImages(ctx, &runtimeapi.ListImagesRequest{Filter: filter})
	if err != nil {
		return nil, err
	}
	return resp.Images, nil
}

// RemoveImage removes an image; removing one that is gone is no error.
func (c *Client) RemoveImage(ctx context.Context, image *runtimeapi.ImageSpec) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.img.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: image})
	return err
}

// ImageFsInfo returns the usage of the filesystems images are stored on.
func (c *Client) ImageFsInfo(ctx context.Context) ([]*runtimeapi.FilesystemUsage, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.img.ImageFsInfo(ctx, &runtimeapi.ImageFsInfoRequest{})
	if err != nil {
		return nil, err
	}
	return resp.ImageFilesystems, nil
}

// ReopenContainerLog asks the runtime to reopen a running container's log
// file, after it was renamed for rotation.
func (c *Client) ReopenContainerLog(ctx context.Context, containerID string) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rt.ReopenContainerLog(ctx, &runtimeapi.ReopenContainerLogRequest{ContainerId: containerID})
	return err
}
