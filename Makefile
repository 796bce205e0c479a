# minikubelet: `make demo` runs a demo node, `make test` is the test command
# (README, .ci/run). Every target that needs containerd runs hack/node-up.sh
# first, which installs and starts what is missing.
SHELL := /bin/bash
GO ?= go
BIN := bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
PAUSE_IMAGE := localhost/minikubelet/pause:1.0
PAUSE_TAR := internal/sandbox/pause.tar
GO_SOURCES := $(shell find cmd internal -name '*.go' -not -name '*_test.go') go.mod go.sum
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
E2E_TIMEOUT ?= 30m
SCENARIO ?=

.PHONY: chaos chaos-short fuzz all build pause-image node-up node-down images demo demo-down unit e2e test lint vet fmt bench install clean

all: build

build: $(BIN)/minikubelet

$(BIN)/pause: $(wildcard cmd/pause/*.go)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $@ ./cmd/pause

# The pause image is an OCI archive embedded in the daemon (go:embed). It is
# checked in, so plain `go build` and `go install` work from a clone; the
# build reproduces it byte for byte (internal/sandbox checks that in a test).
pause-image: $(PAUSE_TAR)
$(PAUSE_TAR): $(BIN)/pause $(wildcard hack/mkimage/*.go internal/ociimage/*.go)
	$(GO) run ./hack/mkimage pause --binary $(BIN)/pause --ref $(PAUSE_IMAGE) -o $@

$(BIN)/minikubelet: $(PAUSE_TAR) $(GO_SOURCES)
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $@ ./cmd/minikubelet

node-up: build
	MINIKUBELET=$(BIN)/minikubelet hack/node-up.sh

node-down:
	hack/node-down.sh

images: build
	$(BIN)/minikubelet images pause
	$(BIN)/minikubelet images busybox

demo: node-up
	hack/demo.sh

demo-down:
	hack/demo.sh down

unit: $(PAUSE_TAR)
	$(GO) test -race -count=1 ./internal/... ./cmd/...

e2e: node-up
	MINIKUBELET_BIN=$(abspath $(BIN)/minikubelet) $(GO) test -count=1 -timeout $(E2E_TIMEOUT) -v ./test/e2e/

# chaos-short runs the fuzzer for 30 s, so test needs no separate fuzz.
test: vet unit e2e chaos-short

# A short, bounded fuzz run of the manifest decoder: it must never panic.
FUZZTIME ?= 10s
fuzz: $(PAUSE_TAR)
	$(GO) test -run=NONE -fuzz=FuzzDecodeManifest -fuzztime=$(FUZZTIME) -parallel=1 ./internal/staticpods/

# The reliability suite (test/chaos, README "Reliability"): faults, churn,
# hostile input and a soak against the node's containerd. chaos-short is
# part of make test (about 3 minutes); chaos is the long form, by hand.
CHAOS_TIMEOUT ?= 90m
chaos-short: node-up
	MINIKUBELET_CHAOS=short MINIKUBELET_BIN=$(abspath $(BIN)/minikubelet) $(GO) test -count=1 -timeout 15m -v ./test/chaos/
	$(MAKE) fuzz FUZZTIME=30s

chaos: node-up
	MINIKUBELET_CHAOS=long MINIKUBELET_BIN=$(abspath $(BIN)/minikubelet) $(GO) test -count=1 -timeout $(CHAOS_TIMEOUT) -v ./test/chaos/
	$(MAKE) fuzz FUZZTIME=5m

vet: $(PAUSE_TAR)
	@out=$$(gofmt -l cmd internal test hack); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

lint: vet
	$(GO) run $(STATICCHECK) ./...

fmt:
	gofmt -w cmd internal test hack

bench: node-up
	$(GO) run ./bench -minikubelet $(abspath $(BIN)/minikubelet) $(if $(SCENARIO),-scenario $(SCENARIO))

install: build
	install -m 0755 $(BIN)/minikubelet /usr/local/bin/minikubelet
	install -d /etc/minikubelet /etc/kubernetes/manifests
	install -m 0644 deploy/systemd/minikubelet.service /etc/systemd/system/minikubelet.service
	test -f /etc/minikubelet/config.yaml || install -m 0644 deploy/config.yaml /etc/minikubelet/config.yaml

clean:
	rm -rf $(BIN)
