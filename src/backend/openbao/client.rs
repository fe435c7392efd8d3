//! The HTTP client: one ureq agent, TLS, timeouts, no redirects.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;
use zeroize::Zeroizing;

use super::*;
use crate::backend::{BackendError, EntryName, Result};
use crate::secret::ExposeSecret;
use crate::secret::SecretString;

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

/// A response with its body held for zeroizing.
pub(super) struct Resp {
    pub(super) status: u16,
    pub(super) body: Zeroizing<Vec<u8>>,
}

impl Resp {
    pub(super) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The server's `errors` array, joined.
    pub(super) fn errors(&self) -> String {
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

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    Get,
    /// A GET of one KV v2 version (`?version=N`).
    GetVersion(u64),
    List,
    Post,
    Delete,
}

pub struct OpenBaoBackend {
    pub(super) cfg: OpenBaoConfig,
    pub(super) tuning: Tuning,
    pub(super) agent: ureq::Agent,
    pub(super) store: String,
    /// Sent as `X-Vault-Namespace` on every request.
    pub(super) namespace: Option<String>,
    pub(super) token: RwLock<Option<Arc<Token>>>,
    pub(super) refresh: Mutex<u64>,
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
pub(super) fn encode_path(p: &str) -> String {
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

pub(super) fn seconds(v: Option<&Value>) -> Option<u64> {
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
        let namespace = match cfg.effective_namespace() {
            Some(ns) => Some(
                check_path_segments("the namespace (BAO_NAMESPACE / VAULT_NAMESPACE)", &ns)
                    .map_err(|reason| BackendError::Unavailable {
                        store: store.clone(),
                        reason,
                    })?,
            ),
            None => None,
        };
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
            namespace,
            token: RwLock::new(None),
            refresh: Mutex::new(0),
        })
    }

    pub fn config(&self) -> &OpenBaoConfig {
        &self.cfg
    }

    pub(super) fn unavailable(&self, reason: impl Into<String>) -> BackendError {
        BackendError::Unavailable {
            store: self.store.clone(),
            reason: reason.into(),
        }
    }

    pub(super) fn data_path(&self, name: &str) -> String {
        format!("{}/data/{}/{}", self.cfg.mount, self.cfg.prefix, name)
    }

    pub(super) fn metadata_path(&self, name: &str) -> String {
        if name.is_empty() {
            format!("{}/metadata/{}", self.cfg.mount, self.cfg.prefix)
        } else {
            format!("{}/metadata/{}/{}", self.cfg.mount, self.cfg.prefix, name)
        }
    }

    pub(super) fn check_name(&self, name: &EntryName) -> Result<()> {
        if name.as_str().split('/').any(|s| s.is_empty()) {
            return Err(BackendError::Other(format!(
                "{name} cannot be stored in OpenBao: its path has an empty segment (`//` or a trailing `/`)"
            )));
        }
        Ok(())
    }

    /// One HTTP request, no auth handling. `path` is below `/v1/` and not encoded.
    pub(super) fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<&[u8]>,
    ) -> Result<Resp> {
        let mut url = format!("{}/v1/{}", self.cfg.base_url(), encode_path(path));
        if method == Method::List {
            url.push_str("?list=true");
        }
        if let Method::GetVersion(n) = method {
            url.push_str(&format!("?version={n}"));
        }
        let result = match method {
            Method::Get | Method::GetVersion(_) | Method::List => {
                let mut r = self.agent.get(&url);
                if let Some(t) = token {
                    r = r.header("X-Vault-Token", t.expose_secret());
                }
                if let Some(ns) = &self.namespace {
                    r = r.header("X-Vault-Namespace", ns.as_str());
                }
                r.call()
            }
            Method::Delete => {
                let mut r = self.agent.delete(&url);
                if let Some(t) = token {
                    r = r.header("X-Vault-Token", t.expose_secret());
                }
                if let Some(ns) = &self.namespace {
                    r = r.header("X-Vault-Namespace", ns.as_str());
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
                if let Some(ns) = &self.namespace {
                    r = r.header("X-Vault-Namespace", ns.as_str());
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
}
