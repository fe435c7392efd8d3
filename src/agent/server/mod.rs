//! `clawvault agent run`: the tokio server. One task per connection; backend reads
//! (age decryption, Secret Service calls) run on the blocking pool.

use std::borrow::Cow;
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::OwnedReadHalf;
use tokio::net::{UnixListener, UnixStream};
use zeroize::Zeroizing;

use super::locked::LockedBuf;
use super::paths::{self, AgentPaths};
use super::{codes, MAX_REQUEST_LINE, PROTOCOL_VERSION};
use crate::backend::age::AgeBackend;
use crate::backend::Backend;
use crate::fsutil;
use crate::resolve::{self, MAX_IDS};
use crate::secret::SecretString;
use crate::vault::{Vault, VaultError};

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
    uid: u32,
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
    use std::os::fd::AsRawFd;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| format!("cannot open the pid file {}: {e}", path.display()))?;
    // SAFETY: flock on an fd we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() == ErrorKind::WouldBlock {
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            return Err(format!(
                "another clawvault agent already serves this vault (pid {}, pid file {}); stop it with `clawvault agent stop`",
                s.trim(),
                path.display()
            ));
        }
        return Err(format!("cannot lock the pid file {}: {e}", path.display()));
    }
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    f.set_len(0)
        .and_then(|_| f.rewind())
        .and_then(|_| writeln!(f, "{}", std::process::id()))
        .map_err(|e| format!("cannot write the pid file {}: {e}", path.display()))?;
    Ok(PidLock { _file: f })
}

