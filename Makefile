# miscim — build, test and measure.
#
#   make test    everything CI runs: lint, unit and end-to-end tests with the
#                race detector (the PostgreSQL suites on a throwaway cluster
#                when PostgreSQL is installed), and a short run of every fuzz
#                target
#   make postgres-test  the PostgreSQL suites alone, on a throwaway cluster
#   make bench   Go benchmarks and the loopback runs, the load run with its
#                ratios (numbers in docs/performance.md); fails when a
#                target is missed
#   make bench-load     the load run alone; make profile-load profiles it
#   make fuzz    longer fuzzing (FUZZTIME=1m per target by default)

GO       ?= go
PKGS     := ./...
FUZZTIME ?= 1m
# Fuzz targets, as package:Target:budget. The budget is the execution count
# of the short run in make test (a few seconds each on a 2-core machine);
# make fuzz runs each for FUZZTIME instead (.ci/fuzz says why both).
FUZZ_TARGETS := \
	./internal/scim:FuzzParseFilter:75000x \
	./internal/scim:FuzzParsePath:75000x \
	./internal/scim:FuzzParsePatch:75000x \
	./internal/scim:FuzzApplyPatch:75000x \
	./internal/scim:FuzzAppendJSON:75000x \
	./internal/reqlog:FuzzRecordJSON:30000x \
	./internal/engine:FuzzCreateUser:4000x \
	./internal/engine:FuzzPatchUser:3000x \
	./internal/engine:FuzzPatchGroup:2000x \
	./internal/server:FuzzHandler:6000x \
	./internal/render:FuzzTableFits:5000x \
	./internal/entra/expr:FuzzParse:40000x \
	./internal/entra/expr:FuzzEval:40000x \
	./internal/entra/tenant:FuzzJSONRead:30000x \
	./internal/entra/tenant:FuzzNativeYAML:10000x \
	./internal/entra/tenant:FuzzNativeJSON:30000x \
	./internal/entra/tenant:FuzzGraph:20000x \
	./internal/entra/tenant:FuzzCSV:20000x \
	./internal/entra/tenant:FuzzParse:15000x \
	./internal/reqlog:FuzzReadJSONLines:20000x \
	./internal/reqlog:FuzzReadJSON:20000x \
	./internal/reqlog:FuzzReadHAR:20000x \
	./internal/reqlog:FuzzReadHTTPDump:20000x \
	./internal/reqlog:FuzzReadGzip:20000x \
	./internal/entra/mapping:FuzzLoad:15000x \
	./internal/yamltree:FuzzParse:30000x \
	./internal/entra/provlog:FuzzRecordJSON:20000x \
	./internal/entra/sync:FuzzParseSchedule:10000x

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: update-golden demo newman all build test unit postgres-test bench-all fuzz fuzz-short bench bench-go bench-load bench-simulate bench-diff profile-load lint fmt vet staticcheck clean docs completions generated check-generated

all: build

build:
	$(GO) build -trimpath -ldflags "-X github.com/miscim/miscim/internal/build.Version=$(VERSION)" -o bin/miscim ./cmd/miscim

# demo: Entra's provisioning of the bundled sample tenant, simulated by
# miscim simulate against the embedded engine served over HTTP, then a
# scripted change of the tenant and incremental cycles (cmd/demo).
demo: build
	$(GO) run ./cmd/demo -miscim bin/miscim

test: lint check-generated unit fuzz-short

# newman (Microsoft's SCIM test collection runner) comes from the npm
# registry into .cache/newman; the conformance test finds it there.
NEWMAN := .cache/newman/node_modules/.bin/newman

newman: $(NEWMAN)

$(NEWMAN):
	npm install --prefix .cache/newman --no-audit --no-fund --loglevel=error newman@6

# unit runs every package on SQLite, with the store suite and the
# multi-replica tests on PostgreSQL too, then the packages whose tests run
# on the store MISCIM_TEST_STORE names again on PostgreSQL, all on one
# throwaway cluster (.ci/with-postgres; without PostgreSQL those skip and
# say so; MISCIM_REQUIRE_POSTGRES=1, as in CI, makes that a failure).
STORE_PKGS := ./internal/engine/... ./internal/server/...

unit: $(NEWMAN)
	MISCIM_REQUIRE_NEWMAN=1 bash .ci/with-postgres sh -c '$(GO) test -race -count=1 $(PKGS) && MISCIM_TEST_STORE=postgres $(GO) test -race -count=1 $(STORE_PKGS)'

