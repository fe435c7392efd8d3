//! AppRole login: `role_id` and `secret_id` from files or systemd credentials.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::login::LoginMethod;
use super::*;
use crate::secret::{ExposeSecret, SecretString};

pub(in crate::backend::openbao) struct AppRole<'a> {
    pub mount: &'a str,
    pub role_id: &'a CredentialSource,
    pub secret_id: &'a CredentialSource,
}

impl LoginMethod for AppRole<'_> {
    fn name(&self) -> &'static str {
        "AppRole"
    }

    fn mount(&self) -> &str {
        self.mount
    }

    fn auth_type(&self) -> &'static str {
        "approle"
    }

    fn body(&self) -> std::result::Result<(Zeroizing<String>, Vec<SecretString>), String> {
        let rid = self
            .role_id
            .read(false)
            .map_err(|r| format!("AppRole role_id: {r}"))?;
        let sid = self
            .secret_id
            .read(true)
            .map_err(|r| format!("AppRole secret_id: {r}"))?;
        let body = Zeroizing::new(
            serde_json::json!({
                "role_id": rid.expose_secret(),
                "secret_id": sid.expose_secret(),
            })
            .to_string(),
        );
        Ok((body, vec![rid, sid]))
    }

    fn refused_hint(&self) -> String {
        format!(
            "check the role_id ({}) and secret_id ({}): the secret_id may have expired or been used up",
            self.role_id.describe(),
            self.secret_id.describe()
        )
    }

    fn watched_file(&self) -> Option<PathBuf> {
        None
    }
}
