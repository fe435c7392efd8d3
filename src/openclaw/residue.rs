//! What OpenClaw leaves behind once its files hold references: config backup
//! rotations (`openclaw.json.bak`, `.bak.1`, ...), retired auth stores
//! (`auth-profiles.json.migrated-*`, `.bak*`) and generated `models.json` files that
//! still carry resolved keys.
//!
//! Archives are removed after an age-encrypted backup (nothing reads them; a rewrite
//! of a JSON5 backup could not be lossless). `models.json` is regenerated data: each
//! string equal to a vault secret is replaced by OpenClaw's own non-secret marker
//! `secretref-managed`, after an encrypted backup.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::fsutil;
use crate::paths::StateDir;

/// OpenClaw's marker for a key managed by a SecretRef (what it writes into
/// generated `models.json` for such providers).
pub const SECRETREF_MARKER: &str = "secretref-managed";

/// Shorter values are not looked for: they would match by chance.
const MIN_NEEDLE: usize = 8;

/// What was done to one file.
#[derive(Debug, Clone)]
pub struct ResidueFix {
    pub path: PathBuf,
    /// "removed" or "rewrote".
    pub action: &'static str,
    pub backup: PathBuf,
    pub count: usize,
}

/// Where OpenClaw keeps archives of files that held credentials.
pub fn archives(state: &StateDir, config: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let cfg_name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "openclaw.json".into());
    let mut scan = |dir: &Path, prefixes: &[String]| {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if prefixes.iter().any(|p| name.starts_with(p.as_str()))
                && e.file_type().map(|t| t.is_file()).unwrap_or(false)
            {
                out.push(e.path());
            }
        }
    };
    if let Some(dir) = config.parent() {
        // `.last-good`: the copy OpenClaw promotes after a healthy start and may
        // restore from (only while its hash matches its health state; without it,
        // recovery is skipped and the next healthy start writes a new one).
        scan(
            dir,
            &[format!("{cfg_name}.bak"), format!("{cfg_name}.last-good")],
        );
    }
    let auth = [
        "auth-profiles.json.migrated-".to_string(),
        "auth-profiles.json.bak".to_string(),
        "auth.json.migrated-".to_string(),
        "auth.json.bak".to_string(),
    ];
    for id in state.agent_ids() {
        scan(&state.agent_dir(&id), &auth);
    }
    scan(&state.path.join("agent"), &auth);
    out.sort();
    out.dedup();
    out
}

fn holds(bytes: &[u8], needles: &[&[u8]]) -> usize {
    needles
        .iter()
        .filter(|n| n.len() >= MIN_NEEDLE && bytes.windows(n.len()).any(|w| w == **n))
        .count()
}

/// A retired auth store OpenClaw's doctor archived after importing it into SQLite:
/// nothing reads it again, and OpenClaw's audit flags it (`LEGACY_RESIDUE`) whatever
/// it holds.
pub fn is_import_archive(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy().contains(".json.migrated-"))
        .unwrap_or(false)
}

/// Keeps an encrypted backup of a file's bytes under a label; returns where it went.
type BackupFn<'a> = dyn Fn(&str, &[u8]) -> Result<PathBuf, String> + 'a;

/// Remove each archive that holds a vault secret (and every import archive), after
/// `backup` kept it encrypted.
pub fn remove_archives(
    files: &[PathBuf],
    needles: &[&[u8]],
    dry_run: bool,
    backup: &BackupFn<'_>,
) -> Result<Vec<ResidueFix>, String> {
    let mut done = Vec::new();
    for f in files {
        let Ok(Some(bytes)) = fsutil::read_private(f) else {
            continue;
        };
        let bytes = zeroize::Zeroizing::new(bytes);
        let count = holds(&bytes, needles);
        if count == 0 && !is_import_archive(f) {
            continue;
        }
        if dry_run {
            done.push(ResidueFix {
                path: f.clone(),
                action: "would remove",
                backup: PathBuf::new(),
                count,
            });
            continue;
        }
        let label = f
            .file_name()
            .map(|n| {
                n.to_string_lossy().replace(
                    |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
                    "_",
                )
            })
            .unwrap_or_default();
        let b = backup(&label, &bytes)?;
        std::fs::remove_file(f).map_err(|e| format!("{}: {e}", f.display()))?;
        if let Some(dir) = f.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        done.push(ResidueFix {
            path: f.clone(),
            action: "removed",
            backup: b,
            count,
        });
    }
    Ok(done)
}

