//! Where a vault's agent lives: its endpoint (a Unix socket, a Windows named pipe),
//! pid file and log.
//!
//! - Unix (`unix.rs`): `$XDG_RUNTIME_DIR/clawvault/<vault-id>.sock`, else
//!   `/run/user/<uid>/clawvault/`, else inside the vault directory.
//! - Windows (`windows.rs`): the pipe `\\.\pipe\clawvault-<user SID>-<vault-id>`;
//!   the pid file and log in the vault directory.

use std::path::PathBuf;

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod sys;

pub use sys::{candidates, for_bind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPaths {
    /// The directory that holds the pid file and log (and, on Unix, the socket).
    pub dir: PathBuf,
    /// The endpoint: a socket file, or a named pipe's `\\.\pipe\...` name.
    pub socket: PathBuf,
    pub pid: PathBuf,
    pub log: PathBuf,
}

impl AgentPaths {
    pub(crate) fn in_dir(dir: PathBuf, endpoint: PathBuf, stem: &str) -> AgentPaths {
        AgentPaths {
            socket: endpoint,
            pid: dir.join(format!("{stem}.pid")),
            log: dir.join(format!("{stem}.log")),
            dir,
        }
    }
}
