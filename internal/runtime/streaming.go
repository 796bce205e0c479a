package runtime

import (
	"context"
	"errors"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Exec asks the runtime to prepare a streaming exec and returns the URL of
// its streaming server that serves it (once, for a short while), as the
// kubelet's GetExec does.
func (c *Client) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rt.Exec(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Url == "" {
		return nil, errors.New("Exec returned an empty streaming URL")
	}
	return resp, nil
}

// Attach asks the runtime to prepare a streaming attach to the
// container's main process and returns the URL that serves it.
func (c *Client) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rt.Attach(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Url == "" {
		return nil, errors.New("Attach returned an empty streaming URL")
	}
	return resp, nil
}

// PortForward asks the runtime to prepare a port forward into a sandbox's
// network namespace and returns the URL that serves it.
func (c *Client) PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rt.PortForward(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Url == "" {
		return nil, errors.New("PortForward returned an empty streaming URL")
	}
	return resp, nil
}

// ListContainerStats returns the resource usage of the containers matching
// filter in one call.
func (c *Client) ListContainerStats(ctx context.Context, filter *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rt.ListContainerStats(ctx, &runtimeapi.ListContainerStatsRequest{Filter: filter})
	if err != nil {
		return nil, err
	}
	return resp.Stats, nil
}