/// Bind the socket: the directory is made 0700, a stale socket (from a crash: we
/// hold the pid lock, so nobody else is serving it) is replaced, the socket is 0600.
fn bind(p: &AgentPaths) -> Result<std::os::unix::net::UnixListener, String> {
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

/// Run the agent in the foreground until SIGTERM/SIGINT or a `stop` request.
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
    let listener = bind(&p)?;
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
        // SAFETY: geteuid cannot fail.
        uid: unsafe { libc::geteuid() },
        stop: tokio::sync::Notify::new(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(16)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let r = rt.block_on(serve(listener, shared.clone()));
    // Zeroize before anything else, then remove the socket.
    if let Ok(mut h) = shared.held.lock() {
        h.id = None;
    }
    let _ = std::fs::remove_file(&p.socket);
    rt.shutdown_timeout(Duration::from_secs(2));
    log("stopped");
    r
}

async fn serve(listener: std::os::unix::net::UnixListener, sh: Arc<Shared>) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listener = UnixListener::from_std(listener).map_err(|e| e.to_string())?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
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

fn reply_err(code: &str, msg: &str) -> Zeroizing<Vec<u8>> {
    let mut v = serde_json::to_vec(&serde_json::json!({
        "v": PROTOCOL_VERSION, "ok": false, "code": code, "error": msg
    }))
    .expect("serializes");
    v.push(b'\n');
    Zeroizing::new(v)
}

fn reply_ok(extra: serde_json::Value) -> Zeroizing<Vec<u8>> {
    let mut o = serde_json::json!({"v": PROTOCOL_VERSION, "ok": true});
    if let (Some(m), serde_json::Value::Object(e)) = (o.as_object_mut(), extra) {
        m.extend(e);
    }
    let mut v = serde_json::to_vec(&o).expect("serializes");
    v.push(b'\n');
    Zeroizing::new(v)
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
    if cred.uid() != sh.uid {
        // Refused before reading anything: the payload is never seen, never logged.
        log(format_args!(
            "refused a connection from uid {} (pid {}): this agent serves uid {} only",
            cred.uid(),
            cred.pid()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into()),
            sh.uid
        ));
        let _ = w
            .write_all(&reply_err(
                codes::DENIED,
                &format!("permission denied: this agent serves uid {} only", sh.uid),
            ))
            .await;
        return;
    }
    let mut reader = LineReader::new(r);
    loop {
        let read = tokio::time::timeout(Duration::from_secs(300), reader.next_line()).await;
        let line = match read {
            Ok(Ok(Got::Line(l))) => l,
            Ok(Ok(Got::Eof)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(Got::TooLarge)) => {
                let _ = w
                    .write_all(&reply_err(
                        codes::TOO_LARGE,
                        &format!("the request is larger than {MAX_REQUEST_LINE} bytes"),
                    ))
                    .await;
                return;
            }
        };
        let peer = crate::access_log::Proc {
            pid: cred.pid().map(|p| p as u32).unwrap_or(0),
            uid: Some(cred.uid()),
            exe: None,
        };
        let reply = dispatch(&line, &sh, &peer).await;
        if w.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// What [`LineReader::next_line`] found.
enum Got {
    /// One request, with its newline (none if the peer closed after it).
    Line(Zeroizing<Vec<u8>>),
    Eof,
    /// More than [`MAX_REQUEST_LINE`] bytes without a newline.
    TooLarge,
}

/// Reads request lines into zeroizing buffers only. A tokio `BufReader` keeps its
/// own buffer, which it frees without zeroizing: an `unlock` request's passphrase
/// was left in the freed heap. Growing a `Zeroizing<Vec>` in place would leave the
/// same residue behind in the old allocation, so buffers are grown by copying into
/// a bigger zeroizing one.
struct LineReader {
    r: OwnedReadHalf,
    /// Bytes read and not yet returned.
    buf: Zeroizing<Vec<u8>>,
}

const READ_CHUNK: usize = 8 * 1024;

impl LineReader {
    fn new(r: OwnedReadHalf) -> LineReader {
        LineReader {
            r,
            buf: Zeroizing::new(Vec::with_capacity(2 * READ_CHUNK)),
        }
    }

    async fn next_line(&mut self) -> std::io::Result<Got> {
        let mut searched = 0;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[searched..]) {
                let end = searched + i + 1;
                if end > MAX_REQUEST_LINE {
                    return Ok(Got::TooLarge);
                }
                return Ok(Got::Line(self.take(end)));
            }
            searched = self.buf.len();
            if self.buf.len() > MAX_REQUEST_LINE {
                return Ok(Got::TooLarge);
            }
            if self.buf.capacity() - self.buf.len() < READ_CHUNK {
                let mut bigger = Zeroizing::new(Vec::with_capacity(
                    (2 * self.buf.capacity()).max(self.buf.len() + READ_CHUNK),
                ));
                bigger.extend_from_slice(&self.buf);
                self.buf = bigger; // the old buffer is zeroized as it drops
            }
            // There is spare capacity, so `read_buf` fills it without reallocating.
            if self.r.read_buf(&mut *self.buf).await? == 0 {
                return Ok(if self.buf.is_empty() {
                    Got::Eof
                } else {
                    let n = self.buf.len();
                    Got::Line(self.take(n))
                });
            }
        }
    }

    /// The first `n` buffered bytes, moved into a buffer of their own.
    fn take(&mut self, n: usize) -> Zeroizing<Vec<u8>> {
        let mut line = Zeroizing::new(Vec::with_capacity(n));
        line.extend_from_slice(&self.buf[..n]);
        let rest = self.buf.len() - n;
        self.buf.copy_within(n.., 0);
        self.buf.truncate(rest);
        line
    }
}

/// A JSON string literal (`raw`, quotes included) decoded straight into a secret.
/// serde_json unescapes into a scratch buffer of its own and frees it without
/// zeroizing, so a passphrase with a quote or a backslash would be left behind.
fn json_str_secret(raw: &RawValue) -> Option<SecretString> {
    fn hex4(it: &mut std::str::Chars) -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v * 16 + it.next()?.to_digit(16)?;
        }
        Some(v)
    }
    let inner = raw.get().strip_prefix('"')?.strip_suffix('"')?;
    // Unescaping only shrinks: this never reallocates.
    let mut out = Zeroizing::new(String::with_capacity(inner.len()));
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match it.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = hex4(&mut it)?;
                if (0xD800..0xDC00).contains(&hi) {
                    if it.next()? != '\\' || it.next()? != 'u' {
                        return None;
                    }
                    let lo = hex4(&mut it)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return None;
                    }
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                } else {
                    char::from_u32(hi)?
                }
            }
            _ => return None,
        });
    }
    // An exact-size copy: `SecretString::from(String)` would shrink (reallocate)
    // a String with spare capacity, leaving the old allocation unzeroized.
    Some(SecretString::from(out.as_str()))
}

