//! JWT login: a role and a workload JWT (a file, re-read at each login; a changed
//! file triggers a new login), as OpenClaw's Vault plugin does with
//! `OPENCLAW_VAULT_AUTH_METHOD=jwt`.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::login::LoginMethod;
use super::*;
use crate::secret::{ExposeSecret, SecretString};

pub(in crate::backend::openbao) struct Jwt<'a> {
    pub mount: &'a str,
    pub role: &'a str,
    pub jwt_file: &'a CredentialSource,
}

/// The body of a JWT-style login (`{"role", "jwt"}`), shared with Kubernetes.
pub(super) fn role_jwt_body(
    role: &str,
    jwt_file: &CredentialSource,
    check_mode: bool,
) -> std::result::Result<(Zeroizing<String>, Vec<SecretString>), String> {
    let jwt = jwt_file
        .read(check_mode)
        .map_err(|r| format!("the JWT file: {r}"))?;
    let body =
        Zeroizing::new(serde_json::json!({ "role": role, "jwt": jwt.expose_secret() }).to_string());
    Ok((body, vec![jwt]))
}

pub(super) fn watched(src: &CredentialSource) -> Option<PathBuf> {
    match src {
        CredentialSource::File(p) => Some(p.clone()),
        CredentialSource::Credential(_) => None,
    }
}

impl LoginMethod for Jwt<'_> {
    fn name(&self) -> &'static str {
        "JWT"
    }

    fn mount(&self) -> &str {
        self.mount
    }

    fn auth_type(&self) -> &'static str {
        "jwt"
    }

    fn body(&self) -> std::result::Result<(Zeroizing<String>, Vec<SecretString>), String> {
        role_jwt_body(self.role, self.jwt_file, true)
    }

    fn refused_hint(&self) -> String {
        format!(
            "check the role {:?} (bound audiences, subject, claims) and the JWT in {}: it may have expired or be signed by a key the auth method does not trust",
            self.role,
            self.jwt_file.describe()
        )
    }

    fn watched_file(&self) -> Option<PathBuf> {
        watched(self.jwt_file)
    }
}
