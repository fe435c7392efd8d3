//! `doctor` on a generated OpenClaw home: every planted credential kind is found at
//! the right file and line, no decoy is reported, and no output holds a secret.
//!
//! Secrets are built at run time from a prefix and random characters, so this file
//! holds nothing that looks like a real key.
// Unix only: file modes, symlinks and Unix host files.
#![cfg(unix)]

#[path = "../../src/seeded.rs"]
mod seeded;

mod audit;
mod env_hints;
mod fix;
mod host;
mod output;
mod planted;
mod secrets;
mod state;
mod vault;
