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
//! On Windows (`windows.rs`) the same rules read owners and DACLs instead of uids
//! and modes: "root" is SYSTEM, BUILTIN\\Administrators or TrustedInstaller;
//! "writable by group or others" is an allow entry granting a write-type right
//! (write, append, delete, change the DACL or owner) to any other principal; and
//! the sticky-directory exception is a system-owned directory where others may only
//! add entries (as `C:\\` lets Authenticated Users create folders).
//!
//! Every refusal is one line that names the path and the command that fixes it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod sys;

use sys::check_meta;
pub use sys::{check_open, check_parents};
#[cfg(windows)]
pub use sys::{check_private, Exposure};
#[cfg(unix)]
pub use sys::{peer_uid, uid};

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
    #[cfg(unix)]
    Socket,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Dir => "directory",
            Kind::File => "file",
            #[cfg(unix)]
            Kind::Socket => "socket",
        }
    }
}

fn untrusted(path: &Path, reason: impl Into<String>, fix: impl Into<String>) -> Untrusted {
    Untrusted {
        path: path.to_path_buf(),
        reason: reason.into(),
        fix: fix.into(),
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
        #[cfg(unix)]
        Kind::Socket => std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()),
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

#[cfg(all(test, windows))]
mod windows_tests;

#[cfg(all(test, unix))]
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
