//! Tokens: loaded, logged in, renewed or replaced as needed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;
use crate::backend::Result;
use crate::secret::SecretString;

mod approle;
mod jwt;
mod kubernetes;
mod login;
mod token;

#[cfg(all(test, unix))]
pub(super) use login::login_request;

/// Identity and last change of a credential file: a Vault Agent sink or a
/// projected JWT is replaced (new inode) or rewritten (new mtime/size) on rotation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct FileStamp {
    dev: u64,
    ino: u64,
    mtime_ns: i128,
    len: u64,
}

/// The file's stamp, following symlinks (Kubernetes projects tokens through a
/// `..data` symlink swap); `None` when it cannot be read.
#[cfg(unix)]
pub(super) fn file_stamp(path: &std::path::Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        dev: m.dev(),
        ino: m.ino(),
        mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        len: m.len(),
    })
}

/// Windows: (volume serial, file index) for (dev, ino), and the modification time.
#[cfg(windows)]
pub(super) fn file_stamp(path: &std::path::Path) -> Option<FileStamp> {
    let m = std::fs::metadata(path).ok()?;
    let (dev, ino) = crate::fsutil::file_id(path, true).ok()?;
    let mtime_ns = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    Some(FileStamp {
        dev,
        ino,
        mtime_ns,
        len: m.len(),
    })
}

pub(super) struct Token {
    pub(super) secret: SecretString,
    /// Bumped at each new token, so concurrent threads re-login once.
    pub(super) generation: u64,
    /// When it was issued or last renewed, and for how long (None: no expiry known).
    pub(super) lease: Option<(Instant, Duration)>,
    pub(super) renewable: bool,
    /// The credential file this token came from and its stamp then; a change means
    /// the file was rotated and the token is replaced.
    pub(super) watched: Option<(std::path::PathBuf, FileStamp)>,
}

impl Token {
    pub(super) fn remaining(&self) -> Option<Duration> {
        self.lease.map(|(at, ttl)| ttl.saturating_sub(at.elapsed()))
    }

    /// Whether the credential file changed since this token was made from it.
    pub(super) fn source_changed(&self) -> bool {
        self.watched
            .as_ref()
            .is_some_and(|(path, stamp)| file_stamp(path).is_some_and(|now| now != *stamp))
    }
}

impl OpenBaoBackend {
    pub(super) fn token_source(&self) -> String {
        match &self.cfg.auth {
            OpenBaoAuth::Token {
                token_file,
                token_keychain,
            } => {
                if std::env::var_os("BAO_TOKEN").is_some_and(|v| !v.is_empty()) {
                    "BAO_TOKEN".into()
                } else if std::env::var_os("VAULT_TOKEN").is_some_and(|v| !v.is_empty()) {
                    "VAULT_TOKEN".into()
                } else if let Some(f) = token_file {
                    format!("token file {}", f.display())
                } else if let Some(svc) = token_keychain {
                    format!("the OS keychain item {svc}")
                } else {
                    "the environment".into()
                }
            }
            OpenBaoAuth::Approle { mount, .. } => format!("AppRole login at auth/{mount}"),
            OpenBaoAuth::Jwt { mount, role, .. } => {
                format!("JWT login at auth/{mount} (role {role})")
            }
            OpenBaoAuth::Kubernetes { mount, role, .. } => {
                format!("Kubernetes login at auth/{mount} (role {role})")
            }
        }
    }

    /// Whether the token comes from a login (AppRole, JWT, Kubernetes) that can be
    /// repeated, rather than a static token.
    pub(super) fn is_login(&self) -> bool {
        !matches!(self.cfg.auth, OpenBaoAuth::Token { .. })
    }

    /// Renew the current token; `Ok(None)` when the server would not.
    pub(super) fn renew(&self, tok: &Token) -> Result<Option<Token>> {
        let r = self.raw(
            Method::Post,
            "auth/token/renew-self",
            Some(&tok.secret),
            Some(b"{}"),
        )?;
        if r.status != 200 {
            return Ok(None);
        }
        let v = r.json().unwrap_or(Value::Null);
        let auth = v.get("auth").cloned().unwrap_or(Value::Null);
        let ttl = seconds(auth.get("lease_duration")).unwrap_or(0);
        Ok(Some(Token {
            secret: tok.secret.clone(),
            generation: tok.generation,
            lease: (ttl > 0).then(|| (Instant::now(), Duration::from_secs(ttl))),
            renewable: auth
                .get("renewable")
                .and_then(|x| x.as_bool())
                .unwrap_or(tok.renewable),
            watched: tok.watched.clone(),
        }))
    }

