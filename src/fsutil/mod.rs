//! Private files and directories, atomic writes, and OpenClaw's lock-file protocol.
//!
//! Every file clawvault writes goes through [`write_atomic`]: a temp file in the
//! same directory, created 0600 with `O_EXCL`, written, fsynced, renamed over the
//! target, and the directory fsynced. A reader (or a crash) sees the old file or
//! the new one, never a torn one.
//!
//! The platform halves live in `unix.rs` (modes, `O_NOFOLLOW`, `flock`) and
//! `windows.rs` (owner-only DACLs, reparse points refused, `LockFileEx`,
//! `MoveFileExW` with write-through); this file holds what both share.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use thiserror::Error;

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod sys;

#[cfg(windows)]
pub use sys::link_count;
#[cfg(windows)]
pub use sys::make_private;
#[cfg(unix)]
pub use sys::mode_is_loose;
pub use sys::{
    create_new_private, fd_is_open, file_from_fd, file_id, file_id_of, lock_exclusive,
    open_append_private, open_nofollow, open_nofollow_nonblock, open_nonblock, open_private_rw,
    pid_alive, read_exact_at, try_lock_exclusive, write_all_at,
};

/// Errors from the file layer. Each names the path it is about.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is a symlink; clawvault refuses to follow symlinks where a private file or directory should be")]
    Symlink { path: PathBuf },
    #[error("{path} is locked by pid {pid} (held for {held_ms} ms); wait for that process, or remove the lock file if no OpenClaw or clawvault process is running")]
    Locked {
        path: PathBuf,
        pid: i64,
        held_ms: u64,
    },
    #[error("{path} is not a regular file; clawvault reads only regular files there (remove it or point clawvault elsewhere)")]
    NotAFile { path: PathBuf },
    #[error("{path} is larger than {cap} bytes; clawvault does not read it whole (is it the right file?)")]
    TooLarge { path: PathBuf, cap: u64 },
    #[error(transparent)]
    Untrusted(#[from] crate::trust::Untrusted),
}

impl FsError {
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        FsError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, FsError>;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Refuse a symlink at `path`; returns whether something exists there.
pub fn refuse_symlink(path: &Path) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(FsError::Symlink {
            path: path.to_path_buf(),
        }),
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(FsError::io(path, e)),
    }
}

/// Create `dir` (and parents) as 0700, and set 0700 again if it already exists
/// (on Windows: an owner-only DACL, set again when anyone else is let in). A
/// symlink at `dir` itself is refused, and so is a directory another user owns.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if refuse_symlink(dir)? {
        let meta = fs::metadata(dir).map_err(|e| FsError::io(dir, e))?;
        if !meta.is_dir() {
            return Err(FsError::io(
                dir,
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a directory",
                ),
            ));
        }
        return sys::adopt_private_dir(dir, &meta);
    }
    if let Some(parent) = dir.parent() {
        if !parent.as_os_str().is_empty() && !parent.exists() {
            ensure_private_dir(parent)?;
        }
    }
    let created = sys::create_private_dir(dir).map_err(|e| FsError::io(dir, e))?;
    // The new entry is durable only once its parent directory is synced.
    if created {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            if let Ok(d) = File::open(parent) {
                d.sync_all().map_err(|e| FsError::io(parent, e))?;
            }
        }
    }
    Ok(())
}

/// The largest file clawvault reads whole (profile documents, manifests, `.env`
/// files, journals): far above any real one, far below what exhausts memory.
pub const MAX_READ_BYTES: u64 = 64 << 20;

