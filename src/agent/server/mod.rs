//! `clawvault agent run`: the tokio server. One task per connection; backend reads
//! (age decryption, Secret Service calls) run on the blocking pool.
//!
//! - [`request`]: parsing one request line, the reply lines.
//! - [`conn`]: one admitted connection, request by request.
//! - [`ops`]: what each request does.
//! - `unix.rs` / `windows.rs`: the endpoint (a 0600 socket admitting our uid; a
//!   named pipe whose DACL admits our SID, the client's SID checked again), the
//!   accept loop and the stop signals.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::locked::LockedBuf;
use super::paths;
use crate::fsutil;
use crate::secret::SecretString;
use crate::vault::Vault;

mod conn;
mod ops;
mod request;
#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod sys;

#[doc(hidden)]
pub use request::{parse_request, Op};
#[cfg(unix)]
pub use sys::sd_notify;

/// How `agent run` was asked to behave.
pub struct Config {
    pub vault_dir: PathBuf,
    /// Lock after this long without a request; `None` = never.
    pub idle: Option<Duration>,
    /// An identity unlocked at start (systemd credential, keychain, keyutils...).
    pub initial: Option<(SecretString, String)>,
    /// The single-instance lock, when the caller took it before unlocking (so a
    /// second agent fails before spending an Argon2id run).
    pub pid_lock: Option<PidLock>,
    /// Serve from the offline cache, values no older than this, when a server
    /// backend is unreachable; `None` = no cache.
    pub offline_grace: Option<Duration>,
}

/// Take the single-instance lock for the agent of the vault at `vault_dir`.
pub fn lock_instance(vault_dir: &Path, vault_id: &str) -> Result<PidLock, String> {
    let p = paths::for_bind(vault_dir, vault_id);
    // The runtime directory itself (not a symlink, ours, not writable by others),
    // then everything above it.
    if p.dir != vault_dir {
        if let Some(rt) = p.dir.parent() {
            crate::trust::check(rt, crate::trust::Kind::Dir).map_err(|e| e.to_string())?;
        }
    }
    crate::trust::check_parents(&p.dir).map_err(|e| e.to_string())?;
    fsutil::ensure_private_dir(&p.dir).map_err(|e| e.to_string())?;
    lock_pid(&p.pid)
}

fn log(msg: impl std::fmt::Display) {
    eprintln!("clawvault agent: {msg}");
}

struct Held {
    /// Shared with in-flight resolves, so a `lock` never waits for one; the pages
    /// are zeroized when the last holder lets go.
    id: Option<Arc<LockedBuf>>,
    source: Option<String>,
    last_used: Instant,
}

struct Shared {
    vault_dir: PathBuf,
    vault_id: String,
    backend_kind: &'static str,
    needs_identity: bool,
    recipient: age::x25519::Recipient,
    /// The vault, for backends that need no identity (keychain).
    vault: Arc<Vault>,
    held: Mutex<Held>,
    idle: Option<Duration>,
    socket: PathBuf,
    stop: tokio::sync::Notify,
    offline: Option<Arc<super::offline::Cache>>,
}

/// The pid file, locked for the agent's lifetime (single instance).
pub struct PidLock {
    _file: std::fs::File,
}

/// Take the single-instance lock, or say who holds it.
pub fn lock_pid(path: &Path) -> Result<PidLock, String> {
    use std::io::{Read, Seek, Write};
    let mut f = fsutil::open_private_rw(path)
        .map_err(|e| format!("cannot open the pid file {}: {e}", path.display()))?;
    match fsutil::try_lock_exclusive(&f) {
        Ok(true) => {}
        Ok(false) => {
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            return Err(format!(
                "another clawvault agent already serves this vault (pid {}, pid file {}); stop it with `clawvault agent stop`",
                s.trim(),
                path.display()
            ));
        }
        Err(e) => return Err(format!("cannot lock the pid file {}: {e}", path.display())),
    }
    f.set_len(0)
        .and_then(|_| f.rewind())
        .and_then(|_| writeln!(f, "{}", std::process::id()))
        .map_err(|e| format!("cannot write the pid file {}: {e}", path.display()))?;
    Ok(PidLock { _file: f })
}