postgres-test:
	bash .ci/with-postgres sh -c '$(GO) test -race -count=1 ./internal/store/... ./cmd/miscim/ -run "Postgres|Replica|DatabaseAway" && MISCIM_TEST_STORE=postgres $(GO) test -race -count=1 $(STORE_PKGS)'

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

# bench runs the Go benchmarks, then the runs over loopback and in fresh
# processes: paging through 100,000 users and `users list` of them
# (cmd/listbench); the load run (bench-load); the tenant load of a
# 100,000-user Graph export; simulate's initial and incremental cycles of
# the 100,000-user tenant (cmd/simbench); diff of that tenant against the
# embedded target and over loopback (cmd/diffbench) (docs/performance.md). Each run
# prints its numbers; bench fails when any of them misses a target, after
# all have run.
#
# The load run drives serve against a trivial SCIM handler made durable and
# one in memory, in interleaved rounds of the same run, with the ratios
# DESIGN §8 sets; it exits non-zero when a target is missed. LOAD_FLAGS
# adds flags (e.g. LOAD_FLAGS="-sync normal -v").
LOAD_FLAGS ?=
LOADGEN = $(GO) run ./cmd/loadgen -miscim bin/miscim -duration 5s -clients 8 -rounds 3 $(LOAD_FLAGS)
#
# PostgreSQL: the store benchmarks (a member change in a group of 250,000,
# both stores) and cmd/replicaload (the mixed workload on SQLite, on one
# PostgreSQL replica and on two behind haproxy) run on a durable throwaway
# cluster (.ci/with-postgres --durable).
bench: build
	bash .ci/with-postgres --durable $(MAKE) --no-print-directory bench-all

bench-all:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./internal/...
	@status=0; \
	$(GO) run ./cmd/listbench -miscim bin/miscim || status=1; \
	$(LOADGEN) || status=1; \
	$(GO) run ./cmd/replicaload -miscim bin/miscim -duration 10s -clients 8 || status=1; \
	$(GO) run ./cmd/tenantload -users 100000 -groups 1000 -memberships 200000 || status=1; \
	$(GO) run ./cmd/simbench -miscim bin/miscim || status=1; \
	$(GO) run ./cmd/diffbench -miscim bin/miscim || status=1; \
	exit $$status

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./internal/...

bench-load: build
	$(LOADGEN)

# bench-simulate is cmd/simbench alone: simulate's cycles of the
# 100,000-user tenant, each a fresh process of bin/miscim.
bench-simulate: build
	$(GO) run ./cmd/simbench -miscim bin/miscim

# bench-diff is cmd/diffbench alone: diff of the 100,000-user tenant,
# each a fresh process of bin/miscim.
bench-diff: build
	$(GO) run ./cmd/diffbench -miscim bin/miscim

# profile-load runs one round with CPU and allocation profiles of serve
# under each workload, printed by component and kept in .cache/profile.
profile-load: build
	$(GO) run ./cmd/loadgen -miscim bin/miscim -duration 5s -clients 8 -rounds 1 -profile .cache/profile $(LOAD_FLAGS)

# docs/cli, docs/man and completions/ are generated from the command tree;
# docs/examples/tenant is the sample tenant, generated by cmd/gen-sample.
docs completions generated:
	$(GO) run ./cmd/gen-docs -docs docs -completions completions
	$(GO) run ./cmd/gen-sample -out docs/examples/tenant

check-generated:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) run ./cmd/gen-docs -docs "$$tmp/docs" -completions "$$tmp/completions" && \
	$(GO) run ./cmd/gen-sample -out "$$tmp/examples/tenant" && \
	if ! diff -r docs/cli "$$tmp/docs/cli" >/dev/null || ! diff -r docs/man "$$tmp/docs/man" >/dev/null || \
	   ! diff -r completions "$$tmp/completions" >/dev/null || \
	   ! diff -r docs/examples/tenant "$$tmp/examples/tenant" >/dev/null; then \
		diff -r docs/cli "$$tmp/docs/cli" | head -20; \
		diff -r docs/examples/tenant "$$tmp/examples/tenant" | head -20; \
		echo "generated files are out of date: run 'make docs completions' and commit the result"; exit 1; \
	fi

# update-golden rewrites the golden files of every package whose tests use
# internal/testkit; review the diff like code.
update-golden:
	$(GO) test $$($(GO) list -f '{{.ImportPath}} {{join .TestImports " "}}' ./... | awk '/internal\/testkit/ {print $$1}') -update

clean:
	rm -rf bin
