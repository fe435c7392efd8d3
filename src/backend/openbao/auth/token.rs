//! A static token: BAO_TOKEN / VAULT_TOKEN, a token file, or the OS keychain.

use std::time::{Duration, Instant};

use super::*;
use crate::backend::Result;
use crate::secret::SecretString;

impl OpenBaoBackend {
    /// Read a static token and learn its TTL (best effort: a token without the
    /// default policy cannot look itself up).
    pub(super) fn load_static_token(&self, generation: u64) -> Result<Token> {
        let OpenBaoAuth::Token {
            token_file,
            token_keychain,
        } = &self.cfg.auth
        else {
            unreachable!("static token with AppRole configured")
        };
        let from_env = ["BAO_TOKEN", "VAULT_TOKEN"].iter().find_map(|k| {
            std::env::var(k)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        });
        let mut watched = None;
        let secret = match (from_env, token_file, token_keychain) {
            (Some(t), _, _) => SecretString::from(t),
            (None, Some(f), _) => {
                // Stamp first: a rotation racing this read shows up as a change.
                let stamp = file_stamp(f);
                let t = read_secret_file(f, true)
                    .map_err(|r| self.unavailable(format!("the token file: {r}")))?;
                watched = stamp.map(|s| (f.clone(), s));
                t
            }
            (None, None, Some(svc)) => keychain_token_get(svc).map_err(|r| self.unavailable(r))?,
            (None, None, None) => {
                return Err(self.unavailable(
                    "no token: set BAO_TOKEN (or VAULT_TOKEN), or re-create the vault with --token-file or AppRole",
                ))
            }
        };
        let mut tok = Token {
            secret,
            generation,
            lease: None,
            renewable: false,
            watched,
        };
        let r = self.raw(
            Method::Get,
            "auth/token/lookup-self",
            Some(&tok.secret),
            None,
        )?;
        match r.status {
            200 => {
                if let Some(d) = r.json().and_then(|v| v.get("data").cloned()) {
                    let ttl = seconds(d.get("ttl")).unwrap_or(0);
                    if ttl > 0 {
                        tok.lease = Some((Instant::now(), Duration::from_secs(ttl)));
                    }
                    tok.renewable = d
                        .get("renewable")
                        .and_then(|x| x.as_bool())
                        .unwrap_or(false);
                }
            }
            403 => {
                // Either dead, or alive without lookup-self rights; the first real
                // request tells which.
            }
            503 => return Err(self.sealed_or_503(&r)),
            _ => {}
        }
        Ok(tok)
    }
}
