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

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ureq::http::Uri;
use zeroize::Zeroizing;

use super::{Backend, BackendError, EntryName, Result};
use crate::secret::{secret_bytes, ExposeSecret, SecretBytes, SecretString};

/// The KV v2 data field holding the base64 of a secret.
pub const VALUE_FIELD: &str = "value_b64";
/// The default KV v2 mount (the dev server's).
pub const DEFAULT_MOUNT: &str = "secret";
/// The default AppRole auth mount.
pub const DEFAULT_APPROLE_MOUNT: &str = "approle";
/// The systemd credential names used when an AppRole source is `credential:` alone.
pub const ROLE_ID_CREDENTIAL: &str = "clawvault-bao-role-id";
pub const SECRET_ID_CREDENTIAL: &str = "clawvault-bao-secret-id";

/// The default prefix for a vault: `clawvault/<vault-id>`.
pub fn default_prefix(vault_id: &str) -> String {
    format!("clawvault/{vault_id}")
}

// ---------------------------------------------------------------------------
// Configuration (kept in vault.json: no secrets in it, only where they are)
// ---------------------------------------------------------------------------

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
}

fn default_approle_mount() -> String {
    DEFAULT_APPROLE_MOUNT.to_string()
}

/// Where a credential is read from, each time it is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialSource {
    /// A file (must not be readable by group or others).
    File(PathBuf),
    /// A systemd credential: `$CREDENTIALS_DIRECTORY/<name>` of the running service
    /// (`LoadCredential=` / `LoadCredentialEncrypted=`).
    Credential(String),
}

impl CredentialSource {
    /// `credential:NAME` names a systemd credential; anything else is a file path,
    /// made absolute against the current directory.
    pub fn parse(s: &str, default_credential: &str) -> std::result::Result<Self, String> {
        if let Some(name) = s.strip_prefix("credential:") {
            let name = if name.is_empty() {
                default_credential
            } else {
                name
            };
            if name.contains('/') || name == "." || name == ".." {
                return Err(format!(
                    "systemd credential name {name:?} must be a plain file name"
                ));
            }
            return Ok(CredentialSource::Credential(name.to_string()));
        }
        if s.is_empty() {
            return Err("credential file path is empty".into());
        }
        let p = std::path::absolute(s).map_err(|e| format!("{s}: {e}"))?;
        Ok(CredentialSource::File(p))
    }

    fn describe(&self) -> String {
        match self {
            CredentialSource::File(p) => p.display().to_string(),
            CredentialSource::Credential(n) => format!("systemd credential {n}"),
        }
    }

    fn read(&self, check_mode: bool) -> std::result::Result<SecretString, String> {
        let path = match self {
            CredentialSource::File(p) => p.clone(),
            CredentialSource::Credential(n) => {
                let dir = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
                    format!("systemd credential {n} is configured but $CREDENTIALS_DIRECTORY is not set: run under a unit with LoadCredential={n}:<file>")
                })?;
                PathBuf::from(dir).join(n)
            }
        };
        // systemd protects its credentials directory itself (and may grant access via
        // ACLs that show as group bits), so only plain files get the mode check.
        let check = check_mode && matches!(self, CredentialSource::File(_));
        read_secret_file(&path, check)
    }
}

/// Read a one-line secret file: trailing whitespace is dropped, the rest must be
/// non-empty UTF-8. With `check_mode`, refuse files group or others can read and
/// symlinks.
fn read_secret_file(path: &Path, check_mode: bool) -> std::result::Result<SecretString, String> {
    let shown = path.display();
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if check_mode {
        if meta.file_type().is_symlink() {
            return Err(format!(
                "{shown} is a symlink; point clawvault at the file itself"
            ));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{shown} is readable by group or others (mode {mode:03o}); run `chmod 600 {shown}`"
                ));
            }
            crate::trust::check(path, crate::trust::Kind::File).map_err(|e| e.to_string())?;
        }
    }
    let bytes = if check_mode {
        Zeroizing::new(
            crate::fsutil::read_capped(path, 64 * 1024)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("cannot read {shown}: it does not exist"))?,
        )
    } else {
        use std::io::Read;
        let mut b = Zeroizing::new(Vec::new());
        std::fs::File::open(path)
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut b))
            .map_err(|e| format!("cannot read {shown}: {e}"))?;
        b
    };
    let s = std::str::from_utf8(&bytes).map_err(|_| format!("{shown} is not UTF-8 text"))?;
    let s = s.trim();
    if s.is_empty() {
        return Err(format!("{shown} is empty"));
    }
    if s.contains(['\n', '\r']) {
        return Err(format!("{shown} holds more than one line"));
    }
    Ok(SecretString::from(s.to_string()))
}

/// Whether plain http to `host` stays on this machine: a literal loopback address,
/// or `localhost` when `/etc/hosts` maps it to loopback only (so the name is never
/// sent to DNS). `*.localhost` names are resolved through DNS by the system
/// resolver and do not count.
fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return localhost_is_local(&std::fs::read_to_string("/etc/hosts").unwrap_or_default());
    }
    h.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// `localhost` is listed in a hosts file, and only on loopback addresses.
fn localhost_is_local(hosts: &str) -> bool {
    let mut listed = false;
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut f = line.split_whitespace();
        let Some(addr) = f.next() else { continue };
        if f.any(|n| n.eq_ignore_ascii_case("localhost")) {
            match addr.parse::<std::net::IpAddr>() {
                Ok(ip) if ip.is_loopback() => listed = true,
                _ => return false,
            }
        }
    }
    listed
}

