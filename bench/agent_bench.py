#!/usr/bin/env python3
"""Benchmark the clawvault agent.

- resolve latency through the agent for 1 / 16 / 512 ids, spawning `clawvault resolve`
  the way OpenClaw does (env -i, cwd = the binary's directory, request on stdin),
  next to the same resolve without an agent (passphrase file, default Argon2id);
- the agent's idle RSS;
- requests/second the agent serves to many concurrent socket clients, and exec
  spawns/second with concurrent `clawvault resolve` processes.

Usage: bench/agent_bench.py [path/to/release/clawvault]   (default: target/release/clawvault
or $CARGO_TARGET_DIR/release/clawvault). Builds nothing; run `cargo build --release` first.
"""
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
default_bin = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")), "release", "clawvault")
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else default_bin)
BIN_DIR = os.path.dirname(BIN)

tmp = tempfile.mkdtemp(prefix="cvbench.")
state = os.path.join(tmp, "state")
pw = os.path.join(tmp, "pw")
os.umask(0o077)
with open(pw, "w") as f:
    f.write("benchmark passphrase\n")
env = {"PATH": os.environ["PATH"], "HOME": tmp, "OPENCLAW_STATE_DIR": state}


def run(args, stdin=None):
    return subprocess.run([BIN] + args, input=stdin, env=env, capture_output=True, check=True)


run(["init", "--backend", "age", "--passphrase-file", pw])  # default Argon2id parameters
N = 512
for i in range(N):
    run(["models", "auth", "paste-api-key", "--provider", f"p{i}", "--profile-id", f"p{i}:default"], stdin=f"sk-bench-{i:04d}-{'x' * 40}\n".encode())
ids = [f"main/p{i}:default" for i in range(N)]


def openclaw_resolve(batch, extra=()):
    req = json.dumps({"protocolVersion": 1, "provider": "clawvault", "ids": batch}).encode()
    t = time.perf_counter()
    out = subprocess.run(["env", "-i", BIN, "resolve", "--state-dir", state, *extra], input=req,
                         cwd=BIN_DIR, capture_output=True)
    dt = time.perf_counter() - t
    assert out.returncode == 0, out.stderr
    v = json.loads(out.stdout)
    assert len(v["values"]) == len(batch), v.get("errors")
    return dt * 1000


def lat(batch, n, extra=()):
    xs = sorted(openclaw_resolve(batch, extra) for _ in range(n))
    return statistics.median(xs), xs[int(len(xs) * 0.95) - 1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


print(f"binary: {BIN}")
print(f"cores: {os.cpu_count()}")
m, p = lat(ids[:1], 10, ("--passphrase-file", pw))
print(f"without agent (passphrase file, Argon2id default), 1 id: median {m:.1f} ms, p95 {p:.1f} ms")

log = open(os.path.join(tmp, "agent.log"), "w")
agent = subprocess.Popen([BIN, "agent", "run", "--idle", "0", "--passphrase-file", pw], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
try:
    deadline = time.time() + 30
    while "serving vault" not in open(os.path.join(tmp, "agent.log")).read():
        assert agent.poll() is None and time.time() < deadline, open(os.path.join(tmp, "agent.log")).read()
        time.sleep(0.01)
    time.sleep(0.3)
    print(f"agent idle RSS after start: {rss_kib(agent.pid)} KiB")
    for k in (1, 16, 512):
        openclaw_resolve(ids[:k])
        m, p = lat(ids[:k], 50)
        print(f"through the agent, {k:3d} ids: median {m:.2f} ms, p95 {p:.2f} ms (process spawn included)")

    sock = json.loads(run(["agent", "status", "--json"]).stdout)["socket"]

    async def client(stop, counts, batch):
        r, w = await asyncio.open_unix_connection(sock)
        line = (json.dumps({"v": 1, "op": "resolve", "ids": batch}) + "\n").encode()
        n = 0
        while time.perf_counter() < stop:
            w.write(line)
            await w.drain()
            resp = await r.readline()
            assert b'"ok":true' in resp, resp[:200]
            n += 1
        counts.append(n)
        w.close()

    async def load(conns, secs, batch):
        counts = []
        stop = time.perf_counter() + secs
        await asyncio.gather(*(client(stop, counts, batch) for _ in range(conns)))
        return sum(counts) / secs

    for conns, k in ((64, 1), (200, 1), (64, 16)):
        rps = asyncio.run(load(conns, 5, ids[:k]))
        print(f"socket load: {conns} concurrent clients, {k} id(s) per request: {rps:,.0f} requests/s")

    def spawn_loop(stop):
        n = 0
        while time.perf_counter() < stop:
            openclaw_resolve(ids[:1])
            n += 1
        return n

    stop = time.perf_counter() + 5
    with ThreadPoolExecutor(16) as ex:
        total = sum(ex.map(spawn_loop, [stop] * 16))
    print(f"exec spawns: 16 concurrent `clawvault resolve` loops: {total / 5:,.0f} resolves/s")
    print(f"agent RSS after load: {rss_kib(agent.pid)} KiB")
finally:
    agent.terminate()
    agent.wait()
    subprocess.run(["rm", "-rf", tmp])
