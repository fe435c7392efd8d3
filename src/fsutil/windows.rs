//! The Windows half of the file layer: owner-only DACLs instead of modes
//! (`crate::winsec`), reparse points refused instead of `O_NOFOLLOW`, `LockFileEx`
//! instead of `flock`, `MoveFileExW(REPLACE_EXISTING | WRITE_THROUGH)` for the
//! atomic replace, and `OpenProcess` instead of `kill(pid, 0)`.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::os::windows::io::{AsRawHandle, FromRawHandle};
use std::path::Path;

use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, ERROR_ACCESS_DENIED, ERROR_LOCK_VIOLATION, GENERIC_READ,
    GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE, STILL_ACTIVE,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateDirectoryW, CreateFileW, GetFileInformationByHandle, LockFileEx, MoveFileExW,
    UnlockFileEx, BY_HANDLE_FILE_INFORMATION, CREATE_NEW, FILE_APPEND_DATA, FILE_ATTRIBUTE_NORMAL,
    FILE_ATTRIBUTE_REPARSE_POINT, FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT,
    FILE_READ_ATTRIBUTES, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
    LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY, MOVEFILE_REPLACE_EXISTING,
    MOVEFILE_WRITE_THROUGH, OPEN_ALWAYS, OPEN_EXISTING, READ_CONTROL, SYNCHRONIZE,
};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::{FsError, Result};
use crate::winsec::{self, LocalSd};

/// An existing directory: refuse one another user owns, and give it the owner-only
/// DACL again when anyone else is let in (the `chmod 700` of Windows).
pub(super) fn adopt_private_dir(dir: &Path, _meta: &fs::Metadata) -> Result<()> {
    let me = winsec::current_user().map_err(|e| FsError::io(dir, e))?;
    let sec = winsec::read_path(dir).map_err(|e| FsError::io(dir, e))?;
    if sec.owner.as_ref() != Some(&me) {
        let owner = sec
            .owner
            .as_ref()
            .map(|o| o.name())
            .unwrap_or_else(|| "nobody".into());
        return Err(crate::trust::Untrusted {
            path: dir.to_path_buf(),
            reason: format!("is owned by {owner}, not by you ({})", me.string()),
            fix: "remove it (it is not yours) or point clawvault elsewhere".into(),
        }
        .into());
    }
    // Entries for SYSTEM and Administrators are left alone, as the checks allow
    // them (Wine also reports SYSTEM on every file it maps from Unix modes).
    if !sec.others_with(&me, winsec::ANY_RIGHTS).is_empty() {
        winsec::set_owner_only(dir, true).map_err(|e| FsError::io(dir, e))?;
    }
    Ok(())
}

/// Create one directory with the owner-only DACL (`AlreadyExists` is the caller's
/// to judge).
pub(super) fn create_private_dir(dir: &Path) -> io::Result<bool> {
    let sd = LocalSd::owner_only(true)?;
    let sa = sd.attributes();
    let w = winsec::wide(dir);
    // SAFETY: NUL-terminated name; `sa` points into `sd`, alive for the call.
    if unsafe { CreateDirectoryW(w.as_ptr(), &sa) } == 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::AlreadyExists {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(true)
}

fn refuse_reparse(f: File) -> io::Result<File> {
    let m = f.metadata()?;
    if m.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a symlink or another reparse point; clawvault does not follow it",
        ));
    }
    Ok(f)
}

/// Open without following a symlink (or junction) at `path`: the reparse point
/// itself is opened, then refused.
pub fn open_nofollow(opts: &mut OpenOptions, path: &Path) -> io::Result<File> {
    refuse_reparse(opts.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT).open(path)?)
}

/// [`open_nofollow`]; Windows has no FIFOs in the file system to block on.
pub fn open_nofollow_nonblock(opts: &mut OpenOptions, path: &Path) -> io::Result<File> {
    open_nofollow(opts, path)
}

/// A plain open: Windows has no FIFOs or devices in the file system to block on.
pub fn open_nonblock(opts: &mut OpenOptions, path: &Path) -> io::Result<File> {
    opts.open(path)
}

pub(super) fn is_symlink_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidInput && e.to_string().contains("reparse point")
}