/// Generated `agents/*/agent/models.json` files.
pub fn models_json_files(state: &StateDir) -> Vec<PathBuf> {
    state
        .agent_ids()
        .into_iter()
        .map(|id| state.agent_dir(&id).join("models.json"))
        .filter(|p| p.is_file())
        .collect()
}

/// Replace every string in `v` equal to a needle with the marker; returns how many.
fn replace_strings(v: &mut Value, needles: &[&[u8]]) -> usize {
    match v {
        Value::String(s) if s.len() >= MIN_NEEDLE && needles.contains(&s.as_bytes()) => {
            *s = SECRETREF_MARKER.to_string();
            1
        }
        Value::Array(a) => a.iter_mut().map(|x| replace_strings(x, needles)).sum(),
        Value::Object(o) => o.values_mut().map(|x| replace_strings(x, needles)).sum(),
        _ => 0,
    }
}

/// Rewrite each `models.json` that holds a vault secret with OpenClaw's marker in
/// its place (after an encrypted backup). A file that is not JSON is left alone and
/// reported by the caller's audit.
pub fn scrub_models_json(
    files: &[PathBuf],
    needles: &[&[u8]],
    dry_run: bool,
    backup: &BackupFn<'_>,
) -> Result<Vec<ResidueFix>, String> {
    let mut done = Vec::new();
    for f in files {
        let Ok(Some(bytes)) = fsutil::read_private(f) else {
            continue;
        };
        let bytes = zeroize::Zeroizing::new(bytes);
        if holds(&bytes, needles) == 0 {
            continue;
        }
        let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let count = replace_strings(&mut v, needles);
        if count == 0 {
            continue;
        }
        if dry_run {
            done.push(ResidueFix {
                path: f.clone(),
                action: "would rewrite",
                backup: PathBuf::new(),
                count,
            });
            continue;
        }
        let b = backup("models.json", &bytes)?;
        let _lock = fsutil::FileLock::acquire(f, fsutil::LOCK_WAIT).map_err(|e| e.to_string())?;
        let mut out = serde_json::to_vec_pretty(&v).map_err(|e| e.to_string())?;
        out.push(b'\n');
        fsutil::write_atomic(f, &out).map_err(|e| e.to_string())?;
        done.push(ResidueFix {
            path: f.clone(),
            action: "rewrote",
            backup: b,
            count,
        });
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_json_keys_become_the_marker() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("models.json");
        std::fs::write(
            &f,
            br#"{"providers":{"openai":{"apiKey":"sk-proj-SECRET-123456","baseUrl":"https://x"},"o":{"apiKey":"short"}}}"#,
        )
        .unwrap();
        let kept = std::cell::RefCell::new(Vec::new());
        let backup = |_: &str, b: &[u8]| {
            kept.borrow_mut().push(b.to_vec());
            Ok(d.path().join("b.age"))
        };
        let r = scrub_models_json(
            std::slice::from_ref(&f),
            &[b"sk-proj-SECRET-123456", b"short"],
            false,
            &backup,
        )
        .unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].count, 1);
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("SECRET"));
        assert!(
            text.contains(SECRETREF_MARKER) && text.contains("https://x") && text.contains("short")
        );
        assert!(String::from_utf8_lossy(&kept.borrow()[0]).contains("SECRET"));
    }

    /// OpenClaw 2026.9.6's gateway keeps `openclaw.json.last-good` (a copy of the
    /// config from before the refs): an archive like the `.bak` rotations.
    #[test]
    fn the_last_good_config_copy_is_an_archive() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("openclaw.json");
        for n in [
            "openclaw.json",
            "openclaw.json.last-good",
            "openclaw.json.bak",
            "other.json",
        ] {
            std::fs::write(d.path().join(n), b"{}").unwrap();
        }
        let state = StateDir {
            path: d.path().to_path_buf(),
            source: crate::paths::StateDirSource::Flag,
        };
        let names: Vec<String> = archives(&state, &cfg)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["openclaw.json.bak", "openclaw.json.last-good"]);
    }

    #[test]
    fn archives_are_removed_only_when_they_hold_a_secret() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("openclaw.json.bak");
        let b = d.path().join("openclaw.json.bak.1");
        std::fs::write(&a, b"{ token: \"gw-secret-token-1\" }").unwrap();
        std::fs::write(&b, b"{ token: \"nothing\" }").unwrap();
        let backup = |_: &str, _: &[u8]| Ok(d.path().join("x.age"));
        let r = remove_archives(
            &[a.clone(), b.clone()],
            &[b"gw-secret-token-1"],
            false,
            &backup,
        )
        .unwrap();
        assert_eq!(r.len(), 1);
        assert!(!a.exists() && b.exists());
    }
}
