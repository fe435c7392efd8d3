//! The Unix half of the trust checks: uids and mode bits, and the peer's uid on a
//! Unix socket.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::{io_err, untrusted, Untrusted};

/// The current user's uid.
pub fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

fn owner_ok(owner: u32) -> bool {
    owner == uid() || owner == 0
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
            #[allow(clippy::unnecessary_cast)] // mode_t: u32 on Linux, u16 on macOS
            let sticky = libc::S_ISVTX as u32;
            let sticky_root = mode & sticky != 0 && meta.uid() == 0;
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

pub(super) fn check_meta(path: &Path, meta: &fs::Metadata) -> Result<(), Untrusted> {
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