fn create_file(
    path: &Path,
    access: u32,
    disposition: u32,
    sd: Option<&LocalSd>,
) -> io::Result<File> {
    let w = winsec::wide(path);
    let sa = sd.map(LocalSd::attributes);
    // SAFETY: NUL-terminated name; `sa` (if any) points into `sd`, alive for the
    // call; the returned handle is owned by the File.
    let h = unsafe {
        CreateFileW(
            w.as_ptr(),
            access,
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            sa.as_ref().map_or(std::ptr::null(), |s| s as *const _),
            disposition,
            FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
            std::ptr::null_mut(),
        )
    };
    if h == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle nobody else owns.
    refuse_reparse(unsafe { File::from_raw_handle(h as _) })
}

/// Create a new private file (`CREATE_NEW`) with the owner-only DACL set at
/// creation through `SECURITY_ATTRIBUTES`: there is no moment when it has another.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let sd = LocalSd::owner_only(false)?;
    create_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_NEW, Some(&sd))
}

/// Open a private log for appending (`OPEN_ALWAYS`: created with the owner-only
/// DACL when new); a reparse point there is refused.
pub fn open_append_private(path: &Path, read: bool) -> io::Result<File> {
    let sd = LocalSd::owner_only(false)?;
    let mut access = FILE_APPEND_DATA | FILE_READ_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE;
    if read {
        access |= GENERIC_READ;
    }
    create_file(path, access, OPEN_ALWAYS, Some(&sd))
}

/// Open a private file for reading and writing (`OPEN_ALWAYS`: created with the
/// owner-only DACL when new); a reparse point there is refused.
pub fn open_private_rw(path: &Path) -> io::Result<File> {
    let sd = LocalSd::owner_only(false)?;
    create_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_ALWAYS, Some(&sd))
}

