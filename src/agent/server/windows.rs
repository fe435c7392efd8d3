//! Windows: the agent listens on the named pipe `\\.\pipe\clawvault-<SID>-<vault>`.
//!
//! - Every instance is created with the owner-only security descriptor (owner and
//!   the single allow entry: this user's SID), so the pipe manager itself refuses
//!   other users' opens; remote (SMB) clients are rejected.
//! - The first instance is created with `FILE_FLAG_FIRST_PIPE_INSTANCE`: if the name
//!   is already taken (a squatter waiting for our clients, or another agent) the
//!   agent refuses to start instead of sharing it.
//! - Each client is admitted only if its process's token user is this user's SID
//!   (`GetNamedPipeClientProcessId`, then the process token), checked before a byte
//!   is read: the payload of a refused peer is never seen.
//! - Ctrl-C, Ctrl-Break, a console close, logoff of its console or shutdown stop it
//!   like SIGTERM does on Unix; `clawvault agent stop` sends the `stop` request.

use std::os::windows::io::AsRawHandle;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};
use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, HANDLE};
use windows_sys::Win32::System::Pipes::GetNamedPipeClientProcessId;

use super::super::codes;
use super::super::paths::AgentPaths;
use super::request::reply_err;
use super::{log, Shared};
use crate::winsec::{self, LocalSd, Sid};

/// What `serve` listens on: the pipe name and the descriptor every instance gets.
pub(super) struct Listener {
    name: PathBuf,
    sd: LocalSd,
    me: Sid,
}

/// Nothing is created yet (tokio's pipes need the runtime); the descriptor is
/// built now so a failure stops the agent before it serves.
pub(super) fn bind(p: &AgentPaths) -> Result<Listener, String> {
    let me = winsec::current_user().map_err(|e| e.to_string())?;
    let sd = LocalSd::owner_only(false).map_err(|e| {
        format!(
            "cannot build the security descriptor for {}: {e}",
            p.socket.display()
        )
    })?;
    Ok(Listener {
        name: p.socket.clone(),
        sd,
        me,
    })
}

/// One pipe instance, restricted to this user, local clients only.
fn instance(l: &Listener, first: bool) -> Result<NamedPipeServer, String> {
    let taken = || {
        format!(
            "cannot create the agent pipe {}: another process already holds that name (an agent of a copy of this vault, or a process waiting for your clients); stop it, then start the agent again",
            l.name.display()
        )
    };
    // Asked first, then enforced by FILE_FLAG_FIRST_PIPE_INSTANCE (which closes the
    // race between the two on Windows; Wine 8 does not enforce the flag, so the
    // question is what refuses a squatter there).
    if first && crate::agent::client::endpoint_exists(&l.name) {
        return Err(taken());
    }
    let mut sa = l.sd.attributes();
    let mut opts = ServerOptions::new();
    opts.first_pipe_instance(first).reject_remote_clients(true);
    // SAFETY: `sa` points at `l.sd`, which outlives the call; Windows copies the
    // descriptor into the pipe object.
    let r = unsafe {
        opts.create_with_security_attributes_raw(
            &l.name,
            &mut sa as *mut _ as *mut std::ffi::c_void,
        )
    };
    r.map_err(|e| {
        if first && e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) {
            taken()
        } else {
            format!("cannot create the agent pipe {}: {e}", l.name.display())
        }
    })
}

/// Accept connections until a console control event or a `stop` request.
pub(super) async fn serve(l: Listener, sh: Arc<Shared>) -> Result<(), String> {
    use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, ctrl_shutdown};
    let mut next = instance(&l, true)?;
    let err = |e: std::io::Error| format!("cannot watch console events: {e}");
    let mut c = ctrl_c().map_err(err)?;
    let mut brk = ctrl_break().map_err(err)?;
    let mut close = ctrl_close().map_err(err)?;
    let mut shutdown = ctrl_shutdown().map_err(err)?;
    super::announce(&sh);
    let me = Arc::new(l.me.clone());
    loop {
        tokio::select! {
            a = next.connect() => match a {
                Ok(()) => {
                    // A fresh instance before this one is handed off, so a client
                    // always finds the name (busy at worst, never missing).
                    let fresh = instance(&l, false)?;
                    let pipe = std::mem::replace(&mut next, fresh);
                    let (sh, me) = (sh.clone(), me.clone());
                    tokio::spawn(async move { connection(pipe, &me, sh).await });
                }
                Err(e) => {
                    log(format_args!("accept failed: {e}"));
                    next = instance(&l, false)?;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = c.recv() => { log("Ctrl-C: shutting down"); break; }
            _ = brk.recv() => { log("Ctrl-Break: shutting down"); break; }
            _ = close.recv() => { log("console closed: shutting down"); break; }
            _ = shutdown.recv() => { log("system shutdown: shutting down"); break; }
            _ = sh.stop.notified() => { log("stop requested: shutting down"); break; }
        }
    }
    Ok(())
}

/// The process id and user SID of the client connected to `pipe`.
fn client_of(pipe: &NamedPipeServer) -> Result<(u32, Sid), String> {
    let mut pid = 0u32;
    // SAFETY: a connected server instance owned by `pipe`.
    if unsafe { GetNamedPipeClientProcessId(pipe.as_raw_handle() as HANDLE, &mut pid) } == 0 {
        return Err(format!(
            "cannot learn the client's process id: {}",
            std::io::Error::last_os_error()
        ));
    }
    let sid = winsec::process_user(pid)
        .map_err(|e| format!("cannot learn who runs the client (pid {pid}): {e}"))?;
    Ok((pid, sid))
}

async fn connection(mut pipe: NamedPipeServer, me: &Sid, sh: Arc<Shared>) {
    let pid = match client_of(&pipe) {
        Ok((pid, sid)) if &sid == me => pid,
        Ok((pid, sid)) => {
            // Refused before reading anything: the payload is never seen, never logged.
            log(format_args!(
                "refused a connection from {} (pid {pid}): this agent serves {} only",
                sid.name(),
                me.string()
            ));
            let _ = pipe
                .write_all(&reply_err(
                    codes::DENIED,
                    &format!("permission denied: this agent serves {} only", me.string()),
                ))
                .await;
            return;
        }
        Err(e) => {
            log(format_args!("refused a connection: {e}"));
            return;
        }
    };
    let peer = crate::access_log::Proc {
        pid,
        uid: None,
        exe: winsec::process_image(pid),
    };
    let (r, w) = tokio::io::split(pipe);
    super::conn::serve_peer(r, w, peer, sh).await;
}

/// Nothing to remove: a pipe is gone when its last handle closes.
pub(super) fn cleanup(_p: &AgentPaths) {}
