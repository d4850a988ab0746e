# Tributary's entry points. `make demo` runs the main job in one process;
# `make test` runs every test: the fast suite, then the integration suite
# against real Kafka and MinIO that integration/services.sh installs and
# starts on 127.0.0.1.

GO ?= go
BIN := bin/tributary

.PHONY: all build demo test test-unit bench fuzz vet fmt clean

all: build

include integration/Makefile.services.mk

build:
	$(GO) build -o $(BIN) ./cmd/tributary

demo:
	$(GO) run ./cmd/tributary demo

test: vet test-unit test-integration

test-unit:
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then \
		echo "gofmt needed: $$out"; exit 1; fi

# The end-to-end benchmark: the booking actions replicated to BENCH_RECORDS
# records, through real Kafka into Parquet on MinIO, exactly once. See
# integration/bench for what it measures.
BENCH_RECORDS ?= 5000000
bench: services-install build
	@set -e; trap '$(SERVICES) stop' EXIT; \
	$(SERVICES) start; \
	eval "$$($(SERVICES) env)"; \
	$(GO) test -tags integration -run '^$$' -bench BenchmarkPipeline -benchtime 1x \
		-timeout 60m ./integration/bench/ -records $(BENCH_RECORDS)

# Each decoder of untrusted bytes fuzzed for FUZZTIME in turn. Go 1.26's
# fuzz coordinator can end a run that found nothing with "context deadline
# exceeded" (golang/go#75804): only a reproducer written under
# schemas/testdata/fuzz is a finding.
FUZZTIME ?= 10m
FUZZ_TARGETS := FuzzParseWire FuzzDecode FuzzDecodeBody FuzzJSONConverter FuzzParseHeader
fuzz:
	@for f in $(FUZZ_TARGETS); do \
		echo "== $$f"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./schemas/ | tail -n 3; \
	done; git status --short schemas/testdata/fuzz

clean:
	rm -rf bin