#[derive(Deserialize)]
struct Req<'a> {
    v: Option<u64>,
    #[serde(borrow)]
    op: Option<Cow<'a, str>>,
    /// Raw, so serde_json never unescapes it into a buffer of its own.
    #[serde(borrow, default)]
    passphrase: Option<&'a RawValue>,
    #[serde(default)]
    ids: Option<Vec<String>>,
}

/// One request, parsed and checked; the secret is already in a zeroizing buffer.
#[doc(hidden)]
pub enum Op {
    Status,
    Lock,
    Stop,
    Unlock(SecretString),
    Resolve(Vec<String>),
}

/// Parse one request line (untrusted bytes from the socket). An error is the
/// complete reply to send; it never quotes the input.
#[doc(hidden)]
pub fn parse_request(line: &[u8]) -> Result<Op, Zeroizing<Vec<u8>>> {
    let req: Req = match serde_json::from_slice(line) {
        Ok(r) => r,
        Err(e) => {
            // serde_json messages can quote the input: only the position is kept.
            return Err(reply_err(
                codes::BAD_REQUEST,
                &format!(
                    "malformed request at line {} column {}: send one JSON object per line with \"v\":1 and an \"op\"",
                    e.line(),
                    e.column()
                ),
            ));
        }
    };
    match req.v {
        Some(PROTOCOL_VERSION) => {}
        Some(other) => {
            return Err(reply_err(
                codes::BAD_REQUEST,
                &format!("unsupported protocol version {other}; this agent speaks version {PROTOCOL_VERSION}"),
            ))
        }
        None => {
            return Err(reply_err(
                codes::BAD_REQUEST,
                "the request has no \"v\" (protocol version)",
            ))
        }
    }
    match req.op.as_deref() {
        Some("status") => Ok(Op::Status),
        Some("lock") => Ok(Op::Lock),
        Some("stop") => Ok(Op::Stop),
        Some("unlock") => match req.passphrase.and_then(json_str_secret) {
            Some(pass) => Ok(Op::Unlock(pass)),
            None => Err(reply_err(
                codes::BAD_REQUEST,
                "unlock needs a \"passphrase\" string",
            )),
        },
        Some("resolve") => match req.ids {
            Some(ids) => Ok(Op::Resolve(ids)),
            None => Err(reply_err(
                codes::BAD_REQUEST,
                "resolve needs an \"ids\" array of strings",
            )),
        },
        Some(_) => Err(reply_err(
            codes::BAD_REQUEST,
            "unknown op; this agent knows status, unlock, lock, resolve, stop",
        )),
        None => Err(reply_err(codes::BAD_REQUEST, "the request has no \"op\"")),
    }
}

async fn dispatch(
    line: &[u8],
    sh: &Arc<Shared>,
    peer: &crate::access_log::Proc,
) -> Zeroizing<Vec<u8>> {
    let op = match parse_request(line) {
        Ok(op) => op,
        Err(reply) => return reply,
    };
    match op {
        Op::Status => status(sh),
        Op::Lock => {
            let mut h = sh.held.lock().expect("not poisoned");
            let was = h.id.take().is_some();
            h.source = None;
            if let Some(c) = &sh.offline {
                c.forget();
            }
            if was {
                log("locked on request (the identity was zeroized)");
            }
            reply_ok(serde_json::json!({"wasUnlocked": was}))
        }
        Op::Stop => {
            sh.stop.notify_one();
            reply_ok(serde_json::json!({}))
        }
        Op::Unlock(pass) => unlock(sh, pass).await,
        Op::Resolve(ids) => resolve(sh, ids, peer).await,
    }
}

