//! OpenClaw's SQLite auth stores (2026.6 and later).
//!
//! Reading is read-only (`SQLITE_OPEN_READ_ONLY`). The one writer is [`scrub`],
//! which replaces plaintext that OpenClaw left behind with the reference that
//! `secrets apply` already wrote elsewhere, in one transaction with a busy timeout,
//! after an age-encrypted backup of the cell, then vacuums and checkpoints so no
//! copy survives in free pages or the WAL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::Value;

use super::{OpenClawError, Result};
use crate::fsutil;
use crate::paths::{StateDir, DEFAULT_AGENT};
use crate::profiles::{Material, ProfileDoc, ProfileType, SecretRef};

/// How long a write waits for OpenClaw's own writers.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The newest schema (`PRAGMA user_version`) OpenClaw 2026.9.6 reads; clawvault
/// does not write a database of a newer layout.
pub const MAX_USER_VERSION: i64 = 23;

/// Which store a document came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreKind {
    /// `<state>/state/openclaw.sqlite`, `config_machine_state['authProfiles.store']`:
    /// the store `openclaw models auth` and `doctor --fix` write for the main agent.
    Shared,
    /// `agents/<id>/agent/openclaw-agent.sqlite`, `auth_profile_store['primary']`.
    Agent(String),
}

impl StoreKind {
    /// The agent whose vault entries (`<agent>/<profileId>`) this store's profiles map to.
    pub fn agent_id(&self) -> &str {
        match self {
            StoreKind::Shared => DEFAULT_AGENT,
            StoreKind::Agent(a) => a,
        }
    }

    fn select_sql(&self) -> &'static str {
        match self {
            StoreKind::Shared => {
                "SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.store'"
            }
            StoreKind::Agent(_) => {
                "SELECT store_json FROM auth_profile_store WHERE store_key = 'primary'"
            }
        }
    }

    pub(crate) fn update_sql(&self) -> &'static str {
        match self {
            StoreKind::Shared => "UPDATE config_machine_state SET value_json = ?1, updated_at_ms = ?2 WHERE state_key = 'authProfiles.store' AND value_json = ?3",
            StoreKind::Agent(_) => "UPDATE auth_profile_store SET store_json = ?1, updated_at = ?2 WHERE store_key = 'primary' AND store_json = ?3",
        }
    }

    pub(crate) fn table(&self) -> &'static str {
        match self {
            StoreKind::Shared => "config_machine_state",
            StoreKind::Agent(_) => "auth_profile_store",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            StoreKind::Shared => "the shared auth store".into(),
            StoreKind::Agent(a) => format!("agent {a}'s auth store"),
        }
    }
}

/// One auth store found on disk.
#[derive(Debug, Clone)]
pub struct AuthStore {
    pub kind: StoreKind,
    pub db_path: PathBuf,
    /// The document; its `path` is the database file (for messages).
    pub doc: ProfileDoc,
    /// The cell exactly as stored (to detect a concurrent change before writing).
    pub raw: String,
}

/// `<state>/state/openclaw.sqlite`
pub fn shared_db_path(state: &StateDir) -> PathBuf {
    state.path.join("state").join("openclaw.sqlite")
}

/// `<state>/agents/<id>/agent/openclaw-agent.sqlite`
pub fn agent_db_path(state: &StateDir, agent: &str) -> PathBuf {
    state.agent_dir(agent).join("openclaw-agent.sqlite")
}

/// Every database that may hold an auth store, with its kind, existing or not.
pub fn store_locations(state: &StateDir, agent: Option<&str>) -> Vec<(StoreKind, PathBuf)> {
    let mut out = Vec::new();
    if agent.is_none() || agent == Some(DEFAULT_AGENT) {
        out.push((StoreKind::Shared, shared_db_path(state)));
    }
    let ids = match agent {
        Some(a) => vec![a.to_string()],
        None => state.agent_ids(),
    };
    for id in ids {
        let p = agent_db_path(state, &id);
        out.push((StoreKind::Agent(id), p));
    }
    out
}

pub(crate) fn sql_err(path: &Path, e: impl std::fmt::Display) -> OpenClawError {
    OpenClawError::Sqlite {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql_err(path, e))?;
    c.busy_timeout(BUSY_TIMEOUT).map_err(|e| sql_err(path, e))?;
    Ok(c)
}