/// Open `path` for reading without following a symlink and without blocking on a
/// FIFO or device, and check that it is a regular file.
fn open_regular(path: &Path) -> Result<(File, fs::Metadata)> {
    let f = sys::open_nofollow_nonblock(OpenOptions::new().read(true), path).map_err(|e| {
        if sys::is_symlink_error(&e) {
            FsError::Symlink {
                path: path.to_path_buf(),
            }
        } else {
            FsError::io(path, e)
        }
    })?;
    let meta = f.metadata().map_err(|e| FsError::io(path, e))?;
    if !meta.is_file() {
        return Err(FsError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    Ok((f, meta))
}

/// Read a regular file, refusing symlinks, FIFOs, devices and files over
/// [`MAX_READ_BYTES`]. `Ok(None)` when it does not exist.
pub fn read_private(path: &Path) -> Result<Option<Vec<u8>>> {
    read_capped(path, MAX_READ_BYTES)
}

/// [`read_private`] with a size cap of the caller's choosing.
pub fn read_capped(path: &Path, cap: u64) -> Result<Option<Vec<u8>>> {
    if !refuse_symlink(path)? {
        return Ok(None);
    }
    let (f, meta) = open_regular(path)?;
    if meta.len() > cap {
        return Err(FsError::TooLarge {
            path: path.to_path_buf(),
            cap,
        });
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| FsError::io(path, e))?;
    if buf.len() as u64 > cap {
        return Err(FsError::TooLarge {
            path: path.to_path_buf(),
            cap,
        });
    }
    Ok(Some(buf))
}

fn fsync_dir(dir: &Path) -> Result<()> {
    sys::fsync_dir(dir)
}

/// Replace `to` with `from` in the same directory: `rename(2)` on Unix,
/// `MoveFileExW(REPLACE_EXISTING | WRITE_THROUGH)` on Windows.
pub fn replace(from: &Path, to: &Path) -> io::Result<()> {
    sys::replace(from, to)
}

/// Make a rename in `dir` durable (fsync the directory; nothing to do on Windows,
/// where [`replace`] writes through).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    sys::fsync_dir(dir).map_err(|e| match e {
        FsError::Io { source, .. } => source,
        other => io::Error::other(other.to_string()),
    })
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Test-only crash points. `CLAWVAULT_TEST_CRASH_AT=step` (or `step#N` for the Nth
/// time the step is reached) aborts the process there; `CLAWVAULT_TEST_CRASH_TRACE=F`
/// appends every step reached to F, so tests can enumerate the steps of a command and
/// crash at each. Compiled in always so the integration tests drive the real binary;
/// without the variables it costs one lookup.
pub fn crash_point(step: &str) {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CFG: std::sync::OnceLock<(Option<String>, Option<PathBuf>)> = std::sync::OnceLock::new();
    static SEEN: Mutex<Option<HashMap<String, u32>>> = Mutex::new(None);
    let (at, trace) = CFG.get_or_init(|| {
        (
            std::env::var("CLAWVAULT_TEST_CRASH_AT").ok(),
            std::env::var_os("CLAWVAULT_TEST_CRASH_TRACE").map(PathBuf::from),
        )
    });
    if at.is_none() && trace.is_none() {
        return;
    }
    let n = {
        let mut g = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        let m = g.get_or_insert_with(HashMap::new);
        let c = m.entry(step.to_string()).or_insert(0);
        *c += 1;
        *c
    };
    let tagged = format!("{step}#{n}");
    if let Some(t) = trace {
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(t) {
            let _ = writeln!(f, "{tagged}");
        }
    }
    if at.as_deref() == Some(tagged.as_str()) || (n == 1 && at.as_deref() == Some(step)) {
        eprintln!("clawvault: test crash point {tagged} reached, aborting");
        std::process::abort();
    }
}

/// Remove `.<any name>.tmp-<pid>-<rand>` files in `dir` left by writers that died
/// mid-write. A file whose pid is alive (or unparsable) is left alone.
pub fn remove_dead_temp_files(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let file = e.file_name();
        let Some(f) = file.to_str() else { continue };
        if !f.starts_with('.') {
            continue;
        }
        let Some(rest) = f.rsplit_once(".tmp-").map(|(_, r)| r) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if sys::pid_gone(pid) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Atomically replace `path` with `data`, mode 0600 (Windows: owner-only DACL). A
/// symlink at `path` is refused.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    refuse_symlink(path)?;
    let dir = parent_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    remove_dead_temp_files(dir);
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut f = create_new_private(&tmp).map_err(|e| FsError::io(&tmp, e))?;
        f.write_all(data).map_err(|e| FsError::io(&tmp, e))?;
        f.sync_all().map_err(|e| FsError::io(&tmp, e))?;
        crash_point("write_atomic:before-rename");
        // Close before the rename: Windows cannot replace with a file still open.
        drop(f);
        sys::replace(&tmp, path).map_err(|e| FsError::io(path, e))?;
        crash_point("write_atomic:after-rename");
        fsync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// OpenClaw's advisory lock: a sibling `<file>.lock`, created with `O_EXCL`, holding
/// `{"pid":N,"createdAt":ms}`, treated as stale after 30 s. Released on drop.
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
    token: String,
    /// Held with `flock(LOCK_EX)` (Windows: `LockFileEx` on a byte range past the
    /// content) for the life of the lock: the kernel drops it when
    /// this process dies, which lets the next clawvault tell a crashed holder from a
    /// live one at once (OpenClaw's own locks still go stale only after 30 s).
    _file: File,
}

/// How long a lock may live before it is considered abandoned (OpenClaw's rule).
pub const LOCK_STALE_AFTER: Duration = Duration::from_secs(30);
/// How long clawvault waits for a live lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(15);

impl FileLock {
    pub fn lock_path(target: &Path) -> PathBuf {
        let mut s = target.as_os_str().to_owned();
        s.push(".lock");
        PathBuf::from(s)
    }

    /// Take the lock for `target`, waiting up to `wait` for a live holder.
    pub fn acquire(target: &Path, wait: Duration) -> Result<FileLock> {
        let path = Self::lock_path(target);
        remove_dead_temp_files(parent_of(target));
        let start = Instant::now();
        loop {
            let created = now_ms();
            let token = format!(
                "{{\"pid\":{},\"createdAt\":{},\"owner\":\"clawvault\"}}",
                std::process::id(),
                created
            );
            match create_new_private(&path) {
                Ok(mut f) => {
                    // flock before the content is visible: a reader that sees our
                    // owner tag always finds the flock held while we live.
                    lock_exclusive(&f);
                    f.write_all(token.as_bytes())
                        .and_then(|_| f.sync_all())
                        .map_err(|e| {
                            let _ = fs::remove_file(&path);
                            FsError::io(&path, e)
                        })?;
                    return Ok(FileLock {
                        path,
                        token,
                        _file: f,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let (pid, created_at) = read_lock_holder(&path);
                    let held_ms = now_ms().saturating_sub(created_at);
                    // Stale: older than 30 s AND its pid is gone. A live holder is
                    // waited for (bounded), then named in the error.
                    if created_at != 0
                        && held_ms > LOCK_STALE_AFTER.as_millis() as u64
                        && !pid_alive(pid)
                    {
                        break_stale_lock(&path, created_at);
                        continue;
                    }
                    if let Some(ino) = held_by_dead_clawvault(&path) {
                        break_dead_lock(&path, ino);
                        continue;
                    }
                    if start.elapsed() >= wait {
                        return Err(FsError::Locked { path, pid, held_ms });
                    }
                    lock_poll_pause();
                }
                // Windows: the holder's delete is still pending (see
                // `sys::is_transient_create_error`); never on Unix.
                Err(e) if sys::is_transient_create_error(&e) && start.elapsed() < wait => {
                    lock_poll_pause();
                }
                Err(e) => return Err(FsError::io(&path, e)),
            }
        }
    }
}

/// Poll at a short, jittered, constant interval. A backoff that grew to 50 ms let
/// newcomers (polling at 2 ms) win every release: with eight pastes and a gateway
/// writing every 3 ms, one paste waited out the whole 15 s while each holder held
/// the lock for 15 ms. At an equal rate every waiter has an equal chance at each
/// release; a failed open costs a few microseconds.
fn lock_poll_pause() {
    std::thread::sleep(Duration::from_micros(1000 + rand::random::<u64>() % 3000));
}

/// A lock tagged `"owner":"clawvault"` whose flock nobody holds: its holder died.
/// Returns the inode judged dead, read and flock-tested through one descriptor (a
/// lock released and taken again between a read and a separate open would otherwise
/// pair one holder's tag with the next holder's not-yet-taken flock), and only while
/// that inode is still the one at `path`. (On Windows the inode is the file index,
/// the device the volume serial number; the flock is a `LockFileEx` range.)
fn held_by_dead_clawvault(path: &Path) -> Option<u64> {
    let (mut f, meta) = open_regular(path).ok()?;
    if meta.len() > MAX_LOCK_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).ok()?;
    let tagged = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            v.get("owner")
                .and_then(|o| o.as_str())
                .map(|o| o == "clawvault")
        })
        .unwrap_or(false);
    if !tagged {
        return None;
    }
    let free = sys::lock_is_free(&f);
    let id = sys::file_id_of(&f).ok()?;
    let still_there = sys::file_id(path, false).is_ok_and(|at| at == id);
    (free && still_there).then_some(id.1)
}

