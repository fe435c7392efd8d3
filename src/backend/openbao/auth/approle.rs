//! AppRole login.

use std::time::{Duration, Instant};

use serde_json::Value;
use zeroize::Zeroizing;

use super::*;
use crate::backend::Result;
use crate::secret::ExposeSecret;
use crate::secret::SecretString;

impl OpenBaoBackend {
    pub(super) fn approle_login(&self, generation: u64) -> Result<Token> {
        let OpenBaoAuth::Approle {
            mount,
            role_id,
            secret_id,
        } = &self.cfg.auth
        else {
            unreachable!("AppRole login without AppRole configured")
        };
        let rid = role_id
            .read(false)
            .map_err(|r| self.unavailable(format!("AppRole role_id: {r}")))?;
        let sid = secret_id
            .read(true)
            .map_err(|r| self.unavailable(format!("AppRole secret_id: {r}")))?;
        let body = Zeroizing::new(
            serde_json::json!({
                "role_id": rid.expose_secret(),
                "secret_id": sid.expose_secret(),
            })
            .to_string(),
        );
        let path = format!("auth/{mount}/login");
        let r = self.raw(Method::Post, &path, None, Some(body.as_bytes()))?;
        match r.status {
            200 => {}
            503 => return Err(self.sealed_or_503(&r)),
            400 | 403 => {
                let msg = scrub(&r.errors(), &[rid.expose_secret(), sid.expose_secret()]);
                return Err(self.unavailable(format!(
                    "AppRole login at auth/{mount} was refused ({msg}); check the role_id ({}) and secret_id ({}): the secret_id may have expired or been used up",
                    role_id.describe(),
                    secret_id.describe()
                )));
            }
            404 => {
                return Err(self.unavailable(format!(
                    "no AppRole auth method at auth/{mount}; enable it with `bao auth enable approle` or fix the AppRole mount"
                )))
            }
            s => {
                let msg = scrub(&r.errors(), &[rid.expose_secret(), sid.expose_secret()]);
                return Err(self.unavailable(format!("AppRole login answered {s}: {msg}")));
            }
        }
        let v = r.json().unwrap_or(Value::Null);
        let auth = v.get("auth").cloned().unwrap_or(Value::Null);
        let token = auth
            .get("client_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.unavailable("AppRole login returned no client token"))?;
        let ttl = seconds(auth.get("lease_duration")).unwrap_or(0);
        Ok(Token {
            secret: SecretString::from(token.to_string()),
            generation,
            lease: (ttl > 0).then(|| (Instant::now(), Duration::from_secs(ttl))),
            renewable: auth
                .get("renewable")
                .and_then(|x| x.as_bool())
                .unwrap_or(false),
        })
    }
}