fn status(sh: &Shared) -> Zeroizing<Vec<u8>> {
    let h = sh.held.lock().expect("not poisoned");
    reply_ok(serde_json::json!({"status": {
        "pid": std::process::id(),
        "vaultId": sh.vault_id,
        "backend": sh.backend_kind,
        "unlocked": h.id.is_some(),
        "needsIdentity": sh.needs_identity,
        "idleSecs": sh.idle.map(|d| d.as_secs()).unwrap_or(0),
        "unlockedBy": h.source,
        "socket": sh.socket.display().to_string(),
        "offline": sh.offline.as_ref().map(|c| c.stats()),
    }}))
}

async fn unlock(sh: &Arc<Shared>, pass: SecretString) -> Zeroizing<Vec<u8>> {
    let dir = sh.vault_dir.clone();
    // Unwrapping copies the raw key through stack frames: scrub them afterwards.
    let got = tokio::task::spawn_blocking(move || {
        crate::secret::with_scrubbed_stack(move || -> Result<SecretString, VaultError> {
            let mut v = Vault::open(&dir)?;
            v.unlock_with_passphrase(&pass)?;
            v.identity_string()
        })
    })
    .await;
    match got {
        Ok(Ok(id)) => match LockedBuf::new(&id) {
            Ok(buf) => {
                let mut h = sh.held.lock().expect("not poisoned");
                h.id = Some(Arc::new(buf));
                h.source = Some("unlock request".into());
                h.last_used = Instant::now();
                log("unlocked on request");
                reply_ok(serde_json::json!({}))
            }
            Err(e) => reply_err(codes::FAILED, &format!("cannot allocate memory: {e}")),
        },
        Ok(Err(VaultError::WrongPassphrase { .. })) => {
            log("an unlock request gave a wrong passphrase");
            reply_err(
                codes::WRONG_PASSPHRASE,
                "the passphrase does not unlock this vault",
            )
        }
        Ok(Err(e)) => reply_err(codes::FAILED, &e.to_string()),
        Err(_) => reply_err(codes::FAILED, "the unlock task failed"),
    }
}

/// Append the batch to the access log (the caller is the agent's peer).
fn log_read(
    dir: &std::path::Path,
    key: Option<&crate::access_log::Key>,
    peer: &crate::access_log::Proc,
    ids: &[String],
    r: &Result<resolve::Response, resolve::BatchError>,
) {
    use crate::access_log as al;
    let caller = if peer.pid > 0 {
        al::Proc::of(peer.pid, peer.uid)
    } else {
        peer.clone()
    };
    al::append(
        dir,
        key,
        &al::Record::new("resolve", "agent", caller, ids, &resolve::outcome(r)),
    );
}