fn check_path_segments(what: &str, s: &str) -> std::result::Result<String, String> {
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
        if let OpenBaoAuth::Approle { mount, .. } = &self.auth {
            check_path_segments("the AppRole mount", mount)?;
        }
        Ok(OpenBaoConfig {
            addr: addr.to_string(),
            mount,
            prefix,
            auth: self.auth.clone(),
            ca_file: self.ca_file.clone(),
            allow_insecure_http: self.allow_insecure_http,
        })
    }

    fn is_loopback(&self) -> bool {
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

/// Timeouts and concurrency; not stored in the manifest.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// TCP (and TLS) connect timeout.
    pub connect_timeout: Duration,
    /// The whole of one request, connect to last body byte.
    pub request_timeout: Duration,
    /// Threads (and connections) serving one `get_many` / `list`.
    pub concurrency: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            concurrency: 8,
        }
    }
}

// ---------------------------------------------------------------------------
// clap arguments for `clawvault init --backend openbao`
// ---------------------------------------------------------------------------

/// The keychain account under which `--token-keychain` keeps the token.
pub const TOKEN_ACCOUNT: &str = "token";

/// The keychain service of a vault's OpenBao token.
pub fn token_keychain_service(vault_id: &str) -> String {
    format!("clawvault-openbao-token:{vault_id}")
}

/// Read the token `init --token-keychain` stored.
pub fn keychain_token_get(service: &str) -> std::result::Result<SecretString, String> {
    use super::keychain_item::{self, Lookup};
    let why = |e: String| format!("the OpenBao token is kept in the OS keychain: {e}");
    match keychain_item::get(service, TOKEN_ACCOUNT).map_err(why)? {
        Lookup::Found(t) => Ok(SecretString::from(t.expose_secret().trim().to_string())),
        Lookup::Absent { store } => Err(format!(
            "{store} has no OpenBao token for this vault (item {service}); it was removed, or this is another user's session"
        )),
    }
}

/// Store the token (`init --token-keychain`).
pub fn keychain_token_set(service: &str, token: &SecretString) -> std::result::Result<(), String> {
    super::keychain_item::store(service, TOKEN_ACCOUNT, token)
        .map(|_| ())
        .map_err(|e| format!("cannot store the OpenBao token in the OS keychain: {e}"))
}

/// Remove the token item; `Ok(false)` when there was none.
pub fn keychain_token_delete(service: &str) -> std::result::Result<bool, String> {
    super::keychain_item::forget(service, TOKEN_ACCOUNT)
}

/// The `init` options for the OpenBao backend; `#[command(flatten)]` them.
#[derive(Debug, Clone, clap::Args)]
pub struct OpenbaoArgs {
    /// OpenBao / Vault address, e.g. https://bao.example:8200 [env: BAO_ADDR, VAULT_ADDR]
    #[arg(long, value_name = "URL")]
    pub addr: Option<String>,
    /// KV v2 mount path
    #[arg(long, value_name = "PATH", default_value = DEFAULT_MOUNT)]
    pub mount: String,
    /// Folder under the mount for this vault's secrets [default: clawvault/<vault-id>]
    #[arg(long, value_name = "PATH")]
    pub prefix: Option<String>,
    /// PEM file of CA certificates to trust for the server (instead of the web roots)
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// File holding the token (mode 600); BAO_TOKEN / VAULT_TOKEN take precedence
    #[arg(long, value_name = "FILE", conflicts_with_all = ["approle_role_id_file", "approle_secret_id_file"])]
    pub token_file: Option<PathBuf>,
    /// Keep the token in the OS keychain (Secret Service / Keychain / Credential
    /// Manager); `init` reads it from a hidden prompt or stdin
    #[arg(long, conflicts_with_all = ["token_file", "approle_role_id_file", "approle_secret_id_file"])]
    pub token_keychain: bool,
    /// AppRole role_id file, or credential:NAME for $CREDENTIALS_DIRECTORY/NAME
    #[arg(long, value_name = "FILE", requires = "approle_secret_id_file")]
    pub approle_role_id_file: Option<String>,
    /// AppRole secret_id file (mode 600), or credential:NAME for $CREDENTIALS_DIRECTORY/NAME
    #[arg(long, value_name = "FILE", requires = "approle_role_id_file")]
    pub approle_secret_id_file: Option<String>,
    /// AppRole auth mount path
    #[arg(long, value_name = "PATH", default_value = DEFAULT_APPROLE_MOUNT)]
    pub approle_mount: String,
    /// Allow plain http:// to a non-loopback address (sends the token unencrypted)
    #[arg(long)]
    pub allow_insecure_http: bool,
}

/// The same defaults as the command line's.
impl Default for OpenbaoArgs {
    fn default() -> Self {
        OpenbaoArgs {
            addr: None,
            mount: DEFAULT_MOUNT.into(),
            prefix: None,
            ca_file: None,
            token_file: None,
            token_keychain: false,
            approle_role_id_file: None,
            approle_secret_id_file: None,
            approle_mount: DEFAULT_APPROLE_MOUNT.into(),
            allow_insecure_http: false,
        }
    }
}

impl OpenbaoArgs {
    /// The configuration for a new vault with this id. The address falls back to
    /// `BAO_ADDR`, then `VAULT_ADDR`.
    pub fn to_config(&self, vault_id: &str) -> std::result::Result<OpenBaoConfig, String> {
        let addr = self
            .addr
            .clone()
            .or_else(|| std::env::var("BAO_ADDR").ok())
            .or_else(|| std::env::var("VAULT_ADDR").ok())
            .filter(|a| !a.trim().is_empty())
            .ok_or("the openbao backend needs the server address: pass --addr https://HOST:8200 or set BAO_ADDR")?;
        let auth = match (&self.approle_role_id_file, &self.approle_secret_id_file) {
            (Some(r), Some(s)) => OpenBaoAuth::Approle {
                mount: self.approle_mount.clone(),
                role_id: CredentialSource::parse(r, ROLE_ID_CREDENTIAL)?,
                secret_id: CredentialSource::parse(s, SECRET_ID_CREDENTIAL)?,
            },
            (None, None) => OpenBaoAuth::Token {
                token_file: match &self.token_file {
                    Some(p) => {
                        Some(std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))?)
                    }
                    None => None,
                },
                token_keychain: self
                    .token_keychain
                    .then(|| token_keychain_service(vault_id)),
            },
            _ => {
                return Err(
                    "AppRole needs both --approle-role-id-file and --approle-secret-id-file".into(),
                )
            }
        };
        let ca_file = match &self.ca_file {
            Some(p) => Some(std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))?),
            None => None,
        };
        OpenBaoConfig {
            addr,
            mount: self.mount.clone(),
            prefix: self
                .prefix
                .clone()
                .unwrap_or_else(|| default_prefix(vault_id)),
            auth,
            ca_file,
            allow_insecure_http: self.allow_insecure_http,
        }
        .validated()
    }
}

