#!/usr/bin/env python3
"""Measure the main job on a realistic OpenClaw host: how many credentials are left in
plaintext, by place, before and after clawvault's command(s), and how long they take.

    bench/migrate_host.py [--bin target/release/clawvault] [--seed N]
                          [--command "migrate"] [--command "doctor --fix --yes --redact"]

Needs the real OpenClaw (CLAWVAULT_OPENCLAW_BIN, as scripts/install-openclaw.sh
--print-env sets it). The host is built in a temp dir with its own HOME: the SQLite-era
auth store filled by `openclaw models auth paste-*` (a key, a token with an expiry),
OpenClaw's own secret store (a secret a config ref uses, an env entry), a
JSON-era store of a second agent, credentials on the config's SecretRef surface (JSON5,
with `.bak` rotations), a retired `auth-profiles.json.migrated-*` archive, a generated
`models.json`, the state `.env`, a systemd user unit, session transcripts and a log,
a project `.env`, and two things no tool should move (an OAuth refresh token in a
legacy `credentials/oauth.json`, `~/.aws/credentials`). Values are random, built here;
only counts are printed. Each credential is looked for byte for byte in every file
outside the vault, before and after; a place's row counts (file, credential) pairs.
"""
import argparse
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="target/release/clawvault")
ap.add_argument("--seed", type=int, default=11)
ap.add_argument("--command", action="append", default=None)
args = ap.parse_args()
commands = args.command or ["migrate", "doctor --fix --yes --redact"]
BIN = os.path.abspath(args.bin)
OC = os.environ.get("CLAWVAULT_OPENCLAW_BIN") or shutil.which("openclaw")
if not OC:
    sys.exit("needs the real OpenClaw: eval \"$(scripts/install-openclaw.sh --print-env)\"")
rng = random.Random(args.seed)
ALNUM = string.ascii_letters + string.digits


def rnd(n, alpha=ALNUM):
    return "".join(rng.choice(alpha) for _ in range(n))


def private(path, text):
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


