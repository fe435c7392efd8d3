#!/usr/bin/env bash
# Windows from Linux: `cargo check` of every target for x86_64-pc-windows-gnu, then
# the library's unit tests and the backend conformance suite (age files and the real
# Credential Manager Wine implements) run under Wine. Needs root for apt the first
# time; without Wine it prints SKIPPED, or fails when CLAWVAULT_REQUIRE_WINE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
T=x86_64-pc-windows-gnu

need_apt=()
for pkg in gcc-mingw-w64-x86-64 wine64; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  elif [ "${CLAWVAULT_REQUIRE_WINE:-}" = 1 ]; then
    echo "windows-test: ${need_apt[*]} missing and not root" >&2; exit 1
  else
    echo "windows-test: SKIPPED (${need_apt[*]} not installed)"; exit 0
  fi
fi
rustup target list --installed | grep -qx "$T" || rustup target add "$T"

# A private Wine prefix, kept between runs (created once, about 5 s).
export WINEPREFIX="${CLAWVAULT_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/clawvault-wine}"
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX"
  wineboot -i >/dev/null 2>&1
  wineserver -w
fi
# Rust's std (1.78+) draws randomness from ProcessPrng in bcryptprimitives.dll,
# which Wine 8 lacks (Wine 9 has it): a 10-line forwarder to BCryptGenRandom.
sys32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$sys32/bcryptprimitives.dll" ]; then
  tmp=$(mktemp -d)
  printf 'LIBRARY bcryptprimitives\nEXPORTS\n    ProcessPrng\n' >"$tmp/b.def"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$sys32/bcryptprimitives.dll" \
    scripts/wine/bcryptprimitives.c "$tmp/b.def" -lbcrypt
  rm -rf "$tmp"
fi

export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
# The platform keychain (here: Wine's Credential Manager) must work, not be skipped.
export CLAWVAULT_REQUIRE_SECRET_SERVICE=1

echo "windows-test: cargo check --target $T --all-targets"
cargo check --quiet --locked --target "$T" --all-targets
echo "windows-test: unit tests under Wine"
cargo test --quiet --locked --target "$T" --lib
echo "windows-test: backend conformance (age, Credential Manager) under Wine"
cargo test --quiet --locked --target "$T" --test conformance
wineserver -k 2>/dev/null || true
