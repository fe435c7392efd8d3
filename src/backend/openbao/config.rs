//! Where the server is and how clawvault authenticates (kept in vault.json:
//! no secrets in it, only where they are).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ureq::http::Uri;

use super::*;

/// Where the backend's secrets are and how it authenticates. Stored in the vault
/// manifest as `{"kind": "openbao", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenBaoConfig {
    /// `https://bao.example:8200`; `http://` only for loopback or with `allow_insecure_http`.
    pub addr: String,
    /// The KV v2 mount path, `secret` by default.
    pub mount: String,
    /// The folder under the mount, `clawvault/<vault-id>` by default.
    pub prefix: String,
    pub auth: OpenBaoAuth,
    /// A PEM file of CA certificates trusted instead of the built-in web roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Allow `http://` to a non-loopback address (the token then crosses the network
    /// in clear text).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_insecure_http: bool,
    /// The Vault Enterprise / OpenBao namespace (`X-Vault-Namespace`); when unset,
    /// `BAO_NAMESPACE` or `VAULT_NAMESPACE` from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Entries linked to existing KV v2 fields (`models auth link`), by entry name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub links: std::collections::BTreeMap<String, KvLink>,
}

/// How the backend gets a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum OpenBaoAuth {
    /// `BAO_TOKEN`, else `VAULT_TOKEN`, else the token file.
    Token {
        #[serde(rename = "tokenFile", default, skip_serializing_if = "Option::is_none")]
        token_file: Option<PathBuf>,
        /// The OS keychain item holding the token (service name; account
        /// [`TOKEN_ACCOUNT`]), written by `init --token-keychain`.
        #[serde(
            rename = "tokenKeychain",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        token_keychain: Option<String>,
    },
    /// AppRole login for daemons.
    Approle {
        #[serde(default = "default_approle_mount")]
        mount: String,
        #[serde(rename = "roleId")]
        role_id: CredentialSource,
        #[serde(rename = "secretId")]
        secret_id: CredentialSource,
    },
    /// JWT login (`auth/<mount>/login` with a role and a workload JWT read from a
    /// file each time; a changed file means a new login).
    Jwt {
        #[serde(default = "default_jwt_mount")]
        mount: String,
        role: String,
        #[serde(rename = "jwtFile")]
        jwt_file: CredentialSource,
    },
    /// Kubernetes login: the same flow against `auth/kubernetes` with the pod's
    /// service-account token.
    Kubernetes {
        #[serde(default = "default_kubernetes_mount")]
        mount: String,
        role: String,
        #[serde(rename = "jwtFile", default = "default_kubernetes_jwt")]
        jwt_file: CredentialSource,
    },
}

pub(super) fn default_jwt_mount() -> String {
    DEFAULT_JWT_MOUNT.to_string()
}

pub(super) fn default_kubernetes_mount() -> String {
    DEFAULT_KUBERNETES_MOUNT.to_string()
}

pub(super) fn default_kubernetes_jwt() -> CredentialSource {
    CredentialSource::File(PathBuf::from(DEFAULT_KUBERNETES_JWT))
}

pub(super) fn default_approle_mount() -> String {
    DEFAULT_APPROLE_MOUNT.to_string()
}

/// Literal loopback addresses, and the single name `localhost`, which the client
/// never resolves (it connects to 127.0.0.1 itself, see [`OpenBaoConfig::base_url`]).
/// `*.localhost` is not loopback: a resolver may send it anywhere (issue 14, finding 8).
pub(super) fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

pub(super) fn check_path_segments(what: &str, s: &str) -> std::result::Result<String, String> {
    let t = s.trim_matches('/');
    if t.is_empty() {
        return Err(format!("{what} is empty"));
    }
    for seg in t.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(format!(
                "{what} {s:?} has an empty, '.' or '..' path segment"
            ));
        }
        if !seg
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"._:#@+=,-".contains(&c))
        {
            return Err(format!(
                "{what} {s:?} may only hold letters, digits, '/' and . _ : # @ + = , -"
            ));
        }
    }
    Ok(t.to_string())
}

