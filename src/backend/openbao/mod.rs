//! The `openbao` backend: secrets in a KV v2 engine of OpenBao or HashiCorp Vault
//! (same HTTP API), for operators who run several gateways or share provider keys.
//!
//! # Layout on the server
//! Entry `main/anthropic:default` of a vault with prefix `clawvault/<vault-id>` lives
//! at `<mount>/data/clawvault/<vault-id>/main/anthropic:default`, as the KV v2 data
//! `{"value_b64": "<standard base64 of the secret bytes>"}`. Base64 keeps any byte
//! string intact (KV data is JSON, which cannot hold arbitrary bytes) and
//! `bao kv get -field=value_b64 <mount>/<path> | base64 -d` still shows the value.
//!
//! KV v2 keeps versions: [`Backend::delete`] soft-deletes the latest version (history
//! stays and `bao kv undelete` can bring it back); [`Backend::purge`] deletes the
//! metadata, which removes every version. `contains` and `list` read metadata and
//! treat an entry whose latest version is deleted or destroyed as absent.
//!
//! # Authentication
//! A token from `BAO_TOKEN` / `VAULT_TOKEN` or a token file (refused when group or
//! world can read it), or AppRole (`role_id` and `secret_id` from files or systemd
//! credentials). Tokens are renewed (`renew-self`) when a third of their TTL is left;
//! AppRole logs in again when the token expired or the server answers 403 once.
//! The token is held in a [`SecretString`] and never appears in argv, `Debug`
//! output or an error message. TODO: a token kept in the OS keychain.
//!
//! # Transport
//! ureq with rustls; TLS verification is always on (`ca_file` adds a CA). Plain
//! `http://` is accepted only for loopback addresses, or with `allow_insecure_http`
//! (which [`OpenBaoConfig::warnings`] reports). Redirects are never followed (they
//! would carry the token elsewhere); proxies from the environment are used except for
//! loopback. Every request has a connect and an overall timeout. [`Backend::get_many`]
//! reads a batch on a few threads sharing one agent (kept-alive connections), and
//! stops early, with one clear error per remaining id, when the server is unreachable
//! or sealed.
//!
//! ureq's `TRACE` log level prints raw wire data, headers included; clawvault installs
//! no logger.

mod args;
mod auth;
mod client;
mod config;
mod credential;
mod errors;
mod keychain_token;
mod kv;
mod link;
#[cfg(test)]
mod tests;
// Logins against a fake server, with credential files set up by mode bits.
#[cfg(all(test, unix))]
mod tests_login;
mod versions;

pub use args::*;
#[allow(unused_imports)]
use auth::*;
pub use client::*;
pub use config::*;
pub use credential::*;
#[allow(unused_imports)]
use errors::*;
pub use keychain_token::*;
#[allow(unused_imports)]
use kv::*;
#[allow(unused_imports)]
use link::wipe_value;
pub use link::KvLink;
pub use versions::KvVersions;

/// The KV v2 data field holding the base64 of a secret.
pub const VALUE_FIELD: &str = "value_b64";
/// The default KV v2 mount (the dev server's).
pub const DEFAULT_MOUNT: &str = "secret";
/// The default AppRole auth mount.
pub const DEFAULT_APPROLE_MOUNT: &str = "approle";
/// The default JWT and Kubernetes auth mounts, and the pod's service-account token.
pub const DEFAULT_JWT_MOUNT: &str = "jwt";
pub const DEFAULT_KUBERNETES_MOUNT: &str = "kubernetes";
pub const DEFAULT_KUBERNETES_JWT: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// The systemd credential names used when an AppRole source is `credential:` alone.
pub const ROLE_ID_CREDENTIAL: &str = "clawvault-bao-role-id";
pub const SECRET_ID_CREDENTIAL: &str = "clawvault-bao-secret-id";

/// The default prefix for a vault: `clawvault/<vault-id>`.
pub fn default_prefix(vault_id: &str) -> String {
    format!("clawvault/{vault_id}")
}
