#!/usr/bin/env bash
# Compile-check clawvault for macOS (aarch64 and x86_64) from Linux: `cargo clippy
# --all-targets -D warnings` (library, binary, tests, examples) with the macOS
# keychain store, C dependencies built by
# `zig cc` (PyPI's ziglang, pinned). Linking needs Apple's SDK, so this proves the
# code compiles, not that it runs (see the README's platform table).
set -euo pipefail
cd "$(dirname "$0")/.."
ZIG_VERSION=0.13.0
if [ "$(python3 -c 'import importlib.metadata as m; print(m.version("ziglang"))' 2>/dev/null)" != "$ZIG_VERSION" ]; then
  python3 -m pip install -q "ziglang==$ZIG_VERSION" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "ziglang==$ZIG_VERSION"
fi
for t in aarch64-apple-darwin x86_64-apple-darwin; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  zt=${t%%-*}-macos
  var=CC_${t//-/_}
  export ZIG_TARGET=$zt "$var=$PWD/scripts/zig-cc.sh"
  echo "cross-check: cargo clippy --all-targets --target $t"
  cargo clippy --quiet --locked --target "$t" --all-targets -- -D warnings
done
