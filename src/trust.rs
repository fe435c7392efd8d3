//! StrictModes: before clawvault trusts a directory, file or socket, it checks who can
//! change it, the way OpenSSH's `secure_path` does for `~/.ssh`.
//!
//! A path is trusted when
//! - it is not a symlink (the caller names the real path instead);
//! - it is owned by the current user or by root;
//! - it is not writable by group or others;
//! - every directory above it, up to `/`, is owned by the current user or root and is
//!   not writable by group or others, **or** is a root-owned sticky directory (`/tmp`,
//!   mode 1777): there another user can create entries but can neither rename nor
//!   delete ours, so it cannot swap the path below us. The parents are checked on the
//!   canonical path, so a symlinked parent (macOS `/tmp` -> `/private/tmp`) is judged
//!   by where it leads.
//!
//! Every refusal is one line that names the path and the command that fixes it.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a path is not trusted. Never holds file contents.
#[derive(Debug, Error)]
#[error("{path}: {reason}; {fix}")]
pub struct Untrusted {
    pub path: PathBuf,
    pub reason: String,
    pub fix: String,
}

/// What kind of object the caller expects at the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Socket,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Dir => "directory",
            Kind::File => "file",
            Kind::Socket => "socket",
        }
    }
}

/// The current user's uid.
pub fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

fn owner_ok(owner: u32) -> bool {
    owner == uid() || owner == 0
}

fn untrusted(path: &Path, reason: impl Into<String>, fix: impl Into<String>) -> Untrusted {
    Untrusted {
        path: path.to_path_buf(),
        reason: reason.into(),
        fix: fix.into(),
    }
}

fn quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn io_err(path: &Path, e: io::Error) -> Untrusted {
    untrusted(
        path,
        format!("cannot check it ({e})"),
        "make sure it exists and is readable by you",
    )
}

/// Check `path` itself (which must exist) and every directory above it.
pub fn check(path: &Path, kind: Kind) -> Result<(), Untrusted> {
    let meta = fs::symlink_metadata(path).map_err(|e| io_err(path, e))?;
    if meta.file_type().is_symlink() {
        let target = fs::canonicalize(path)
            .map(|t| format!(" (it points to {})", t.display()))
            .unwrap_or_default();
        return Err(untrusted(
            path,
            format!(
                "is a symlink{target}; clawvault does not follow symlinks to its private places"
            ),
            "name the real path instead, or replace the link with the directory or file itself",
        ));
    }
    let right_type = match kind {
        Kind::Dir => meta.is_dir(),
        Kind::File => meta.is_file(),
        Kind::Socket => meta.file_type().is_socket(),
    };
    if !right_type {
        return Err(untrusted(
            path,
            format!("is not a {}", kind.word()),
            "remove it or point clawvault elsewhere",
        ));
    }
    check_meta(path, &meta)?;
    check_parents(path)
}

/// Check the directories above `path` (which itself need not exist yet).
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
    // The nearest existing ancestor, canonicalized; everything above it is checked.
    let mut existing = parent.to_path_buf();
    while fs::symlink_metadata(&existing).is_err() {
        match existing.parent() {
            Some(p) => existing = p.to_path_buf(),
            None => return Ok(()),
        }
    }
    let canon = fs::canonicalize(&existing).map_err(|e| io_err(&existing, e))?;
    let mut below_is_ours = true;
    for dir in canon.ancestors() {
        let meta = fs::metadata(dir).map_err(|e| io_err(dir, e))?;
        if !owner_ok(meta.uid()) {
            return Err(untrusted(
                dir,
                format!(
                    "is owned by uid {}, so that user can replace anything below it",
                    meta.uid()
                ),
                format!(
                    "move clawvault's files out from under it, or `chown {} {}`",
                    uid(),
                    quote(dir)
                ),
            ));
        }
        let mode = meta.mode();
        if mode & 0o022 != 0 {
            let sticky_root = mode & libc::S_ISVTX as u32 != 0 && meta.uid() == 0;
            if !(sticky_root && below_is_ours) {
                return Err(untrusted(
                    dir,
                    format!(
                        "is writable by {} (mode {:04o}), so they can replace anything below it",
                        who_writes(mode),
                        mode & 0o7777
                    ),
                    format!("`chmod go-w {}`", quote(dir)),
                ));
            }
        }
        below_is_ours = meta.uid() == uid() || meta.uid() == 0;
    }
    Ok(())
}

