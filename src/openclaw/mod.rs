//! Wiring OpenClaw to clawvault: the exec provider declaration in `openclaw.json`
//! ([`config`]), `secrets apply` plans for SQLite-era installs ([`plan`]), and
//! OpenClaw's SQLite auth stores ([`sqlite`]), read-only for planning and written
//! only by `scrub`, which removes the plaintext OpenClaw 2026.9.6 leaves behind.
//!
//! Facts checked against OpenClaw 2026.9.6 (see `docs/openclaw.md`):
//! - the shared store is the row `state_key = 'authProfiles.store'` of table
//!   `config_machine_state` in `<state>/state/openclaw.sqlite` (column `value_json`);
//! - an agent's own store is the row `store_key = 'primary'` of table
//!   `auth_profile_store` in `agents/<id>/agent/openclaw-agent.sqlite` (column
//!   `store_json`);
//! - both hold the `{version, profiles}` document of `auth-profiles.json`.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::paths::StateDir;

pub mod agents;
pub mod apply;
pub mod config;
pub mod config_env;
pub mod config_secrets;
pub mod plan;
pub mod residue;
pub mod runner;
pub mod secret_store;
pub mod sqlite;
pub mod surface;

/// Errors from the OpenClaw integration. Never carries secret material.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OpenClawError {
    #[error("OpenClaw will refuse {path} as an exec provider command: {reason}")]
    UntrustedCommand { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Sqlite { path: PathBuf, reason: String },
    #[error("{what} is in use by {holder}; stop the OpenClaw gateway (`openclaw gateway stop`) and run the command again - nothing was changed")]
    InUse { what: String, holder: String },
    #[error("{path} still holds plaintext of {count} migrated credential(s) after vacuum and checkpoint: {reason}")]
    ResidueRemains {
        path: PathBuf,
        count: usize,
        reason: String,
    },
    #[error("the resolver check failed: {0}")]
    ProbeFailed(String),
}

impl OpenClawError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            OpenClawError::UntrustedCommand { .. } => Some(
                "install clawvault as a regular file you own (e.g. `install -m 0755 target/release/clawvault ~/.local/bin/`) and run register from there",
            ),
            OpenClawError::ResidueRemains { .. } => {
                Some("stop every OpenClaw process and run `clawvault openclaw scrub` again")
            }
            OpenClawError::ProbeFailed(_) => Some(
                "run `clawvault resolve` by hand with the same options; give --passphrase-file F for an age vault",
            ),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, OpenClawError>;

/// `openclaw.json`: `$OPENCLAW_CONFIG_PATH`, else `<state>/openclaw.json`.
pub fn config_path(state: &StateDir) -> PathBuf {
    std::env::var_os("OPENCLAW_CONFIG_PATH")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| state.path.join("openclaw.json"))
}

/// Make a path absolute without requiring it to exist (for paths recorded in
/// OpenClaw's config, which runs the resolver with another cwd).
pub fn absolute(p: &Path) -> std::io::Result<PathBuf> {
    match std::fs::canonicalize(p) {
        Ok(c) => Ok(c),
        Err(_) => std::path::absolute(p),
    }
}
