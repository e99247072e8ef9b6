#!/usr/bin/env bash
# make bench: throughput and memory figures on one generated file (see
# scripts/bench/main.go), plus the Go micro-benchmarks of the hot paths.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== end to end (scripts/bench)"
go run ./scripts/bench "$@"
echo
echo "== micro-benchmarks (one core)"
go test -run '^$' -bench . -benchtime 1s -cpu 1 -benchmem \
  ./shared/flowlog ./shared/parquetlog ./shared/netflow/nfv5 ./shared/netflow/nfv9 ./shared/netflow/ipfix 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
