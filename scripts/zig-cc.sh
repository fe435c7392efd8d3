#!/bin/sh
# A C compiler for cross checks: `zig cc` (PyPI's ziglang) for the target named by
# ZIG_TARGET (e.g. aarch64-macos). Drops the --target/-mmacosx-version-min the cc crate
# adds, which zig spells -target.
for a in "$@"; do
  shift
  case "$a" in
    --target=*|-mmacosx-version-min=*) ;;
    *) set -- "$@" "$a" ;;
  esac
done
exec python3 -m ziglang cc -target "${ZIG_TARGET:?set ZIG_TARGET}" "$@"
