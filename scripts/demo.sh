#!/usr/bin/env bash
# Builds clawvault and runs its main job on the embedded default (the age backend:
# no keychain, no server): a throwaway OpenClaw home with plaintext credentials in
# its auth store and its .env, one `clawvault migrate`, a check that no byte of
# them is left outside the vault (nor in the transcript and shell history that held
# copies), and OpenClaw's exec request answered the way the
# gateway asks for it. (With the real `openclaw` on PATH, `migrate` also runs its
# `secrets apply` / `doctor --fix` / `secrets audit`; here it is told not to.)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${CLAWVAULT_DEMO_BIN:-}" ] || cargo build --release -q
bin=${CLAWVAULT_DEMO_BIN:-$PWD/target/release/clawvault}
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export OPENCLAW_STATE_DIR="$demo/openclaw"
# migrate's host pass audits and fixes $HOME (histories, units): the demo's own.
export HOME="$demo/home"
umask 077
mkdir -p "$OPENCLAW_STATE_DIR/agents/main/agent" "$OPENCLAW_STATE_DIR/agents/main/sessions" "$HOME"
printf 'demo passphrase - use a real one\n' > "$demo/passphrase"

# Fake values (random letters, no issuer knows them), shaped like real ones.
key=sk-ant-api03-Qm7vXr2LpT9wKd4HsZ1nBy6cFj8eGu3aNo5iWq0tRh-Ve7xYb2MkAA
token=sk-ant-oat01-Lw4Tz9QpXe2Vn7Kr5Hd1Ms8Gy3Bc6Fj0Ua4Ri9No2Wt7Ek5Yh-Pq3AA
groq=gsk_Rt5Yw8Ln2Qz6Kp9Xv3Hm7Bc1Dj4Fs0Ge5Ua8Ni2Wo6Ty9Er3
echo "== a plaintext OpenClaw home (JSON-era auth store and a .env)"
cat > "$OPENCLAW_STATE_DIR/agents/main/agent/auth-profiles.json" <<JSON
{"version": 1, "profiles": {
  "anthropic:default": {"type": "api_key", "provider": "anthropic", "key": "$key"},
  "anthropic:work": {"type": "token", "provider": "anthropic", "token": "$token", "expires": 4102444800000}}}
JSON
printf 'GROQ_API_KEY=%s\nLOG_LEVEL=info\n' "$groq" > "$OPENCLAW_STATE_DIR/.env"
# Copies where no store points: a session transcript and the shell history.
printf '{"type":"message","role":"user","text":"use this key: %s"}\n' "$key" > "$OPENCLAW_STATE_DIR/agents/main/sessions/s1.jsonl"
printf 'ls\nexport GROQ_API_KEY=%s\n' "$groq" > "$HOME/.bash_history"
grep -rl -e "$key" -e "$token" -e "$groq" "$demo" | sed "s|^$demo/|plaintext in |"

echo "== clawvault init (age backend, Argon2id-wrapped identity)"
"$bin" init --backend age --passphrase-file "$demo/passphrase"

echo "== clawvault migrate (the one command)"
"$bin" migrate --no-openclaw --passphrase-file "$demo/passphrase"

echo "== what is left in plaintext outside the vault (state dir and home)"
if grep -rl --exclude-dir=vault -e "$key" -e "$token" -e "$groq" "$demo"; then
  echo "FAILED: plaintext left"; exit 1
fi
echo "nothing"
cat "$OPENCLAW_STATE_DIR/.env"

echo "== paste one more key (from stdin; never from argv)"
printf 'sk-proj-DEMO-not-a-real-openai-key-000000\n' | "$bin" models auth paste-api-key --provider openai --profile-id openai:manual

echo "== models status"
"$bin" models status

echo "== OpenClaw's exec request, answered with a bare environment and no TTY"
printf '{"protocolVersion":1,"provider":"clawvault","ids":["main/anthropic:default","main/groq:default","main/openai:manual","main/nope:default"]}' |
  (cd / && env -i "$bin" resolve --state-dir "$OPENCLAW_STATE_DIR" --passphrase-file "$demo/passphrase")
echo

if command -v age >/dev/null; then
  echo "== the stock age CLI reads a blob with the exported identity (no lock-in)"
  "$bin" identity export --passphrase-file "$demo/passphrase" > "$demo/identity.txt"
  age -d -i "$demo/identity.txt" "$OPENCLAW_STATE_DIR/vault/blobs/main%2Fanthropic%3Adefault.age"; echo
fi
