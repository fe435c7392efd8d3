#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked gnome-keyring
# Secret Service and its own kernel session keyring. Used by the test suite and
# benchmarks; never touches the user's real keyring.
#   scripts/with-secret-service.sh cargo test
set -euo pipefail
tmp=$(mktemp -d)
mkdir -m 700 "$tmp/data" "$tmp/run"
export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run"
cleanup() {
  pkill -f "gnome-keyring-daemon.*$tmp" 2>/dev/null || true
  [ -f "$tmp/gk.pid" ] && kill "$(cat "$tmp/gk.pid")" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
inner='
  set -e
  out=$(printf "%s" ci-only-password | gnome-keyring-daemon --unlock --components=secrets)
  pid=$(printf "%s\n" "$out" | sed -n "s/^GNOME_KEYRING_PID=//p")
  [ -n "$pid" ] && echo "$pid" > "$CLAWVAULT_SS_TMP/gk.pid"
  exec "$@"'
runner=(dbus-run-session --)
if command -v keyctl >/dev/null 2>&1; then runner=(keyctl session - "${runner[@]}"); fi
CLAWVAULT_SS_TMP="$tmp" "${runner[@]}" bash -c "$inner" bash "$@"
