//! Private files and directories, atomic writes, and OpenClaw's lock-file protocol.
//!
//! Every file clawvault writes goes through [`write_atomic`]: a temp file in the
//! same directory, created 0600 with `O_EXCL`, written, fsynced, renamed over the
//! target, and the directory fsynced. A reader (or a crash) sees the old file or
//! the new one, never a torn one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use thiserror::Error;

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
    Locked { path: PathBuf, pid: i64, held_ms: u64 },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
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

/// Create `dir` (and parents) as 0700, and set 0700 again if it already exists.
/// A symlink at `dir` itself is refused.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if refuse_symlink(dir)? {
        let meta = fs::metadata(dir).map_err(|e| FsError::io(dir, e))?;
        if !meta.is_dir() {
            return Err(FsError::io(
                dir,
                io::Error::new(io::ErrorKind::AlreadyExists, "exists and is not a directory"),
            ));
        }
        if meta.mode() & 0o777 != 0o700 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| FsError::io(dir, e))?;
        }
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        if !parent.as_os_str().is_empty() && !parent.exists() {
            ensure_private_dir(parent)?;
        }
    }
    let mut b = fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    match b.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(FsError::io(dir, e)),
    }
    // umask may have narrowed or (never) widened it: set it exactly.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| FsError::io(dir, e))
}

/// Read a regular file, refusing symlinks. `Ok(None)` when it does not exist.
pub fn read_private(path: &Path) -> Result<Option<Vec<u8>>> {
    if !refuse_symlink(path)? {
        return Ok(None);
    }
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| FsError::io(path, e))?;
    let meta = f.metadata().map_err(|e| FsError::io(path, e))?;
    if !meta.is_file() {
        return Err(FsError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut buf).map_err(|e| FsError::io(path, e))?;
    Ok(Some(buf))
}

fn fsync_dir(dir: &Path) -> Result<()> {
    let d = File::open(dir).map_err(|e| FsError::io(dir, e))?;
    d.sync_all().map_err(|e| FsError::io(dir, e))
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Test-only crash points: when `CLAWVAULT_TEST_CRASH_AT` names a step, the process
/// aborts there. Compiled in always so the integration tests drive the real binary;
/// the variable is read once and costs nothing otherwise.
pub fn crash_point(step: &str) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| std::env::var("CLAWVAULT_TEST_CRASH_AT").ok());
    if at.as_deref() == Some(step) {
        eprintln!("clawvault: test crash point {step} reached, aborting");
        std::process::abort();
    }
}

/// Atomically replace `path` with `data`, mode 0600. A symlink at `path` is refused.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    refuse_symlink(path)?;
    let dir = parent_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(|e| FsError::io(&tmp, e))?;
        // umask cannot widen 0600, but make the mode exact anyway.
        f.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| FsError::io(&tmp, e))?;
        f.write_all(data).map_err(|e| FsError::io(&tmp, e))?;
        f.sync_all().map_err(|e| FsError::io(&tmp, e))?;
        crash_point("write_atomic:before-rename");
        fs::rename(&tmp, path).map_err(|e| FsError::io(path, e))?;
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
        let start = Instant::now();
        let mut delay = Duration::from_millis(2);
        loop {
            let created = now_ms();
            let token = format!("{{\"pid\":{},\"createdAt\":{}}}", std::process::id(), created);
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(token.as_bytes())
                        .and_then(|_| f.sync_all())
                        .map_err(|e| {
                            let _ = fs::remove_file(&path);
                            FsError::io(&path, e)
                        })?;
                    return Ok(FileLock { path, token });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let (pid, created_at) = read_lock_holder(&path);
                    let held_ms = now_ms().saturating_sub(created_at);
                    if created_at != 0 && held_ms > LOCK_STALE_AFTER.as_millis() as u64 {
                        break_stale_lock(&path, created_at);
                        continue;
                    }
                    if start.elapsed() >= wait {
                        return Err(FsError::Locked {
                            path,
                            pid,
                            held_ms,
                        });
                    }
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(FsError::io(&path, e)),
            }
        }
    }
}

/// Parse a lock file's holder; (0, 0) when unreadable (e.g. being written right now).
fn read_lock_holder(path: &Path) -> (i64, u64) {
    let Ok(bytes) = fs::read(path) else {
        return (0, 0);
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        // A lock file that is not JSON: judge its age by mtime.
        let mtime = fs::metadata(path)
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        return (0, mtime);
    };
    let pid = v.get("pid").and_then(|p| p.as_i64()).unwrap_or(0);
    let created = v.get("createdAt").and_then(|c| c.as_u64()).unwrap_or(0);
    (pid, created)
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

impl Drop for FileLock {
    fn drop(&mut self) {
        // Only remove the lock if it is still ours.
        if fs::read(&self.path).map(|b| b == self.token.as_bytes()).unwrap_or(false) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Whether `mode` grants anything to group or others.
pub fn mode_is_loose(mode: u32) -> bool {
    mode & 0o077 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
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
    fn atomic_write_refuses_symlink_target() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        fs::write(&real, b"keep").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(write_atomic(&link, b"x"), Err(FsError::Symlink { .. })));
        assert_eq!(fs::read(&real).unwrap(), b"keep");
    }

    #[test]
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
        let err = FileLock::acquire(&target, Duration::from_millis(30)).unwrap_err();
        assert!(err.to_string().contains(&format!("pid {}", std::process::id())));
        drop(l);
        assert!(!FileLock::lock_path(&target).exists());
        FileLock::acquire(&target, Duration::from_millis(10)).unwrap();
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
}