// ---------------------------------------------------------------------------
// The backend
// ---------------------------------------------------------------------------

struct Token {
    secret: SecretString,
    /// Bumped at each new token, so concurrent threads re-login once.
    generation: u64,
    /// When it was issued or last renewed, and for how long (None: no expiry known).
    lease: Option<(Instant, Duration)>,
    renewable: bool,
}

impl Token {
    fn remaining(&self) -> Option<Duration> {
        self.lease.map(|(at, ttl)| ttl.saturating_sub(at.elapsed()))
    }
}

/// A response with its body held for zeroizing.
struct Resp {
    status: u16,
    body: Zeroizing<Vec<u8>>,
}

impl Resp {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The server's `errors` array, joined.
    fn errors(&self) -> String {
        self.json()
            .and_then(|v| {
                v.get("errors").and_then(|e| e.as_array()).map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                })
            })
            .unwrap_or_default()
    }
}

/// A KV v2 read answer, borrowing from the response body.
#[derive(Deserialize)]
struct KvRead<'a> {
    #[serde(borrow, default)]
    data: Option<KvReadData<'a>>,
}

#[derive(Deserialize)]
struct KvReadData<'a> {
    #[serde(borrow, default)]
    data: Option<KvFields<'a>>,
}

#[derive(Deserialize)]
struct KvFields<'a> {
    #[serde(borrow, default)]
    value_b64: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    List,
    Post,
    Delete,
}

pub struct OpenBaoBackend {
    cfg: OpenBaoConfig,
    tuning: Tuning,
    agent: ureq::Agent,
    store: String,
    token: RwLock<Option<Arc<Token>>>,
    refresh: Mutex<u64>,
}

impl std::fmt::Debug for OpenBaoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenBaoBackend")
            .field("addr", &self.cfg.addr)
            .field("mount", &self.cfg.mount)
            .field("prefix", &self.cfg.prefix)
            .field("auth", &self.cfg.auth)
            .finish_non_exhaustive()
    }
}

/// Percent-encode one path for a URL, keeping `/` as the separator.
fn encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/@+=,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Remove secrets a server could echo back, and cap the length.
fn scrub(msg: &str, secrets: &[&str]) -> String {
    let mut m = msg.to_string();
    for s in secrets {
        if s.len() >= 4 {
            m = m.replace(s, "<redacted>");
        }
    }
    if m.len() > 200 {
        let mut cut = 200;
        while !m.is_char_boundary(cut) {
            cut -= 1;
        }
        m.truncate(cut);
        m.push('…');
    }
    m
}

fn seconds(v: Option<&Value>) -> Option<u64> {
    v.and_then(|x| {
        x.as_u64()
            .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
            .or_else(|| x.as_f64().map(|f| f as u64))
    })
}

impl OpenBaoBackend {
    /// Build the backend; no network traffic until the first operation.
    pub fn new(cfg: &OpenBaoConfig) -> Result<OpenBaoBackend> {
        Self::with_tuning(cfg, Tuning::default())
    }

