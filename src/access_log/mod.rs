//! `<vault>/access.log`: one JSON line per read of secret material (`resolve`, the
//! agent serving a batch, `exec`, `identity export`, doctor's exact matching). Never a
//! value, never a hash of one: time, command, how it was served, the caller as far as
//! it can be known (the agent's SO_PEERCRED peer, or this process, and the parent
//! process, which for `resolve` is the gateway), the ids and the outcome.
//!
//! Tamper evidence: each line names the SHA-256 of the line before it (`prev`; log
//! lines hold no secret, so an unkeyed hash here reveals nothing) and carries
//! `mac` = HMAC-SHA256 over itself keyed from the vault identity, so only a process
//! holding the unlocked vault can write a line that verifies. A reader that has no
//! identity loaded (keychain/OpenBao backends read without one) writes `mac: null`,
//! which `clawvault log --verify` reports as unkeyed. A cut-off tail cannot be told
//! from a quiet period by the chain alone. 0600, opened `O_NOFOLLOW`, appended under
//! an exclusive `flock`, rotated to `access.log.1` past [`MAX_BYTES`] (the new file's
//! first line chains to the old file's last).

pub mod verify;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::ExposeSecret;

/// Rotate past this size.
pub const MAX_BYTES: u64 = 1024 * 1024;
/// Ids listed per line; a bigger batch lists these and gives the count.
pub const MAX_IDS: usize = 64;

pub fn path(vault_dir: &Path) -> PathBuf {
    vault_dir.join("access.log")
}

pub fn rotated(vault_dir: &Path) -> PathBuf {
    vault_dir.join("access.log.1")
}

/// The MAC key: HMAC-SHA256(identity, label || vault id).
pub struct Key(zeroize::Zeroizing<[u8; 32]>);

impl Key {
    pub fn from_identity(identity: &str, vault_id: &str) -> Key {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(identity.as_bytes())
            .expect("HMAC takes any key length");
        m.update(b"clawvault access-log v1\0");
        m.update(vault_id.as_bytes());
        Key(zeroize::Zeroizing::new(m.finalize().into_bytes().into()))
    }

    /// The key of an unlocked vault; `None` when no identity is loaded.
    pub fn of(vault: &crate::vault::Vault) -> Option<Key> {
        let id = vault.identity_string().ok()?;
        Some(Key::from_identity(id.expose_secret(), vault.id()))
    }

    pub(crate) fn mac(&self, bytes: &[u8]) -> String {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..]).expect("any key length");
        m.update(bytes);
        hex(&m.finalize().into_bytes())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A process, as far as it can be known.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Proc {
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
}

impl Proc {
    pub fn of(pid: u32, uid: Option<u32>) -> Proc {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .map(|p| p.display().to_string());
        Proc { pid, uid, exe }
    }

    /// The parent of `pid` (from `/proc/<pid>/status`).
    pub fn parent_of(pid: u32) -> Option<Proc> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let ppid = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))?
            .trim()
            .parse::<u32>()
            .ok()?;
        (ppid > 0).then(|| Proc::of(ppid, None))
    }

    /// This process.
    pub fn me() -> Proc {
        #[cfg(unix)]
        let uid = Some(crate::trust::uid());
        // Windows has no uid; the pid (and the vault's owner-only DACL) is what there is.
        #[cfg(not(unix))]
        let uid = None;
        Proc::of(std::process::id(), uid)
    }
}

/// One line, as written (before `prev` and `mac`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Unix time, milliseconds.
    pub t: u64,
    /// `resolve`, `exec`, `identity-export`, `doctor`.
    pub cmd: String,
    /// `local` or `agent`.
    pub via: String,
    /// The process that read (the agent's peer, or this process).
    pub caller: Proc,
    /// Its parent (for `resolve`: the gateway that ran it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Proc>,
    pub ids: Vec<String>,
    /// How many ids were asked for (`ids` lists at most [`MAX_IDS`]).
    pub n: usize,
    /// `ok`, or what failed (clawvault's one-line reason).
    pub outcome: String,
    /// SHA-256 of the previous line (without its newline); "" for the first.
    #[serde(default)]
    pub prev: String,
    /// HMAC-SHA256 of this line with `mac` null; null when no key was at hand.
    #[serde(default)]
    pub mac: Option<String>,
}

