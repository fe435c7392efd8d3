//! Which auth-store format an install uses.

use crate::openclaw::sqlite;
use crate::paths::StateDir;

/// The auth-store format of one OpenClaw install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `auth-profiles.json` per agent (OpenClaw up to 2026.5).
    Json,
    /// SQLite stores (OpenClaw 2026.6 and later).
    Sqlite,
}

/// SQLite era when OpenClaw's shared state database or any agent database exists:
/// from then on OpenClaw refuses a plaintext-era `auth-profiles.json`
/// (`AUTH_PROFILE_MIGRATION_REQUIRED`) until `openclaw doctor --fix` imports it.
pub fn era(state: &StateDir) -> Era {
    if sqlite::shared_db_path(state).exists()
        || state
            .agent_ids()
            .iter()
            .any(|a| sqlite::agent_db_path(state, a).exists())
    {
        Era::Sqlite
    } else {
        Era::Json
    }
}
