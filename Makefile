# miscim — build, test and measure.
#
#   make test    everything CI runs: lint, unit and end-to-end tests with the
#                race detector, and a short run of every fuzz target
#   make bench   Go benchmarks (numbers in docs/performance.md)
#   make fuzz    longer fuzzing (FUZZTIME=1m per target by default)

GO       ?= go
PKGS     := ./...
FUZZTIME ?= 1m
# Fuzz targets, as package:Target:budget. The budget is the execution count
# of the short run in make test (a few seconds each on a 2-core machine);
# make fuzz runs each for FUZZTIME instead (.ci/fuzz says why both).
FUZZ_TARGETS := \
	./internal/scim:FuzzParseFilter:150000x \
	./internal/scim:FuzzParsePath:150000x \
	./internal/scim:FuzzParsePatch:150000x \
	./internal/scim:FuzzApplyPatch:150000x \
	./internal/engine:FuzzCreateUser:4000x \
	./internal/engine:FuzzPatchUser:3000x \
	./internal/engine:FuzzPatchGroup:2000x \
	./internal/server:FuzzHandler:10000x \
	./internal/render:FuzzTableFits:10000x \
	./internal/entra/expr:FuzzParse:40000x \
	./internal/entra/expr:FuzzEval:40000x

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: update-golden demo newman all build test unit fuzz fuzz-short bench lint fmt vet staticcheck clean docs completions generated check-generated

all: build

build:
	$(GO) build -trimpath -ldflags "-X github.com/miscim/miscim/internal/build.Version=$(VERSION)" -o bin/miscim ./cmd/miscim

# demo: the embedded engine, served over HTTP, fed what Entra sends for the
# bundled sample tenant (cmd/demo).
demo: build
	$(GO) run ./cmd/demo -miscim bin/miscim

test: lint check-generated unit fuzz-short

# newman (Microsoft's SCIM test collection runner) comes from the npm
# registry into .cache/newman; the conformance test finds it there.
NEWMAN := .cache/newman/node_modules/.bin/newman

newman: $(NEWMAN)

$(NEWMAN):
	npm install --prefix .cache/newman --no-audit --no-fund --loglevel=error newman@6

unit: $(NEWMAN)
	MISCIM_REQUIRE_NEWMAN=1 $(GO) test -race -count=1 $(PKGS)

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

# fuzz-short seeds-and-explores every target for its execution budget (part
# of make test); fuzz explores each for FUZZTIME.
fuzz-short:
	@GO=$(GO) bash .ci/fuzz short $(FUZZ_TARGETS)

fuzz:
	@GO=$(GO) bash .ci/fuzz long $(FUZZTIME) $(FUZZ_TARGETS)

# bench runs the Go benchmarks, then the load run: serve against a trivial
# in-memory SCIM handler in the same run, with ratios (docs/performance.md).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./internal/...
	$(GO) run ./cmd/loadgen -miscim bin/miscim -duration 10s -clients 8

# docs/cli, docs/man and completions/ are generated from the command tree.
docs completions generated:
	$(GO) run ./cmd/gen-docs -docs docs -completions completions

check-generated:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) run ./cmd/gen-docs -docs "$$tmp/docs" -completions "$$tmp/completions" && \
	if ! diff -r docs/cli "$$tmp/docs/cli" >/dev/null || ! diff -r docs/man "$$tmp/docs/man" >/dev/null || \
	   ! diff -r completions "$$tmp/completions" >/dev/null; then \
		diff -r docs/cli "$$tmp/docs/cli" | head -20; \
		echo "generated files are out of date: run 'make docs completions' and commit the result"; exit 1; \
	fi

# update-golden rewrites the golden files of every package whose tests use
# internal/testkit; review the diff like code.
update-golden:
	$(GO) test $$($(GO) list -f '{{.ImportPath}} {{join .TestImports " "}}' ./... | awk '/internal\/testkit/ {print $$1}') -update

clean:
	rm -rf bin
