//! The Windows half of the trust checks: owners and DACLs (`crate::winsec`).

use std::fs;
use std::io;
use std::path::Path;

use super::{io_err, untrusted, Untrusted};
use crate::winsec::{self, Security, Sid, ADD_ENTRY_RIGHTS, WRITE_RIGHTS};

/// Rights to read or change a file's content: what "group or others may read or
/// write it" means on Windows (reading attributes or the DACL itself is not).
pub const CONTENT_RIGHTS: u32 = 0x0001 // FILE_READ_DATA / FILE_LIST_DIRECTORY
    | 0x0008 // FILE_READ_EA
    | 0x8000_0000 // GENERIC_READ
    | WRITE_RIGHTS;

fn me(path: &Path) -> Result<Sid, Untrusted> {
    winsec::current_user().map_err(|e| io_err(path, e))
}

fn owner_ok(sec: &Security, me: &Sid) -> bool {
    sec.owner.as_ref().is_some_and(|o| o == me || o.is_system())
}

fn owner_name(sec: &Security) -> String {
    sec.owner
        .as_ref()
        .map(Sid::name)
        .unwrap_or_else(|| "no one".into())
}

/// The object itself: owned by the user (or a system principal) and writable by
/// no one else.
pub(super) fn check_meta(path: &Path, meta: &fs::Metadata) -> Result<(), Untrusted> {
    let me = me(path)?;
    let sec = winsec::read_path(path).map_err(|e| io_err(path, e))?;
    if !owner_ok(&sec, &me) {
        return Err(untrusted(
            path,
            format!(
                "is owned by {}, not by you ({})",
                owner_name(&sec),
                me.string()
            ),
            format!(
                "if it is yours, `icacls \"{}\" /setowner *{}` (as an administrator); otherwise remove it or point clawvault elsewhere",
                path.display(),
                me.string()
            ),
        ));
    }
    let writers = sec.others_with(&me, WRITE_RIGHTS);
    if !writers.is_empty() {
        return Err(untrusted(
            path,
            format!("is writable by {} (its DACL)", writers.join(", ")),
            format!(
                "`{}`",
                winsec::icacls_fix(path, meta.is_dir(), &sec.other_sids(&me, WRITE_RIGHTS))
            ),
        ));
    }
    Ok(())
}

/// Check the directories above `path` (which itself need not exist yet): each is
/// owned by the user or a system principal and lets no one else change or remove
/// what it holds. A system-owned directory where others may only add entries (the
/// rights of a sticky `/tmp`) is accepted above a directory of ours.
pub fn check_parents(path: &Path) -> Result<(), Untrusted> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| io_err(path, e))?
            .join(path)
    };
    let Some(parent) = abs.parent() else {
        return Ok(());
    };
    let mut existing = parent.to_path_buf();
    while fs::symlink_metadata(&existing).is_err() {
        match existing.parent() {
            Some(p) => existing = p.to_path_buf(),
            None => return Ok(()),
        }
    }
    let canon = fs::canonicalize(&existing).map_err(|e| io_err(&existing, e))?;
    let me = me(path)?;
    let mut below_is_ours = true;
    for dir in canon.ancestors() {
        let sec = winsec::read_path(dir).map_err(|e| io_err(dir, e))?;
        if !owner_ok(&sec, &me) {
            return Err(untrusted(
                dir,
                format!(
                    "is owned by {}, so that user can replace anything below it",
                    owner_name(&sec)
                ),
                format!(
                    "move clawvault's files out from under it, or `icacls \"{}\" /setowner *{}` (as an administrator)",
                    dir.display(),
                    me.string()
                ),
            ));
        }
        let replace = sec.others_with(&me, WRITE_RIGHTS & !ADD_ENTRY_RIGHTS);
        let add = sec.others_with(&me, ADD_ENTRY_RIGHTS);
        let system_owned = sec.owner.as_ref().is_some_and(Sid::is_system);
        if !replace.is_empty() || !(add.is_empty() || (system_owned && below_is_ours)) {
            let who = if replace.is_empty() { add } else { replace };
            return Err(untrusted(
                dir,
                format!(
                    "is writable by {} (its DACL), so they can replace anything below it",
                    who.join(", ")
                ),
                format!(
                    "`{}`",
                    winsec::icacls_fix(dir, true, &sec.other_sids(&me, WRITE_RIGHTS))
                ),
            ));
        }
        below_is_ours = owner_ok(&sec, &me);
    }
    Ok(())
}

/// Check an open file (the metadata of the handle) and its parents.
pub fn check_open(path: &Path, meta: &fs::Metadata) -> Result<(), Untrusted> {
    check_meta(path, meta)?;
    check_parents(path)
}

/// Who besides the user (and the system principals) may read or change a file or
/// directory, and the `icacls` command that stops it.
#[derive(Debug, Clone)]
pub struct Exposure {
    /// The principals, by name (`Everyone (S-1-1-0)`, `BUILTIN\Users (S-1-5-32-545)`, a SID).
    pub who: Vec<String>,
    /// Whether any of them may write (rather than only read).
    pub writable: bool,
    /// Whether one of them is everyone on the machine (Everyone, Users,
    /// Authenticated Users, a NULL DACL).
    pub world: bool,
    /// The owner, when it is not the current user.
    pub foreign_owner: Option<String>,
    /// The command that leaves it to its owner alone.
    pub fix: String,
}

/// The Windows counterpart of "mode & 077 != 0 or another uid owns it":
/// `Ok(None)` when the path is the user's and nobody else may read or write it.
pub fn check_private(path: &Path) -> io::Result<Option<Exposure>> {
    let me = winsec::current_user()?;
    let sec = winsec::read_path(path)?;
    let who = sec.others_with(&me, CONTENT_RIGHTS);
    let foreign_owner = (sec.owner.as_ref() != Some(&me)).then(|| owner_name(&sec));
    if who.is_empty() && foreign_owner.is_none() {
        return Ok(None);
    }
    let dir = fs::symlink_metadata(path)
        .map(|m| m.is_dir())
        .unwrap_or(false);
    let world = who.iter().any(|w| {
        w.starts_with("Everyone")
            || w.starts_with("Authenticated Users")
            || w.starts_with("BUILTIN\\Users")
    });
    Ok(Some(Exposure {
        writable: !sec.others_with(&me, WRITE_RIGHTS).is_empty(),
        world,
        foreign_owner,
        fix: winsec::icacls_fix(path, dir, &sec.other_sids(&me, CONTENT_RIGHTS)),
        who,
    }))
}

impl Exposure {
    /// "its DACL lets Everyone (S-1-1-0) read" in one line.
    pub fn describe(&self) -> String {
        let mut parts = vec![];
        if let Some(o) = &self.foreign_owner {
            parts.push(format!("it is owned by {o}"));
        }
        if !self.who.is_empty() {
            parts.push(format!(
                "its DACL lets {} {}",
                self.who.join(", "),
                if self.writable {
                    "read or write it"
                } else {
                    "read it"
                }
            ));
        }
        parts.join("; ")
    }
}
