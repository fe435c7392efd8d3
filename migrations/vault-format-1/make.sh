#!/bin/sh
# How the vault-format-1 fixture was generated (once, with clawvault 0.1.0 built from
# main at cb4bed6, on 2026-11-24). It is kept as a record. Do NOT run it again to
# "refresh" the fixture: the committed bytes are the point (they are what a format-1
# vault written by an older clawvault looks like). It refuses to overwrite before/;
# after/ was then made with `cp -r before after` and stdout.json by running `command`.
#
#   migrations/vault-format-1/make.sh [path/to/clawvault]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-"$here/../../target/debug/clawvault"}
if [ -e "$here/before" ]; then
    echo "$here/before exists; the fixture is never regenerated, only added to" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
state="$tmp/state"
mkdir -m 700 "$state"
printf '%s\n' "$(cat "$here/passphrase")" >"$tmp/pw"
chmod 600 "$tmp/pw"
cv() { env -i PATH="$PATH" HOME="$tmp" OPENCLAW_STATE_DIR="$state" "$bin" "$@"; }

# Cheap KDF parameters (Argon2id, 1 MiB, 1 pass) so the test unlocks in milliseconds.
cv init --backend age --kdf-memory-mib 1 --kdf-iterations 1 --passphrase-file "$tmp/pw"
# Values are in ../secrets.json (written by hand, fixture values only).
printf '%s\n' sk-ant-api03-FIXTURE-vault-format-1-one |
    cv models auth paste-api-key --provider anthropic
printf '%s\n' sk-ant-oat01-FIXTURE-vault-format-1-two |
    cv models auth paste-token --provider anthropic --profile-id anthropic:manual
printf '%s\n' sk-proj-FIXTURE-vault-format-1-three |
    cv models auth paste-api-key --provider openai --agent work

mkdir -p "$here/before"
(cd "$state" && find . -type f ! -name '*.lock' | sort | while read -r f; do
    mkdir -p "$here/before/$(dirname "$f")"
    cp "$f" "$here/before/$f"
done)
find "$here/before" -type f | sort
