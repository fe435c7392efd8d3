#!/usr/bin/env python3
"""Generate a large OpenClaw host for bench/doctor.sh.

    gen_host.py OUT_DIR SIZE_MB [SEED]

Writes OUT_DIR/home/.openclaw (session transcripts, logs, config, .env, auth store),
OUT_DIR/home/.bash_history and a systemd unit, with a few planted credentials of
every kind the doctor knows, and decoys (placeholders, SecretRefs, hashes, UUIDs).
OUT_DIR/planted.json lists each planted credential as {path, line, kind}: never the
value. Secrets are built here at run time from a prefix and random characters.
"""
import base64
import json
import os
import random
import string
import sys

out = sys.argv[1]
size_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"


def r(alpha, n):
    return "".join(rng.choice(alpha) for _ in range(n))


def digits(n):
    return str(rng.randint(1, 9)) + r(string.digits, n - 1)


def b64url(s):
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")


def uuid():
    return f"{r(HEX, 8)}-{r(HEX, 4)}-4{r(HEX, 3)}-8{r(HEX, 3)}-{r(HEX, 12)}"


# kind -> (maker, how it is written into a transcript line)
MAKERS = {
    "anthropic-api-key": lambda: f"sk-ant-api03-{r(URLSAFE, 93)}AA",
    "anthropic-oauth": lambda: f"sk-ant-oat01-{r(URLSAFE, 93)}AA",
    "openai-project": lambda: f"sk-proj-{r(ALNUM, 58)}T3BlbkFJ{r(ALNUM, 58)}",
    "openai-legacy": lambda: f"sk-{r(ALNUM, 20)}T3BlbkFJ{r(ALNUM, 20)}",
    "openrouter": lambda: f"sk-or-v1-{r(HEX, 64)}",
    "google": lambda: f"AIza{r(URLSAFE, 35)}",
    "groq": lambda: f"gsk_{r(ALNUM, 52)}",
    "xai": lambda: f"xai-{r(ALNUM, 80)}",
    "huggingface": lambda: f"hf_{r(ALNUM, 34)}",
    "github-pat-classic": lambda: f"ghp_{r(ALNUM, 36)}",
    "github-pat-fine": lambda: f"github_pat_{r(ALNUM, 22)}_{r(ALNUM, 59)}",
    "slack-bot": lambda: f"xoxb-{digits(12)}-{digits(13)}-{r(ALNUM, 24)}",
    "slack-app": lambda: f"xapp-1-A{r('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 10)}-{digits(13)}-{r(HEX, 64)}",
    "telegram": lambda: f"{digits(10)}:AA{r(URLSAFE, 33)}",
    "discord": lambda: f"{b64url(digits(19))}.{r(URLSAFE, 6)}.{r(URLSAFE, 38)}",
    "aws-key-id": lambda: f"AKIA{r('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}",
    "aws-secret": lambda: r(ALNUM + "/+", 40),
    "jwt": lambda: f"{b64url(json.dumps({'alg': 'HS256', 'typ': 'JWT'}))}.{b64url(json.dumps({'sub': r(ALNUM, 12), 'exp': 1900000000}))}.{r(URLSAFE, 43)}",
    "google-refresh": lambda: f"1//0{r(URLSAFE, 60)}",
    "gateway-token": lambda: r(HEX, 48),
    "password": lambda: f"Pw{r(ALNUM, 22)}",
    "bearer": lambda: r(ALNUM, 40),
    "url-password": lambda: f"Q{r(ALNUM, 19)}",
}

