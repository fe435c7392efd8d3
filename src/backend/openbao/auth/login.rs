//! The login flow shared by every method that trades a credential for a token
//! (AppRole, JWT, Kubernetes): one trait, one file per method.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use zeroize::Zeroizing;

use super::*;
use crate::backend::Result;
use crate::secret::{ExposeSecret, SecretString};

/// One way of logging in at `auth/<mount>/login`.
pub(in crate::backend::openbao) trait LoginMethod {
    /// "AppRole", "JWT", "Kubernetes".
    fn name(&self) -> &'static str;
    /// The auth mount, without `auth/`.
    fn mount(&self) -> &str;
    /// The `bao auth enable ...` type, for the error when the mount is missing.
    fn auth_type(&self) -> &'static str;
    /// The JSON body of the login request (zeroized after use) and the secrets in
    /// it, which are scrubbed from any server message.
    fn body(&self) -> std::result::Result<(Zeroizing<String>, Vec<SecretString>), String>;
    /// What to check when the server refuses the login.
    fn refused_hint(&self) -> String;
    /// A file whose change means the credential was rotated: log in again.
    fn watched_file(&self) -> Option<PathBuf>;
}

/// The request a login sends: path and body. Split out so unit tests can check it.
pub(in crate::backend::openbao) fn login_request(
    m: &dyn LoginMethod,
) -> std::result::Result<(String, Zeroizing<String>, Vec<SecretString>), String> {
    let (body, secrets) = m.body()?;
    Ok((format!("auth/{}/login", m.mount()), body, secrets))
}

impl OpenBaoAuth {
    /// The login method, or `None` for a static token.
    pub(in crate::backend::openbao) fn login_method(&self) -> Option<Box<dyn LoginMethod + '_>> {
        match self {
            OpenBaoAuth::Token { .. } => None,
            OpenBaoAuth::Approle {
                mount,
                role_id,
                secret_id,
            } => Some(Box::new(approle::AppRole {
                mount,
                role_id,
                secret_id,
            })),
            OpenBaoAuth::Jwt {
                mount,
                role,
                jwt_file,
            } => Some(Box::new(jwt::Jwt {
                mount,
                role,
                jwt_file,
            })),
            OpenBaoAuth::Kubernetes {
                mount,
                role,
                jwt_file,
            } => Some(Box::new(kubernetes::Kubernetes {
                mount,
                role,
                jwt_file,
            })),
        }
    }
}

impl OpenBaoBackend {
    /// Log in with the configured method.
    pub(super) fn login(&self, generation: u64) -> Result<Token> {
        let m = self
            .cfg
            .auth
            .login_method()
            .expect("login without a login method configured");
        let name = m.name();
        let mount = m.mount().to_string();
        // The stamp is taken before reading, so a rotation during the login is seen
        // as a change next time.
        let watched = m.watched_file();
        let stamp = watched.as_deref().and_then(file_stamp);
        let (path, body, secrets) = login_request(m.as_ref())
            .map_err(|r| self.unavailable(format!("{name} login: {r}")))?;
        let scrub_list: Vec<&str> = secrets.iter().map(|s| s.expose_secret()).collect();
        let r = self.raw(Method::Post, &path, None, Some(body.as_bytes()))?;
        match r.status {
            200 => {}
            503 => return Err(self.sealed_or_503(&r)),
            400 | 403 => {
                let msg = scrub(&r.errors(), &scrub_list);
                return Err(self.unavailable(format!(
                    "{name} login at auth/{mount} was refused ({msg}); {}",
                    m.refused_hint()
                )));
            }
            404 => {
                return Err(self.unavailable(format!(
                    "no {name} auth method at auth/{mount}; enable it with `bao auth enable {}` or fix the login mount",
                    m.auth_type()
                )))
            }
            s => {
                let msg = scrub(&r.errors(), &scrub_list);
                return Err(self.unavailable(format!("{name} login answered {s}: {msg}")));
            }
        }
        let v = r.json().unwrap_or(Value::Null);
        let auth = v.get("auth").cloned().unwrap_or(Value::Null);
        let token = auth
            .get("client_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.unavailable(format!("{name} login returned no client token")))?;
        let ttl = seconds(auth.get("lease_duration")).unwrap_or(0);
        Ok(Token {
            secret: SecretString::from(token.to_string()),
            generation,
            lease: (ttl > 0).then(|| (Instant::now(), Duration::from_secs(ttl))),
            renewable: auth
                .get("renewable")
                .and_then(|x| x.as_bool())
                .unwrap_or(false),
            watched: watched.zip(stamp),
        })
    }
}
