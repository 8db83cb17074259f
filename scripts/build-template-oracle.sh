#!/usr/bin/env bash
# Builds the template oracle: Go's text/template + sprig v3 + Helm's functions
# (test/helm-oracle/main.go) compiled to WebAssembly from Debian's Go packages, offline, into
# .cache/template-oracle/ (never committed). The differential tests load it via test/helm/oracle.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/template-oracle
mkdir -p "$out"
goroot=$(go env GOROOT)
# GOPATH mode over the tree Debian's golang-*-dev packages install; a private build cache
# keeps CI runs independent of $HOME.
export GO111MODULE=off GOOS=js GOARCH=wasm
export GOPATH="$PWD/.cache/gopath:/usr/share/gocode"
export GOCACHE="${GOCACHE:-$PWD/.cache/go-build}"
mkdir -p .cache/gopath
go build -trimpath -o "$out/oracle.wasm.tmp" ./test/helm-oracle
mv "$out/oracle.wasm.tmp" "$out/oracle.wasm"
cp "$goroot/misc/wasm/wasm_exec.js" "$out/wasm_exec.js"
go version > "$out/go-version.txt"
echo "template oracle: $out/oracle.wasm ($(du -h "$out/oracle.wasm" | cut -f1))"
