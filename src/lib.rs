//! clawvault: an encrypted secrets vault for OpenClaw.
//!
//! OpenClaw keeps model-provider credentials in `auth-profiles.json`. clawvault keeps
//! the profile metadata there, in OpenClaw's own format, and moves the token
//! material into a vault ([`vault`]) whose secrets live in a [`backend`]: age files
//! or the OS keychain. OpenClaw gets them back through its exec SecretRef protocol.
//!
//! The library never touches the terminal; the CLI lives in `src/cli/`.

pub mod access_log;
pub mod agent;
pub mod auth;
pub mod authstore;
pub mod backend;
pub mod backup;
pub mod doctor;
pub mod envfile;
pub mod error;
pub mod fsutil;
pub mod fuzzing;
pub mod importenv;
pub mod migrate;
pub mod migrate_journal;
pub mod openclaw;
pub mod paths;
pub mod profiles;
pub mod providers;
pub mod resolve;
pub mod resolve_log;
pub mod secret;
#[cfg(test)]
pub(crate) mod seeded;
pub mod strictjson;
pub mod trust;
pub mod unlock;
pub mod vault;
#[cfg(windows)]
pub mod winsec;

pub use error::{Error, Result};
