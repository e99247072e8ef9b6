#!/usr/bin/env bash
# Builds the four Lambda bootstraps (provided.al2023, -tags lambda.norpc)
# for arm64 and x86_64 into dist/<function>-<arch>.zip.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-dev}
mkdir -p dist
for fn in splitter parser allocator sender; do
  for arch in arm64 amd64; do
    out=dist/build/$fn-$arch
    rm -rf "$out" && mkdir -p "$out"
    GOOS=linux GOARCH=$arch CGO_ENABLED=0 go build -tags lambda.norpc -trimpath \
      -ldflags "-s -w -X main.version=$version" -o "$out/bootstrap" "./functions/$fn"
    rm -f "dist/$fn-$arch.zip"
    (cd "$out" && python3 -m zipfile -c "../../$fn-$arch.zip" bootstrap)
    echo "dist/$fn-$arch.zip $(stat -c %s "dist/$fn-$arch.zip") bytes"
  done
done
rm -rf dist/build