/// A lock file is a few dozen bytes; a bigger one is not a lock.
const MAX_LOCK_BYTES: u64 = 4096;

/// Parse a lock file's holder; (0, 0) when it vanished (or is being written right
/// now). A lock that is not a small regular JSON file with `createdAt` (a planted
/// symlink to `/dev/zero`, a FIFO, garbage) is judged by its own mtime, so it goes
/// stale after the timeout like any other.
fn read_lock_holder(path: &Path) -> (i64, u64) {
    let by_mtime = || {
        fs::symlink_metadata(path)
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    };
    let bytes = match read_capped(path, MAX_LOCK_BYTES) {
        Ok(Some(b)) => b,
        Ok(None) => return (0, 0),
        Err(_) => return (0, by_mtime()),
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return (0, by_mtime());
    };
    match v.get("createdAt").and_then(|c| c.as_u64()) {
        Some(created) => (v.get("pid").and_then(|p| p.as_i64()).unwrap_or(0), created),
        // Without createdAt the lock is not one OpenClaw or clawvault wrote: its pid
        // (say 1, always alive) proves nothing, so only its age counts.
        None => (0, by_mtime()),
    }
}

/// Remove a stale lock, but only the one we judged stale: rename it aside first so
/// that a fresh lock taken by someone else in between is not deleted.
fn break_stale_lock(path: &Path, created_at: u64) {
    let aside = path.with_extension(format!("lock.stale-{:016x}", rand::random::<u64>()));
    if fs::rename(path, &aside).is_ok() {
        let (_, c) = read_lock_holder(&aside);
        if c != created_at {
            // We moved a fresh lock: put it back if nobody took the name meanwhile.
            let _ = fs::hard_link(&aside, path);
        }
        let _ = fs::remove_file(&aside);
    }
}