# How each kind shows up in a transcript or log line.
CONTEXT = {
    "anthropic-api-key": lambda s: {"type": "message", "text": f"here is my key {s} please use it"},
    "anthropic-oauth": lambda s: {"type": "toolResult", "content": json.dumps({"token": s})},
    "openai-project": lambda s: {"type": "toolResult", "content": json.dumps({"apiKey": s, "ok": True})},
    "openai-legacy": lambda s: {"type": "message", "text": f"use this one:\n{s}\nthanks"},
    "openrouter": lambda s: {"type": "toolCall", "args": {"command": f"export OPENROUTER_API_KEY={s}"}},
    "google": lambda s: {"type": "message", "text": f"my Gemini key is {s} ok"},
    "groq": lambda s: {"type": "toolCall", "args": {"command": f"GROQ_API_KEY={s} node app.js"}},
    "xai": lambda s: {"type": "toolCall", "args": {"command": f"curl -H 'Authorization: Bearer {s}' https://api.x.ai/v1/models"}},
    "huggingface": lambda s: {"type": "toolCall", "args": {"command": f"huggingface-cli login --token {s}"}},
    "github-pat-classic": lambda s: {"type": "toolCall", "args": {"command": f"git clone https://{s}@github.com/acme/app"}},
    "github-pat-fine": lambda s: {"type": "toolResult", "content": f"GITHUB_TOKEN={s}\n"},
    "slack-bot": lambda s: {"type": "toolResult", "content": json.dumps({"botToken": s})},
    "slack-app": lambda s: {"type": "toolResult", "content": json.dumps({"appToken": s})},
    "telegram": lambda s: {"type": "toolResult", "content": json.dumps({"channels": {"telegram": {"botToken": s}}})},
    "discord": lambda s: {"type": "toolCall", "args": {"command": f"export DISCORD_BOT_TOKEN={s}"}},
    "aws-key-id": lambda s: {"type": "toolResult", "content": f"aws_access_key_id = {s}\n"},
    "aws-secret": lambda s: {"type": "toolResult", "content": f"aws_secret_access_key = {s}\n"},
    "jwt": lambda s: {"type": "toolResult", "content": json.dumps({"access_token": s, "token_type": "Bearer"})},
    "google-refresh": lambda s: {"type": "toolResult", "content": json.dumps({"refresh_token": s})},
    "gateway-token": lambda s: {"type": "toolCall", "args": {"command": f"openclaw gateway --port 18789 --token {s}"}},
    "password": lambda s: {"type": "toolResult", "content": f"DB_PASSWORD={s}\n"},
    "bearer": lambda s: {"type": "toolCall", "args": {"command": f"curl -H \"Authorization: Bearer {s}\" https://api.example.com"}},
    "url-password": lambda s: {"type": "toolCall", "args": {"command": f"psql postgres://app:{s}@db.internal:5432/app"}},
}

WORDS = (
    "the a to of and in is it you that for on with as this be are was from at by or an "
    "gateway agent session model provider config token tokens key keys file files read write "
    "function return const let var import export async await error result value string number "
    "channel message user assistant tool call response request stream retry timeout cache "
    "install build test deploy server client socket port host path directory json yaml env "
    "password secret auth access refresh schema index table column query migration commit branch"
).split()


def prose(n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def filler_line():
    k = rng.random()
    base = {"id": uuid(), "timestamp": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:{rng.randint(10, 59)}:00.000Z"}
    if k < 0.45:
        base.update({"type": "message", "message": {"role": rng.choice(["user", "assistant"]),
                     "content": [{"type": "text", "text": prose(rng.randint(20, 400))}]},
                     "usage": {"input_tokens": rng.randint(100, 90000), "output_tokens": rng.randint(1, 4000),
                               "cache_read_input_tokens": rng.randint(0, 50000)}})
    elif k < 0.7:
        code = "\n".join(
            f"const {rng.choice(WORDS)}{i} = await {rng.choice(WORDS)}({rng.choice(WORDS)}, {{ {rng.choice(WORDS)}: process.env.{rng.choice(['OPENAI_API_KEY', 'HOME', 'PORT'])} }});"
            for i in range(rng.randint(3, 40)))
        base.update({"type": "toolCall", "name": "write", "args": {"path": f"src/{rng.choice(WORDS)}.ts", "content": code}})
    elif k < 0.9:
        base.update({"type": "toolResult", "content": "\n".join(
            f"{rng.choice(WORDS)}/{rng.choice(WORDS)}.ts:{rng.randint(1, 900)}: {prose(8)}" for _ in range(rng.randint(2, 30)))})
    elif k < 0.97:
        # decoys: placeholders, SecretRefs, hashes, UUIDs
        base.update({"type": "message", "text": rng.choice([
            "set ANTHROPIC_API_KEY=sk-ant-api03-... in your env",
            "export OPENAI_API_KEY=\"<your-key>\"",
            "apiKey: ${OPENAI_API_KEY}",
            "the key looks like sk-ab…yz or ****",
            "YOUR_API_KEY goes here",
        ]), "keyRef": {"source": "exec", "provider": "clawvault", "id": "main/openai:default"},
            "sha256": r(HEX, 64), "sessionId": uuid()})
    else:
        # an inline image, base64 as transcripts carry them
        base.update({"type": "message", "message": {"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": base64.b64encode(os.urandom(rng.randint(3000, 30000))).decode()}}]}})
    return json.dumps(base)


POOL = [filler_line() for _ in range(6000)]
AVG_LINE = sum(len(l) + 1 for l in POOL) / len(POOL)
home = os.path.join(out, "home")
state = os.path.join(home, ".openclaw")
planted = []


