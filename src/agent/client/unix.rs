//! Unix: the socket in each candidate place, its directory chain and the socket
//! checked like StrictModes, then the listening process's uid.

use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::NotRunning;
use crate::agent::paths::{candidates, AgentPaths};
use crate::trust;

pub(super) type Stream = UnixStream;

/// Connect to this vault's agent, trying every place it may listen.
pub(super) fn connect(vault_dir: &Path, vault_id: &str) -> Result<(Stream, PathBuf), NotRunning> {
    let all = candidates(vault_dir, vault_id);
    let mut why = vec![];
    for p in &all {
        match std::fs::symlink_metadata(&p.socket) {
            Err(_) => continue,
            Ok(m) if !m.file_type().is_socket() => {
                why.push(format!("{} is not a socket", p.socket.display()));
                continue;
            }
            Ok(_) => {}
        }
        // Prove the place before saying anything to it: the socket's directory
        // chain and the socket must be ours (StrictModes), and after connecting
        // the listening process must run as our uid.
        if let Err(e) = trust::check(&p.dir, trust::Kind::Dir)
            .and_then(|()| trust::check(&p.socket, trust::Kind::Socket))
        {
            why.push(format!("refused {e}"));
            continue;
        }
        match connect_at(p) {
            Ok(c) => return Ok(c),
            Err(e) => why.push(e),
        }
    }
    if why.is_empty() {
        why.push(format!("no socket at {}", all[0].socket.display()));
    }
    Err(NotRunning(format!("not running ({})", why.join("; "))))
}

fn connect_at(p: &AgentPaths) -> Result<(Stream, PathBuf), String> {
    let s = UnixStream::connect(&p.socket).map_err(|e| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => format!(
            "socket {} refused the connection: left over from a crash?",
            p.socket.display()
        ),
        _ => format!("cannot connect to {}: {e}", p.socket.display()),
    })?;
    use std::os::fd::AsRawFd;
    match trust::peer_uid(s.as_raw_fd()) {
        Ok(u) if u == trust::uid() => {}
        Ok(u) => {
            return Err(format!(
                "refused {}: the process listening there runs as uid {u}, not as you (uid {}); nothing was sent to it. Remove the socket if it is not yours",
                p.socket.display(),
                trust::uid()
            ))
        }
        Err(e) => {
            return Err(format!(
                "refused {}: cannot learn who listens there ({e}); nothing was sent to it",
                p.socket.display()
            ))
        }
    }
    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    Ok((s, p.socket.clone()))
}

/// How long a read waits for the agent (`SO_RCVTIMEO`).
pub(super) fn set_read_timeout(s: &mut Stream, d: Duration) {
    let _ = s.set_read_timeout(Some(d));
}

/// Whether an agent's socket is still there: `agent stop` waits for it to go.
pub fn endpoint_exists(socket: &Path) -> bool {
    std::fs::symlink_metadata(socket).is_ok()
}
