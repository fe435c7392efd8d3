#!/usr/bin/env bash
# Windows from Linux: every target (library, binary, examples, all test binaries)
# built for x86_64-pc-windows-gnu, then the library's unit tests, the backend
# conformance suite (age files and the real Credential Manager Wine implements) and
# the agent over its named pipe (tests/agent_pipe.rs, the real binary) run
# under Wine, in a fresh Wine prefix made in a temporary directory and removed
# afterwards. Needs no display. As root it installs what it needs (Debian's
# mingw-w64 and wine64, the Rust target); otherwise, without them, it prints
# SKIPPED, or fails when CLAWVAULT_REQUIRE_WINE=1 (as .ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
T=x86_64-pc-windows-gnu
started=$SECONDS
step=setup
tmp=
export WINEPREFIX=

finish() {
  local rc=$?
  if [ -n "$WINEPREFIX" ] && [ -d "$WINEPREFIX" ]; then
    # The server saves the registry as it exits: the prefix goes once it has
    # (removing it first made it print "could not save registry branch"). Not
    # `wineserver -w`, which starts a server when none runs.
    "${WINESERVER:-true}" -k >/dev/null 2>&1 || true
    for _ in $(seq 50); do
      pgrep -f -- "${WINESERVER:-/nonexistent}" >/dev/null 2>&1 || break
      sleep 0.2
    done
  fi
  [ -z "$tmp" ] || rm -rf "$tmp"
  if [ "$rc" -ne 0 ]; then
    echo "windows-test: FAILED at step '$step' (exit $rc) after $((SECONDS - started)) s; the output above says why; rerun with: bash scripts/windows-test.sh" >&2
  fi
  exit "$rc"
}
trap finish EXIT

need_apt=()
for pkg in gcc-mingw-w64-x86-64 wine64; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    step="apt-get install ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o Acquire::Retries=3 update -qq
    apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  elif [ "${CLAWVAULT_REQUIRE_WINE:-}" = 1 ]; then
    echo "windows-test: ${need_apt[*]} not installed and not root: run as root, or apt-get install ${need_apt[*]}" >&2
    exit 1
  else
    echo "windows-test: SKIPPED (${need_apt[*]} not installed)"
    exit 0
  fi
fi
step="rustup target add $T"
rustup target list --installed | grep -qx "$T" || rustup target add "$T"

# Wine's own binaries, not the `wine` wrapper script (a Recommends that
# --no-install-recommends leaves out, and which warns about the missing wine32).
export WINELOADER=/usr/lib/wine/wine64 WINESERVER=/usr/lib/wine/wineserver64
for b in "$WINELOADER" "$WINESERVER"; do
  [ -x "$b" ] || { echo "windows-test: $b is missing; reinstall Debian's wine64 package" >&2; exit 1; }
done

# The build: every target, so all of the crate is known to compile for Windows,
# in one cargo invocation that also builds the two test binaries run below. No
# debug info: under Wine nobody attaches a debugger, and it made the Windows
# target directory 14 GB and the links slow. Dependencies at opt-level 1 instead
# of Cargo.toml's 2: the tests under Wine take the same 3 s, the cold build about
# 75 s less. (Both only in the cargo runs of this script.)
step="build (cargo test --no-run --all-targets --target $T)"
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0
build=(--locked --target "$T" --config 'profile.dev.package."*".opt-level=1')
echo "windows-test: building every target for $T"
cargo test --quiet "${build[@]}" --all-targets --no-run
built=$SECONDS

# A fresh Wine prefix: nothing from an earlier run (Credential Manager entries
# included) can leak in. No display: DISPLAY and WAYLAND_DISPLAY are dropped and
# the null graphics driver chosen, so nothing waits for or opens a window.
step="Wine prefix"
# Where there is room for it: Wine 8's wineboot copies every builtin DLL into
# system32 (about 700 MB), and short of room it still gets through, with DLLs
# missing; the next Wine process then fails with "could not load kernel32.dll"
# (a CI run did; a 150 MB tmpfs reproduces it). TMPDIR (or /tmp) first, else
# cargo's target directory.
free_mb() { df -Pm "$1" | awk 'NR == 2 { print $4 }'; }
base=
for d in "${TMPDIR:-/tmp}" "${CARGO_TARGET_DIR:-target}"; do
  if [ -d "$d" ] && [ "$(free_mb "$d")" -ge 1024 ]; then
    base=$(cd "$d" && pwd)
    break
  fi
