#!/usr/bin/env bash
# Held-out recall / false-alarm run of `doctor` on a host it was not developed against.
#
#   bench/heldout/run.sh SEED [SIZE_MB]      (default 20 MB)
#
# Generates the host into /tmp/clawvault-heldout-SEED once (re-used while seed, size and
# gen.py are unchanged), builds the doctor_bench example (CARGO_TARGET_DIR=/work/tgt-bench,
# -j 2, one build at a time through a lock), runs it as bench/doctor.sh does and scores
# the report with score.py. The source tree built is the one this script sits in;
# CLAWVAULT_SRC=/path/to/checkout measures another.
set -euo pipefail

SEED=${1:?usage: run.sh SEED [SIZE_MB]}
SIZE=${2:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${CLAWVAULT_SRC:-$(cd "$HERE/../.." && pwd)}
W=/tmp/clawvault-heldout-$SEED
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/tgt-bench}

STAMP="$SEED $SIZE $(sha256sum "$HERE/gen.py" | cut -c1-16)"
if [ "$(cat "$W/stamp" 2>/dev/null)" != "$STAMP" ]; then
  rm -rf "$W"
  python3 "$HERE/gen.py" "$W" --seed "$SEED" --size-mb "$SIZE"
  echo "$STAMP" >"$W/stamp"
fi
H=$W/home

mkdir -p "$CARGO_TARGET_DIR"
(
  flock 9
  cd "$ROOT" && cargo build -q --release --example doctor_bench -j 2
) 9>"$CARGO_TARGET_DIR/.heldout-build.lock"
BIN=$CARGO_TARGET_DIR/release/examples/doctor_bench

echo "source: $ROOT ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ', with uncommitted changes'))"
start=$(date +%s.%N)
"$BIN" "$H/.openclaw" --home "$H" --cwd "$H" --json --no-progress --fail-on never >"$W/doctor.json" 2>"$W/doctor.stderr" || {
  echo "doctor_bench exited $? (stderr: $W/doctor.stderr)" >&2
}
end=$(date +%s.%N)
printf 'doctor: %.2f s on %s MB\n' "$(echo "$end - $start" | bc)" "$(($(du -sb "$H" | cut -f1) / 1000000))"
# Which files doctor opens at all (a second, untimed run under strace), so misses split into
# "read, not recognised" and "never read".
OPENED=()
if command -v strace >/dev/null; then
  strace -f -qq -e trace=open,openat -o "$W/doctor.openat" \
    "$BIN" "$H/.openclaw" --home "$H" --cwd "$H" --json --no-progress --fail-on never >/dev/null 2>&1 || true
  OPENED=(--opened "$W/doctor.openat")
fi
python3 "$HERE/score.py" "$W" "$W/doctor.json" "${OPENED[@]}"