impl OpenBaoConfig {
    /// Check the configuration without contacting the server; returns it normalised
    /// (no trailing slashes).
    pub fn validated(&self) -> std::result::Result<OpenBaoConfig, String> {
        let addr = self.addr.trim().trim_end_matches('/');
        let uri: Uri = addr
            .parse()
            .map_err(|_| format!("--addr {addr:?} is not a URL like https://bao.example:8200"))?;
        let scheme = uri.scheme_str().unwrap_or("");
        let host = uri
            .host()
            .ok_or_else(|| format!("--addr {addr:?} has no host"))?;
        if uri
            .authority()
            .map(|a| a.as_str().contains('@'))
            .unwrap_or(false)
        {
            return Err(
                "--addr must not contain user information (put no credentials in the address)"
                    .into(),
            );
        }
        if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
            return Err(format!(
                "--addr {addr:?} must be scheme://host[:port] without a path"
            ));
        }
        match scheme {
            "https" => {}
            "http" if is_loopback_host(host) || self.allow_insecure_http => {}
            "http" => {
                return Err(format!(
                    "refusing plain http:// to {host}, which is not a loopback address: use https:// (with --ca-file for a private CA), or pass --allow-insecure-http to send the token in clear text"
                ))
            }
            _ => return Err(format!("--addr {addr:?} must start with https:// or http://")),
        }
        if let Some(ca) = &self.ca_file {
            if !ca.is_file() {
                return Err(format!("--ca-file {} is not a readable file", ca.display()));
            }
        }
        let mount = check_path_segments("--mount", &self.mount)?;
        let prefix = check_path_segments("--prefix", &self.prefix)?;
        match &self.auth {
            OpenBaoAuth::Approle { mount, .. } => {
                check_path_segments("the AppRole mount", mount)?;
            }
            OpenBaoAuth::Jwt { mount, role, .. } | OpenBaoAuth::Kubernetes { mount, role, .. } => {
                check_path_segments("the login mount", mount)?;
                if role.trim().is_empty() {
                    return Err("the login role is empty: pass the role name the server's auth method knows".into());
                }
            }
            OpenBaoAuth::Token { .. } => {}
        }
        let namespace = match &self.namespace {
            Some(ns) if ns.trim_matches('/').is_empty() => None,
            Some(ns) => Some(check_path_segments("--namespace", ns)?),
            None => None,
        };
        Ok(OpenBaoConfig {
            addr: addr.to_string(),
            mount,
            prefix,
            auth: self.auth.clone(),
            ca_file: self.ca_file.clone(),
            allow_insecure_http: self.allow_insecure_http,
            namespace,
            links: self.links.clone(),
        })
    }

    /// The URL requests go to: the address, with a plain-http `localhost` replaced by
    /// `127.0.0.1` so that the name never reaches a resolver (or DNS).
    pub(super) fn base_url(&self) -> String {
        if let Some(rest) = self.addr.strip_prefix("http://") {
            let (host, tail) = rest.split_at(rest.find(':').unwrap_or(rest.len()));
            if host.eq_ignore_ascii_case("localhost") {
                return format!("http://127.0.0.1{tail}");
            }
        }
        self.addr.clone()
    }

    /// The namespace sent as `X-Vault-Namespace`: the configured one, else
    /// `BAO_NAMESPACE`, else `VAULT_NAMESPACE` (as OpenClaw's Vault plugin reads it).
    pub(super) fn effective_namespace(&self) -> Option<String> {
        self.namespace.clone().or_else(|| {
            ["BAO_NAMESPACE", "VAULT_NAMESPACE"].iter().find_map(|k| {
                std::env::var(k)
                    .ok()
                    .map(|v| v.trim().trim_matches('/').to_string())
                    .filter(|v| !v.is_empty())
            })
        })
    }

    pub(super) fn is_loopback(&self) -> bool {
        self.addr
            .parse::<Uri>()
            .ok()
            .and_then(|u| u.host().map(is_loopback_host))
            .unwrap_or(false)
    }

    /// Things the CLI should show the user (the library never prints).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.addr.starts_with("http://") && !self.is_loopback() {
            w.push(format!(
                "warning: {} is plain HTTP to a non-loopback host: the OpenBao token and every secret cross the network unencrypted",
                self.addr
            ));
        }
        w
    }
}