    pub fn with_tuning(cfg: &OpenBaoConfig, tuning: Tuning) -> Result<OpenBaoBackend> {
        let store_of = |addr: &str| format!("OpenBao at {addr}");
        let cfg = cfg
            .validated()
            .map_err(|reason| BackendError::Unavailable {
                store: store_of(&cfg.addr),
                reason,
            })?;
        let store = store_of(&cfg.addr);
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca).map_err(|e| BackendError::Io {
                path: ca.display().to_string(),
                reason: e.to_string(),
            })?;
            let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(BackendError::Io {
                    path: ca.display().to_string(),
                    reason: "no PEM CERTIFICATE in the --ca-file".into(),
                });
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let concurrency = tuning.concurrency.clamp(1, 64);
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(tuning.connect_timeout))
            .timeout_global(Some(tuning.request_timeout))
            .max_idle_connections_per_host(concurrency)
            .max_idle_connections(concurrency * 2)
            .user_agent(format!("clawvault/{}", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build());
        if cfg.is_loopback() {
            builder = builder.proxy(None);
        }
        let agent = builder.build().new_agent();
        Ok(OpenBaoBackend {
            cfg,
            tuning: Tuning {
                concurrency,
                ..tuning
            },
            agent,
            store,
            token: RwLock::new(None),
            refresh: Mutex::new(0),
        })
    }

    pub fn config(&self) -> &OpenBaoConfig {
        &self.cfg
    }

    fn unavailable(&self, reason: impl Into<String>) -> BackendError {
        BackendError::Unavailable {
            store: self.store.clone(),
            reason: reason.into(),
        }
    }

    fn data_path(&self, name: &str) -> String {
        format!("{}/data/{}/{}", self.cfg.mount, self.cfg.prefix, name)
    }

    fn metadata_path(&self, name: &str) -> String {
        if name.is_empty() {
            format!("{}/metadata/{}", self.cfg.mount, self.cfg.prefix)
        } else {
            format!("{}/metadata/{}/{}", self.cfg.mount, self.cfg.prefix, name)
        }
    }

    fn check_name(&self, name: &EntryName) -> Result<()> {
        if name.as_str().split('/').any(|s| s.is_empty()) {
            return Err(BackendError::Other(format!(
                "{name} cannot be stored in OpenBao: its path has an empty segment (`//` or a trailing `/`)"
            )));
        }
        Ok(())
    }

    fn map_transport(&self, e: ureq::Error) -> BackendError {
        use std::io::ErrorKind;
        let reason = match &e {
            ureq::Error::Timeout(t) => format!(
                "no answer within the {} timeout ({t}); is the server up and reachable? check --addr and the network",
                if matches!(t, ureq::Timeout::Connect) {
                    format!("{:?} connect", self.tuning.connect_timeout)
                } else {
                    format!("{:?}", self.tuning.request_timeout)
                }
            ),
            ureq::Error::HostNotFound => {
                "cannot resolve the host name; check --addr and DNS".to_string()
            }
            ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => {
                "connection refused; is the server running, and is --addr right?".to_string()
            }
            ureq::Error::Io(io)
                if matches!(
                    io.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::UnexpectedEof
                        | ErrorKind::BrokenPipe
                ) =>
            {
                format!("the connection was dropped ({io}); is the server still running?")
            }
            ureq::Error::Io(io) if {
                let m = io.to_string().to_ascii_lowercase();
                m.contains("certificate") || m.contains("tls") || m.contains("handshake")
            } =>
            {
                format!("TLS failed: {io}; if the server uses a private CA pass --ca-file with its CA certificate")
            }
            ureq::Error::Io(io) => format!("network error: {io}"),
            ureq::Error::ConnectionFailed => {
                "cannot connect; is the server running, and is --addr right?".to_string()
            }
            ureq::Error::Tls(m) => {
                format!("TLS failed: {m}; if the server uses a private CA pass --ca-file")
            }
            ureq::Error::Rustls(r) => format!(
                "TLS failed: {r}; if the server uses a private CA pass --ca-file with its CA certificate"
            ),
            other => format!("request failed: {other}"),
        };
        self.unavailable(reason)
    }

    /// One HTTP request, no auth handling. `path` is below `/v1/` and not encoded.
    fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<&[u8]>,
    ) -> Result<Resp> {
        let mut url = format!("{}/v1/{}", self.cfg.addr, encode_path(path));
        if method == Method::List {
            url.push_str("?list=true");
        }
        let result = match method {
            Method::Get | Method::List => {
                let mut r = self.agent.get(&url);
                if let Some(t) = token {
                    r = r.header("X-Vault-Token", t.expose_secret());
                }
                r.call()
            }
            Method::Delete => {
                let mut r = self.agent.delete(&url);
                if let Some(t) = token {
                    r = r.header("X-Vault-Token", t.expose_secret());
                }
                r.call()
            }
            Method::Post => {
                let mut r = self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/json");
                if let Some(t) = token {
                    r = r.header("X-Vault-Token", t.expose_secret());
                }
                r.send(body.unwrap_or(b"{}"))
            }
        };
        let mut resp = result.map_err(|e| self.map_transport(e))?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            let to = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("elsewhere")
                .split('?')
                .next()
                .unwrap_or("")
                .to_string();
            return Err(self.unavailable(format!(
                "the server redirected to {to} (a standby node?); clawvault does not follow redirects with a token: point --addr at the active node"
            )));
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| self.map_transport(e))?;
        Ok(Resp {
            status,
            body: Zeroizing::new(body),
        })
    }

    // --- tokens ----------------------------------------------------------

    fn token_source(&self) -> String {
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
        }
    }

    fn is_approle(&self) -> bool {
        matches!(self.cfg.auth, OpenBaoAuth::Approle { .. })
    }

    /// Read a static token and learn its TTL (best effort: a token without the
    /// default policy cannot look itself up).
    fn load_static_token(&self, generation: u64) -> Result<Token> {
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
        let secret = match (from_env, token_file, token_keychain) {
            (Some(t), _, _) => SecretString::from(t),
            (None, Some(f), _) => read_secret_file(f, true).map_err(|r| self.unavailable(format!("the token file: {r}")))?,
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

    fn approle_login(&self, generation: u64) -> Result<Token> {
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

    /// Renew the current token; `Ok(None)` when the server would not.
    fn renew(&self, tok: &Token) -> Result<Option<Token>> {
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
        }))
    }

    /// Renew when a third of the TTL is left; with AppRole, log in again once the
    /// token has run out. The server decides whether a token is dead: the client's
    /// clock only triggers a renewal or a login, never an error.
    fn needs_refresh(&self, tok: &Token) -> bool {
        match (tok.lease, tok.remaining()) {
            (Some((_, ttl)), Some(left)) => {
                (tok.renewable && left < ttl / 3) || (self.is_approle() && left.is_zero())
            }
            _ => false,
        }
    }

    /// The token to use: loaded, logged in, renewed or replaced as needed.
    fn token(&self) -> Result<Arc<Token>> {
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
            None => {
                *gen += 1;
                if self.is_approle() {
                    self.approle_login(*gen)?
                } else {
                    self.load_static_token(*gen)?
                }
            }
            Some(t) => {
                let renewed = if t.renewable { self.renew(&t)? } else { None };
                match renewed {
                    // A renewal capped by the max TTL still counts while time is left.
                    Some(n) if !n.remaining().unwrap_or(Duration::MAX).is_zero() => n,
                    _ if self.is_approle() => {
                        *gen += 1;
                        self.approle_login(*gen)?
                    }
                    // Renewal refused: keep using the token until the server says no.
                    _ => Token {
                        secret: t.secret.clone(),
                        generation: t.generation,
                        lease: t.lease,
                        renewable: false,
                    },
                }
            }
        };
        let new = Arc::new(new);
        *self.token.write().expect("token lock") = Some(new.clone());
        Ok(new)
    }

    /// Log in again unless another thread already did since `seen`.
    fn relogin(&self, seen: u64) -> Result<()> {
        let mut gen = self.refresh.lock().expect("refresh lock");
        if *gen != seen {
            return Ok(());
        }
        *gen += 1;
        let t = self.approle_login(*gen)?;
        *self.token.write().expect("token lock") = Some(Arc::new(t));
        Ok(())
    }

    /// Whether the server still accepts this token (`lookup-self`, which the
    /// `default` policy grants); `true` when it cannot tell.
    fn token_alive(&self, tok: &Token) -> Result<bool> {
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
    fn call(&self, method: Method, path: &str, body: Option<&[u8]>) -> Result<Resp> {
        let tok = self.token()?;
        let r = self.raw(method, path, Some(&tok.secret), body)?;
        if r.status == 403 && self.is_approle() && !self.token_alive(&tok)? {
            self.relogin(tok.generation)?;
            let tok = self.token()?;
            return self.raw(method, path, Some(&tok.secret), body);
        }
        Ok(r)
    }

    // --- error mapping ---------------------------------------------------

    fn sealed_or_503(&self, r: &Resp) -> BackendError {
        let sealed = r.errors().to_ascii_lowercase().contains("sealed")
            || self
                .raw(Method::Get, "sys/seal-status", None, None)
                .ok()
                .and_then(|s| s.json())
                .and_then(|v| v.get("sealed").and_then(|x| x.as_bool()))
                .unwrap_or(false);
        if sealed {
            self.unavailable(
                "the server is sealed; unseal it (`bao operator unseal`) and try again",
            )
        } else {
            self.unavailable(format!(
                "the server answered 503 Service Unavailable ({}); it may be a standby node or overloaded",
                scrub(&r.errors(), &[])
            ))
        }
    }

    /// A 403 on `path`: policy denial or a dead token?
    fn denied(&self, name: &str, path: &str, capability: &str) -> BackendError {
        {
            let lookup = self.token().ok().and_then(|t| {
                self.raw(Method::Get, "auth/token/lookup-self", Some(&t.secret), None)
                    .ok()
            });
            match lookup {
                Some(r) if r.status == 200 => {
                    let policies = r
                        .json()
                        .and_then(|v| {
                            v.pointer("/data/policies")
                                .and_then(|p| p.as_array())
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|x| x.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                })
                        })
                        .unwrap_or_default();
                    return BackendError::NoAccess {
                        store: self.store.clone(),
                        name: name.to_string(),
                        reason: format!(
                            "permission denied on {path} (token policies: {policies}); grant {capability:?} on that path in a policy (see docs/openbao.md)"
                        ),
                    };
                }
                Some(r) if r.status == 403 && self.is_approle() => {
                    return self.unavailable(format!(
                        "the token from {} was refused right after login (revoked, or the role's token policies lack the default policy); check the role",
                        self.token_source()
                    ));
                }
                Some(r) if r.status == 403 => {
                    let expired = self
                        .token
                        .read()
                        .expect("token lock")
                        .as_ref()
                        .and_then(|t| t.remaining())
                        .is_some_and(|left| left.is_zero());
                    return self.unavailable(format!(
                        "the token from {} {}; get a new one (e.g. `bao login`) or configure AppRole",
                        self.token_source(),
                        if expired {
                            "has expired"
                        } else {
                            "was refused: it is expired, revoked or invalid"
                        }
                    ));
                }
                _ => {}
            }
        }
        BackendError::NoAccess {
            store: self.store.clone(),
            name: name.to_string(),
            reason: format!(
                "permission denied on {path}; grant {capability:?} on that path to the {} policies (see docs/openbao.md)",
                if self.is_approle() { "AppRole's" } else { "token's" }
            ),
        }
    }

    fn no_mount(&self) -> BackendError {
        self.unavailable(format!(
            "no secrets engine is mounted at {}/; enable KV v2 there (`bao secrets enable -path={} kv-v2`) or choose another --mount",
            self.cfg.mount, self.cfg.mount
        ))
    }

    fn unexpected(&self, what: &str, name: &str, r: &Resp, secrets: &[&str]) -> BackendError {
        match r.status {
            503 => self.sealed_or_503(r),
            404 if r.errors().contains("no handler for route") => self.no_mount(),
            s => BackendError::Other(format!(
                "{} answered {s} to {what} {name}: {}",
                self.store,
                scrub(&r.errors(), secrets)
            )),
        }
    }

    // --- operations ------------------------------------------------------

    /// `Some(live)` when metadata exists; live = the current version is readable.
    fn metadata_state(&self, name: &str) -> Result<Option<bool>> {
        let path = self.metadata_path(name);
        let r = self.call(Method::Get, &path, None)?;
        match r.status {
            200 => {
                let v = r.json().unwrap_or(Value::Null);
                let d = v.get("data").cloned().unwrap_or(Value::Null);
                let current = seconds(d.get("current_version")).unwrap_or(0);
                let live = d
                    .get("versions")
                    .and_then(|vs| vs.get(current.to_string()))
                    .map(|ver| {
                        let deleted = ver
                            .get("deletion_time")
                            .and_then(|x| x.as_str())
                            .map(|s| !s.is_empty())
                            .unwrap_or(false);
                        let destroyed = ver
                            .get("destroyed")
                            .and_then(|x| x.as_bool())
                            .unwrap_or(false);
                        !deleted && !destroyed
                    })
                    .unwrap_or(false);
                Ok(Some(live))
            }
            404 if r.errors().is_empty() => Ok(None),
            403 => Err(self.denied(name, &path, "read")),
            _ => Err(self.unexpected("a metadata read of", name, &r, &[])),
        }
    }

    fn get_str(&self, name: &str) -> Result<Option<SecretBytes>> {
        let path = self.data_path(name);
        let r = self.call(Method::Get, &path, None)?;
        match r.status {
            200 => {}
            404 if !r.errors().contains("no handler for route") => return Ok(None),
            403 => return Err(self.denied(name, &path, "read")),
            _ => return Err(self.unexpected("a read of", name, &r, &[])),
        }
        let corrupt = |reason: &str| BackendError::Corrupt {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        // Borrow the base64 from the (zeroized) body instead of copying it into a
        // serde_json::Value that would be freed without zeroizing.
        let parsed: KvRead<'_> = serde_json::from_slice(&r.body)
            .map_err(|_| corrupt("the server's answer is not the expected JSON"))?;
        let fields = parsed.data.and_then(|d| d.data).ok_or_else(|| {
            corrupt(&format!(
                "the answer has no KV v2 data: is {}/ a KV version 1 mount? clawvault needs KV v2",
                self.cfg.mount
            ))
        })?;
        let b64 = fields.value_b64.ok_or_else(|| {
            corrupt(&format!(
                "the KV entry has no {VALUE_FIELD} field (it was not written by clawvault)"
            ))
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| corrupt(&format!("{VALUE_FIELD} is not valid base64")))?;
        if let std::borrow::Cow::Owned(s) = b64 {
            drop(Zeroizing::new(s));
        }
        Ok(Some(secret_bytes(bytes)))
    }

    /// Run `f` for `0..n` on up to `concurrency` threads sharing the agent. Once an
    /// `Unavailable` error (network, sealed, token) comes back, the rest get that
    /// error without a request.
    fn par_map<T: Send>(&self, n: usize, f: impl Fn(usize) -> Result<T> + Sync) -> Vec<Result<T>> {
        let threads = self.tuning.concurrency.min(n);
        if threads <= 1 {
            let mut fatal: Option<(String, String)> = None;
            return (0..n)
                .map(|i| {
                    if let Some((store, reason)) = &fatal {
                        return Err(BackendError::Unavailable {
                            store: store.clone(),
                            reason: reason.clone(),
                        });
                    }
                    let r = f(i);
                    if let Err(BackendError::Unavailable { store, reason }) = &r {
                        fatal = Some((store.clone(), reason.clone()));
                    }
                    r
                })
                .collect();
        }
        let next = AtomicUsize::new(0);
        let fatal: Mutex<Option<(String, String)>> = Mutex::new(None);
        let slots: Vec<Mutex<Option<Result<T>>>> = (0..n).map(|_| Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let stopped = fatal.lock().expect("fatal lock").clone();
                    let r = match stopped {
                        Some((store, reason)) => Err(BackendError::Unavailable { store, reason }),
                        None => {
                            let r = f(i);
                            if let Err(BackendError::Unavailable { store, reason }) = &r {
                                fatal
                                    .lock()
                                    .expect("fatal lock")
                                    .get_or_insert_with(|| (store.clone(), reason.clone()));
                            }
                            r
                        }
                    };
                    *slots[i].lock().expect("slot lock") = Some(r);
                });
            }
        });
        slots
            .into_iter()
            .map(|m| {
                m.into_inner().expect("slot lock").unwrap_or_else(|| {
                    Err(BackendError::Other(
                        "internal: batch slot not filled".into(),
                    ))
                })
            })
            .collect()
    }

    /// Remove every version and the metadata of an entry (`logout --purge`).
    fn purge_str(&self, name: &str) -> Result<bool> {
        if self.metadata_state(name)?.is_none() {
            return Ok(false);
        }
        let path = self.metadata_path(name);
        let r = self.call(Method::Delete, &path, None)?;
        match r.status {
            200 | 204 => Ok(true),
            403 => Err(self.denied(name, &path, "delete")),
            _ => Err(self.unexpected("a purge of", name, &r, &[])),
        }
    }

    /// Check the server, the token and the mount with a write/read/delete round trip
    /// under the prefix. Returns what was found, for `init` to report.
    pub fn probe(&self) -> Result<String> {
        let r = self.raw(Method::Get, "sys/seal-status", None, None)?;
        if r.status == 200
            && r.json()
                .and_then(|v| v.get("sealed").and_then(|x| x.as_bool()))
                .unwrap_or(false)
        {
            return Err(self.unavailable(
                "the server is sealed; unseal it (`bao operator unseal`) and try again",
            ));
        }
        let version = r
            .json()
            .and_then(|v| v.get("version").and_then(|x| x.as_str()).map(String::from))
            .unwrap_or_else(|| "unknown version".into());
        self.token()?;
        // Mount type, when the token may see it.
        let m = self.call(
            Method::Get,
            &format!("sys/internal/ui/mounts/{}", self.cfg.mount),
            None,
        )?;
        if m.status == 200 {
            let v = m.json().unwrap_or(Value::Null);
            let ty = v
                .pointer("/data/type")
                .and_then(|x| x.as_str())
                .unwrap_or("");
            let ver = v
                .pointer("/data/options/version")
                .and_then(|x| x.as_str())
                .unwrap_or("1");
            if ty != "kv" || ver != "2" {
                return Err(self.unavailable(format!(
                    "{}/ is a {ty} engine{}, not KV version 2; enable one with `bao secrets enable -path=<path> kv-v2` and pass --mount",
                    self.cfg.mount,
                    if ty == "kv" { format!(" version {ver}") } else { String::new() }
                )));
            }
        } else if m.status == 404 || (m.status == 400 && m.errors().contains("no handler")) {
            return Err(self.no_mount());
        }
        let rnd: [u8; 8] = rand::random();
        let hex: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let probe = EntryName::new(&format!("clawvault-probe/{hex}")).expect("probe name is valid");
        let value = format!("probe-{hex}");
        self.set(&probe, value.as_bytes())?;
        let got = self.get(&probe)?;
        if got.as_ref().map(|s| s.expose_secret()) != Some(value.as_bytes()) {
            let _ = self.purge(&probe);
            return Err(self.unavailable(format!(
                "a probe written under {}/data/{} did not read back",
                self.cfg.mount, self.cfg.prefix
            )));
        }
        let cleanup = match self.purge(&probe) {
            Ok(_) => String::new(),
            Err(BackendError::NoAccess { .. }) => {
                self.delete(&probe)?;
                "; the policy does not allow purging (metadata delete), so `logout --purge` will fail".into()
            }
            Err(e) => return Err(e),
        };
        Ok(format!(
            "OpenBao {version} at {} answered a write/read/delete probe under {}/data/{}/ (auth: {}){cleanup}",
            self.cfg.addr,
            self.cfg.mount,
            self.cfg.prefix,
            self.token_source()
        ))
    }
}

