//! What each request does: status, lock, stop, unlock, resolve (with the access
//! log and the offline cache).

use std::sync::Arc;
use std::time::Instant;

use zeroize::Zeroizing;

use super::super::codes;
use super::super::locked::LockedBuf;
use super::request::{parse_request, reply_err, reply_ok, Op};
use super::{log, Shared};
use crate::backend::age::AgeBackend;
use crate::backend::Backend;
use crate::resolve::{self, MAX_IDS};
use crate::secret::SecretString;
use crate::vault::{Vault, VaultError};

pub(super) async fn dispatch(
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
                let bad = |why: &str| {
                    resolve::BatchError(crate::backend::BackendError::Other(format!(
                        "the held identity {why}"
                    )))
                };
                // The revealed text (a Windows copy) is gone at the end of this block.
                let (id, key) = {
                    let text = buf
                        .reveal()
                        .map_err(|e| bad(&format!("cannot be read: {e}")))?;
                    let id = text
                        .parse::<age::x25519::Identity>()
                        .map_err(|_| bad("is not valid"))?;
                    (id, crate::access_log::Key::from_identity(&text, &vault_id))
                };
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
            // A copy unsealed for this batch only (Windows); the buffer itself on Unix.
            let text = held.as_ref().and_then(|b| b.reveal().ok());
            let key = text
                .as_deref()
                .map(|t| crate::access_log::Key::from_identity(t, &vault_id));
            let r = v
                .backend()
                .map_err(|e| match e {
                    VaultError::Backend(b) => resolve::BatchError(b),
                    other => {
                        resolve::BatchError(crate::backend::BackendError::Other(other.to_string()))
                    }
                })
                .and_then(|b| resolve::serve(b, &ids));
            match (&r, &cache, text.as_deref()) {
                (Ok(resp), Some(c), _) => c.remember(text.as_deref(), resp),
                (
                    Err(resolve::BatchError(crate::backend::BackendError::Unavailable { .. })),
                    Some(c),
                    Some(id),
                ) => {
                    if let Some((resp, oldest)) = c.serve(id, &ids) {
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
