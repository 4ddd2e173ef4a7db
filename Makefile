# otelcol-amazonconnect: `make run` starts the demo, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
OCB_VERSION := v0.161.0
TOOLS := $(CURDIR)/.tmp/bin
OCB := $(TOOLS)/builder
BINARY := _build/otelcol-amazonconnect
export GOFLAGS ?= -mod=mod

.PHONY: all build run test lint bench bench-e2e fuzz soak generate npm clean tools

all: build

$(OCB):
	GOBIN=$(TOOLS) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

tools: $(OCB)

# The stand-ins the tests and the demo run: kinesis-local and dynalite.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
npm: node_modules/.package-lock.json

GO_SOURCES := $(shell find . -name '*.go' -not -path './_build/*' -not -path './node_modules/*' -not -path './.tmp/*') go.mod go.sum builder-config.yaml

$(BINARY): $(OCB) $(GO_SOURCES)
	$(OCB) --config builder-config.yaml
build: $(BINARY)

# The port check comes first, before npm and the build: a port an earlier demo still
# holds stops `make run` at once, naming what holds it.
run:
	@./scripts/demo-ports.sh
	@$(MAKE) --no-print-directory npm build
	./scripts/demo.sh

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# Unit, integration (kinesis-local, dynalite, file_storage) and end-to-end tests (the
# built binary), in two rounds. The processes under test/ (fleets, crashes, failover)
# check recovery against time bounds, so they run in a round of their own, on a machine
# nothing else saturates. The first round is every other package beside test/backlog
# (five collectors on a 20,000-event backlog, for ten minutes), which mostly waits on
# kinesis-local's one busy core and leaves the other to the unit tests.
# test/backlog is named first, so that it starts first.
TIMED_TESTS = $$($(GO) list ./test/... | grep -v '/test/backlog$$')
test: npm build lint
	OTELCOL_BINARY=$(CURDIR)/$(BINARY) $(GO) test -race -count=1 -timeout 20m ./test/backlog $$($(GO) list ./... | grep -v -e '/test/')
	OTELCOL_BINARY=$(CURDIR)/$(BINARY) $(GO) test -race -count=1 -timeout 15m $(TIMED_TESTS)

# Figures for one core: decode + map per event beside its baseline (and pdata values from
# slabs beside pdata's setters), decode and decode + map per contact event and per contact
# record, GetRecords decoding beside the SDK's, the agent state, the contact state (per event, and
# its memory at its bound), and duplicate removal (per
# record, per checkpoint saved, and a window's memory). Then the export path alone, on every
# core: the receiver's requests through config/datadog-agent.yaml's exporter, its queue on
# disk (file_storage, and queue_storage as shipped), on a storage that costs nothing,
# without the queue's batching, and in memory.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 -count 5 ./receiver/awsconnectreceiver/internal/eventlog/ ./receiver/awsconnectreceiver/internal/pdataslab/ ./internal/contactevent/ ./internal/contactrecord/ ./receiver/awsconnectreceiver/internal/contactlog/ ./internal/contactstate/ ./receiver/awsconnectreceiver/ ./internal/getrecords/ ./internal/agentstate/ ./internal/kinesisconsumer/
	$(GO) test -run '^$$' -bench . -benchtime 50x -count 3 ./receiver/awsconnectreceiver/internal/exportbench/

