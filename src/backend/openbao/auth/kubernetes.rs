//! Kubernetes login: the JWT flow against `auth/kubernetes` with the pod's
//! service-account token (default path
//! `/var/run/secrets/kubernetes.io/serviceaccount/token`). The kubelet writes that
//! file world-readable inside the pod, so its mode is not checked.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::jwt::{role_jwt_body, watched};
use super::login::LoginMethod;
use super::*;
use crate::secret::SecretString;

pub(in crate::backend::openbao) struct Kubernetes<'a> {
    pub mount: &'a str,
    pub role: &'a str,
    pub jwt_file: &'a CredentialSource,
}

impl LoginMethod for Kubernetes<'_> {
    fn name(&self) -> &'static str {
        "Kubernetes"
    }

    fn mount(&self) -> &str {
        self.mount
    }

    fn auth_type(&self) -> &'static str {
        "kubernetes"
    }

    fn body(&self) -> std::result::Result<(Zeroizing<String>, Vec<SecretString>), String> {
        role_jwt_body(self.role, self.jwt_file, false)
    }

    fn refused_hint(&self) -> String {
        format!(
            "check the role {:?} (bound service account names and namespaces) and the service-account token in {}",
            self.role,
            self.jwt_file.describe()
        )
    }

    fn watched_file(&self) -> Option<PathBuf> {
        watched(self.jwt_file)
    }
}
