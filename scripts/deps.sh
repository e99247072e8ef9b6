#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need, on a fresh
# Debian machine or a developer's laptop. Idempotent and quick when
# everything is already there.
#   apt:  nfdump (nfcapd, nfdump), pmacct (nfacctd), tshark
#   npm:  dynalite, aws-local-stepfunctions, asl-validator, @dsnp/parquetjs (scripts/node)
#   go:   aws-lambda-rie, goflow2, tflint, tfsec (pinned, into .cache/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/.cache/bin
mkdir -p "$bin"

need_apt=()
command -v nfcapd >/dev/null || need_apt+=(nfdump)
command -v nfacctd >/dev/null || need_apt+=(pmacct)
command -v tshark >/dev/null || need_apt+=(tshark)
if ((${#need_apt[@]})); then
  echo "deps: apt-get install ${need_apt[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x scripts/node/node_modules/.bin/asl-validator ] || [ ! -f scripts/node/node_modules/dynalite/cli.js ] \
   || [ ! -d scripts/node/node_modules/aws-local-stepfunctions ] || [ ! -d scripts/node/node_modules/@dsnp/parquetjs ]; then
  echo "deps: npm ci (scripts/node)"
  npm ci --prefix scripts/node --no-audit --no-fund --loglevel=error >/dev/null
fi

goinstall() { # name module@version
  if [ ! -x "$bin/$1" ]; then
    echo "deps: go install $2"
    GOBIN=$bin GOFLAGS=-mod=mod go install "$2"
  fi
}
goinstall aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
goinstall goflow2 github.com/netsampler/goflow2/v2/cmd/goflow2@v2.2.6
goinstall tflint github.com/terraform-linters/tflint@v0.64.0
goinstall tfsec github.com/aquasecurity/tfsec/cmd/tfsec@v1.26.0
if ! command -v terraform >/dev/null; then
  echo "deps: terraform not found: the terraform fmt check will be skipped (install Terraform >= 1.5 to run it)"
fi