impl Backend for OpenBaoBackend {
    fn kind(&self) -> &'static str {
        "openbao"
    }

    fn describe(&self) -> String {
        let insecure = if self.cfg.addr.starts_with("http://") && !self.cfg.is_loopback() {
            " (plain HTTP: INSECURE)"
        } else {
            ""
        };
        format!(
            "OpenBao KV v2 at {}{insecure}, {}/data/{}/",
            self.cfg.addr, self.cfg.mount, self.cfg.prefix
        )
    }

    fn set(&self, name: &EntryName, value: &[u8]) -> Result<()> {
        self.check_name(name)?;
        let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(value));
        let mut body = Zeroizing::new(String::with_capacity(b64.len() + 32));
        body.push_str("{\"data\":{\"");
        body.push_str(VALUE_FIELD);
        body.push_str("\":\"");
        body.push_str(&b64);
        body.push_str("\"}}");
        let path = self.data_path(name.as_str());
        let r = self.call(Method::Post, &path, Some(body.as_bytes()))?;
        match r.status {
            200 | 204 => Ok(()),
            403 => Err(self.denied(name.as_str(), &path, "create\", \"update")),
            404 if r.errors().contains("no handler for route") => Err(self.no_mount()),
            413 => Err(BackendError::TooLarge {
                name: name.to_string(),
                store: self.store.clone(),
                reason: "the server refused the request size (max_request_size)".into(),
            }),
            _ => Err(self.unexpected("a write of", name.as_str(), &r, &[&b64])),
        }
    }

    fn get(&self, name: &EntryName) -> Result<Option<SecretBytes>> {
        self.check_name(name)?;
        self.get_str(name.as_str())
    }

    fn contains(&self, name: &EntryName) -> Result<bool> {
        self.check_name(name)?;
        Ok(self.metadata_state(name.as_str())? == Some(true))
    }

    fn delete(&self, name: &EntryName) -> Result<bool> {
        self.check_name(name)?;
        if self.metadata_state(name.as_str())? != Some(true) {
            return Ok(false);
        }
        let path = self.data_path(name.as_str());
        let r = self.call(Method::Delete, &path, None)?;
        match r.status {
            200 | 204 => Ok(true),
            403 => Err(self.denied(name.as_str(), &path, "delete")),
            _ => Err(self.unexpected("a delete of", name.as_str(), &r, &[])),
        }
    }

    fn purge(&self, name: &EntryName) -> Result<bool> {
        self.check_name(name)?;
        self.purge_str(name.as_str())
    }

    fn list(&self) -> Result<Vec<EntryName>> {
        // Walk the folders under the prefix.
        let mut keys = Vec::new();
        let mut folders = vec![String::new()];
        while let Some(folder) = folders.pop() {
            let path = self.metadata_path(folder.trim_end_matches('/'));
            let r = self.call(Method::List, &path, None)?;
            match r.status {
                200 => {}
                404 if r.errors().is_empty() => continue,
                403 => return Err(self.denied(&format!("{}/", self.cfg.prefix), &path, "list")),
                _ => return Err(self.unexpected("a list of", &path, &r, &[])),
            }
            let v = r.json().unwrap_or(Value::Null);
            for k in v
                .pointer("/data/keys")
                .and_then(|k| k.as_array())
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str())
            {
                let full = format!("{folder}{k}");
                if k.ends_with('/') {
                    folders.push(full);
                } else if let Ok(n) = EntryName::new(&full) {
                    keys.push(n);
                }
            }
        }
        // Soft-deleted entries still have metadata: keep only live ones.
        let live = self.par_map(keys.len(), |i| self.metadata_state(keys[i].as_str()));
        let mut out = Vec::with_capacity(keys.len());
        for (k, l) in keys.into_iter().zip(live) {
            if l? == Some(true) {
                out.push(k);
            }
        }
        out.sort();
        Ok(out)
    }

    fn get_many(&self, names: &[EntryName]) -> Vec<Result<Option<SecretBytes>>> {
        self.par_map(names.len(), |i| {
            self.check_name(&names[i])?;
            self.get_str(names[i].as_str())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(addr: &str) -> OpenBaoConfig {
        OpenBaoConfig {
            addr: addr.into(),
            mount: "secret".into(),
            prefix: "clawvault/abc".into(),
            auth: OpenBaoAuth::Token {
                token_file: None,
                token_keychain: None,
            },
            ca_file: None,
            allow_insecure_http: false,
        }
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8200",
            "http://127.8.9.10:1",
            "http://localhost:8200/",
            "http://[::1]:8200",
            "https://bao.example.com:8200",
        ] {
            assert!(cfg(ok).validated().is_ok(), "{ok}");
        }
        let e = cfg("http://10.0.0.5:8200").validated().unwrap_err();
        assert!(e.contains("--allow-insecure-http"), "{e}");
        assert!(cfg("http://bao.example.com").validated().is_err());
        let mut c = cfg("http://bao.example.com:8200");
        c.allow_insecure_http = true;
        let c = c.validated().unwrap();
        assert_eq!(c.warnings().len(), 1);
        assert!(cfg("http://127.0.0.1:1").warnings().is_empty());
        assert!(cfg("ftp://x").validated().is_err());
        assert!(cfg("https://user:pw@bao.example").validated().is_err());
        assert!(cfg("https://bao.example/v1/secret").validated().is_err());
    }

    /// Regression (trust finding 8): `*.localhost` was treated as loopback and
    /// resolved through DNS; plain http went wherever DNS said.
    #[test]
    fn localhost_subdomain_is_not_loopback() {
        assert!(!is_loopback_host("bao.localhost"));
        assert!(!is_loopback_host("evil.localhost."));
        assert!(cfg("http://bao.localhost:8200").validated().is_err());
        assert!(localhost_is_local(
            "127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
        ));
        assert!(!localhost_is_local("# nothing here\n"));
        assert!(!localhost_is_local(
            "127.0.0.1 localhost\n10.1.2.3 localhost\n"
        ));
        assert!(localhost_is_local("127.0.0.1\tlocalhost # comment\n"));
    }

    #[test]
    fn mount_and_prefix_are_checked_and_trimmed() {
        let mut c = cfg("https://b.example");
        c.mount = "/team/kv/".into();
        c.prefix = "clawvault/x/".into();
        let v = c.validated().unwrap();
        assert_eq!(
            (v.mount.as_str(), v.prefix.as_str()),
            ("team/kv", "clawvault/x")
        );
        c.prefix = "a/../b".into();
        assert!(c.validated().is_err());
        c.prefix = "a b".into();
        assert!(c.validated().is_err());
    }

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(
            encode_path("secret/data/p/main/openai:work#2"),
            "secret/data/p/main/openai:work%232"
        );
        assert_eq!(encode_path("a b?c"), "a%20b%3Fc");
    }

    #[test]
    fn scrub_removes_secrets_and_caps_length() {
        assert_eq!(
            scrub("bad token hvs.ABCDEF", &["hvs.ABCDEF"]),
            "bad token <redacted>"
        );
        assert!(scrub(&"x".repeat(500), &[]).chars().count() <= 201);
    }

    #[test]
    fn credential_sources_parse() {
        assert_eq!(
            CredentialSource::parse("credential:", ROLE_ID_CREDENTIAL).unwrap(),
            CredentialSource::Credential(ROLE_ID_CREDENTIAL.into())
        );
        assert_eq!(
            CredentialSource::parse("credential:sid", SECRET_ID_CREDENTIAL).unwrap(),
            CredentialSource::Credential("sid".into())
        );
        assert!(CredentialSource::parse("credential:../x", "d").is_err());
        match CredentialSource::parse("rel/file", "d").unwrap() {
            CredentialSource::File(p) => assert!(p.is_absolute()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn token_file_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, "s.sekrit-token\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = read_secret_file(&p, true).unwrap_err();
            assert!(e.contains("chmod 600"), "{e}");
            assert!(!e.contains("sekrit"), "{e}");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(
            read_secret_file(&p, true).unwrap().expose_secret(),
            "s.sekrit-token"
        );
        std::fs::write(&p, "").unwrap();
        assert!(read_secret_file(&p, true).unwrap_err().contains("empty"));
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = OpenBaoConfig {
            auth: OpenBaoAuth::Approle {
                mount: "approle".into(),
                role_id: CredentialSource::File("/etc/clawvault/role_id".into()),
                secret_id: CredentialSource::Credential("clawvault-bao-secret-id".into()),
            },
            ..cfg("https://bao.example:8200")
        };
        let s = serde_json::to_string(&c).unwrap();
        assert!(s.contains("\"method\":\"approle\""), "{s}");
        assert!(s.contains("\"secretId\":{\"credential\""), "{s}");
        let back: OpenBaoConfig = serde_json::from_str(&s).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn args_flatten_into_a_command() {
        use clap::Parser;
        #[derive(Parser)]
        struct Init {
            #[command(flatten)]
            bao: OpenbaoArgs,
        }
        let i = Init::try_parse_from(["init", "--addr", "http://127.0.0.1:8200"]).unwrap();
        assert_eq!(i.bao.mount, "secret");
        assert_eq!(i.bao.approle_mount, "approle");
        assert!(Init::try_parse_from(["init", "--approle-role-id-file", "credential:"]).is_err());
        assert!(Init::try_parse_from([
            "init",
            "--token-file",
            "t",
            "--approle-role-id-file",
            "r",
            "--approle-secret-id-file",
            "s"
        ])
        .is_err());
        let i = Init::try_parse_from([
            "init",
            "--approle-role-id-file",
            "credential:",
            "--approle-secret-id-file",
            "/etc/clawvault/secret_id",
        ])
        .unwrap();
        assert_eq!(
            i.bao.approle_secret_id_file.as_deref(),
            Some("/etc/clawvault/secret_id")
        );
    }

    #[test]
    fn args_build_a_config() {
        let a = OpenbaoArgs {
            addr: Some("http://127.0.0.1:8200".into()),
            ..Default::default()
        };
        let c = a.to_config("v123").unwrap();
        assert_eq!(c.prefix, "clawvault/v123");
        assert_eq!(
            c.auth,
            OpenBaoAuth::Token {
                token_file: None,
                token_keychain: None
            }
        );
        let half = OpenbaoArgs {
            approle_role_id_file: Some("/r".into()),
            ..a.clone()
        };
        assert!(half.to_config("v").is_err());
    }
}