/// Open `path` read-only as it is on disk (`immutable=1`): no `-shm`/`-wal` is created
/// next to it and no lock is taken, so an audit leaves the state it reads unchanged.
/// Rows still only in a `-wal` are not seen until OpenClaw checkpoints.
pub(crate) fn open_immutable(path: &Path) -> rusqlite::Result<Connection> {
    let mut uri = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    Connection::open_with_flags(
        &uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
}

pub(crate) fn has_table(c: &Connection, table: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |_| Ok(()),
    )
    .optional()
    .map(|o| o.is_some())
}

pub(crate) fn read_cell(c: &Connection, kind: &StoreKind) -> rusqlite::Result<Option<String>> {
    if !has_table(c, kind.table())? {
        return Ok(None);
    }
    c.query_row(kind.select_sql(), [], |r| r.get::<_, String>(0))
        .optional()
}

/// Read one store, read-only. `Ok(None)` when the database, table or row is absent.
pub fn read_store(kind: StoreKind, db_path: &Path) -> Result<Option<AuthStore>> {
    if !db_path.exists() {
        return Ok(None);
    }
    fsutil::refuse_symlink(db_path).map_err(|e| sql_err(db_path, e))?;
    let c = open_read_only(db_path)?;
    let Some(raw) = read_cell(&c, &kind).map_err(|e| sql_err(db_path, e))? else {
        return Ok(None);
    };
    let doc = ProfileDoc::parse(db_path, raw.as_bytes()).map_err(|e| sql_err(db_path, e))?;
    Ok(Some(AuthStore {
        kind,
        db_path: db_path.to_path_buf(),
        doc,
        raw,
    }))
}

/// Every auth store present under `state` (optionally one agent's).
pub fn read_all(state: &StateDir, agent: Option<&str>) -> Result<Vec<AuthStore>> {
    let mut out = Vec::new();
    for (kind, path) in store_locations(state, agent) {
        if let Some(s) = read_store(kind, &path)? {
            out.push(s);
        }
    }
    Ok(out)
}

/// The database file and its WAL / rollback journal: where plaintext bytes can hide.
pub fn db_files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-journal"]
        .iter()
        .map(|s| {
            let mut p = db.as_os_str().to_owned();
            p.push(s);
            PathBuf::from(p)
        })
        .filter(|p| p.exists())
        .collect()
}

/// How many of `needles` occur anywhere in the raw bytes of `db`'s files.
pub fn raw_occurrences(db: &Path, needles: &[&[u8]]) -> Result<usize> {
    let mut found = vec![false; needles.len()];
    for f in db_files(db) {
        let bytes = zeroize::Zeroizing::new(std::fs::read(&f).map_err(|e| sql_err(&f, e))?);
        for (i, n) in needles.iter().enumerate() {
            if !n.is_empty() && !found[i] && memmem(&bytes, n) {
                found[i] = true;
            }
        }
    }
    Ok(found.iter().filter(|f| **f).count())
}

fn memmem(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Processes (other than this one) that have `path` open, as "pid N (comm)".
/// Linux only: elsewhere the list is empty and the gateway lock check stands alone.
pub fn open_by_others(path: &Path) -> Vec<String> {
    let Ok(target) = std::fs::canonicalize(path) else {
        return vec![];
    };
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let name = p.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .map(|l| l == target)
                .unwrap_or(false)
        });
        if holds {
            let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
            out.push(format!("pid {pid} ({})", comm.trim()));
        }
    }
    out
}

#[cfg(unix)]
fn gateway_lock_dir(state: &StateDir) -> Option<std::fs::ReadDir> {
    let uid = unsafe { libc::geteuid() };
    std::fs::read_dir(state.path.join("tmp").join(format!("openclaw-{uid}"))).ok()
}

/// Windows has no uid for Node's `os.userInfo().uid` to name the directory by;
/// the first `openclaw-*` directory under `<state>/tmp` is the one.
#[cfg(windows)]
fn gateway_lock_dir(state: &StateDir) -> Option<std::fs::ReadDir> {
    let tmp = state.path.join("tmp");
    std::fs::read_dir(&tmp)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("openclaw-"))
        .and_then(|e| std::fs::read_dir(e.path()).ok())
}