/// Replace `to` with `from` (same directory): `MoveFileExW` with
/// `MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH`, which returns only once the
/// move is on disk (std's `rename` uses the first flag, not the second). The
/// security descriptor travels with `from`, so the result is owner-only.
pub(super) fn replace(from: &Path, to: &Path) -> io::Result<()> {
    let (f, t) = (winsec::wide(from), winsec::wide(to));
    // SAFETY: NUL-terminated names.
    if unsafe {
        MoveFileExW(
            f.as_ptr(),
            t.as_ptr(),
            MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH,
        )
    } == 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Windows cannot flush a directory handle; `MOVEFILE_WRITE_THROUGH` (in
/// [`replace`]) is what makes the rename durable, and a new directory's entry is
/// journaled by NTFS.
pub(super) fn fsync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

/// The byte range the lock takes: far past any content, because `LockFileEx` locks
/// are mandatory and a lock over the content would stop OpenClaw reading it.
const LOCK_OFFSET: u64 = 1 << 62;

fn lock_range(f: &File, flags: u32) -> bool {
    // SAFETY: a zeroed OVERLAPPED with the offset set; the handle is owned by `f`.
    unsafe {
        let mut ov: OVERLAPPED = std::mem::zeroed();
        ov.Anonymous.Anonymous.Offset = LOCK_OFFSET as u32;
        ov.Anonymous.Anonymous.OffsetHigh = (LOCK_OFFSET >> 32) as u32;
        LockFileEx(f.as_raw_handle() as HANDLE, flags, 0, 1, 0, &mut ov) != 0
    }
}

/// Hold an exclusive `LockFileEx` lock on `f` until it closes (Windows drops it
/// when the process dies).
pub fn lock_exclusive(f: &File) -> bool {
    lock_range(f, LOCKFILE_EXCLUSIVE_LOCK)
}

/// Take the [`lock_exclusive`] lock without waiting: `Ok(false)` when another
/// handle holds it. Held until `f` closes.
pub fn try_lock_exclusive(f: &File) -> io::Result<bool> {
    if lock_range(f, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY) {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(ERROR_LOCK_VIOLATION as i32) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Whether nobody holds a lock taken with [`lock_exclusive`] on the file `f` is open on.
pub(super) fn lock_is_free(f: &File) -> bool {
    let free = lock_range(f, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY);
    if free {
        // SAFETY: as in lock_range; releases the range just taken.
        unsafe {
            let mut ov: OVERLAPPED = std::mem::zeroed();
            ov.Anonymous.Anonymous.Offset = LOCK_OFFSET as u32;
            ov.Anonymous.Anonymous.OffsetHigh = (LOCK_OFFSET >> 32) as u32;
            UnlockFileEx(f.as_raw_handle() as HANDLE, 0, 1, 0, &mut ov);
        }
    }
    free
}

/// Whether `pid` names a live process: it opens and has not exited, or it exists
/// but belongs to someone we may not query (access denied).
pub fn pid_alive(pid: i64) -> bool {
    if pid <= 0 || pid > u32::MAX as i64 {
        return false;
    }
    // SAFETY: a query-only open; the handle is closed below.
    unsafe {
        let h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid as u32);
        if h.is_null() {
            return GetLastError() == ERROR_ACCESS_DENIED;
        }
        let mut code = 0u32;
        let ok = GetExitCodeProcess(h, &mut code) != 0;
        CloseHandle(h);
        !ok || code == STILL_ACTIVE as u32
    }
}

pub(super) fn pid_gone(pid: i32) -> bool {
    pid > 0 && !pid_alive(pid as i64)
}

/// Deleting an open file leaves its name "delete pending" until the last handle
/// closes: a create in that moment fails with access denied, which means "the
/// holder is releasing it", not "you may not".
pub(super) fn is_transient_create_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
}

fn id_of_handle(h: HANDLE) -> io::Result<(u64, u64)> {
    // SAFETY: `info` is valid for writes; the handle is open.
    unsafe {
        let mut info: BY_HANDLE_FILE_INFORMATION = std::mem::zeroed();
        if GetFileInformationByHandle(h, &mut info) == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((
            info.dwVolumeSerialNumber as u64,
            (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
        ))
    }
}

/// (volume serial, file index) of the file at `path`, the Windows (dev, ino).
pub fn file_id(path: &Path, follow: bool) -> io::Result<(u64, u64)> {
    let mut flags = FILE_FLAG_BACKUP_SEMANTICS;
    if !follow {
        flags |= FILE_FLAG_OPEN_REPARSE_POINT;
    }
    let w = winsec::wide(path);
    // SAFETY: NUL-terminated name; attribute-only access; the handle is closed below.
    unsafe {
        let h = CreateFileW(
            w.as_ptr(),
            FILE_READ_ATTRIBUTES,
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            std::ptr::null(),
            OPEN_EXISTING,
            flags,
            std::ptr::null_mut(),
        );
        if h == INVALID_HANDLE_VALUE {
            return Err(io::Error::last_os_error());
        }
        let r = id_of_handle(h);
        CloseHandle(h);
        r
    }
}

/// (volume serial, file index) of an open file.
pub fn file_id_of(f: &File) -> io::Result<(u64, u64)> {
    id_of_handle(f.as_raw_handle() as HANDLE)
}

/// Give an existing file or directory the owner-only DACL (what the doctor's
/// `chmod 600`/`700` fix does on Windows).
pub fn make_private(path: &Path) -> io::Result<()> {
    let dir = fs::symlink_metadata(path)?.is_dir();
    winsec::set_owner_only(path, dir)
}

/// Write all of `buf` at `offset` (`seek_write`, which also moves the position).
pub fn write_all_at(f: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_write(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Read exactly `buf.len()` bytes at `offset` (`seek_read`).
pub fn read_exact_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// How many names (hard links) the regular file at `path` has; a reparse point is
/// not followed.
pub fn link_count(path: &Path) -> io::Result<u64> {
    let f = open_nofollow(OpenOptions::new().access_mode(FILE_READ_ATTRIBUTES), path)?;
    // SAFETY: `info` is valid for writes; the handle is owned by `f`.
    unsafe {
        let mut info: BY_HANDLE_FILE_INFORMATION = std::mem::zeroed();
        if GetFileInformationByHandle(f.as_raw_handle() as HANDLE, &mut info) == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(u64::from(info.nNumberOfLinks))
    }
}

/// Whether `fd`, read as an inherited handle value (what a parent passes as
/// `--passphrase-fd N` on Windows), is an open handle of this process.
pub fn fd_is_open(fd: i32) -> bool {
    let mut flags = 0u32;
    // SAFETY: GetHandleInformation only inspects the handle value.
    fd > 0
        && unsafe {
            windows_sys::Win32::Foundation::GetHandleInformation(fd as usize as HANDLE, &mut flags)
        } != 0
}

/// Take ownership of an inherited handle the user handed us (`--passphrase-fd`).
///
/// # Safety
/// `fd` must be an open handle ([`fd_is_open`]) not owned by anything else here.
pub unsafe fn file_from_fd(fd: i32) -> File {
    File::from_raw_handle(fd as usize as _)
}
