//! Unix: the agent listens on a socket file (0600, in a 0700 directory), admits a
//! peer only when `SO_PEERCRED`/`getpeereid` says it runs as our uid, and stops on
//! SIGTERM/SIGINT. systemd's `Type=notify` is told when it is ready.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};

use super::super::codes;
use super::super::paths::AgentPaths;
use super::request::reply_err;
use super::{log, Shared};

/// Bind the socket: the directory is made 0700, a stale socket (from a crash: we
/// hold the pid lock, so nobody else is serving it) is replaced, the socket is 0600.
pub(super) fn bind(p: &AgentPaths) -> Result<std::os::unix::net::UnixListener, String> {
    match std::fs::symlink_metadata(&p.socket) {
        Ok(m) if m.file_type().is_socket() => {
            log(format_args!(
                "replacing a stale socket at {}",
                p.socket.display()
            ));
            std::fs::remove_file(&p.socket)
                .map_err(|e| format!("cannot remove {}: {e}", p.socket.display()))?;
        }
        Ok(_) => {
            return Err(format!(
                "{} exists and is not a socket; move it away",
                p.socket.display()
            ))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot inspect {}: {e}", p.socket.display())),
    }
    let l = std::os::unix::net::UnixListener::bind(&p.socket)
        .map_err(|e| format!("cannot listen on {}: {e}", p.socket.display()))?;
    std::fs::set_permissions(&p.socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot set the mode of {}: {e}", p.socket.display()))?;
    l.set_nonblocking(true)
        .map_err(|e| format!("cannot configure {}: {e}", p.socket.display()))?;
    Ok(l)
}

/// Tell systemd we are ready (Type=notify); a no-op without `NOTIFY_SOCKET`.
pub fn sd_notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET").filter(|p| !p.is_empty()) else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    let r = if let Some(name) = bytes.strip_prefix(b"@") {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name)
                .and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = name;
            Ok(0)
        }
    } else {
        sock.send_to(state.as_bytes(), Path::new(&path))
    };
    if let Err(e) = r {
        log(format_args!("cannot notify the service manager: {e}"));
    }
}

/// Accept connections until a signal or a `stop` request.
pub(super) async fn serve(
    listener: std::os::unix::net::UnixListener,
    sh: Arc<Shared>,
) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listener = UnixListener::from_std(listener).map_err(|e| e.to_string())?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    super::announce(&sh);
    sd_notify(&format!("READY=1\nMAINPID={}", std::process::id()));
    loop {
        tokio::select! {
            a = listener.accept() => match a {
                Ok((stream, _)) => {
                    let sh = sh.clone();
                    tokio::spawn(async move { connection(stream, sh).await });
                }
                Err(e) => {
                    log(format_args!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = term.recv() => { log("SIGTERM: shutting down"); break; }
            _ = int.recv() => { log("SIGINT: shutting down"); break; }
            _ = sh.stop.notified() => { log("stop requested: shutting down"); break; }
        }
    }
    sd_notify("STOPPING=1");
    Ok(())
}

async fn connection(stream: UnixStream, sh: Arc<Shared>) {
    let cred = match stream.peer_cred() {
        Ok(c) => c,
        Err(e) => {
            log(format_args!(
                "refused a connection: cannot read the peer's credentials: {e}"
            ));
            return;
        }
    };
    let (r, mut w) = stream.into_split();
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    if cred.uid() != me {
        // Refused before reading anything: the payload is never seen, never logged.
        log(format_args!(
            "refused a connection from uid {} (pid {}): this agent serves uid {} only",
            cred.uid(),
            cred.pid()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into()),
            me
        ));
        let _ = w
            .write_all(&reply_err(
                codes::DENIED,
                &format!("permission denied: this agent serves uid {me} only"),
            ))
            .await;
        return;
    }
    let peer = crate::access_log::Proc {
        pid: cred.pid().map(|p| p as u32).unwrap_or(0),
        uid: Some(cred.uid()),
        exe: None,
    };
    super::conn::serve_peer(r, w, peer, sh).await;
}

/// Remove the socket (the agent is stopping; the pid lock is still held).
pub(super) fn cleanup(p: &AgentPaths) {
    let _ = std::fs::remove_file(&p.socket);
}
