//! KV v2 operations and the `Backend` implementation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::*;
use crate::backend::{Backend, BackendError, EntryName, Result};
use crate::secret::ExposeSecret;
use crate::secret::{secret_bytes, SecretBytes};

/// A KV v2 read answer, borrowing from the response body.
#[derive(Deserialize)]
pub(super) struct KvRead<'a> {
    #[serde(borrow, default)]
    data: Option<KvReadData<'a>>,
}

#[derive(Deserialize)]
pub(super) struct KvReadData<'a> {
    #[serde(borrow, default)]
    data: Option<KvFields<'a>>,
}

#[derive(Deserialize)]
pub(super) struct KvFields<'a> {
    #[serde(borrow, default)]
    value_b64: Option<std::borrow::Cow<'a, str>>,
}

impl OpenBaoBackend {
    /// `Some(live)` when metadata exists; live = the current version is readable.
    pub(super) fn metadata_state(&self, name: &str) -> Result<Option<bool>> {
        let path = match self.linked(name) {
            Some(l) => l.metadata_path(),
            None => self.metadata_path(name),
        };
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

    pub(super) fn get_str(&self, name: &str) -> Result<Option<SecretBytes>> {
        if let Some(l) = self.linked(name) {
            return self.read_link(name, l);
        }
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
    pub(super) fn par_map<T: Send>(
        &self,
        n: usize,
        f: impl Fn(usize) -> Result<T> + Sync,
    ) -> Vec<Result<T>> {
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
    pub(super) fn purge_str(&self, name: &str) -> Result<bool> {
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
        self.refuse_linked(name)?;
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
        self.refuse_linked(name)?;
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
        self.refuse_linked(name)?;
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
        // Linked entries live elsewhere.
        for name in self.cfg.links.keys() {
            if let Ok(n) = EntryName::new(name) {
                if !keys.contains(&n) {
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