def mk(p):
    os.makedirs(os.path.dirname(p), mode=0o700, exist_ok=True)


def plant_line(kind):
    s = MAKERS[kind]()
    ctx = CONTEXT[kind](s)
    ctx["id"] = uuid()
    return json.dumps(ctx)


# Transcripts and logs: many files of a few MB, a few big ones (under Kingfisher's
# 256 MB default file-size limit, so every tool scans the same bytes).
target = size_mb * 1024 * 1024
sizes = []
total = 0
while total < target:
    s = rng.choice([rng.randint(1, 8), rng.randint(8, 40), rng.randint(60, 120)] if total > target // 3 else [rng.randint(1, 8), rng.randint(8, 40)])
    s = min(s * 1024 * 1024, target - total)
    if s < 4096:
        break
    sizes.append(s)
    total += s
kinds = list(MAKERS)
plant_plan = {}
for i in range(3 * len(kinds)):
    plant_plan.setdefault(rng.randrange(len(sizes)), []).append(kinds[i % len(kinds)])

for fi, fsize in enumerate(sizes):
    agent = "main" if fi % 3 else "work"
    if fi % 7 == 6:
        path = os.path.join(state, "logs", f"gateway-{fi}.log")
    else:
        path = os.path.join(state, "agents", agent, "sessions", f"{uuid()}.jsonl")
    mk(path)
    plants = plant_plan.get(fi, [])
    # line positions for plants, spread through the file
    est_lines = max(10, int(fsize / AVG_LINE * 0.8))
    at = sorted(rng.sample(range(2, est_lines), min(len(plants), est_lines - 2)))
    written = 0
    line = 0
    pi = 0
    with open(path, "w") as f:
        buf = []
        while written < fsize:
            line += 1
            if pi < len(at) and line == at[pi]:
                l = plant_line(plants[pi])
                planted.append({"path": os.path.relpath(path, out), "line": line, "kind": plants[pi]})
                pi += 1
            else:
                l = rng.choice(POOL)
            buf.append(l)
            written += len(l) + 1
            if len(buf) >= 2000:
                f.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            f.write("\n".join(buf) + "\n")

# The usual credential surface, once each.
def write_planted(path, lines, plants):
    """lines: list of str; plants: {line_no: kind}"""
    mk(path)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    for ln, kind in plants.items():
        planted.append({"path": os.path.relpath(path, out), "line": ln, "kind": kind})


a, o, gw = MAKERS["anthropic-api-key"](), MAKERS["openrouter"](), MAKERS["gateway-token"]()
write_planted(os.path.join(state, "agents/main/agent/auth-profiles.json"), [
    "{", '  "version": 1,', '  "profiles": {',
    f'    "anthropic:default": {{ "type": "api_key", "provider": "anthropic", "key": "{a}" }},',
    '    "openrouter:default": { "type": "api_key", "provider": "openrouter", "keyRef": { "source": "exec", "provider": "clawvault", "id": "main/openrouter:default" } }',
    "  }", "}"], {4: "anthropic-api-key"})
write_planted(os.path.join(state, "openclaw.json"), [
    "{", f'  "models": {{ "providers": {{ "openrouter": {{ "apiKey": "{o}" }}, "openai": {{ "apiKey": "${{OPENAI_API_KEY}}" }} }} }},',
    f'  "gateway": {{ "auth": {{ "mode": "token", "token": "{gw}" }} }},',
    f'  "channels": {{ "discord": {{ "token": "{MAKERS["discord"]()}" }} }}', "}"],
    {2: "openrouter", 3: "gateway-token", 4: "discord"})
write_planted(os.path.join(state, ".env"), [
    "# daemon env", f"HF_TOKEN={MAKERS['huggingface']()}", "OPENAI_API_KEY=YOUR_API_KEY",
    f"AWS_ACCESS_KEY_ID={MAKERS['aws-key-id']()}", f"AWS_SECRET_ACCESS_KEY={MAKERS['aws-secret']()}"],
    {2: "huggingface", 4: "aws-key-id", 5: "aws-secret"})
write_planted(os.path.join(home, ".bash_history"), [
    "ls", f"export ANTHROPIC_API_KEY={MAKERS['anthropic-api-key']()}", "cd ~/.openclaw",
    f"openclaw gateway --token {gw}"], {2: "anthropic-api-key", 4: "gateway-token"})
write_planted(os.path.join(home, ".config/systemd/user/openclaw-gateway.service"), [
    "[Service]", "ExecStart=/usr/bin/openclaw gateway", f'Environment="OPENCLAW_GATEWAY_TOKEN={gw}"'],
    {3: "gateway-token"})

# Adversarial contexts (issue 15): every place a real host carries a credential, and
# decoys of every false-alarm class. Values vary with the seed; decoys are planted on
# lines of their own so any finding there counts as a false alarm in score.py.
JWT_IO = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
          "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


def decoy_lines():
    return [
        '{"providers":{"ollama":{"baseUrl":"http://127.0.0.1:11434/v1","apiKey":"ollama-local"}}}',
        'OPENAI_API_KEY=EMPTY',
        'LMSTUDIO_API_KEY="lm-studio"',
        'api_key = "not-needed"',
        '"apiKey": "OPENAI_API_KEY"',
        '"apiKey": "secretref-managed"',
        '"Authorization": "secretref-env:GROQ_API_KEY"',
        'ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH',
        f'Authorization: Bearer {JWT_IO}',
        'export OPENAI_API_KEY="example-openai-key-not-real"',
        'token: your-telegram-bot-token-here',
        f'commit {r(HEX, 40)} Merge branch main',
        f'sha256:{r(HEX, 64)}  openclaw-2026.9.6.tgz',
        f'integrity_token_sha256={r(HEX, 64)}',
    ]


def adversarial(i):
    tg, gw2, sl = MAKERS["telegram"](), MAKERS["gateway-token"](), MAKERS["slack-bot"]()
    ref = f"1//0{r(URLSAFE, 60)}"
    base = os.path.join(state, f"adv{i}")
    logs = [f"2026-03-0{i + 1}T10:00:00Z info starting"] + decoy_lines() + [
        f"2026-03-0{i + 1}T10:00:01Z GET https://api.telegram.org/bot{tg}/getUpdates 200",
        f'{{"level":"info","msg":"ws connect","auth":{{"gatewayToken":"{gw2}"}}}}',
        f"slack: connected with {sl}",
    ]
    n = len(logs)
    write_planted(os.path.join(base, "logs/gateway.log"), logs, {n - 2: "telegram", n - 1: "gateway-token", n: "slack-bot"})
    tr = decoy_lines() + [
        json.dumps({"type": "toolResult", "content": json.dumps({"access_token": MAKERS["jwt"](), "refresh_token": ref})}),
        json.dumps({"type": "message", "text": f"the gateway token is {MAKERS['gateway-token']()}"}),
        json.dumps({"type": "toolCall", "args": {"command": f"curl -s https://api.telegram.org/bot{MAKERS['telegram']()}/sendMessage -d text=hi"}}),
    ]
    n = len(tr)
    write_planted(os.path.join(base, "agents/main/sessions/adv.jsonl"), tr, {n - 2: "google-refresh", n - 1: "gateway-token", n: "telegram"})
    write_planted(os.path.join(base, "deploy.sh"), ["#!/bin/sh", "cat > .env <<EOF", f"GROQ_API_KEY={MAKERS['groq']()}", "EOF",
                  f"openclaw channels add telegram --token {MAKERS['telegram']()}"], {3: "groq", 5: "telegram"})
    write_planted(os.path.join(base, "config.yaml"), ["providers:", "  openai:", f"    api_key: {MAKERS['openai-project']()}",
                  "  local:", "    api_key: ollama-local"], {3: "openai-project"})
    write_planted(os.path.join(base, "creds.ini"), ["[default]", f"aws_access_key_id = {MAKERS['aws-key-id']()}",
                  f"aws_secret_access_key = {MAKERS['aws-secret']()}", "region = eu-west-1"], {2: "aws-key-id", 3: "aws-secret"})
    write_planted(os.path.join(base, "bot.toml"), ["[discord]", f'token = "{MAKERS["discord"]()}"', "[local]", 'api_key = "EMPTY"'], {2: "discord"})
    write_planted(os.path.join(base, "ai.openclaw.gateway.plist"), ["<dict>", "<key>OPENCLAW_GATEWAY_TOKEN</key>",
                  f"<string>{MAKERS['gateway-token']()}</string>", "</dict>"], {3: "gateway-token"})
    write_planted(os.path.join(base, "openclaw-gateway.service"), ["[Service]",
                  f"Environment=TELEGRAM_BOT_TOKEN={MAKERS['telegram']()}", "Environment=OLLAMA_API_KEY=ollama-local"], {2: "telegram"})


for i in range(3):
    adversarial(i)

with open(os.path.join(out, "planted.json"), "w") as f:
    json.dump(planted, f, indent=1)
print(f"{total / 1048576:.0f} MiB in {len(sizes)} files, {len(planted)} planted credentials")