/// kill(pid, 0): does the process exist?
#[cfg(unix)]
fn pid_exists(pid: i64) -> bool {
    pid > 0 && unsafe { libc::kill(pid as libc::pid_t, 0) } == 0
}

#[cfg(windows)]
fn pid_exists(pid: i64) -> bool {
    crate::fsutil::pid_alive(pid)
}

/// A live OpenClaw gateway lock (`<state>/tmp/openclaw-<uid>/gateway*.lock`).
pub fn live_gateway_lock(state: &StateDir) -> Option<String> {
    for e in gateway_lock_dir(state)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("gateway") && name.ends_with(".lock")) {
            continue;
        }
        let pid = std::fs::read(e.path())
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v.get("pid").and_then(|p| p.as_i64()));
        if let Some(pid) = pid {
            // kill(pid, 0): does the process exist?
            if pid_exists(pid) {
                return Some(format!(
                    "the OpenClaw gateway (pid {pid}, lock {})",
                    e.path().display()
                ));
            }
        }
    }
    None
}

/// One profile whose plaintext `scrub` replaced.
#[derive(Debug, Clone)]
pub struct Scrubbed {
    pub profile_id: String,
    pub entry: String,
}

/// What `scrub` did to one database.
#[derive(Debug, Clone)]
pub struct ScrubReport {
    pub kind: StoreKind,
    pub db_path: PathBuf,
    pub replaced: Vec<Scrubbed>,
    /// Profiles left alone because their plaintext differs from the vault's copy.
    pub mismatched: Vec<String>,
    pub backup: Option<PathBuf>,
    pub vacuumed: bool,
}

/// What scrub needs from the vault: the migrated secret for an entry name, and a
/// place to keep an encrypted backup.
pub trait ScrubVault {
    /// The vault's copy of `entry`, if it holds one.
    fn secret(&self, entry: &str) -> Option<&[u8]>;
    /// Every secret the vault holds for profiles (for the raw-byte check).
    fn all_secrets(&self) -> Vec<&[u8]>;
    /// Encrypt `data` to the vault and keep it; returns where.
    fn backup(&self, label: &str, data: &[u8]) -> std::result::Result<PathBuf, String>;
}

/// Replace every inline api_key/token in `store` whose value equals the vault's
/// copy under `<agent>/<id>` with a ref `{exec, alias, <agent>/<id>}`. Returns the
/// new document (or `None` when nothing changed), and the mismatches.
pub fn rewrite_with_refs(
    store: &AuthStore,
    alias: &str,
    vault: &dyn ScrubVault,
) -> (Option<ProfileDoc>, Vec<Scrubbed>, Vec<String>) {
    let mut doc = store.doc.clone();
    let mut replaced = Vec::new();
    let mut mismatched = Vec::new();
    let agent = store.kind.agent_id();
    let todo: Vec<(String, ProfileType, String, String)> = store
        .doc
        .profiles()
        .filter(|p| matches!(p.material(), Material::Inline(_)))
        .filter_map(|p| {
            Some((
                p.id.to_string(),
                p.profile_type(),
                p.provider(),
                p.inline_secret()?.to_string(),
            ))
        })
        .collect();
    for (id, ty, provider, plain) in todo {
        let plain = zeroize::Zeroizing::new(plain);
        let entry = format!("{agent}/{id}");
        match vault.secret(&entry) {
            Some(v) if v == plain.as_bytes() => {
                doc.set_ref(&id, ty, &provider, &SecretRef::exec(alias, &entry));
                replaced.push(Scrubbed {
                    profile_id: id,
                    entry,
                });
            }
            Some(_) => mismatched.push(id),
            None => {}
        }
    }
    let changed = !replaced.is_empty();
    (changed.then_some(doc), replaced, mismatched)
}

/// The compact serialization OpenClaw writes (`JSON.stringify`).
pub fn to_cell(doc: &ProfileDoc) -> String {
    serde_json::to_string(&Value::Object(doc.root().clone())).expect("JSON serializes")
}

