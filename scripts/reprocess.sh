#!/usr/bin/env bash
# reprocess.sh: start Step Functions executions that convert flow-log objects
# again. A thin wrapper around `flowlogs2netflow reprocess` (see its -h and
# docs/runbook.md); it builds bin/flowlogs2netflow first when the binary is
# missing or older than the Go sources.
#
#   scripts/reprocess.sh --bucket my-flow-logs --from 2026-11-01 --to 2026-11-02 --dry-run
#   scripts/reprocess.sh s3://my-flow-logs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/01/
#
# FL2NF_STATE_MACHINE_ARN sets the state machine (or pass --state-machine).
# FL2NF_BIN runs that binary instead, as it is (no build).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -n "${FL2NF_BIN:-}" ]]; then
  exec "$FL2NF_BIN" reprocess "$@"
fi
bin="$root/bin/flowlogs2netflow"

if [[ ! -x "$bin" ]] || [[ -n "$(find "$root/cmd" "$root/shared" -name '*.go' -newer "$bin" -print -quit 2>/dev/null)" ]]; then
  echo "reprocess.sh: building $bin" >&2
  version="$(git -C "$root" describe --always --dirty 2>/dev/null || echo dev)"
  (cd "$root" && go build -trimpath -ldflags "-X main.version=$version" -o "$bin" ./cmd/flowlogs2netflow)
fi

exec "$bin" reprocess "$@"
