#!/usr/bin/env bash
# The whole test suite, with a real Secret Service (gnome-keyring in a private
# D-Bus session). `.ci/run` installs the packages first; see README.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --all-targets --locked 2>/dev/null || cargo build --all-targets
exec scripts/with-secret-service.sh cargo test --all-targets -- --test-threads=2
