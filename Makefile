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

.PHONY: chaos chaos-short kubectl deb e2e-systemd fuzz all build pause-image node-up node-down images demo demo-down unit e2e test lint vet fmt bench install clean

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

# The daemon is built static (CGO_ENABLED=0): no libc or loader mapped into
# it, the same binary on any distribution. Its only cgo users were the
# resolver and os/user, whose Go forms read /etc/nsswitch.conf,
# /etc/resolv.conf and /etc/group (a kubeconfigGroup known only to NSS
# modules such as LDAP is given by its number).
$(BIN)/minikubelet: $(PAUSE_TAR) $(GO_SOURCES)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $@ ./cmd/minikubelet

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

# The stock kubectl the e2e tests drive (tools/kubectl), built once and
# rebuilt only when its module changes.
kubectl: $(BIN)/kubectl
$(BIN)/kubectl: hack/kubectl.sh tools/kubectl/go.mod tools/kubectl/go.sum $(wildcard tools/kubectl/*.go)
	GO=$(GO) hack/kubectl.sh $@

e2e: node-up kubectl
	MINIKUBELET_BIN=$(abspath $(BIN)/minikubelet) KUBECTL_BIN=$(abspath $(BIN)/kubectl) $(GO) test -count=1 -timeout $(E2E_TIMEOUT) -v ./test/e2e/

# chaos-short runs the fuzzer for 30 s, so test needs no separate fuzz.
test: vet unit e2e e2e-systemd chaos-short

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
	@out=$$(gofmt -l cmd internal test hack tools); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2esystemd ./test/systemd/
	cd tools/deb && $(GO) vet ./...

lint: vet
	$(GO) run $(STATICCHECK) ./...

fmt:
	gofmt -w cmd internal test hack tools

bench: node-up
	hack/bench-deps.sh
	$(GO) run ./bench -minikubelet $(abspath $(BIN)/minikubelet) $(if $(SCENARIO),-scenario $(SCENARIO))

# `make install` installs into $(DESTDIR)$(PREFIX) (the binary) and
# $(DESTDIR)/etc (configs) and $(DESTDIR)$(SYSTEMD_UNIT_DIR); an existing
# config is kept. The unit's ExecStart points at $(PREFIX)/bin.
PREFIX ?= /usr/local
SYSTEMD_UNIT_DIR ?= /etc/systemd/system
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/minikubelet $(DESTDIR)/etc/kubernetes/manifests $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	install -m 0755 $(BIN)/minikubelet $(DESTDIR)$(PREFIX)/bin/minikubelet
	sed 's|^ExecStart=/usr/bin/minikubelet|ExecStart=$(PREFIX)/bin/minikubelet|' deploy/systemd/minikubelet.service >$(DESTDIR)$(SYSTEMD_UNIT_DIR)/minikubelet.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/minikubelet.service
	test -f $(DESTDIR)/etc/minikubelet/config.yaml || install -m 0644 deploy/config.yaml $(DESTDIR)/etc/minikubelet/config.yaml

# The Debian package: the binary, the unit, containerd's drop-in and
# config, the CNI config, the default config and the manifest directory
# (deploy/deb/nfpm.yaml), built with nfpm as a library (tools/deb, its own
# module).
DEB_ARCH ?= $(shell $(GO) env GOARCH)
DEB_VERSION ?= $(shell git log -1 --format='0.1.0~git%cd.%h' --date=format:%Y%m%d 2>/dev/null || echo 0.1.0)
DEB := $(BIN)/minikubelet_$(DEB_VERSION)_$(DEB_ARCH).deb
deb: $(DEB)
$(DEB): $(BIN)/minikubelet deploy/deb/nfpm.yaml $(wildcard deploy/deb/* deploy/systemd/* deploy/systemd/*/* deploy/cni/* deploy/containerd/* deploy/config.yaml tools/deb/*)
	cd tools/deb && VERSION=$(DEB_VERSION) ARCH=$(DEB_ARCH) BIN=$(BIN)/minikubelet \
		$(GO) run . -config $(abspath deploy/deb/nfpm.yaml) -root $(abspath .) -o $(abspath $@)
	@echo "built $@"

# The unit under a real systemd: a booted Debian in systemd-nspawn with the
# package installed (hack/e2e-systemd.sh; root; the tree is cached under
# /var/cache/minikubelet).
e2e-systemd: node-up deb
	MINIKUBELET_DEB=$(abspath $(DEB)) hack/e2e-systemd.sh

clean:
	rm -rf $(BIN)