/// Log the agent's state once it listens, and start the idle lock.
fn announce(sh: &Arc<Shared>) {
    {
        let h = sh.held.lock().expect("not poisoned");
        log(format_args!(
            "serving vault {} ({} backend) on {}; {}; idle lock {}",
            sh.vault_id,
            sh.backend_kind,
            sh.socket.display(),
            match (&h.id, &h.source) {
                (Some(_), Some(s)) => format!("unlocked from {s}"),
                _ => "locked".to_string(),
            },
            match sh.idle {
                Some(d) => format!("after {}s", d.as_secs_f64()),
                None => "never".into(),
            }
        ));
    }
    if let Some(idle) = sh.idle {
        tokio::spawn(idle_lock(sh.clone(), idle));
    }
}

/// Run the agent in the foreground until SIGTERM/SIGINT (Windows: Ctrl-C, Ctrl-Break,
/// a console close or shutdown) or a `stop` request.
pub fn run(cfg: Config) -> Result<(), String> {
    // The caller unlocked the vault on this thread: overwrite what that left in
    // dead stack frames (the raw key, copied by value in X25519 and parsing).
    crate::secret::scrub_stack();
    let vault = Vault::open(&cfg.vault_dir).map_err(|e| e.to_string())?;
    let p = paths::for_bind(&cfg.vault_dir, vault.id());
    let _pid = match cfg.pid_lock {
        Some(l) => l,
        None => lock_instance(&cfg.vault_dir, vault.id())?,
    };
    let listener = sys::bind(&p)?;
    let recipient = vault.recipient().map_err(|e| e.to_string())?;
    let held = match cfg.initial {
        Some((id, source)) => Held {
            id: Some(Arc::new(
                LockedBuf::new(&id).map_err(|e| format!("cannot allocate memory: {e}"))?,
            )),
            source: Some(source),
            last_used: Instant::now(),
        },
        None => Held {
            id: None,
            source: None,
            last_used: Instant::now(),
        },
    };
    let offline = cfg.offline_grace.map(|g| {
        Arc::new(super::offline::Cache::new(
            &cfg.vault_dir,
            g,
            recipient.clone(),
        ))
    });
    let shared = Arc::new(Shared {
        offline,
        vault_dir: cfg.vault_dir.clone(),
        vault_id: vault.id().to_string(),
        backend_kind: vault.manifest().backend.kind(),
        needs_identity: vault.reads_need_identity(),
        recipient,
        vault: Arc::new(vault),
        held: Mutex::new(held),
        idle: cfg.idle,
        socket: p.socket.clone(),
        stop: tokio::sync::Notify::new(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(16)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let r = rt.block_on(sys::serve(listener, shared.clone()));
    // Zeroize before anything else, then remove the endpoint.
    if let Ok(mut h) = shared.held.lock() {
        h.id = None;
    }
    sys::cleanup(&p);
    rt.shutdown_timeout(Duration::from_secs(2));
    log("stopped");
    r
}

async fn idle_lock(sh: Arc<Shared>, idle: Duration) {
    loop {
        let wait = {
            let mut h = sh.held.lock().expect("not poisoned");
            let elapsed = h.last_used.elapsed();
            if h.id.is_some() && elapsed >= idle {
                h.id = None;
                h.source = None;
                if let Some(c) = &sh.offline {
                    c.forget();
                }
                log(format_args!(
                    "idle for {:.1}s: locked (the identity was zeroized)",
                    elapsed.as_secs_f64()
                ));
                idle
            } else if h.id.is_some() {
                idle - elapsed
            } else {
                idle
            }
        };
        tokio::time::sleep(wait.max(Duration::from_millis(20))).await;
    }
}
