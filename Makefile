# callctl — see README.md. Every target installs what it needs.
GO      ?= go
LISTEN  ?= 127.0.0.1:4443
BIN     ?= bin/callctl
export CGO_ENABLED = 1

.PHONY: all deps build test test-go test-server vet fmt-check server-install server demo bench fuzz clean

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
# a failure here, not a skip. The whole suite runs on the default mediasoup
# (3.27.1); the core join/produce/consume/simulcast tests run again on the
# legacy 3.8.4 leg.
LEGACY_MEDIASOUP ?= 3.8.4
LEGACY_TESTS ?= ^(TestTwoParticipantsExchangeMedia|TestReceiveSinkDecodesAndRecords|TestSimulcastLayerSwitching|TestJoinTwoProcesses)$$
test-go:
	CALLCTL_REQUIRE_SERVER=1 CALLCTL_REQUIRE_BROWSER=1 $(GO) test -race -count=1 -p 1 -timeout 30m ./...
	CALLCTL_REQUIRE_SERVER=1 CALLCTL_MEDIASOUP_VERSION=$(LEGACY_MEDIASOUP) $(GO) test -race -count=1 -timeout 15m -run '$(LEGACY_TESTS)' ./pkg/sdk/ ./pkg/capture/ ./cmd/

test-server:
	cd scripts/mediasoup-server && npm test
	node --test scripts/jsonapp/test/

server-install:
	@bash scripts/mediasoup-server/install.sh

# Runs the reference server in the foreground: make server LISTEN=127.0.0.1:4555
# (MEDIASOUP_VERSION=3.8.4 for the legacy mediasoup)
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

# Runs every Go fuzz target for FUZZTIME each, one after another (their
# seed corpora already run in plain go test): make fuzz FUZZTIME=1m.
# Minimizing a new input may take 60 s by default, which stalls a short run.
# A bare "context deadline exceeded" with no failing input written is Go's
# fuzz-coordinator race at the end of -fuzztime (go.dev/issue/75804, fixed
# in Go 1.27), not a finding: it is reported and skipped.
FUZZTIME ?= 20s
fuzz: deps
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' pkg cmd); do \
		pkg=./$$(dirname $$f); \
		for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
			echo "== $$pkg $$t"; log=$$(mktemp); rc=0; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg >$$log 2>&1 || rc=$$?; \
			cat $$log; \
			if [ $$rc -ne 0 ]; then \
				if grep -q 'Failing input written' $$log || ! grep -q 'context deadline exceeded' $$log; then rm -f $$log; exit 1; fi; \
				echo "(not a finding: go.dev/issue/75804)"; \
			fi; \
			rm -f $$log; \
		done; \
	done

clean:
	rm -rf bin