    /// Renew when a third of the TTL is left; with AppRole, log in again once the
    /// token has run out. The server decides whether a token is dead: the client's
    /// clock only triggers a renewal or a login, never an error.
    pub(super) fn needs_refresh(&self, tok: &Token) -> bool {
        if tok.source_changed() {
            return true;
        }
        match (tok.lease, tok.remaining()) {
            (Some((_, ttl)), Some(left)) => {
                (tok.renewable && left < ttl / 3) || (self.is_login() && left.is_zero())
            }
            _ => false,
        }
    }

    /// The token to use: loaded, logged in, renewed or replaced as needed.
    pub(super) fn token(&self) -> Result<Arc<Token>> {
        if let Some(t) = self.token.read().expect("token lock").as_ref() {
            if !self.needs_refresh(t) {
                return Ok(t.clone());
            }
        }
        let mut gen = self.refresh.lock().expect("refresh lock");
        let current = self.token.read().expect("token lock").clone();
        if let Some(t) = &current {
            if !self.needs_refresh(t) {
                return Ok(t.clone());
            }
        }
        let new = match current {
            // No token yet, or its token file / JWT file was rotated: start afresh.
            None => self.fresh_token(&mut gen)?,
            Some(t) if t.source_changed() => self.fresh_token(&mut gen)?,
            Some(t) => {
                let renewed = if t.renewable { self.renew(&t)? } else { None };
                match renewed {
                    // A renewal capped by the max TTL still counts while time is left.
                    Some(n) if !n.remaining().unwrap_or(Duration::MAX).is_zero() => n,
                    _ if self.is_login() => {
                        *gen += 1;
                        self.login(*gen)?
                    }
                    // Renewal refused: keep using the token until the server says no.
                    _ => Token {
                        secret: t.secret.clone(),
                        generation: t.generation,
                        lease: t.lease,
                        renewable: false,
                        watched: t.watched.clone(),
                    },
                }
            }
        };
        let new = Arc::new(new);
        *self.token.write().expect("token lock") = Some(new.clone());
        Ok(new)
    }

    fn fresh_token(&self, gen: &mut u64) -> Result<Token> {
        *gen += 1;
        if self.is_login() {
            self.login(*gen)
        } else {
            self.load_static_token(*gen)
        }
    }

    /// Log in again unless another thread already did since `seen`.
    pub(super) fn relogin(&self, seen: u64) -> Result<()> {
        let mut gen = self.refresh.lock().expect("refresh lock");
        if *gen != seen {
            return Ok(());
        }
        *gen += 1;
        let t = self.login(*gen)?;
        *self.token.write().expect("token lock") = Some(Arc::new(t));
        Ok(())
    }

    /// Whether the server still accepts this token (`lookup-self`, which the
    /// `default` policy grants); `true` when it cannot tell.
    pub(super) fn token_alive(&self, tok: &Token) -> Result<bool> {
        let r = self.raw(
            Method::Get,
            "auth/token/lookup-self",
            Some(&tok.secret),
            None,
        )?;
        Ok(r.status != 403)
    }

    /// An authenticated request. With AppRole, a 403 whose token the server no
    /// longer accepts (revoked) triggers one login and a retry; a 403 of a live
    /// token is a policy denial and is returned as is (no login storm).
    pub(super) fn call(&self, method: Method, path: &str, body: Option<&[u8]>) -> Result<Resp> {
        let tok = self.token()?;
        let r = self.raw(method, path, Some(&tok.secret), body)?;
        if r.status == 403 && self.is_login() && !self.token_alive(&tok)? {
            self.relogin(tok.generation)?;
            let tok = self.token()?;
            return self.raw(method, path, Some(&tok.secret), body);
        }
        Ok(r)
    }
}
