package images

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minikubelet/minikubelet/internal/runtime"
)

// fakeImages pulls with the password "right" (or with no credentials when
// open), takes a second of the fake clock per pull, and can hold pulls
// until released.
type fakeImages struct {
	clock *clocktesting.FakePassiveClock
	open  bool
	hold  chan struct{}
	// started is told of each pull as it starts.
	started chan string

	mu    sync.Mutex
	auths []string
}

func (f *fakeImages) PullImage(ctx context.Context, spec *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig, _ *runtimeapi.PodSandboxConfig) (string, error) {
	user := "<none>"
	if auth != nil {
		user = auth.Username + ":" + auth.Password
	}
	f.mu.Lock()
	f.auths = append(f.auths, user)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- spec.Image
	}
	if f.hold != nil {
		<-f.hold
	}
	f.mu.Lock()
	f.clock.SetTime(f.clock.Now().Add(time.Second))
	f.mu.Unlock()
	if (auth == nil && f.open) || (auth != nil && auth.Password == "right") {
		return "sha256:" + spec.Image, nil
	}
	if auth == nil {
		return "", grpcstatus.Error(codes.Unknown, "401 Unauthorized")
	}
	return "", grpcstatus.Errorf(codes.Unknown, "401 Unauthorized for %s", auth.Username)
}

func (f *fakeImages) ImageStatus(_ context.Context, spec *runtimeapi.ImageSpec, _ bool) (*runtimeapi.ImageStatusResponse, error) {
	return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: spec.Image, Size: 1234}}, nil
}

type fakeKeyring []*runtimeapi.AuthConfig

func (k fakeKeyring) Lookup(string) []*runtimeapi.AuthConfig { return k }

func TestPuller_TriesEachCredentialInTurn(t *testing.T) {
	auth := func(user, pass string) *runtimeapi.AuthConfig {
		return &runtimeapi.AuthConfig{Username: user, Password: pass}
	}
	tests := []struct {
		name      string
		keys      fakeKeyring
		open      bool
		wantAuths []string
		wantErr   string
	}{
		{name: "no credentials", open: true, wantAuths: []string{"<none>"}},
		{name: "no credentials, registry refuses", wantAuths: []string{"<none>"}, wantErr: "401 Unauthorized"},
		{name: "the first that works", keys: fakeKeyring{auth("a", "wrong"), auth("b", "right"), auth("c", "right")}, wantAuths: []string{"a:wrong", "b:right"}},
		{name: "one wrong credential: the runtime's message", keys: fakeKeyring{auth("a", "wrong")}, wantAuths: []string{"a:wrong"}, wantErr: "401 Unauthorized for a"},
		{name: "every credential wrong: the kubelet's aggregate", keys: fakeKeyring{auth("a", "wrong"), auth("b", "wrong")}, wantAuths: []string{"a:wrong", "b:wrong"},
			wantErr: "[401 Unauthorized for a, 401 Unauthorized for b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakePassiveClock(time.Unix(0, 0))
			f := &fakeImages{clock: clk, open: tt.open}
			var keys keyring
			if tt.keys != nil {
				keys = tt.keys
			}
			got, err := NewPuller(f, keys, 1, clk).Pull(context.Background(), &runtimeapi.ImageSpec{Image: "127.0.0.1:5000/app:1"}, nil)
			if !reflect.DeepEqual(f.auths, tt.wantAuths) {
				t.Errorf("pulled with %v, want %v", f.auths, tt.wantAuths)
			}
			if tt.wantErr != "" {
				if err == nil || runtime.Message(err) != tt.wantErr {
					t.Fatalf("Pull error %v (message %q), want message %q", err, msgOf(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Pulled{Ref: "sha256:127.0.0.1:5000/app:1", Size: 1234, Took: time.Duration(len(tt.wantAuths)) * time.Second}
			if got != want {
				t.Fatalf("Pull = %+v, want %+v", got, want)
			}
		})
	}
}

func msgOf(err error) string {
	if err == nil {
		return ""
	}
	return runtime.Message(err)
}

func TestPuller_Limit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		// wantAtOnce is how many of three pulls run before any ends.
		wantAtOnce int
	}{
		{name: "serialized", limit: 1, wantAtOnce: 1},
		{name: "at most two", limit: 2, wantAtOnce: 2},
		{name: "no limit", limit: 0, wantAtOnce: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakePassiveClock(time.Unix(0, 0))
			f := &fakeImages{clock: clk, open: true, hold: make(chan struct{}), started: make(chan string, 3)}
			p := NewPuller(f, nil, tt.limit, clk)
			var wg sync.WaitGroup
			for _, img := range []string{"a", "b", "c"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := p.Pull(context.Background(), &runtimeapi.ImageSpec{Image: img}, nil); err != nil {
						t.Error(err)
					}
				}()
			}
			for i := 0; i < tt.wantAtOnce; i++ {
				<-f.started
			}
			// Once wantAtOnce pulls run, no other may start until one ends:
			// a goroutine past the limit is blocked on the slots channel,
			// so release one pull at a time and count starts.
			select {
			case img := <-f.started:
				t.Fatalf("pull of %s started while %d ran, limit %d", img, tt.wantAtOnce, tt.limit)
			default:
			}
			for i := 0; i < 3; i++ {
				f.hold <- struct{}{}
				if i+tt.wantAtOnce < 3 {
					<-f.started
				}
			}
			wg.Wait()
		})
	}
}

func TestPuller_WaitEndsWithTheContext(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Unix(0, 0))
	f := &fakeImages{clock: clk, open: true, hold: make(chan struct{}), started: make(chan string, 1)}
	p := NewPuller(f, nil, 1, clk)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Pull(context.Background(), &runtimeapi.ImageSpec{Image: "a"}, nil)
	}()
	<-f.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Pull(ctx, &runtimeapi.ImageSpec{Image: "b"}, nil); err == nil {
		t.Fatal("Pull waiting for a turn with a cancelled context: no error")
	}
	f.hold <- struct{}{}
	<-done
}