impl Record {
    pub fn new(cmd: &str, via: &str, caller: Proc, ids: &[String], outcome: &str) -> Record {
        let parent = Proc::parent_of(caller.pid);
        Record {
            t: crate::fsutil::now_ms(),
            cmd: cmd.into(),
            via: via.into(),
            caller,
            parent,
            ids: ids.iter().take(MAX_IDS).cloned().collect(),
            n: ids.len(),
            outcome: outcome.replace(['\n', '\r'], " "),
            prev: String::new(),
            mac: None,
        }
    }
}

/// The bytes the MAC covers: the line with `mac` null.
pub(crate) fn signed_bytes(record: &Record) -> Vec<u8> {
    let mut r = record.clone();
    r.mac = None;
    serde_json::to_vec(&r).expect("serializes")
}

pub(crate) fn line_hash(line: &[u8]) -> String {
    hex(&Sha256::digest(line))
}

/// The last line of `f` (without its newline), reading back from the end in
/// growing windows until the line's start is found.
fn last_line(f: &mut File) -> std::io::Result<Option<Vec<u8>>> {
    let len = f.seek(SeekFrom::End(0))?;
    let mut window = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        f.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        (&mut *f).take(len - start).read_to_end(&mut tail)?;
        while tail.last() == Some(&b'\n') {
            tail.pop();
        }
        if tail.is_empty() && start == 0 {
            return Ok(None);
        }
        match tail.iter().rposition(|&b| b == b'\n') {
            Some(i) => return Ok(Some(tail[i + 1..].to_vec())),
            None if start == 0 => return Ok(Some(tail)),
            None => window *= 4,
        }
    }
}

fn open(p: &Path) -> std::io::Result<File> {
    crate::fsutil::open_append_private(p, true)
}

/// Append `record`. Best effort: a log that cannot be written never changes what the
/// reading command answers; the reason goes to stderr once.
pub fn append(vault_dir: &Path, key: Option<&Key>, record: &Record) {
    if let Err(e) = try_append(vault_dir, key, record) {
        eprintln!(
            "clawvault: cannot write the access log {}: {e}",
            path(vault_dir).display()
        );
    }
}

fn try_append(vault_dir: &Path, key: Option<&Key>, record: &Record) -> std::io::Result<()> {
    let p = path(vault_dir);
    let mut f = open(&p)?;
    // flock (Windows: LockFileEx) on a descriptor we own; released when `f` closes.
    if !crate::fsutil::lock_exclusive(&f) {
        return Err(std::io::Error::last_os_error());
    }
    // Another writer may have rotated the file between our open and our lock.
    let same = crate::fsutil::file_id(&p, false).ok();
    let mine = crate::fsutil::file_id_of(&f)?;
    if same != Some(mine) {
        drop(f);
        return try_append(vault_dir, key, record);
    }
    let mut prev_line = last_line(&mut f)?;
    if f.metadata()?.len() > MAX_BYTES {
        std::fs::rename(&p, rotated(vault_dir))?;
        let old = f;
        f = open(&p)?;
        if !crate::fsutil::lock_exclusive(&f) {
            return Err(std::io::Error::last_os_error());
        }
        drop(old);
    } else if prev_line.is_none() {
        // A fresh file after a rotation chains to the rotated file's last line.
        if let Ok(mut r) = crate::fsutil::open_nofollow(
            std::fs::OpenOptions::new().read(true),
            &rotated(vault_dir),
        ) {
            prev_line = last_line(&mut r)?;
        }
    }
    let mut r = record.clone();
    r.prev = prev_line.as_deref().map(line_hash).unwrap_or_default();
    r.mac = key.map(|k| k.mac(&signed_bytes(&r)));
    let mut bytes = serde_json::to_vec(&r).expect("serializes");
    bytes.push(b'\n');
    f.write_all(&bytes)
}

/// Every line of the rotated file, then of the current one (unparsable lines as
/// `Err` with their text, for `--verify`).
pub fn read_all(vault_dir: &Path) -> std::io::Result<Vec<(PathBuf, usize, Vec<u8>)>> {
    let mut out = Vec::new();
    for p in [rotated(vault_dir), path(vault_dir)] {
        let f = match crate::fsutil::open_nofollow(std::fs::OpenOptions::new().read(true), &p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let mut text = Vec::new();
        f.take(16 * MAX_BYTES).read_to_end(&mut text)?;
        for (i, l) in text.split(|&b| b == b'\n').enumerate() {
            if !l.is_empty() {
                out.push((p.clone(), i + 1, l.to_vec()));
            }
        }
    }
    Ok(out)
}