/// Scrub one database: rewrite plaintext to refs in one transaction (after an
/// encrypted backup of the old cell), then vacuum and checkpoint while any vault
/// secret's bytes remain in the file or its WAL. Refuses while another process
/// has the database open.
pub fn scrub_db(
    kind: StoreKind,
    db_path: &Path,
    alias: &str,
    vault: &dyn ScrubVault,
    dry_run: bool,
) -> Result<Option<ScrubReport>> {
    if !db_path.exists() {
        return Ok(None);
    }
    fsutil::refuse_symlink(db_path).map_err(|e| sql_err(db_path, e))?;
    let holders = open_by_others(db_path);
    if !holders.is_empty() {
        return Err(OpenClawError::InUse {
            what: db_path.display().to_string(),
            holder: holders.join(", "),
        });
    }
    let secrets = vault.all_secrets();
    let mut report = ScrubReport {
        kind: kind.clone(),
        db_path: db_path.to_path_buf(),
        replaced: vec![],
        mismatched: vec![],
        backup: None,
        vacuumed: false,
    };
    let Some(store) = read_store(kind.clone(), db_path)? else {
        // No auth store here; residue from an earlier store may still sit in free pages.
        if raw_occurrences(db_path, &secrets)? > 0 && !dry_run {
            vacuum_and_checkpoint(db_path, &secrets)?;
            report.vacuumed = true;
        }
        return Ok(Some(report));
    };
    let (new_doc, replaced, mismatched) = rewrite_with_refs(&store, alias, vault);
    report.mismatched = mismatched;
    if dry_run {
        report.replaced = replaced;
        return Ok(Some(report));
    }
    if let Some(doc) = new_doc {
        let mut c = Connection::open_with_flags(
            db_path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_err(db_path, e))?;
        c.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| sql_err(db_path, e))?;
        let uv: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sql_err(db_path, e))?;
        if uv > MAX_USER_VERSION {
            return Err(sql_err(
                db_path,
                format!("its schema version {uv} is newer than clawvault knows ({MAX_USER_VERSION}); upgrade clawvault"),
            ));
        }
        // Zero deleted content in place as well (the vacuum below rewrites the file anyway).
        c.execute_batch("PRAGMA secure_delete = ON")
            .map_err(|e| sql_err(db_path, e))?;
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql_err(db_path, format!("cannot take the write lock: {e}")))?;
        let current = read_cell(&tx, &kind).map_err(|e| sql_err(db_path, e))?;
        if current.as_deref() != Some(store.raw.as_str()) {
            return Err(sql_err(
                db_path,
                "the auth store changed while clawvault was reading it; run the command again",
            ));
        }
        let label = match &kind {
            StoreKind::Shared => "openclaw-shared-auth-store".to_string(),
            StoreKind::Agent(a) => format!("openclaw-agent-{a}-auth-store"),
        };
        let backup_doc = serde_json::json!({
            "database": db_path.display().to_string(),
            "table": kind.table(),
            "row": match kind { StoreKind::Shared => "authProfiles.store", StoreKind::Agent(_) => "primary" },
            "value": store.raw,
        });
        let backup_bytes = zeroize::Zeroizing::new(
            serde_json::to_vec_pretty(&backup_doc).expect("JSON serializes"),
        );
        let backup = vault
            .backup(&label, &backup_bytes)
            .map_err(|e| sql_err(db_path, format!("cannot write the encrypted backup: {e}")))?;
        fsutil::crash_point("scrub:after-backup");
        let n = tx
            .execute(
                kind.update_sql(),
                rusqlite::params![to_cell(&doc), fsutil::now_ms() as i64, store.raw],
            )
            .map_err(|e| sql_err(db_path, e))?;
        if n != 1 {
            return Err(sql_err(
                db_path,
                "the auth store row vanished; nothing was changed",
            ));
        }
        tx.commit().map_err(|e| sql_err(db_path, e))?;
        fsutil::crash_point("scrub:after-commit");
        report.backup = Some(backup);
        report.replaced = replaced;
    }
    // After a rewrite, always vacuum: a secret that straddled two overflow pages
    // would escape the byte scan. Otherwise vacuum only when the scan finds one.
    if !report.replaced.is_empty() || raw_occurrences(db_path, &secrets)? > 0 {
        vacuum_and_checkpoint(db_path, &secrets)?;
        report.vacuumed = true;
    }
    Ok(Some(report))
}