async fn resolve(
    sh: &Arc<Shared>,
    ids: Vec<String>,
    peer: &crate::access_log::Proc,
) -> Zeroizing<Vec<u8>> {
    if ids.len() > MAX_IDS {
        return reply_err(
            codes::BAD_REQUEST,
            &format!(
                "the request has {} ids; the agent serves at most {MAX_IDS} per batch",
                ids.len()
            ),
        );
    }
    let backend: Box<dyn FnOnce() -> Result<resolve::Response, resolve::BatchError> + Send> = if sh
        .needs_identity
    {
        let buf = {
            let mut h = sh.held.lock().expect("not poisoned");
            let Some(buf) = h.id.clone() else {
                return reply_err(
                        codes::LOCKED,
                        "the agent is locked (idle timeout, `clawvault lock`, or never unlocked); run `clawvault unlock`",
                    );
            };
            h.last_used = Instant::now();
            buf
        };
        let blobs = sh.vault_dir.join("blobs");
        let recipient = sh.recipient.clone();
        let (dir, vault_id, peer) = (sh.vault_dir.clone(), sh.vault_id.clone(), peer.clone());
        // The identity is parsed and used on a blocking-pool thread only, and that
        // thread's dead frames are scrubbed afterwards: x25519-dalek and age copy the
        // raw key by value through the stack, where `Zeroize` cannot reach it.
        Box::new(move || {
            crate::secret::with_scrubbed_stack(move || {
                let id = buf.as_str().parse::<age::x25519::Identity>().map_err(|_| {
                    resolve::BatchError(crate::backend::BackendError::Other(
                        "the held identity is not valid".into(),
                    ))
                })?;
                let key = crate::access_log::Key::from_identity(buf.as_str(), &vault_id);
                drop(buf);
                let b = AgeBackend::new(blobs, recipient).with_identity(Arc::new(id));
                let r = resolve::serve(&b as &dyn Backend, &ids);
                log_read(&dir, Some(&key), &peer, &ids, &r);
                r
            })
        })
    } else {
        let held = {
            let mut h = sh.held.lock().expect("not poisoned");
            h.last_used = Instant::now();
            h.id.clone()
        };
        let v = sh.vault.clone();
        let (dir, peer, vault_id) = (sh.vault_dir.clone(), peer.clone(), sh.vault_id.clone());
        let cache = sh.offline.clone();
        Box::new(move || {
            let key = held
                .as_ref()
                .map(|b| crate::access_log::Key::from_identity(b.as_str(), &vault_id));
            let r = v
                .backend()
                .map_err(|e| match e {
                    VaultError::Backend(b) => resolve::BatchError(b),
                    other => {
                        resolve::BatchError(crate::backend::BackendError::Other(other.to_string()))
                    }
                })
                .and_then(|b| resolve::serve(b, &ids));
            match (&r, &cache, &held) {
                (Ok(resp), Some(c), _) => c.remember(held.as_ref().map(|b| b.as_str()), resp),
                (
                    Err(resolve::BatchError(crate::backend::BackendError::Unavailable { .. })),
                    Some(c),
                    Some(id),
                ) => {
                    if let Some((resp, oldest)) = c.serve(id.as_str(), &ids) {
                        let why = r.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
                        let outcome = format!(
                            "stale: {} of {} id(s) served from the offline cache (oldest {} s) because {why}",
                            resp.value_count(),
                            ids.len(),
                            oldest / 1000
                        );
                        log(format_args!("{outcome}"));
                        let caller = crate::access_log::Proc::of(peer.pid, peer.uid);
                        crate::access_log::append(
                            &dir,
                            key.as_ref(),
                            &crate::access_log::Record::new(
                                "resolve", "agent", caller, &ids, &outcome,
                            ),
                        );
                        return Ok(resp);
                    }
                }
                _ => {}
            }
            log_read(&dir, key.as_ref(), &peer, &ids, &r);
            r
        })
    };
    match tokio::task::spawn_blocking(backend).await {
        Ok(Ok(resp)) => {
            let body = resp.to_json();
            let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 40));
            out.extend_from_slice(br#"{"v":1,"ok":true,"response":"#);
            out.extend_from_slice(body.strip_suffix(b"\n").unwrap_or(&body));
            out.extend_from_slice(b"}\n");
            out
        }
        Ok(Err(e)) => reply_err(codes::FAILED, &e.to_string()),
        Err(_) => reply_err(codes::FAILED, "the resolve task failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ExposeSecret;

    #[test]
    fn json_str_secret_matches_serde_json() {
        for s in [
            "plain",
            "",
            "q\"uote \\ back/slash",
            "ctl \u{1}\u{8}\u{c}\n\r\t",
            "é ü 日本 🦀",
        ] {
            let lit = serde_json::to_string(s).unwrap();
            let raw: &RawValue = serde_json::from_str(&lit).unwrap();
            assert_eq!(json_str_secret(raw).unwrap().expose_secret(), s);
        }
        let raw: &RawValue = serde_json::from_str(r#""\u00e9\ud83e\udd80\/""#).unwrap();
        assert_eq!(json_str_secret(raw).unwrap().expose_secret(), "é🦀/");
        for bad in [r#"["x"]"#, "1", "null", r#""\ud83e""#, r#""\ud83e\u0041""#] {
            let raw: &RawValue = serde_json::from_str(bad).unwrap();
            assert!(json_str_secret(raw).is_none(), "{bad}");
        }
    }
}
