//! The synchronous agent client: connect, send one JSON line, read one reply line.
//! `unix.rs` / `windows.rs` find the endpoint and prove who serves it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use super::{codes, PROTOCOL_VERSION};
use crate::secret::{ExposeSecret, SecretString};

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod sys;

pub use sys::endpoint_exists;

/// The connection to the agent: a Unix socket, or a Windows named pipe opened as
/// a file.
type Stream = sys::Stream;

/// The largest reply the client reads (a 512-id batch of large values fits easily).
const MAX_REPLY: u64 = 64 << 20;

/// An error from the agent, or from talking to it. Never holds secret material.
#[derive(Debug, Clone)]
pub struct AgentError {
    /// A reply code from [`codes`], or `io` when the conversation itself failed.
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl AgentError {
    fn io(what: &str, path: &Path, e: std::io::Error) -> AgentError {
        AgentError {
            code: "io".into(),
            message: format!("{what} {}: {e}", path.display()),
        }
    }

    pub fn is_locked(&self) -> bool {
        self.code == codes::LOCKED
    }
}

/// What `status` reports.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Status {
    pub pid: u32,
    #[serde(rename = "vaultId")]
    pub vault_id: String,
    pub backend: String,
    pub unlocked: bool,
    /// Whether resolving needs the identity (age) or not (keychain).
    #[serde(rename = "needsIdentity")]
    pub needs_identity: bool,
    /// Seconds of idle time before the agent locks; 0 = never.
    #[serde(rename = "idleSecs")]
    pub idle_secs: u64,
    #[serde(rename = "unlockedBy", default)]
    pub unlocked_by: Option<String>,
    pub socket: String,
    /// The offline cache (`graceSecs`, `staleServed`, `lastStaleMs`), when it is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Reply<'a> {
    v: Option<u64>,
    ok: bool,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(borrow, default)]
    response: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<&'a RawValue>,
}

pub struct Client {
    stream: BufReader<Stream>,
    pub socket: PathBuf,
}

/// Why no agent answered, in words for an attempt list.
#[derive(Debug, Clone)]
pub struct NotRunning(pub String);

impl std::fmt::Display for NotRunning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Client {
    /// Connect to this vault's agent, proving who serves it before sending anything.
    pub fn connect(vault_dir: &Path, vault_id: &str) -> Result<Client, NotRunning> {
        let (stream, socket) = sys::connect(vault_dir, vault_id)?;
        Ok(Client {
            stream: BufReader::new(stream),
            socket,
        })
    }
}

impl Client {
    /// How long to wait for each reply (30 s unless changed); a reply that does
    /// not come in time fails the call instead of hanging it.
    pub fn set_read_timeout(&mut self, d: std::time::Duration) {
        sys::set_read_timeout(self.stream.get_mut(), d);
    }

    /// Send one request line; read one reply line.
    fn call(&mut self, req: &[u8]) -> Result<Zeroizing<Vec<u8>>, AgentError> {
        let sock = self.socket.clone();
        let w = self.stream.get_mut();
        let wrote = w
            .write_all(req)
            .and_then(|_| w.write_all(b"\n"))
            .and_then(|_| w.flush());
        let mut line = Zeroizing::new(Vec::with_capacity(16 * 1024));
        let read = (&mut self.stream)
            .take(MAX_REPLY)
            .read_until(b'\n', &mut line);
        // An agent that refuses a peer answers and closes without reading: its
        // answer explains a failed write better than "broken pipe".
        if let Err(e) = wrote {
            if line.is_empty() {
                return Err(AgentError::io("cannot write to the agent at", &sock, e));
            }
        }
        read.map_err(|e| AgentError::io("cannot read from the agent at", &sock, e))?;
        if line.is_empty() {
            return Err(AgentError {
                code: "io".into(),
                message: format!(
                    "the agent at {} closed the connection without answering",
                    sock.display()
                ),
            });
        }
        Ok(line)
    }

    fn check<'a>(line: &'a [u8], sock: &Path) -> Result<Reply<'a>, AgentError> {
        let r: Reply = serde_json::from_slice(line).map_err(|_| AgentError {
            code: "io".into(),
            message: format!("the agent at {} sent a malformed reply", sock.display()),
        })?;
        if r.v != Some(PROTOCOL_VERSION) {
            return Err(AgentError {
                code: "io".into(),
                message: format!(
                    "the agent at {} speaks another protocol version; restart it (clawvault agent stop; clawvault agent start)",
                    sock.display()
                ),
            });
        }
        if !r.ok {
            return Err(AgentError {
                code: r.code.clone().unwrap_or_else(|| codes::FAILED.into()),
                message: r.error.clone().unwrap_or_else(|| "failed".into()),
            });
        }
        Ok(r)
    }

    fn simple(&mut self, op: &str) -> Result<(), AgentError> {
        let line = self.call(format!(r#"{{"v":1,"op":"{op}"}}"#).as_bytes())?;
        Self::check(&line, &self.socket).map(|_| ())
    }

    pub fn status(&mut self) -> Result<Status, AgentError> {
        let line = self.call(br#"{"v":1,"op":"status"}"#)?;
        let r = Self::check(&line, &self.socket)?;
        let bad = || AgentError {
            code: "io".into(),
            message: "the agent sent a malformed status".into(),
        };
        serde_json::from_str(r.status.ok_or_else(bad)?.get()).map_err(|_| bad())
    }

    pub fn lock(&mut self) -> Result<(), AgentError> {
        self.simple("lock")
    }

    pub fn stop(&mut self) -> Result<(), AgentError> {
        self.simple("stop")
    }

    /// Hand the agent a passphrase; it unwraps the identity itself.
    pub fn unlock(&mut self, passphrase: &SecretString) -> Result<(), AgentError> {
        let mut req = Zeroizing::new(Vec::with_capacity(64 + passphrase.expose_secret().len()));
        req.extend_from_slice(br#"{"v":1,"op":"unlock","passphrase":"#);
        crate::resolve::write_json_str(&mut req, passphrase.expose_secret());
        req.push(b'}');
        let line = self.call(&req)?;
        Self::check(&line, &self.socket).map(|_| ())
    }

    /// Resolve a batch. Returns the exec protocol response bytes (no newline).
    pub fn resolve(&mut self, ids: &[String]) -> Result<Zeroizing<Vec<u8>>, AgentError> {
        let req = serde_json::to_vec(&serde_json::json!({"v": 1, "op": "resolve", "ids": ids}))
            .expect("ids serialize");
        let line = self.call(&req)?;
        let r = Self::check(&line, &self.socket)?;
        let resp = r.response.ok_or_else(|| AgentError {
            code: "io".into(),
            message: "the agent's reply has no response".into(),
        })?;
        Ok(Zeroizing::new(resp.get().as_bytes().to_vec()))
    }
}
