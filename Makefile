# miscim — build, test and measure.
#
#   make test    everything CI runs: lint, unit and end-to-end tests with the
#                race detector, and a short run of every fuzz target
#   make bench   Go benchmarks (numbers in docs/performance.md)
#   make fuzz    longer fuzzing (FUZZTIME=1m per target by default)

GO       ?= go
PKGS     := ./...
FUZZTIME ?= 1m
# Fuzz targets, as package:target.
FUZZ_TARGETS := \
	./internal/scim:FuzzParseFilter \
	./internal/scim:FuzzParsePath \
	./internal/scim:FuzzParsePatch \
	./internal/scim:FuzzApplyPatch \
	./internal/engine:FuzzCreateUser \
	./internal/engine:FuzzPatchUser \
	./internal/engine:FuzzPatchGroup

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build test unit fuzz fuzz-short bench lint fmt vet staticcheck tidy-check clean

all: build

build:
	$(GO) build ./...

test: lint unit fuzz-short

unit:
	$(GO) test -race -count=1 $(PKGS)

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

# fuzz-short seeds-and-explores every target briefly (part of make test);
# fuzz explores longer.
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=8s

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME); \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./internal/...

clean:
	rm -rf bin
