# callctl — see README.md. Every target installs what it needs.
GO      ?= go
LISTEN  ?= 127.0.0.1:4443
BIN     ?= bin/callctl
export CGO_ENABLED = 1

.PHONY: all deps build test test-go test-server vet fmt-check server-install server demo bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	$(GO) build -o $(BIN) .

# The one command that runs every test on a fresh machine.
test: deps vet fmt-check test-go test-server

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Media tests run against the real reference server; a missing server is
# a failure here, not a skip.
test-go:
	CALLCTL_REQUIRE_SERVER=1 CALLCTL_REQUIRE_BROWSER=1 $(GO) test -race -count=1 -timeout 20m ./...

test-server:
	cd scripts/mediasoup-server && npm test

server-install:
	@bash scripts/mediasoup-server/install.sh

# Runs the reference server in the foreground: make server LISTEN=127.0.0.1:4555
server: server-install
	node scripts/mediasoup-server/server.js --listen $(LISTEN)

demo: build
	@bash scripts/demo.sh

# Go micro-benchmarks, then the fleet benchmark (bench/, about 15 minutes
# with the defaults), which writes docs/benchmarks.md and .json. Sized by
# BENCH_SIZES, BENCH_RAMP, BENCH_REPEATS, BENCH_WINDOW, … (docs/benchmarks.md).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...
	CALLCTL_FLEET_BENCH=1 CALLCTL_BIN=$(abspath $(BIN)) $(GO) test -count=1 -run '^TestFleetBench$$' -v -timeout 60m ./bench/

clean:
	rm -rf bin
