#!/usr/bin/env bash
# Builds clawvault and runs its main job on the embedded default (the age backend:
# no keychain, no server): a throwaway OpenClaw home, a pasted key moved into the
# vault, the profile file left holding only a reference, and OpenClaw's exec
# request answered the way the gateway asks for it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=$PWD/target/release/clawvault
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export OPENCLAW_STATE_DIR="$demo/openclaw"
umask 077
printf 'demo passphrase - use a real one\n' > "$demo/passphrase"

echo "== clawvault init (age backend, Argon2id-wrapped identity)"
"$bin" init --backend age --passphrase-file "$demo/passphrase"

echo "== paste an API key (from stdin; never from argv)"
printf 'sk-ant-api03-DEMO-not-a-real-key\n' | "$bin" models auth paste-api-key --provider anthropic
printf 'sk-ant-oat01-DEMO-not-a-real-token\n' | "$bin" models auth paste-token --provider anthropic --expires-in 365d

echo "== auth-profiles.json now holds references only"
cat "$OPENCLAW_STATE_DIR/agents/main/agent/auth-profiles.json"

echo "== models status"
"$bin" models status

echo "== OpenClaw's exec request, answered with a bare environment and no TTY"
printf '{"protocolVersion":1,"provider":"clawvault","ids":["main/anthropic:default","main/anthropic:manual","main/openai:default"]}' |
  (cd / && env -i "$bin" resolve --state-dir "$OPENCLAW_STATE_DIR" --passphrase-file "$demo/passphrase")

if command -v age >/dev/null; then
  echo "== the stock age CLI reads a blob with the exported identity (no lock-in)"
  "$bin" identity export --passphrase-file "$demo/passphrase" > "$demo/identity.txt"
  age -d -i "$demo/identity.txt" "$OPENCLAW_STATE_DIR/vault/blobs/main%2Fanthropic%3Adefault.age"; echo
fi
