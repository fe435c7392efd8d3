//! The migrate journal, `<vault>/migrate-journal.json`, and `migrate --rollback`.
//!
//! The journal is plaintext JSON in the vault directory, so it must not help anyone
//! who steals the disk: it holds paths, backup file names and *keyed* fingerprints
//! (HMAC-SHA256 under a key derived from the vault identity, which only an unlocked
//! vault has), never an unkeyed hash of the secret-bearing original (a rewritten
//! `.env` keeps every other byte, so a plain SHA-256 of the original would let a
//! wordlist recover a weak password offline).
//!
//! Paths are stored relative to the state directory (`root: "state"`) and backups
//! relative to the vault directory, and the journal records the vault id it belongs
//! to. A rollback resolves them against the *current* state dir and vault, so running
//! it in a copied state dir never reaches back into the original, and it refuses to
//! restore a file OpenClaw has since imported into its SQLite store.

use std::path::{Component, Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::backend::EntryName;
use crate::backup;
use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock};
use crate::migrate::Report;
use crate::paths::StateDir;
use crate::secret::ExposeSecret;
use crate::vault::Vault;

/// Current journal format: keyed fingerprints, relative paths, vault id.
pub const JOURNAL_VERSION: u32 = 2;

/// The journal. Holds paths, backup files and keyed fingerprints; never material.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    pub version: u32,
    /// The vault this journal belongs to; a rollback refuses a journal of another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    /// The state directory migrate ran against (absolute). Used only to decide
    /// whether files outside the state dir (an imported project `.env`) may be
    /// restored: never to find files inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    pub entries: Vec<JournalEntry>,
    /// The state dir of this run (not stored).
    #[serde(skip)]
    current_state: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// `"state"`: `path` is relative to the state dir. `"absolute"`: a file outside
    /// it (import-env of a project `.env`). Absent in version-1 journals (absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    pub path: PathBuf,
    /// The encrypted backup, relative to the vault dir (`backups/<name>.age`).
    /// `None` when the file did not exist before migrate created it.
    pub backup: Option<PathBuf>,
    /// `hmac-sha256:<hex>` of the original bytes, keyed by the vault identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Version-1 journals: an unkeyed SHA-256. Read (and upgraded away), never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Vault entries this migration wrote.
    pub stored: Vec<String>,
    pub status: String,
    pub at: u64,
}

fn journal_path(vault: &Vault) -> PathBuf {
    vault.dir().join("migrate-journal.json")
}

/// The fingerprint key: HMAC-SHA256(identity, label || vault id). Only an unlocked
/// vault can compute it.
fn fingerprint_key(vault: &Vault) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let id = vault.identity_string()?;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(id.expose_secret().as_bytes())
        .expect("HMAC takes any key length");
    m.update(b"clawvault migrate-journal fingerprint v2\0");
    m.update(vault.id().as_bytes());
    Ok(zeroize::Zeroizing::new(m.finalize().into_bytes().to_vec()))
}

