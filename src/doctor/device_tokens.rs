//! OpenClaw's own device pairing tokens (`device_auth_tokens` in
//! `state/openclaw.sqlite`): the gateway must read them itself and OpenClaw has
//! no SecretRef for them, so no clawvault or OpenClaw command can move them.
//! doctor names them as information, with that said plainly, instead of an
//! error whose fix cannot work.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// SHA-256 of every `device_auth_tokens.token` in the database `path` belongs
/// to (for `-wal`/`-journal`/`-shm` files, the main database). Kept in memory
/// only, to compare with scan hits; empty when the table is absent or unreadable.
pub fn device_token_hashes(path: &Path) -> HashSet<[u8; 32]> {
    let mut out = HashSet::new();
    let db = main_db(path);
    // Read the file as it is, creating no -shm/-wal next to it (doctor must not
    // change the state it audits).
    let Ok(c) = crate::openclaw::sqlite::open_immutable(&db) else {
        return out;
    };
    let Ok(mut st) = c.prepare("SELECT token FROM device_auth_tokens") else {
        return out;
    };
    let Ok(rows) = st.query_map([], |r| r.get::<_, String>(0)) else {
        return out;
    };
    for t in rows.flatten() {
        out.insert(Sha256::digest(t.as_bytes()).into());
    }
    out
}

fn main_db(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    for suf in ["-wal", "-journal", "-shm"] {
        if let Some(base) = s.strip_suffix(suf) {
            return PathBuf::from(base);
        }
    }
    path.to_path_buf()
}

pub const CHECK_ID: &str = "info.openclaw-device-token";
pub const FIX_HINT: &str = "none exists: OpenClaw reads its device pairing tokens itself and has no SecretRef for them; keep the state dir 0700 and re-pair the device (`openclaw devices`) if this file ever leaked";