# Whole processes, end to end, in one run: the built collector (production config: OTLP
# through the disk queue in queue_storage; the same in file_storage; the same with map
# bodies; the queue in memory; the queue in memory reading through
# enhanced fan-out, internal/efotest in front of kinesis-local) and the bare SDK loop
# (test/bareloop) on a 20,000-event backlog in kinesis-local (CPU per event, peak RSS),
# then on the in-process fast Kinesis at 1, 8,
# 64 and 256 shards with the consumer on one core (events/s, events per CPU-second, peak
# RSS), logs to debug and to OTLP. Prints a markdown summary, also left in
# .tmp/bench-e2e/summary.md. Any build: OTELCOL_BINARY, or BACKLOG_BINARIES=a,b to compare.
# Sizes: E2E_BACKLOG_EVENTS (20000), E2E_FAST_EVENTS (32000, the same total at every
# shard count). Profiles: E2E_PPROF_DIR (CPU), E2E_HEAP_DIR (heap, every 2 s); the
# collector's own environment: E2E_COLLECTOR_ENV (e.g. GOMEMLIMIT=40MiB). Not part of
# `make test`: benchmarks are not tests.
bench-e2e: npm build
	OTELCOL_BINARY=$${OTELCOL_BINARY:-$(CURDIR)/$(BINARY)} $(GO) test -run '^$$' -bench '^BenchmarkEndToEnd$$' -benchtime 1x -timeout 30m ./test/benche2e

# Fuzz the decoders and the record-to-log mappings, of agent events and of contact events
# and records, and queue_storage's reading of damaged segment files, for FUZZTIME each
# (their seed corpus runs with every go test). Each new input the fuzzer finds interesting is
# minimised first, by default for up to 60 s: on records of a few KB that ate whole runs,
# the exec count standing still while both workers were busy. FUZZMINIMIZETIME bounds it.
FUZZTIME ?= 1m
FUZZMINIMIZETIME ?= 1000x
FUZZFLAGS = -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' $(FUZZFLAGS) ./internal/agentevent/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCached$$' $(FUZZFLAGS) ./internal/agentevent/
	$(GO) test -run '^$$' -fuzz '^FuzzBuild$$' $(FUZZFLAGS) ./receiver/awsconnectreceiver/internal/eventlog/
	$(GO) test -run '^$$' -fuzz '^FuzzJSONBody$$' $(FUZZFLAGS) ./receiver/awsconnectreceiver/internal/eventlog/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' $(FUZZFLAGS) ./internal/contactevent/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' $(FUZZFLAGS) ./internal/contactrecord/
	$(GO) test -run '^$$' -fuzz '^FuzzBuild$$' $(FUZZFLAGS) ./receiver/awsconnectreceiver/internal/contactlog/
	$(GO) test -run '^$$' -fuzz '^FuzzLoadBucket$$' $(FUZZFLAGS) ./internal/contactstate/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' $(FUZZFLAGS) ./internal/getrecords/
	$(GO) test -run '^$$' -fuzz '^FuzzEventStream$$' $(FUZZFLAGS) ./internal/getrecords/
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' $(FUZZFLAGS) ./extension/queuestorage/

# The simulator (2,000 agents at 5x real time) and the built collector against
# kinesis-local for DURATION; it reports the collector's memory over time (which must stay flat) and fails if it grew or
# an event is missing. The report is also left in .tmp/soak/report.md.
# FLEET=1 runs three collectors sharing the stream through leases on dynalite instead
# (config/kubernetes-fleet.yaml's shape), SIGKILLing one every KILL_EVERY and starting a
# new one in its place; it fails if an event is missing or a shard is never read again.
DURATION ?= 10m
FLEET ?=
KILL_EVERY ?= 1m
soak: npm build
	$(GO) run ./test/soak --duration $(DURATION) $(if $(FLEET),--collectors 3 --kill-every $(KILL_EVERY))

# The components' generated code (committed), from their metadata.yaml, by mdatagen at
# the pinned version (internal/tools/mdatagen says how it builds here).
generate:
	cd internal/tools/mdatagen && $(GO) build -o $(CURDIR)/.tmp/mdatagen go.opentelemetry.io/collector/cmd/mdatagen
	cd receiver/awsconnectreceiver && $(CURDIR)/.tmp/mdatagen metadata.yaml
	cd extension/queuestorage && $(CURDIR)/.tmp/mdatagen metadata.yaml

clean:
	rm -rf _build .tmp
