//! Windows: the vault's named pipe, opened as a file. Before a byte is sent, the
//! process serving the pipe must run as this user (its token's user SID is ours):
//! a pipe name taken first by another user's process is refused, so an `unlock`
//! never hands that process the passphrase. The pipe is opened at the
//! identification impersonation level: the server may learn who we are, not act
//! as us.

use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{
    ERROR_BROKEN_PIPE, ERROR_FILE_NOT_FOUND, ERROR_PIPE_BUSY, HANDLE,
};
use windows_sys::Win32::Storage::FileSystem::SECURITY_IDENTIFICATION;
use windows_sys::Win32::System::Pipes::{
    GetNamedPipeServerProcessId, PeekNamedPipe, WaitNamedPipeW,
};

use super::NotRunning;
use crate::agent::paths::for_bind;
use crate::winsec;

/// The pipe, read with a deadline: std's `File` has no read timeout, and a hung
/// agent must not hang `resolve` (the Unix socket gets `SO_RCVTIMEO`).
pub(super) struct Stream {
    f: std::fs::File,
    read_timeout: Duration,
}

/// How long a reply may take, as on Unix.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a read waits for the agent.
pub(super) fn set_read_timeout(s: &mut Stream, d: Duration) {
    s.read_timeout = d;
}

impl Stream {
    /// Bytes waiting in the pipe; an error when the agent closed it.
    fn available(&self) -> std::io::Result<u32> {
        let mut avail = 0u32;
        // SAFETY: a size-only peek on the pipe handle `f` owns.
        let ok = unsafe {
            PeekNamedPipe(
                self.f.as_raw_handle() as HANDLE,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                &mut avail,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(avail)
    }
}

impl std::io::Read for Stream {
    /// Wait (yielding, then sleeping 1 ms: Windows' default timer tick is coarser,
    /// and a reply usually comes within a few ms) until the pipe holds bytes, the
    /// agent closes it, or the deadline passes; then read without blocking.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = Instant::now();
        loop {
            match self.available() {
                Ok(0) => {}
                Ok(_) => return self.f.read(buf),
                // The agent closed its end: end of file, as a socket would say.
                Err(e) if e.raw_os_error() == Some(ERROR_BROKEN_PIPE as i32) => return Ok(0),
                Err(e) => return Err(e),
            }
            let waited = start.elapsed();
            if waited >= self.read_timeout {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {} s", self.read_timeout.as_secs_f64()),
                ));
            }
            if waited < Duration::from_millis(20) {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

impl std::io::Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.f.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.f.flush()
    }
}

/// How long a connect waits while every pipe instance is busy.
const BUSY_WAIT: Duration = Duration::from_secs(5);

pub(super) fn connect(vault_dir: &Path, vault_id: &str) -> Result<(Stream, PathBuf), NotRunning> {
    let pipe = for_bind(vault_dir, vault_id).socket;
    connect_at(&pipe)
        .map(|f| {
            let s = Stream {
                f,
                read_timeout: READ_TIMEOUT,
            };
            (s, pipe.clone())
        })
        .map_err(|why| NotRunning(format!("not running ({why})")))
}

fn connect_at(pipe: &Path) -> Result<std::fs::File, String> {
    let deadline = Instant::now() + BUSY_WAIT;
    let f = loop {
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .security_qos_flags(SECURITY_IDENTIFICATION)
            .open(pipe)
        {
            Ok(f) => break f,
            Err(e) if e.raw_os_error() == Some(ERROR_FILE_NOT_FOUND as i32) => {
                return Err(format!("no agent pipe {}", pipe.display()))
            }
            Err(e)
                if e.raw_os_error() == Some(ERROR_PIPE_BUSY as i32)
                    && Instant::now() < deadline =>
            {
                let w = winsec::wide(pipe);
                // SAFETY: a NUL-terminated name; waits at most 250 ms for an instance.
                unsafe { WaitNamedPipeW(w.as_ptr(), 250) };
            }
            Err(e) => return Err(format!("cannot connect to {}: {e}", pipe.display())),
        }
    };
    check_server(&f, pipe)?;
    Ok(f)
}

/// The process serving `pipe` must run as this user.
fn check_server(f: &std::fs::File, pipe: &Path) -> Result<(), String> {
    let mut pid = 0u32;
    // SAFETY: the handle is a connected pipe client owned by `f`.
    if unsafe { GetNamedPipeServerProcessId(f.as_raw_handle() as HANDLE, &mut pid) } == 0 {
        return Err(format!(
            "refused {}: cannot learn which process serves it ({}); nothing was sent to it",
            pipe.display(),
            std::io::Error::last_os_error()
        ));
    }
    let me = winsec::current_user().map_err(|e| e.to_string())?;
    match winsec::process_user(pid) {
        Ok(sid) if sid == me => Ok(()),
        Ok(sid) => Err(format!(
            "refused {}: the process serving it (pid {pid}) runs as {}, not as you ({}); nothing was sent to it. Stop that process; it took the pipe name of your agent",
            pipe.display(),
            sid.name(),
            me.string()
        )),
        Err(e) => Err(format!(
            "refused {}: cannot learn who runs the process serving it (pid {pid}: {e}); nothing was sent to it",
            pipe.display()
        )),
    }
}

/// Whether an agent's pipe exists (without connecting to it, which would take an
/// instance): `agent stop` waits for it to go.
pub fn endpoint_exists(pipe: &Path) -> bool {
    let w = winsec::wide(pipe);
    // SAFETY: a NUL-terminated name. A 1 ms wait: success or a timeout both mean
    // an instance exists; ERROR_FILE_NOT_FOUND means none does.
    let ok = unsafe { WaitNamedPipeW(w.as_ptr(), 1) } != 0;
    ok || std::io::Error::last_os_error().raw_os_error() != Some(ERROR_FILE_NOT_FOUND as i32)
}