fn who_writes(mode: u32) -> &'static str {
    match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => "group and others",
        (true, false) => "its group",
        _ => "every user",
    }
}

fn check_meta(path: &Path, meta: &fs::Metadata) -> Result<(), Untrusted> {
    if !owner_ok(meta.uid()) {
        return Err(untrusted(
            path,
            format!("is owned by uid {}, not by you (uid {})", meta.uid(), uid()),
            format!(
                "if it is yours, `chown {} {}`; otherwise remove it or point clawvault elsewhere",
                uid(),
                quote(path)
            ),
        ));
    }
    let mode = meta.mode();
    if mode & 0o022 != 0 {
        return Err(untrusted(
            path,
            format!(
                "is writable by {} (mode {:04o})",
                who_writes(mode),
                mode & 0o7777
            ),
            format!("`chmod go-w {}`", quote(path)),
        ));
    }
    Ok(())
}

/// Check an open file's metadata (after an `O_NOFOLLOW` open) and its parents: no
/// window between the check and the read.
pub fn check_open(path: &Path, meta: &fs::Metadata) -> Result<(), Untrusted> {
    check_meta(path, meta)?;
    check_parents(path)
}

/// `check` for a path that may not exist: `Ok(false)` when it does not (its parents
/// are still checked, so the caller may create it).
pub fn check_if_exists(path: &Path, kind: Kind) -> Result<bool, Untrusted> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            check_parents(path)?;
            Ok(false)
        }
        _ => check(path, kind).map(|()| true),
    }
}

/// The uid of the process at the other end of a connected Unix socket
/// (`SO_PEERCRED` on Linux, `getpeereid` on the BSDs and macOS).
pub fn peer_uid(fd: std::os::fd::RawFd) -> io::Result<u32> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let mut cred = libc::ucred {
            pid: 0,
            uid: 0,
            gid: 0,
        };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: cred and len are valid for writes of the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_PEERCRED,
                (&mut cred as *mut libc::ucred).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(cred.uid)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let mut uid: libc::uid_t = 0;
        let mut gid: libc::gid_t = 0;
        // SAFETY: uid and gid are valid for writes.
        if unsafe { libc::getpeereid(fd, &mut uid, &mut gid) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, m: u32) {
        fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
    }

    #[test]
    fn private_dir_under_tmp_is_trusted() {
        let d = tempfile::tempdir().unwrap();
        let v = d.path().join("vault");
        fs::create_dir(&v).unwrap();
        chmod(&v, 0o700);
        check(&v, Kind::Dir).unwrap();
    }

    #[test]
    fn group_writable_dir_is_refused_with_the_fix() {
        let d = tempfile::tempdir().unwrap();
        let v = d.path().join("vault");
        fs::create_dir(&v).unwrap();
        chmod(&v, 0o770);
        let e = check(&v, Kind::Dir).unwrap_err().to_string();
        assert!(e.contains("writable by its group"), "{e}");
        assert!(e.contains("chmod go-w"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn world_writable_parent_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let shared = d.path().join("shared");
        fs::create_dir(&shared).unwrap();
        chmod(&shared, 0o777);
        let v = shared.join("vault");
        fs::create_dir(&v).unwrap();
        chmod(&v, 0o700);
        let e = check(&v, Kind::Dir).unwrap_err();
        assert_eq!(e.path, fs::canonicalize(&shared).unwrap());
    }

    #[test]
    fn symlink_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = check(&link, Kind::Dir).unwrap_err().to_string();
        assert!(e.contains("is a symlink"), "{e}");
    }

    #[test]
    fn wrong_kind_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        fs::write(&f, b"x").unwrap();
        chmod(&f, 0o600);
        assert!(check(&f, Kind::Dir).is_err());
        check(&f, Kind::File).unwrap();
    }
}
