#!/usr/bin/env bash
# Builds clawvault and runs its main job on the embedded default (the age backend:
# no keychain, no server): a throwaway OpenClaw home with plaintext credentials in
# its auth store and its .env, one `clawvault migrate`, a check that no byte of
# them is left outside the vault, and OpenClaw's exec request answered the way the
# gateway asks for it. (With the real `openclaw` on PATH, `migrate` also runs its
# `secrets apply` / `doctor --fix` / `secrets audit`; here it is told not to.)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${CLAWVAULT_DEMO_BIN:-}" ] || cargo build --release -q
bin=${CLAWVAULT_DEMO_BIN:-$PWD/target/release/clawvault}
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export OPENCLAW_STATE_DIR="$demo/openclaw"
umask 077
mkdir -p "$OPENCLAW_STATE_DIR/agents/main/agent"
printf 'demo passphrase - use a real one\n' > "$demo/passphrase"

key=sk-ant-api03-DEMO-not-a-real-key-0000000000
token=sk-ant-oat01-DEMO-not-a-real-token-000000000
groq=gsk_DEMO-not-a-real-groq-key-000000000000
echo "== a plaintext OpenClaw home (JSON-era auth store and a .env)"
cat > "$OPENCLAW_STATE_DIR/agents/main/agent/auth-profiles.json" <<JSON
{"version": 1, "profiles": {
  "anthropic:default": {"type": "api_key", "provider": "anthropic", "key": "$key"},
  "anthropic:work": {"type": "token", "provider": "anthropic", "token": "$token", "expires": 4102444800000}}}
JSON
printf 'GROQ_API_KEY=%s\nLOG_LEVEL=info\n' "$groq" > "$OPENCLAW_STATE_DIR/.env"
grep -rl -e "$key" -e "$token" -e "$groq" "$OPENCLAW_STATE_DIR" | sed 's/^/plaintext in /'

echo "== clawvault init (age backend, Argon2id-wrapped identity)"
"$bin" init --backend age --passphrase-file "$demo/passphrase"

echo "== clawvault migrate (the one command)"
"$bin" migrate --no-openclaw --passphrase-file "$demo/passphrase"

echo "== what is left in plaintext outside the vault"
if grep -rl --exclude-dir=vault -e "$key" -e "$token" -e "$groq" "$OPENCLAW_STATE_DIR"; then
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
