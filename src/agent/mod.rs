//! The clawvault agent: a per-vault daemon that holds the unwrapped identity in
//! locked memory and serves `resolve` batches over a Unix socket, so OpenClaw's exec
//! spawn is passphrase-free and fast.
//!
//! - [`paths`]: where the socket, pid file and log live.
//! - [`client`]: the synchronous client the CLI uses (no async runtime needed).
//! - [`server`]: the tokio server (`clawvault agent run`).
//! - [`locked`]: mlock'ed, zeroized memory and process hardening.
//!
//! Windows: the agent is not available yet (it needs a named pipe that admits only
//! the same user's SID in place of the Unix socket and its peer-uid check). There
//! `paths` and `server` are not built, and [`client::Client::connect`] answers
//! [`client::NotRunning`] with [`NOT_ON_WINDOWS`], so every command that would use
//! the agent falls back to unlocking the vault itself, and `agent start|run` refuse.
//!
//! Protocol: newline-delimited JSON, one request and one reply per line, each with
//! `"v":1`. Requests: `{"v":1,"op":"status"}`, `{"v":1,"op":"unlock","passphrase":..}`,
//! `{"v":1,"op":"lock"}`, `{"v":1,"op":"resolve","ids":[..]}`, `{"v":1,"op":"stop"}`.
//! Replies: `{"v":1,"ok":true,...}` or `{"v":1,"ok":false,"code":..,"error":..}`;
//! a resolve reply carries the exec protocol response under `"response"`. Errors
//! never echo the request.

pub mod client;
pub mod locked;
pub mod offline;
#[cfg(unix)]
pub mod paths;
#[cfg(unix)]
pub mod server;

/// Why no agent answers on Windows, and what to use instead.
#[cfg(windows)]
pub const NOT_ON_WINDOWS: &str = "the clawvault agent is not yet available on Windows; use the keychain backend (Windows Credential Manager, `clawvault init --backend keychain`) or an unattended unlock source (--passphrase-file, --passphrase-fd, `clawvault unlock --remember keychain`)";

/// The agent protocol version.
pub const PROTOCOL_VERSION: u64 = 1;
/// The largest request line the agent reads.
pub const MAX_REQUEST_LINE: usize = 1 << 20;

/// Reply codes.
pub mod codes {
    pub const LOCKED: &str = "locked";
    pub const WRONG_PASSPHRASE: &str = "wrong_passphrase";
    pub const BAD_REQUEST: &str = "bad_request";
    pub const TOO_LARGE: &str = "too_large";
    pub const DENIED: &str = "denied";
    pub const FAILED: &str = "failed";
}
