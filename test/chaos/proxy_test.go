package chaos

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// frame is one gRPC message passed through the proxy untouched.
type frame struct{ data []byte }

// rawCodec hands message bytes through without decoding them; named
// "proto" so both ends see the content type they expect.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.(*frame).data, nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*frame).data = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// criProxy sits in front of containerd's socket and forwards every call
// (CRI and containerd's own services alike), except CreateContainer for
// the pods whose name starts with the stall prefix: those are held until
// release, then forwarded anyway on a context of their own, so that
// containerd creates a container the caller gave up waiting for.
type criProxy struct {
	socket   string
	upstream *grpc.ClientConn
	server   *grpc.Server

	mu       sync.Mutex
	prefix   string
	released chan struct{}
	held     int // CreateContainer calls held
	gaveUp   int // held calls whose caller left (its timeout fired)
	late     sync.WaitGroup
	// ghosts are the containers containerd created for held calls whose
	// caller had left.
	ghosts []string
}

const createContainerMethod = "/runtime.v1.RuntimeService/CreateContainer"

// startCRIProxy starts a proxy; start it before the daemon that uses
// it, so that its cleanup runs after the daemon's.
func startCRIProxy(t *testing.T, upstreamSocket string) *criProxy {
	t.Helper()
	dir, err := os.MkdirTemp("", "minikubelet-chaos-proxy-")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("unix://"+upstreamSocket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	p := &criProxy{socket: filepath.Join(dir, "cri.sock"), upstream: conn, released: make(chan struct{})}
	l, err := net.Listen("unix", p.socket)
	if err != nil {
		t.Fatal(err)
	}
	p.server = grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(p.handle), grpc.MaxRecvMsgSize(64<<20))
	go p.server.Serve(l)
	t.Cleanup(func() {
		p.release()
		p.late.Wait()
		p.server.Stop()
		conn.Close()
		os.RemoveAll(dir)
	})
	return p
}

// stall holds the CreateContainer calls of pods named prefix...
func (p *criProxy) stall(prefix string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prefix = prefix
}

// release lets every held call through, and no more are held.
func (p *criProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prefix != "" || p.released != nil {
		p.prefix = ""
		if p.released != nil {
			close(p.released)
			p.released = nil
		}
	}
}

func (p *criProxy) counts() (held, gaveUp int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held, p.gaveUp
}

// holds says whether a call must be held, and returns the channel its
// release closes.
func (p *criProxy) holds(method string, req []byte) (bool, chan struct{}) {
	if method != createContainerMethod {
		return false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prefix == "" || p.released == nil {
		return false, nil
	}
	var r runtimeapi.CreateContainerRequest
	if err := proto.Unmarshal(req, &r); err != nil {
		return false, nil
	}
	if !strings.HasPrefix(r.GetSandboxConfig().GetMetadata().GetName(), p.prefix) {
		return false, nil
	}
	p.held++
	return true, p.released
}

func (p *criProxy) handle(_ any, ss grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(ss)
	var req frame
	if err := ss.RecvMsg(&req); err != nil {
		return err
	}
	md, _ := metadata.FromIncomingContext(ss.Context())
	ctx := metadata.NewOutgoingContext(ss.Context(), md)
	if hold, released := p.holds(method, req.data); hold {
		select {
		case <-released:
		case <-ss.Context().Done():
			p.mu.Lock()
			p.gaveUp++
			p.mu.Unlock()
			// The caller gave up; containerd still gets the call once
			// released, as a runtime that was only slow would.
			p.late.Add(1)
			go func() {
				defer p.late.Done()
				<-released
				if id := p.forward(context.WithoutCancel(ctx), method, &req, nil); id != "" {
					p.mu.Lock()
					p.ghosts = append(p.ghosts, id)
					p.mu.Unlock()
				}
			}()
			return ss.Context().Err()
		}
	}
	_, err := p.relay(ctx, method, &req, ss)
	return err
}

// forward sends req upstream and every answer back to ss; with no ss, it
// returns the ID of the container a CreateContainer made.
func (p *criProxy) forward(ctx context.Context, method string, req *frame, ss grpc.ServerStream) string {
	var r runtimeapi.CreateContainerResponse
	resp, err := p.relay(ctx, method, req, ss)
	if err != nil || resp == nil || proto.Unmarshal(resp.data, &r) != nil {
		return ""
	}
	return r.GetContainerId()
}

func (p *criProxy) ghostIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ghosts...)
}

// relay sends req upstream and every answer back to ss (none when ss is
// nil), and returns the last answer.
func (p *criProxy) relay(ctx context.Context, method string, req *frame, ss grpc.ServerStream) (*frame, error) {
	cs, err := p.upstream.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method)
	if err != nil {
		return nil, err
	}
	if err := cs.SendMsg(req); err != nil {
		return nil, err
	}
	if err := cs.CloseSend(); err != nil {
		return nil, err
	}
	var last *frame
	for {
		resp := new(frame)
		if err := cs.RecvMsg(resp); errors.Is(err, io.EOF) {
			return last, nil
		} else if err != nil {
			return last, err
		}
		last = resp
		if ss != nil {
			if err := ss.SendMsg(resp); err != nil {
				return last, err
			}
		}
	}
}
