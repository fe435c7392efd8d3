//! The Unix half of the file layer: modes 0600/0700, `O_NOFOLLOW`, `flock`, and
//! `kill(pid, 0)`.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::{FsError, Result};

/// An existing directory: refuse one another user made, and set 0700 again.
pub(super) fn adopt_private_dir(dir: &Path, meta: &fs::Metadata) -> Result<()> {
    // Never adopt a directory another user made: they could have left a link or
    // a listener in it, and they can change it back after we chmod it.
    if meta.uid() != crate::trust::uid() {
        return Err(crate::trust::Untrusted {
            path: dir.to_path_buf(),
            reason: format!(
                "is owned by uid {}, not by you (uid {})",
                meta.uid(),
                crate::trust::uid()
            ),
            fix: "remove it (it is not yours) or point clawvault elsewhere".into(),
        }
        .into());
    }
    if meta.mode() & 0o777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| FsError::io(dir, e))?;
    }
    Ok(())
}

/// Create one directory 0700 (`AlreadyExists` is the caller's to judge), then set
/// the mode exactly: umask may have narrowed or (never) widened it.
pub(super) fn create_private_dir(dir: &Path) -> io::Result<bool> {
    let mut b = fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    let created = match b.create(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e),
    };
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    Ok(created)
}

/// Open without following a symlink at `path` (`O_NOFOLLOW`: ELOOP on a link).
pub fn open_nofollow(opts: &mut OpenOptions, path: &Path) -> io::Result<File> {
    opts.custom_flags(libc::O_NOFOLLOW).open(path)
}

/// [`open_nofollow`], and never block on a FIFO or device planted there.
pub fn open_nofollow_nonblock(opts: &mut OpenOptions, path: &Path) -> io::Result<File> {
    opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Open following symlinks, but never block on a FIFO or device planted there.
pub fn open_nonblock(opts: &mut OpenOptions, path: &Path) -> io::Result<File> {
    opts.custom_flags(libc::O_NONBLOCK).open(path)
}

/// Whether an open error means "that is a symlink" (from [`open_nofollow`]).
pub(super) fn is_symlink_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// Create a new private file for writing: `O_EXCL`, `O_NOFOLLOW`, mode 0600 (set
/// again after the open: umask cannot widen 0600, but make the mode exact anyway).
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(f)
}

/// Open a private log for appending, creating it 0600 if it does not exist; a
/// symlink there is refused. `read` also opens it for reading.
pub fn open_append_private(path: &Path, read: bool) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .read(read)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Open a private file for reading and writing, creating it 0600 (kept as it is
/// when it exists, then set to 0600); a symlink there is refused.
pub fn open_private_rw(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    f.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(f)
}

/// Replace `to` with `from` (same directory): `rename(2)`, atomic on POSIX.
pub(super) fn replace(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
}

/// Make a rename or a new entry in `dir` durable: fsync the directory.
pub(super) fn fsync_dir(dir: &Path) -> Result<()> {
    let d = File::open(dir).map_err(|e| FsError::io(dir, e))?;
    d.sync_all().map_err(|e| FsError::io(dir, e))
}

/// Hold an exclusive `flock` on `f` until it closes (the kernel drops it when the
/// process dies). Returns false when the lock could not be taken.
pub fn lock_exclusive(f: &File) -> bool {
    // SAFETY: flock on a descriptor owned by `f` for this call.
    unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(f), libc::LOCK_EX) == 0 }
}

/// Take an exclusive `flock` on `f` without waiting: `Ok(false)` when someone else
/// holds it. Held until `f` closes.
pub fn try_lock_exclusive(f: &File) -> io::Result<bool> {
    // SAFETY: flock on a descriptor owned by `f` for this call.
    if unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(f),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    } == 0
    {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Whether nobody holds a lock taken with [`lock_exclusive`] on the file `f` is open on.
pub(super) fn lock_is_free(f: &File) -> bool {
    let fd = std::os::fd::AsRawFd::as_raw_fd(f);
    // SAFETY: fd is a valid open descriptor owned by `f` for this call.
    let free = unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if free {
        unsafe { libc::flock(fd, libc::LOCK_UN) };
    }
    free
}

/// Whether `pid` names a live process here (EPERM: alive, another user's). An
/// unknown pid (0, unparsable) counts as gone, so only the age rule applies.
pub fn pid_alive(pid: i64) -> bool {
    if pid <= 0 || pid > i32::MAX as i64 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence.
    let r = unsafe { libc::kill(pid as i32, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether `pid` is certainly gone (ESRCH); a pid we may not signal is alive.
pub(super) fn pid_gone(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks whether the pid exists.
    pid > 0
        && unsafe { libc::kill(pid, 0) } == -1
        && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// A create of the lock file failed for a reason that means "someone else is
/// between holding and releasing it" (never on Unix: `O_EXCL` says AlreadyExists).
pub(super) fn is_transient_create_error(_e: &io::Error) -> bool {
    false
}

/// (device, inode) of the file at `path`; `follow` chooses `stat` or `lstat`.
pub fn file_id(path: &Path, follow: bool) -> io::Result<(u64, u64)> {
    let m = if follow {
        fs::metadata(path)?
    } else {
        fs::symlink_metadata(path)?
    };
    Ok((m.dev(), m.ino()))
}

/// (device, inode) of an open file.
pub fn file_id_of(f: &File) -> io::Result<(u64, u64)> {
    let m = f.metadata()?;
    Ok((m.dev(), m.ino()))
}

/// Whether `mode` grants anything to group or others.
pub fn mode_is_loose(mode: u32) -> bool {
    mode & 0o077 != 0
}

/// `pwrite` all of `buf` at `offset` (the file position is not used).
pub fn write_all_at(f: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, offset)
}

/// `pread` exactly `buf.len()` bytes at `offset`.
pub fn read_exact_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

/// Whether `fd` is an open descriptor of this process (`fcntl(F_GETFD)`).
pub fn fd_is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor.
    fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1
}

/// Take ownership of an inherited descriptor the user handed us (`--passphrase-fd`).
///
/// # Safety
/// `fd` must be open ([`fd_is_open`]) and not owned by anything else in this process.
pub unsafe fn file_from_fd(fd: i32) -> File {
    std::os::fd::FromRawFd::from_raw_fd(fd)
}
