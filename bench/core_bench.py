#!/usr/bin/env python3
"""Core benchmarks: unlock time at the default Argon2id parameters, `list`/`status`
on 10,000 profiles, and `resolve` spawned the way OpenClaw spawns it (bare env, no
TTY, cwd = the binary's dir) for 1, 16 and 512 ids on an age vault (this includes
stretching the passphrase, since no agent holds the identity yet).

Usage: bench/core_bench.py [path/to/clawvault]   (default target/release/clawvault)
Prints medians in milliseconds. No network; everything in a temp dir."""
import json, os, statistics, subprocess, sys, tempfile, time

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/clawvault")
RUNS = int(os.environ.get("RUNS", "15"))

def median_ms(argv, env, stdin=b"", cwd=None, runs=RUNS):
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(argv, input=stdin, env=env, cwd=cwd, capture_output=True)
        samples.append((time.perf_counter() - t) * 1000)
        if p.returncode != 0:
            sys.exit(f"{argv[1:3]} failed: {p.stderr.decode()[:300]}")
    return statistics.median(samples)

with tempfile.TemporaryDirectory() as d:
    state = os.path.join(d, "state")
    pw = os.path.join(d, "pw")
    with open(pw, "w") as f:
        f.write("benchmark passphrase\n")
    os.chmod(pw, 0o600)
    env = {"PATH": os.environ["PATH"], "OPENCLAW_STATE_DIR": state}
    subprocess.run([BIN, "init", "--backend", "age", "--passphrase-file", pw], env=env, check=True, capture_output=True)

    # 512 secrets through the real CLI.
    for i in range(512):
        subprocess.run([BIN, "models", "auth", "paste-api-key", "--provider", f"p{i}", "--profile-id", f"p{i}:default"],
                       input=f"sk-bench-{i:04d}-abcdefghijklmnopqrstuvwxyz\n".encode(), env=env, check=True, capture_output=True)

    unlock = median_ms([BIN, "identity", "export", "--passphrase-file", pw], env)
    print(f"unlock (Argon2id m=64MiB t=3 p=1) + identity export: median {unlock:.1f} ms")

    bindir = os.path.dirname(BIN)
    for n in (1, 16, 512):
        req = json.dumps({"protocolVersion": 1, "provider": "clawvault",
                          "ids": [f"main/p{i}:default" for i in range(n)]}).encode()
        ms = median_ms([BIN, "resolve", "--state-dir", state, "--passphrase-file", pw], {}, req, cwd=bindir)
        print(f"resolve {n:>3} ids (age, passphrase stretched per spawn): median {ms:.1f} ms")

    # 10,000 profiles: half inline, half refs into the vault (each ref is stat'ed).
    prof = os.path.join(state, "agents", "main", "agent", "auth-profiles.json")
    doc = json.load(open(prof))
    for i in range(512, 10000):
        if i % 2:
            doc["profiles"][f"p{i}:default"] = {"type": "api_key", "provider": f"p{i}", "key": f"k{i}"}
        else:
            doc["profiles"][f"p{i}:manual"] = {"type": "token", "provider": f"p{i}",
                "tokenRef": {"source": "exec", "provider": "clawvault", "id": f"main/p{i}:manual"},
                "expires": 1798761600000}
    json.dump(doc, open(prof, "w"), indent=2)
    print(f"profiles in file: {len(doc['profiles'])}, size {os.path.getsize(prof)//1024} KiB")
    for args in (["models", "auth", "list"], ["models", "auth", "list", "--json"],
                 ["models", "status"], ["models", "status", "--json"]):
        ms = median_ms([BIN] + args, env)
        print(f"{' '.join(args):<26} on 10,000 profiles: median {ms:.1f} ms")