tmp = tempfile.mkdtemp(prefix="cv-migrate-bench-")
os.chmod(tmp, 0o700)
home = os.path.join(tmp, "home")
state = os.path.join(home, ".openclaw")
os.makedirs(state, mode=0o700)
cfg_path = os.path.join(state, "openclaw.json")
node_dir = os.environ.get("CLAWVAULT_OPENCLAW_NODE_DIR") or os.path.dirname(shutil.which("node") or "/usr/bin/node")
env = {
    "HOME": home,
    "OPENCLAW_STATE_DIR": state,
    "OPENCLAW_CONFIG_PATH": cfg_path,
    "PATH": f"{os.path.dirname(OC)}:{node_dir}:/usr/local/bin:/usr/bin:/bin",
    "NO_COLOR": "1",
    "CI": "1",
}
for k in ("CLAWVAULT_OPENCLAW_BIN", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"):
    if os.environ.get(k):
        env[k] = os.environ[k]


def openclaw(*argv, stdin=None):
    p = subprocess.run([OC, *argv], input=stdin, env=env, cwd=tmp, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"openclaw {' '.join(argv)} failed: {p.stderr[-500:]}")


creds = {}  # name -> value
def cred(name, value):
    creds[name] = value
    return value


# SQLite-era auth store, filled by OpenClaw itself.
key = cred("anthropic key", f"sk-ant-api03-{rnd(90)}AA")
tok = cred("anthropic token", f"sk-ant-oat01-{rnd(90)}AA")
openclaw("models", "auth", "paste-api-key", "--provider", "anthropic", stdin=key + "\n")
openclaw("models", "auth", "paste-token", "--provider", "anthropic", "--profile-id",
         "anthropic:setup", "--expires-in", "365d", stdin=tok + "\n")
# A second agent still on the JSON era.
work = cred("openai key (agent work)", f"sk-proj-{rnd(56)}T3BlbkFJ{rnd(20)}")
private(os.path.join(state, "agents/work/agent/auth-profiles.json"), json.dumps(
    {"version": 1, "profiles": {"openai:default": {"type": "api_key", "provider": "openai", "key": work}}}))
# Config surface (JSON5), its rotations.
gw = cred("gateway token", rnd(48, "0123456789abcdef"))
tg = cred("telegram bot token", f"{rng.randint(10**9, 9 * 10**9)}:AA{rnd(33)}")
groq = cred("groq provider key", f"gsk_{rnd(52)}")
xai = cred("xai web-search key", f"xai-{rnd(80)}")
try:
    cfg = json.load(open(cfg_path))
except (OSError, ValueError):
    cfg = {}
cfg.setdefault("gateway", {})["mode"] = "local"
cfg["gateway"]["auth"] = {"mode": "token", "token": gw}
cfg.setdefault("models", {}).setdefault("providers", {})["groq"] = {
    "baseUrl": "https://api.groq.com/openai/v1", "apiKey": groq, "models": []}
cfg.setdefault("channels", {})["telegram"] = {"botToken": tg}
cfg.setdefault("plugins", {}).setdefault("entries", {})["xai"] = {"config": {"webSearch": {"apiKey": xai}}}
# OpenClaw's own store (2026.8+, unencrypted): a secret a config ref uses, and an
# agent-readable env entry that must stay.
storekey = cred("openai key (OpenClaw store)", f"sk-proj-{rnd(56)}T3BlbkFJ{rnd(20)}")
openclaw("secrets", "store", "import", "--kind", "secret", "--yes", stdin=f"OPENAI_API_KEY={storekey}\n")
storeenv = cred("tavily key (store env entry)", f"tvly-{rnd(32)}")
openclaw("secrets", "store", "import", "--kind", "env", "--yes", stdin=f"TAVILY_API_KEY={storeenv}\n")
cfg["models"]["providers"]["openai"] = {
    "baseUrl": "https://api.openai.com/v1",
    "apiKey": {"source": "store", "provider": "default", "id": "OPENAI_API_KEY"}, "models": []}
text = "// edited by hand\n" + json.dumps(cfg, indent=2) + "\n"
private(cfg_path, text)
private(cfg_path + ".bak", text)
private(cfg_path + ".bak.1", text)
# A retired JSON-era store OpenClaw archived, and a generated models.json.
private(os.path.join(state, "agents/main/agent/auth-profiles.json.migrated-2026-06-01T00-00-00Z"), json.dumps(
    {"version": 1, "profiles": {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": key}}}))
private(os.path.join(state, "agents/main/agent/models.json"), json.dumps(
    {"providers": {"groq": {"baseUrl": "https://api.groq.com/openai/v1", "apiKey": groq, "models": []}}}))
# The state .env (a provider key and another tool's key).
mistral = cred("mistral key (.env)", rnd(32))
brave = cred("brave key (.env, other tool)", f"BSA{rnd(28)}")
private(os.path.join(state, ".env"), f"MISTRAL_API_KEY={mistral}\nBRAVE_API_KEY={brave}\n")
# A systemd user unit.
unit = os.path.join(home, ".config/systemd/user/openclaw-gateway.service")
private(unit, "[Unit]\nDescription=OpenClaw gateway\n\n[Service]\n"
        f"Environment=OPENCLAW_GATEWAY_TOKEN={gw}\nEnvironment=ANTHROPIC_API_KEY={key}\n"
        "ExecStart=/usr/bin/openclaw gateway run\n\n[Install]\nWantedBy=default.target\n")
# Transcripts and a log.
sess = os.path.join(state, "agents/main/sessions")
lines = [
    {"type": "message", "role": "user", "text": f"here is my key {key} use it"},
    {"type": "toolResult", "content": json.dumps({"botToken": tg})},
    {"type": "toolCall", "args": {"command": f"curl -H 'Authorization: Bearer {xai}' https://api.x.ai/v1/models"}},
]
private(os.path.join(sess, "s1.jsonl"), "".join(json.dumps(l) + "\n" for l in lines))
private(os.path.join(sess, "s2.jsonl"), json.dumps({"type": "toolResult", "content": f"GROQ_API_KEY={groq}\n"}) + "\n")
private(os.path.join(state, "logs/gateway.log"),
        json.dumps({"level": "debug", "msg": "gateway auth", "token": gw}) + "\n")
# A project .env (offered, not taken by default) and what is out of scope.
proj = cred("project .env key", f"sk-proj-{rnd(56)}T3BlbkFJ{rnd(20)}")
private(os.path.join(home, "proj/.env"), f"OPENAI_API_KEY={proj}\n")
refresh = cred("oauth refresh token", f"1//0{rnd(60)}")
private(os.path.join(state, "credentials/oauth.json"), json.dumps(
    {"google": {"refresh_token": refresh, "access_token": f"ya29.{rnd(80)}"}}))
aws = cred("aws secret (other tool)", rnd(40, ALNUM + "/+"))
private(os.path.join(home, ".aws/credentials"), f"[default]\naws_access_key_id = AKIA{rnd(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}\naws_secret_access_key = {aws}\n")


def place(rel):
    if rel.startswith(".aws/"):
        return "~/.aws/credentials (other tool)"
    if rel.startswith("proj/"):
        return "project .env"
    if rel.startswith(".config/systemd"):
        return "systemd unit"
    r = rel[len(".openclaw/"):] if rel.startswith(".openclaw/") else rel
    if r.startswith("openclaw.json"):
        return "openclaw.json and .bak rotations"
    if "/sessions/" in r or r.startswith("logs/"):
        return "transcripts and logs"
    if r.endswith("models.json") or ".migrated-" in r:
        return "models.json, .migrated-* archives"
    if r == ".env":
        return "state .env"
    if r.startswith("credentials/"):
        return "OAuth (credentials/oauth.json)"
    if r.endswith(".sqlite") or r.endswith(".sqlite-wal") or "auth-profiles.json" in r:
        return "auth stores, OpenClaw's secret store (SQLite)"
    return "other: " + r


def count():
    vault = os.path.join(state, "vault")
    rows = {}
    for root, dirs, files in os.walk(home):
        if root == vault or root.startswith(vault + os.sep):
            continue
        for f in files:
            p = os.path.join(root, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            data = open(p, "rb").read()
            for v in creds.values():
                if v.encode() in data:
                    k = place(os.path.relpath(p, home))
                    rows[k] = rows.get(k, 0) + 1
    return rows


before = count()
pw = os.path.join(tmp, "pw")
private(pw, "bench passphrase, not a real one\n")
cv_env = dict(env, CLAWVAULT_OPENCLAW_BIN=OC)
subprocess.run([BIN, "init", "--backend", "age", "--passphrase-file", pw], env=cv_env, check=True,
               capture_output=True)
timings = []
for c in commands:
    argv = [BIN, *c.split(), "--passphrase-file", pw]
    t = time.perf_counter()
    p = subprocess.run(argv, env=cv_env, cwd=tmp, capture_output=True, text=True)
    timings.append((c, time.perf_counter() - t, p.returncode))
    if os.environ.get("VERBOSE"):
        print(f"$ clawvault {c}\n{p.stdout}{p.stderr}")
    for v in creds.values():
        assert v not in p.stdout and v not in p.stderr, f"`{c}` printed a secret"
after = count()

print(f"host: {len(creds)} credentials, seed {args.seed}")
print(f"| where | before | after |\n|---|---|---|")
for k in sorted(set(before) | set(after)):
    print(f"| {k} | {before.get(k, 0)} | {after.get(k, 0)} |")
print(f"| **total** | {sum(before.values())} | {sum(after.values())} |")
for c, s, rc in timings:
    print(f"`clawvault {c}`: {s:.1f} s, exit {rc}")
if os.environ.get("KEEP"):
    print(f"kept: {tmp}")
else:
    shutil.rmtree(tmp)