done
if [ -z "$base" ]; then
  echo "windows-test: a Wine prefix needs about 700 MB; ${TMPDIR:-/tmp} has $(free_mb "${TMPDIR:-/tmp}") MB free and ${CARGO_TARGET_DIR:-target} $(free_mb "${CARGO_TARGET_DIR:-target}") MB: free disk space, or set TMPDIR to a file system with 1 GB free" >&2
  exit 1
fi
tmp=$(mktemp -d "$base/clawvault-wine.XXXXXX")
export WINEPREFIX="$tmp/prefix"
# Wine puts its server socket directory (wine-XXXXXX) under TMPDIR: inside ours,
# so it goes with the prefix.
mkdir "$tmp/tmp"
export TMPDIR="$tmp/tmp"
unset DISPLAY WAYLAND_DISPLAY
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
# wineboot returns once the prefix is written; `wineserver -w` then returns when
# the last process of this prefix has exited. Bounded, so a hang fails the step.
wine_quiet() {
  if ! timeout "$@" >"$tmp/wine.log" 2>&1; then
    cat "$tmp/wine.log" >&2
    return 1
  fi
}
# The prefix, and one Wine program run in it (reg, which loads kernel32 and
# writes the registry), so a broken prefix fails here and not in the tests.
make_prefix() {
  wine_quiet 300 "$WINELOADER" wineboot --init &&
    wine_quiet 120 "$WINESERVER" -w &&
    wine_quiet 60 "$WINELOADER" reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f
}
# Up to three tries, each in a new prefix, in case a failure is transient; the
# free space printed with each tells the one known cause (no room) apart.
attempt=1
until make_prefix; do
  echo "windows-test: Wine prefix attempt $attempt failed ($(free_mb "$tmp") MB free in $tmp)" >&2
  "$WINESERVER" -k >/dev/null 2>&1 || true
  sleep 2
  rm -rf "$WINEPREFIX"
  [ "$attempt" -lt 3 ] || exit 1
  attempt=$((attempt + 1))
done
# Rust's std (1.78+) draws randomness from ProcessPrng in bcryptprimitives.dll,
# which Wine 8 lacks (Wine 9 has it): a 10-line forwarder to BCryptGenRandom.
sys32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$sys32" ] || { echo "windows-test: wineboot did not create $sys32" >&2; exit 1; }
printf 'LIBRARY bcryptprimitives\nEXPORTS\n    ProcessPrng\n' >"$tmp/b.def"
x86_64-w64-mingw32-gcc -O2 -shared -o "$sys32/bcryptprimitives.dll" \
  scripts/wine/bcryptprimitives.c "$tmp/b.def" -lbcrypt
booted=$SECONDS

# Wine runs the test binaries. Given as cargo config, not as the environment
# variable CARGO_TARGET_<triple>_RUNNER: the tests inherit the environment, and
# assert_cmd would then start the binary under test through the Linux path of
# Wine's loader, which a Windows process cannot run.
build+=(--config "target.$T.runner='$WINELOADER'")
# The platform keychain (here: Wine's Credential Manager) must work, not be skipped.
export CLAWVAULT_REQUIRE_SECRET_SERVICE=1
step="tests under Wine (cargo test --lib --test conformance --test agent_pipe)"
echo "windows-test: library unit tests, backend conformance (age, Credential Manager) and the agent over its named pipe, under Wine"
timeout 1200 cargo test --quiet "${build[@]}" --lib --test conformance --test agent_pipe
echo "windows-test: passed in $((SECONDS - started)) s (build $((built - started)) s, Wine prefix $((booted - built)) s, tests $((SECONDS - booted)) s)"