/// Remove the dead clawvault lock `ino`, and nothing else: it is renamed aside
/// first, and put back if the file moved turns out to be another (a holder that took
/// the name in between keeps its lock).
fn break_dead_lock(path: &Path, ino: u64) {
    let aside = path.with_extension(format!("lock.stale-{:016x}", rand::random::<u64>()));
    if fs::rename(path, &aside).is_ok() {
        if sys::file_id(&aside, false).is_ok_and(|(_, i)| i != ino) {
            let _ = fs::hard_link(&aside, path);
        }
        let _ = fs::remove_file(&aside);
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Only remove the lock if it is still ours.
        if fs::read(&self.path)
            .map(|b| b == self.token.as_bytes())
            .unwrap_or(false)
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    #[cfg(unix)]
    fn atomic_write_creates_0600_and_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        // No temp files left behind.
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    #[cfg(windows)]
    fn atomic_write_creates_an_owner_only_file_and_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let me = crate::winsec::current_user().unwrap();
        let sec = crate::winsec::read_path(&p).unwrap();
        assert_eq!(sec.owner.as_ref(), Some(&me));
        // Only the user (Windows writes exactly the one entry; Wine, which maps
        // DACLs onto Unix modes, also reports SYSTEM, which the checks allow).
        assert!(
            sec.others_with(&me, crate::winsec::ANY_RIGHTS).is_empty(),
            "{sec:?}"
        );
        let aces = sec.dacl.expect("a DACL");
        assert!(
            aces.iter().any(|a| a.allow && a.sid.as_ref() == Some(&me)),
            "{aces:?}"
        );
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    #[cfg(windows)]
    fn private_dir_gets_an_owner_only_dacl_again() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a").join("b");
        ensure_private_dir(&p).unwrap();
        let me = crate::winsec::current_user().unwrap();
        let private = |p: &Path| {
            let sec = crate::winsec::read_path(p).unwrap();
            sec.others_with(&me, crate::winsec::ANY_RIGHTS).is_empty()
        };
        assert!(private(&p));
        // Let Everyone in, as a careless `icacls /grant` would; the next call resets it.
        set_everyone_read(&p);
        assert!(!private(&p));
        ensure_private_dir(&p).unwrap();
        assert!(private(&p));
        // (That a file created inside inherits the entry (OICI) is Windows's part;
        // Wine does not implement DACL inheritance, so it is not asserted here.)
    }

    #[cfg(windows)]
    fn set_everyone_read(p: &Path) {
        use windows_sys::Win32::Security::Authorization::*;
        use windows_sys::Win32::Security::*;
        let me = crate::winsec::current_user().unwrap().string();
        let sddl: Vec<u16> = format!("D:P(A;OICI;FA;;;{me})(A;OICI;FR;;;WD)")
            .encode_utf16()
            .chain([0])
            .collect();
        unsafe {
            let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
            assert_ne!(
                ConvertStringSecurityDescriptorToSecurityDescriptorW(
                    sddl.as_ptr(),
                    SDDL_REVISION_1,
                    &mut sd,
                    std::ptr::null_mut()
                ),
                0
            );
            let (mut present, mut def) = (0, 0);
            let mut dacl: *mut ACL = std::ptr::null_mut();
            GetSecurityDescriptorDacl(sd, &mut present, &mut dacl, &mut def);
            let w = crate::winsec::wide(p);
            assert_eq!(
                SetNamedSecurityInfoW(
                    w.as_ptr(),
                    SE_FILE_OBJECT,
                    DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    dacl,
                    std::ptr::null()
                ),
                0
            );
            windows_sys::Win32::Foundation::LocalFree(sd as _);
        }
    }

    #[test]
    #[cfg(unix)]
    fn atomic_write_refuses_symlink_target() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        fs::write(&real, b"keep").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(
            write_atomic(&link, b"x"),
            Err(FsError::Symlink { .. })
        ));
        assert_eq!(fs::read(&real).unwrap(), b"keep");
    }

    #[test]
    #[cfg(unix)]
    fn private_dir_mode_is_reset() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b");
        ensure_private_dir(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&p).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn lock_is_exclusive_and_released() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("auth-profiles.json");
        let l = FileLock::acquire(&target, Duration::from_millis(10)).unwrap();
        let body = fs::read_to_string(FileLock::lock_path(&target)).unwrap();
        assert!(body.contains(&format!("\"pid\":{}", std::process::id())));
        // Held by a live clawvault (us): not broken even though it is ours.
        assert!(held_by_dead_clawvault(&FileLock::lock_path(&target)).is_none());
        let err = FileLock::acquire(&target, Duration::from_millis(30)).unwrap_err();
        assert!(err
            .to_string()
            .contains(&format!("pid {}", std::process::id())));
        drop(l);
        assert!(!FileLock::lock_path(&target).exists());
        FileLock::acquire(&target, Duration::from_millis(10)).unwrap();
    }

    #[test]
    fn lock_of_a_dead_clawvault_is_broken_at_once_but_not_openclaws() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("auth-profiles.json");
        let lock = FileLock::lock_path(&target);
        // A young lock tagged as ours with no flock holder: its holder died.
        fs::write(
            &lock,
            format!(
                "{{\"pid\":999999,\"createdAt\":{},\"owner\":\"clawvault\"}}",
                now_ms()
            ),
        )
        .unwrap();
        drop(FileLock::acquire(&target, Duration::from_millis(10)).unwrap());
        // A young OpenClaw lock (no owner tag) is waited for, whatever its pid.
        fs::write(
            &lock,
            format!("{{\"pid\":999999,\"createdAt\":{}}}", now_ms()),
        )
        .unwrap();
        let e = FileLock::acquire(&target, Duration::from_millis(30)).unwrap_err();
        assert!(e.to_string().contains("pid 999999"));
    }

    #[test]
    fn temp_files_of_dead_writers_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        let dead = d.path().join(".f.json.tmp-999999-00000000deadbeef");
        let live = d.path().join(format!(
            ".f.json.tmp-{}-0000000000000001",
            std::process::id()
        ));
        fs::write(&dead, b"x").unwrap();
        fs::write(&live, b"x").unwrap();
        write_atomic(&p, b"data").unwrap();
        assert!(!dead.exists());
        assert!(live.exists());
    }

    #[test]
    fn stale_lock_is_broken() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("auth-profiles.json");
        let old = now_ms() - 31_000;
        fs::write(
            FileLock::lock_path(&target),
            format!("{{\"pid\":999999,\"createdAt\":{old}}}"),
        )
        .unwrap();
        let l = FileLock::acquire(&target, Duration::from_millis(10)).unwrap();
        drop(l);
        assert!(!FileLock::lock_path(&target).exists());
    }

    #[test]
    #[cfg(windows)]
    fn old_lock_of_a_live_process_is_waited_for_then_named() {
        // This test process is the live holder (there is no `sleep` to spawn).
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("auth-profiles.json");
        let old = now_ms() - 40_000;
        let lock = FileLock::lock_path(&target);
        let me = std::process::id();
        let content = format!("{{\"pid\":{me},\"createdAt\":{old}}}");
        fs::write(&lock, &content).unwrap();
        let err = FileLock::acquire(&target, Duration::from_millis(200)).unwrap_err();
        assert!(
            matches!(&err, FsError::Locked { pid, .. } if *pid == me as i64),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&lock).unwrap(), content);
        assert!(!pid_alive(0x7fff_fff0));
    }

    #[test]
    #[cfg(unix)]
    fn old_lock_of_a_live_process_is_waited_for_then_named() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("auth-profiles.json");
        let mut holder = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let old = now_ms() - 40_000;
        let lock = FileLock::lock_path(&target);
        let content = format!("{{\"pid\":{},\"createdAt\":{old}}}", holder.id());
        fs::write(&lock, &content).unwrap();
        let err = FileLock::acquire(&target, Duration::from_millis(200)).unwrap_err();
        let _ = holder.kill();
        let _ = holder.wait();
        assert!(
            matches!(&err, FsError::Locked { pid, .. } if *pid == holder.id() as i64),
            "{err}"
        );
        assert!(err.to_string().contains(&holder.id().to_string()), "{err}");
        // Untouched: the live holder's lock is not ours to break.
        assert_eq!(fs::read_to_string(&lock).unwrap(), content);
    }
}