/// `VACUUM` (rebuilds the file: no free pages, no slack in pages), then
/// `wal_checkpoint(TRUNCATE)`; then check the raw bytes again.
pub fn vacuum_and_checkpoint(db_path: &Path, secrets: &[&[u8]]) -> Result<()> {
    let c = Connection::open_with_flags(
        db_path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql_err(db_path, e))?;
    c.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_err(db_path, e))?;
    c.execute_batch("PRAGMA secure_delete = ON; VACUUM;")
        .map_err(|e| sql_err(db_path, format!("VACUUM failed: {e}")))?;
    fsutil::crash_point("scrub:after-vacuum");
    let (busy, _log, _ckpt): (i64, i64, i64) = c
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(|e| sql_err(db_path, format!("checkpoint failed: {e}")))?;
    drop(c);
    let left = raw_occurrences(db_path, secrets)?;
    if busy != 0 || left > 0 {
        return Err(OpenClawError::ResidueRemains {
            path: db_path.to_path_buf(),
            count: left,
            reason: if busy != 0 {
                "another connection kept the WAL from being checkpointed".into()
            } else {
                "the bytes are still in the file".into()
            },
        });
    }
    Ok(())
}

/// Group `(entry, secret)` pairs for [`ScrubVault`] implementations.
pub type SecretMap = BTreeMap<String, zeroize::Zeroizing<Vec<u8>>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct MemVault {
        secrets: SecretMap,
        backups: RefCell<Vec<(String, Vec<u8>)>>,
        dir: PathBuf,
    }

    impl ScrubVault for MemVault {
        fn secret(&self, entry: &str) -> Option<&[u8]> {
            self.secrets.get(entry).map(|v| v.as_slice())
        }
        fn all_secrets(&self) -> Vec<&[u8]> {
            self.secrets.values().map(|v| v.as_slice()).collect()
        }
        fn backup(&self, label: &str, data: &[u8]) -> std::result::Result<PathBuf, String> {
            self.backups
                .borrow_mut()
                .push((label.to_string(), data.to_vec()));
            Ok(self.dir.join(label))
        }
    }

    /// A shared store laid out as OpenClaw 2026.9.6 lays it out, in WAL mode.
    fn shared_db(dir: &Path, json: &str) -> PathBuf {
        let p = dir.join("openclaw.sqlite");
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA user_version=23;
             CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;
             CREATE TABLE filler (x TEXT);",
        )
        .unwrap();
        c.execute(
            "INSERT INTO config_machine_state VALUES ('authProfiles.store', ?1, 1)",
            [json],
        )
        .unwrap();
        c.execute(
            "INSERT INTO config_machine_state VALUES ('auth.sharedStore', '{\"location\":\"state-db\"}', 1)",
            [],
        )
        .unwrap();
        for i in 0..200 {
            c.execute(
                "INSERT INTO filler VALUES (?1)",
                [format!("row {i} {}", "x".repeat(200))],
            )
            .unwrap();
        }
        p
    }

    #[test]
    fn scrub_replaces_matching_plaintext_and_leaves_no_bytes() {
        let d = tempfile::tempdir().unwrap();
        let key = format!("sk-ant-api03-{:016x}", rand::random::<u64>());
        let other = format!("sk-or-{:016x}", rand::random::<u64>());
        let json = format!(
            r#"{{"version":1,"profiles":{{"anthropic:default":{{"type":"api_key","provider":"anthropic","key":"{key}","metadata":{{"a":1}}}},"openrouter:default":{{"type":"api_key","provider":"openrouter","key":"{other}"}},"openai:me":{{"type":"oauth","provider":"openai","access":"a","refresh":"r","expires":1}}}},"order":{{"anthropic":["anthropic:default"]}}}}"#
        );
        let db = shared_db(d.path(), &json);
        // Keep a reader open so the plaintext sits in the WAL too, then close it.
        assert!(raw_occurrences(&db, &[key.as_bytes()]).unwrap() == 1);
        let mut secrets = SecretMap::new();
        secrets.insert(
            "main/anthropic:default".into(),
            zeroize::Zeroizing::new(key.clone().into_bytes()),
        );
        // The vault holds a different value for openrouter: it must be left alone.
        secrets.insert(
            "main/openrouter:default".into(),
            zeroize::Zeroizing::new(b"something-else".to_vec()),
        );
        let v = MemVault {
            secrets,
            backups: RefCell::new(vec![]),
            dir: d.path().to_path_buf(),
        };
        let r = scrub_db(StoreKind::Shared, &db, "clawvault", &v, false)
            .unwrap()
            .unwrap();
        assert_eq!(r.replaced.len(), 1);
        assert_eq!(r.mismatched, vec!["openrouter:default".to_string()]);
        assert!(r.vacuumed);
        assert_eq!(raw_occurrences(&db, &[key.as_bytes()]).unwrap(), 0);
        let s = read_store(StoreKind::Shared, &db).unwrap().unwrap();
        let p = s.doc.get("anthropic:default").unwrap();
        assert_eq!(
            p.material(),
            Material::Ref(SecretRef::exec("clawvault", "main/anthropic:default"))
        );
        assert_eq!(p.obj["metadata"]["a"], 1);
        assert_eq!(
            s.doc.get("openrouter:default").unwrap().inline_secret(),
            Some(other.as_str())
        );
        assert!(s.doc.get("openai:me").is_some());
        assert_eq!(s.doc.order("anthropic").unwrap(), vec!["anthropic:default"]);
        // The backup holds the old cell.
        let b = v.backups.borrow();
        assert_eq!(b.len(), 1);
        assert!(String::from_utf8_lossy(&b[0].1).contains(&key));
        // Other rows are intact.
        let c = open_read_only(&db).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 200);
        // Idempotent: a second run changes nothing.
        drop(b);
        let r2 = scrub_db(StoreKind::Shared, &db, "clawvault", &v, false)
            .unwrap()
            .unwrap();
        assert!(r2.replaced.is_empty() && !r2.vacuumed);
    }

    #[test]
    fn vacuum_removes_deleted_rows_from_free_pages_and_wal() {
        let d = tempfile::tempdir().unwrap();
        let secret = format!("sk-free-page-{:016x}", rand::random::<u64>());
        let db = shared_db(d.path(), r#"{"version":1,"profiles":{}}"#);
        let c = Connection::open(&db).unwrap();
        c.execute_batch("PRAGMA secure_delete = OFF; PRAGMA wal_autocheckpoint = 0;")
            .unwrap();
        c.execute("INSERT INTO filler VALUES (?1)", [secret.repeat(50)])
            .unwrap();
        c.execute("DELETE FROM filler WHERE x LIKE 'sk-free-page-%'", [])
            .unwrap();
        assert_eq!(raw_occurrences(&db, &[secret.as_bytes()]).unwrap(), 1);
        drop(c);
        vacuum_and_checkpoint(&db, &[secret.as_bytes()]).unwrap();
        assert_eq!(raw_occurrences(&db, &[secret.as_bytes()]).unwrap(), 0);
    }

    #[test]
    #[cfg(unix)] // who holds the database is read from /proc/<pid>/fd
    fn scrub_refuses_while_another_process_holds_the_database() {
        let d = tempfile::tempdir().unwrap();
        let db = shared_db(d.path(), r#"{"version":1,"profiles":{}}"#);
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .stdin(std::fs::File::open(&db).unwrap())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let v = MemVault {
            secrets: SecretMap::new(),
            backups: RefCell::new(vec![]),
            dir: d.path().to_path_buf(),
        };
        let e = scrub_db(StoreKind::Shared, &db, "clawvault", &v, false).unwrap_err();
        let _ = child.kill();
        let _ = child.wait();
        assert!(matches!(e, OpenClawError::InUse { .. }), "{e}");
        assert!(e.to_string().contains(&format!("pid {}", child.id())));
    }

    #[test]
    fn reads_agent_store_read_only() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("openclaw-agent.sqlite");
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
             INSERT INTO auth_profile_store VALUES ('primary', '{\"version\":1,\"profiles\":{\"x:default\":{\"type\":\"token\",\"provider\":\"x\",\"token\":\"t\"}}}', 1);",
        )
        .unwrap();
        let s = read_store(StoreKind::Agent("work".into()), &p)
            .unwrap()
            .unwrap();
        assert_eq!(s.kind.agent_id(), "work");
        assert_eq!(s.doc.get("x:default").unwrap().inline_secret(), Some("t"));
        // Absent table or file: no store, no error.
        assert!(read_store(StoreKind::Shared, &p).unwrap().is_none());
        assert!(read_store(StoreKind::Shared, &d.path().join("none.sqlite"))
            .unwrap()
            .is_none());
    }
}