/// The keyed fingerprint of `bytes` for this vault.
pub fn fingerprint(vault: &Vault, bytes: &[u8]) -> Result<String> {
    let key = fingerprint_key(vault)?;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("any key length");
    m.update(bytes);
    let d = m.finalize().into_bytes();
    Ok(format!(
        "hmac-sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Load the journal without knowing the state dir: entries are recorded with
/// absolute paths. Prefer [`load_journal_for`].
pub fn load_journal(vault: &Vault) -> Result<Journal> {
    load(vault, None)
}

/// Load the journal for a run against `state`: new entries under it are recorded
/// relative to it.
pub fn load_journal_for(vault: &Vault, state: &StateDir) -> Result<Journal> {
    load(vault, Some(&state.path))
}

fn load(vault: &Vault, state: Option<&Path>) -> Result<Journal> {
    let p = journal_path(vault);
    fsutil::remove_dead_temp_files(vault.dir());
    let current_state = state.map(|s| std::path::absolute(s).unwrap_or_else(|_| s.to_path_buf()));
    let mut j: Journal = match fsutil::read_private(&p)? {
        None => Journal {
            version: JOURNAL_VERSION,
            ..Default::default()
        },
        Some(b) => serde_json::from_slice(&b).map_err(|e| {
            Error::Other(format!(
                "{} is damaged ({e}); move it aside to continue",
                p.display()
            ))
        })?,
    };
    if let Some(id) = &j.vault_id {
        if id != vault.id() {
            return Err(Error::Other(format!(
                "{} belongs to vault {id}, not to this vault ({}); it was copied from another vault: move it aside",
                p.display(),
                vault.id()
            )));
        }
    }
    // Without a state dir from the caller (import-env), entries under the state dir
    // the journal was written for are still recorded relative to it.
    j.current_state = current_state.or_else(|| j.state_dir.clone());
    Ok(j)
}

/// Write the journal. Every write drops the unkeyed fingerprints of version 1
/// (replacing them with keyed ones when the vault is unlocked).
pub(crate) fn save_journal(vault: &Vault, j: &Journal) -> Result<()> {
    let mut out = Journal {
        version: JOURNAL_VERSION,
        vault_id: Some(vault.id().to_string()),
        state_dir: j.state_dir.clone().or_else(|| j.current_state.clone()),
        entries: j.entries.clone(),
        current_state: None,
    };
    for e in out.entries.iter_mut() {
        if let Some(old) = e.sha256.take() {
            if e.fingerprint.is_none() {
                e.fingerprint = upgrade_fingerprint(vault, e, &old);
            }
        }
        if let Some(b) = &e.backup {
            if let Ok(rel) = b.strip_prefix(vault.dir()) {
                e.backup = Some(rel.to_path_buf());
            }
        }
    }
    let mut s = serde_json::to_vec_pretty(&out).expect("journal serializes");
    s.push(b'\n');
    fsutil::write_atomic(&journal_path(vault), &s)?;
    Ok(())
}

/// A version-1 entry's SHA-256, checked against its backup and replaced by the
/// keyed fingerprint; `None` when that cannot be done now (the backup's own
/// authenticated encryption still protects it).
fn upgrade_fingerprint(vault: &Vault, e: &JournalEntry, sha: &str) -> Option<String> {
    let b = backup_path(vault, e.backup.as_ref()?).ok()?;
    let bytes = backup::read_backup(vault, &b).ok()?;
    if backup::sha256_hex(&bytes) != sha {
        return None;
    }
    fingerprint(vault, &bytes).ok()
}

/// How `path` is written in the journal: relative to the state dir when under it.
fn journal_location(j: &Journal, path: &Path) -> (Option<String>, PathBuf) {
    if let Some(state) = &j.current_state {
        if let Ok(rel) = path.strip_prefix(state) {
            if is_plain_relative(rel) {
                return (Some("state".into()), rel.to_path_buf());
            }
        }
    }
    (Some("absolute".into()), path.to_path_buf())
}

fn is_plain_relative(p: &Path) -> bool {
    !p.as_os_str().is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Where entry `e` lives for this run, or why it may not be touched.
fn resolve_entry_path(
    j: &Journal,
    state: &Path,
    e: &JournalEntry,
) -> std::result::Result<PathBuf, String> {
    match e.root.as_deref() {
        Some("state") => {
            if !is_plain_relative(&e.path) {
                return Err(format!(
                    "journal path {} is not a plain relative path; refused",
                    e.path.display()
                ));
            }
            Ok(state.join(&e.path))
        }
        _ => {
            // Absolute (version 1, or a file outside the state dir). Inside the
            // current state dir: fine. Outside: only when this is the state dir
            // the journal was written for (not a copy of it).
            if !e.path.is_absolute()
                || !e
                    .path
                    .components()
                    .all(|c| !matches!(c, Component::ParentDir))
            {
                return Err(format!(
                    "journal path {} is not usable; refused",
                    e.path.display()
                ));
            }
            if e.path.starts_with(state) {
                return Ok(e.path.clone());
            }
            let same_install = j
                .state_dir
                .as_ref()
                .map(|s| canon(s) == canon(state))
                .unwrap_or(false);
            if same_install && !points_into_other_state(&e.path) {
                Ok(e.path.clone())
            } else {
                Err(format!(
                    "outside the current state dir {} (the journal was written for {}); rollback never touches files outside the state dir and vault it runs against",
                    state.display(),
                    j.state_dir
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "an unrecorded state dir".into())
                ))
            }
        }
    }
}

/// A version-1 path into some OpenClaw state dir's agent files is never "outside".
fn points_into_other_state(p: &Path) -> bool {
    p.components().any(|c| c.as_os_str() == "agents") && p.ends_with("auth-profiles.json")
}

fn canon(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The backup file of an entry, which must be inside `<vault>/backups/`.
fn backup_path(vault: &Vault, b: &Path) -> Result<PathBuf> {
    let dir = backup::backups_dir(vault);
    let p = if b.is_absolute() {
        b.to_path_buf()
    } else if is_plain_relative(b) {
        vault.dir().join(b)
    } else {
        return Err(Error::Other(format!(
            "journal backup {} is not inside {}; refused",
            b.display(),
            dir.display()
        )));
    };
    let name_ok =
        p.parent().map(|d| canon(d) == canon(&dir)).unwrap_or(false) && p.file_name().is_some();
    if !name_ok {
        return Err(Error::Other(format!(
            "journal backup {} is not inside {}; refused",
            b.display(),
            dir.display()
        )));
    }
    Ok(p)
}

/// Open (or reuse) the journal entry for `path` before anything changes: an encrypted
/// backup of the current bytes. A re-run after a crash reuses the open entry when the
/// file is still the one that was backed up, so rollback restores the true original.
/// Needs the unlocked vault (the fingerprint is keyed by its identity).
/// A file about to lose its plaintext must have one name: rewriting one link of a
/// hard-linked file leaves the secret readable through the others.
#[cfg(unix)]
fn refuse_hard_links(path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() && m.nlink() > 1 => Err(Error::Other(format!(
            "{} has {} hard links, so the plaintext would stay readable through the others; find them with `find / -xdev -samefile {}` and remove them (or `cp {} tmp && mv tmp {}` to break the link), then re-run",
            path.display(),
            m.nlink(),
            path.display(),
            path.display(),
            path.display()
        ))),
        _ => Ok(()),
    }
}

#[cfg(windows)]
fn refuse_hard_links(path: &Path) -> Result<()> {
    match crate::fsutil::link_count(path) {
        Ok(n) if n > 1 => Err(Error::Other(format!(
            "{} has {n} hard links, so the plaintext would stay readable through the others; list them with `fsutil hardlink list \"{}\"` and remove them (or copy the file and move the copy over it to break the link), then re-run",
            path.display(),
            path.display()
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn begin(vault: &Vault, j: &mut Journal, path: &Path) -> Result<usize> {
    let abs = std::path::absolute(path).map_err(|e| fsutil::FsError::io(path, e))?;
    let path = abs.as_path();
    let current = fsutil::read_private(path)?;
    refuse_hard_links(path)?;
    let fp = match current.as_deref() {
        Some(b) => Some(fingerprint(vault, b)?),
        None => None,
    };
    let (root, rel) = journal_location(j, path);
    if let Some(i) = j.entries.iter().position(|e| {
        e.path == rel && e.root == root && e.status == "started" && e.fingerprint == fp
    }) {
        return Ok(i);
    }
    let backup = match &current {
        Some(bytes) => {
            let b = backup::write_backup(vault, path, bytes)?;
            Some(
                b.strip_prefix(vault.dir())
                    .map(Path::to_path_buf)
                    .unwrap_or(b),
            )
        }
        None => None,
    };
    fsutil::crash_point("migrate:after-backup");
    j.entries.push(JournalEntry {
        root,
        path: rel,
        backup,
        fingerprint: fp,
        sha256: None,
        stored: vec![],
        status: "started".into(),
        at: fsutil::now_ms(),
    });
    save_journal(vault, j)?;
    fsutil::crash_point("migrate:after-journal");
    Ok(j.entries.len() - 1)
}

/// Whether entry `i` is about `path` (as [`begin`] would record it).
pub(crate) fn entry_is(j: &Journal, i: usize, path: &Path) -> bool {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let (root, rel) = journal_location(j, &abs);
    let e = &j.entries[i];
    e.root == root && e.path == rel || e.root.is_none() && e.path == abs
}

pub(crate) fn finish(vault: &Vault, j: &mut Journal, i: usize) -> Result<()> {
    j.entries[i].status = "done".into();
    save_journal(vault, j)
}

/// Why OpenClaw's own store now owns `path` (so restoring the plaintext file would
/// put a stale plaintext copy beside the store OpenClaw reads), if it does.
fn imported_by_openclaw(state: &StateDir, path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    if name != "auth-profiles.json" && name != "auth.json" {
        return None;
    }
    let dir = path.parent()?;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(&format!("{name}.migrated")) {
                return Some(format!(
                    "OpenClaw has imported it (archived as {}); restoring the plaintext would leave it beside the SQLite store OpenClaw now reads",
                    dir.join(n).display()
                ));
            }
        }
    }
    let agent = dir
        .parent()
        .filter(|p| p.parent().map(|g| g.ends_with("agents")).unwrap_or(false))
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned());
    let stores = crate::openclaw::sqlite::read_all(state, agent.as_deref()).ok()?;
    let s = stores.iter().find(|s| s.doc.profiles().next().is_some())?;
    Some(format!(
        "OpenClaw now keeps these profiles in {}; restoring the plaintext file would put it beside the store OpenClaw reads",
        s.db_path.display()
    ))
}

/// Undo every migration in the journal, newest first: restore each original file byte
/// for byte from its encrypted backup (or remove a file migrate created), then delete
/// the vault entries migrate wrote. Needs the unlocked vault. Only files inside
/// `state` (and, for the install the journal was written on, the project files
/// import-env rewrote) are touched; a file OpenClaw has since imported is refused,
/// with the reason, and its vault entries are kept.
pub fn rollback(vault: &Vault, state: &StateDir) -> Result<Report> {
    let mut j = load_journal_for(vault, state)?;
    let state_abs = j
        .current_state
        .clone()
        .unwrap_or_else(|| state.path.clone());
    let mut report = Report::default();
    // The oldest open-or-done entry per path holds the true original.
    let mut seen: Vec<(Option<String>, PathBuf)> = Vec::new();
    let mut restore: Vec<usize> = Vec::new();
    for (i, e) in j.entries.iter().enumerate() {
        let key = (e.root.clone(), e.path.clone());
        if e.status != "rolled-back" && !seen.contains(&key) {
            seen.push(key);
            restore.push(i);
        }
    }
    let mut refused: Vec<(Option<String>, PathBuf)> = Vec::new();
    for &i in restore.iter().rev() {
        let e = j.entries[i].clone();
        let target = match resolve_entry_path(&j, &state_abs, &e) {
            Ok(p) => p,
            Err(why) => {
                report.add(&e.path, "*", "refused", why);
                refused.push((e.root.clone(), e.path.clone()));
                continue;
            }
        };
        if let Some(why) = imported_by_openclaw(state, &target) {
            report.add(&target, "*", "refused", why);
            refused.push((e.root.clone(), e.path.clone()));
            continue;
        }
        let _lock = FileLock::acquire(&target, fsutil::LOCK_WAIT)?;
        match &e.backup {
            Some(b) => {
                let bp = backup_path(vault, b)?;
                let bytes = backup::read_backup(vault, &bp)?;
                let ok = match (&e.fingerprint, &e.sha256) {
                    (Some(fp), _) => &fingerprint(vault, &bytes)? == fp,
                    (None, Some(sha)) => &backup::sha256_hex(&bytes) == sha,
                    (None, None) => true,
                };
                if !ok {
                    return Err(Error::Other(format!(
                        "backup {} does not match the fingerprint recorded for {}; nothing more was restored",
                        bp.display(),
                        target.display()
                    )));
                }
                fsutil::write_atomic(&target, &bytes)?;
            }
            None => {
                let _ = std::fs::remove_file(&target);
            }
        }
        report.add(
            &target,
            "*",
            "restored",
            "restored byte for byte from its encrypted backup",
        );
    }
    let is_refused = |e: &JournalEntry| refused.contains(&(e.root.clone(), e.path.clone()));
    let b = vault.backend()?;
    for e in &j.entries {
        if e.status == "rolled-back" || is_refused(e) {
            continue;
        }
        for name in &e.stored {
            if let Ok(n) = EntryName::new(name) {
                b.delete(&n)?;
            }
        }
    }
    for e in j.entries.iter_mut() {
        if !refused.contains(&(e.root.clone(), e.path.clone())) {
            e.status = "rolled-back".into();
        }
    }
    if j.state_dir.is_none() {
        j.state_dir = Some(state_abs);
    }
    save_journal(vault, &j)?;
    Ok(report)
}
