//! `<vault>/resolve-errors.log`: why `resolve` (run by OpenClaw, whose own log says
//! only "exited with code 1") could not serve a batch. One line per failure: time,
//! the ids asked for (ids, never values) and clawvault's one-line reason. 0600,
//! opened without following symlinks, rotated to `.1` past 256 KiB.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Rotate past this size.
pub const MAX_BYTES: u64 = 256 * 1024;

pub fn path(vault_dir: &Path) -> PathBuf {
    vault_dir.join("resolve-errors.log")
}

/// Append one failure. Best effort: a log that cannot be written never changes
/// `resolve`'s answer to OpenClaw.
pub fn append(vault_dir: &Path, ids: &[String], reason: &str) {
    let p = path(vault_dir);
    if std::fs::symlink_metadata(&p)
        .map(|m| m.len() > MAX_BYTES)
        .unwrap_or(false)
    {
        let _ = std::fs::rename(&p, vault_dir.join("resolve-errors.log.1"));
    }
    let Ok(mut f) = crate::fsutil::open_append_private(&p, false) else {
        return;
    };
    let mut shown: Vec<&str> = ids.iter().take(20).map(String::as_str).collect();
    if ids.len() > 20 {
        shown.push("...");
    }
    let reason: String = reason.replace(['\n', '\r'], " ");
    let _ = writeln!(
        f,
        "{} resolve failed for {} id(s) [{}]: {reason}",
        crate::fsutil::now_ms(),
        ids.len(),
        shown.join(", ")
    );
}
