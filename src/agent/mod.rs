//! The clawvault agent: a per-vault daemon that holds the unwrapped identity in
//! locked memory and serves `resolve` batches over a Unix socket (Windows: a named
//! pipe), so OpenClaw's exec spawn is passphrase-free and fast.
//!
//! - [`paths`]: where the socket or pipe, pid file and log live.
//! - [`client`]: the synchronous client the CLI uses (no async runtime needed).
//! - [`server`]: the tokio server (`clawvault agent run`).
//! - [`locked`]: mlock'ed, zeroized memory and process hardening.
//!
//! Who may talk to it: on Unix the socket is 0600 in a 0700 directory and the
//! server admits a peer only if the kernel says it runs as the agent's uid; the
//! client, before sending anything, checks the socket's directory chain and that
//! the listening process runs as its own uid. On Windows the pipe's DACL admits
//! the user's SID alone, remote clients are rejected, the server refuses a pipe
//! name someone already holds (first instance), admits a client only if the
//! client process's token user is its own SID, and the client sends nothing to a
//! server process whose token user is not its own SID.
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
pub mod paths;
pub mod server;

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
