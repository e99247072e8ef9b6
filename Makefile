# flowlogs2netflow — make help lists the targets.
SHELL := bash
GO ?= go
export PATH := $(CURDIR)/.cache/bin:$(PATH)
FUNCTIONS := splitter parser allocator sender
ARCHS := arm64 amd64
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 20s

.PHONY: help deps build test test-short lint vet fmt-check bench demo package fuzz clean

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install test dependencies (apt nfdump pmacct tshark, npm stand-ins, Go tools)
	@bash scripts/deps.sh

build: ## build the CLI into bin/flowlogs2netflow
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/flowlogs2netflow ./cmd/flowlogs2netflow

fmt-check: ## fail on files gofmt would change
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet ./...

lint: fmt-check vet ## gofmt, go vet, terraform fmt/tflint/tfsec (via the Go tests in terraform/)

test: deps fmt-check vet ## install deps, then vet and the whole test suite with -race, collectors and local AWS stand-ins included
	FL2NF_REQUIRE_INTEGRATION=1 $(GO) test -race -count=1 -timeout 25m -skip '^TestDefaultsLoseNothing$$' ./...
	@echo "== delivery to nfcapd, nfacctd and goflow2 at their defaults, alone on the machine (README \"Delivery\")"
	FL2NF_REQUIRE_INTEGRATION=1 $(GO) test -count=1 -timeout 15m -run '^TestDefaultsLoseNothing$$' -v ./cmd/flowlogs2netflow

test-short: ## unit tests only (no collectors or stand-ins needed)
	$(GO) test -short ./...

bench: build ## print throughput and memory figures (see README "Benchmarks")
	@bash scripts/bench.sh

demo: deps build ## generate a flow log, export it to a real collector (nfcapd at its defaults) on loopback, show what it decoded
	@bash scripts/demo.sh

package: ## build the four Lambda zips into dist/ for arm64 and amd64
	@bash scripts/package.sh $(VERSION)

fuzz: ## run every fuzz target for FUZZTIME each
	@bash scripts/fuzz.sh $(FUZZTIME)

clean: ## remove build outputs
	rm -rf bin dist
