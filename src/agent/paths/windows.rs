//! Windows: one place per vault and user. The endpoint is the named pipe
//! `\\.\pipe\clawvault-<user SID>-<vault-id>`: the SID keeps two users' agents of
//! a copied vault apart (and the server creates the first instance, so a name
//! already taken by someone else is refused, not shared). The pid file and log
//! live in the vault directory, which is owner-only already.

use std::path::{Path, PathBuf};

use super::AgentPaths;

/// The pipe name for this user and vault.
pub fn pipe_name(vault_id: &str) -> PathBuf {
    let me = crate::winsec::current_user()
        .map(|s| s.string())
        .unwrap_or_else(|_| "unknown-user".into());
    // Pipe names may hold any character but a backslash; vault ids have none, but
    // a hand-edited manifest is not trusted to keep it so.
    let id: String = vault_id
        .chars()
        .map(|c| if c == '\\' || c.is_control() { '_' } else { c })
        .collect();
    PathBuf::from(format!(r"\\.\pipe\clawvault-{me}-{id}"))
}

/// Where `agent run` listens.
pub fn for_bind(vault_dir: &Path, vault_id: &str) -> AgentPaths {
    AgentPaths::in_dir(vault_dir.to_path_buf(), pipe_name(vault_id), "agent")
}

/// Every place an agent for this vault may listen: the one pipe.
pub fn candidates(vault_dir: &Path, vault_id: &str) -> Vec<AgentPaths> {
    vec![for_bind(vault_dir, vault_id)]
}
