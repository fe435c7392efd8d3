//! Profiles linked to existing KV v2 fields (`mount/path#field`), so a team that
//! already keeps `secret/providers/openrouter` (field `apiKey`) for OpenClaw's Vault
//! plugin points clawvault at it without copying. A linked entry is read-only in
//! clawvault: it reads the field as text; writes, deletes and purges are refused
//! (the owner of that path changes it with `bao kv patch`).

use std::fmt;

use serde::{Deserialize, Serialize};

use serde_json::Value;
use zeroize::Zeroizing;

use super::*;
use crate::backend::{BackendError, EntryName, Result};
use crate::secret::{secret_bytes, SecretBytes};

/// A KV v2 field: `mount/path#field`, or `mount/data/path#field` when the mount
/// itself has several segments (everything before `/data/` is the mount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KvLink {
    pub mount: String,
    pub path: String,
    pub field: String,
}

impl KvLink {
    pub fn parse(s: &str) -> std::result::Result<KvLink, String> {
        let what = format!("--kv {s:?}");
        let (loc, field) = s.rsplit_once('#').ok_or_else(|| {
            format!(
                "{what} needs a field: MOUNT/PATH#FIELD, e.g. secret/providers/openrouter#apiKey"
            )
        })?;
        if field.is_empty() || field.chars().any(|c| c.is_control() || c == '/') {
            return Err(format!(
                "{what}: the field after '#' must be a plain, non-empty name"
            ));
        }
        let loc = loc.trim_matches('/');
        let (mount, path) = match loc.split_once("/data/") {
            Some((m, p)) => (m, p),
            None => loc
                .split_once('/')
                .ok_or_else(|| format!("{what} needs a mount and a path: MOUNT/PATH#FIELD"))?,
        };
        Ok(KvLink {
            mount: check_path_segments("the --kv mount", mount)?,
            path: check_path_segments("the --kv path", path)?,
            field: field.to_string(),
        })
    }

    pub(super) fn data_path(&self) -> String {
        format!("{}/data/{}", self.mount, self.path)
    }

    pub(super) fn metadata_path(&self) -> String {
        format!("{}/metadata/{}", self.mount, self.path)
    }
}

impl fmt::Display for KvLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mount.contains('/') {
            write!(f, "{}/data/{}#{}", self.mount, self.path, self.field)
        } else {
            write!(f, "{}/{}#{}", self.mount, self.path, self.field)
        }
    }
}

impl TryFrom<String> for KvLink {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        KvLink::parse(&s)
    }
}

impl From<KvLink> for String {
    fn from(l: KvLink) -> String {
        l.to_string()
    }
}

impl OpenBaoBackend {
    pub(super) fn linked(&self, name: &str) -> Option<&KvLink> {
        self.cfg.links.get(name)
    }

    /// Writes, deletes and purges of a linked entry are refused.
    pub(super) fn refuse_linked(&self, name: &EntryName) -> Result<()> {
        match self.linked(name.as_str()) {
            Some(l) => Err(BackendError::Other(format!(
                "{name} is linked to the existing OpenBao field {l} and is read-only in clawvault; change it there (`bao kv patch -mount={} {} {}=...`) or unlink it with `clawvault models auth link --unlink`",
                l.mount, l.path, l.field
            ))),
            None => Ok(()),
        }
    }

    /// Read a linked field: the text of `field` in the latest version of the path.
    pub(super) fn read_link(&self, name: &str, l: &KvLink) -> Result<Option<SecretBytes>> {
        let path = l.data_path();
        let r = self.call(Method::Get, &path, None)?;
        match r.status {
            200 => {}
            404 if !r.errors().contains("no handler for route") => return Ok(None),
            403 => return Err(self.denied(name, &path, "read")),
            _ => return Err(self.unexpected("a read of", name, &r, &[])),
        }
        let corrupt = |reason: String| BackendError::Corrupt {
            name: name.to_string(),
            reason,
        };
        let mut v = r
            .json()
            .ok_or_else(|| corrupt("the server's answer is not the expected JSON".into()))?;
        let out = self.link_field(&path, l, &v, corrupt);
        wipe_value(&mut v);
        out
    }

    fn link_field(
        &self,
        path: &str,
        l: &KvLink,
        v: &Value,
        corrupt: impl Fn(String) -> BackendError,
    ) -> Result<Option<SecretBytes>> {
        let data = v.pointer("/data/data").ok_or_else(|| {
            corrupt(format!(
                "{path} has no KV v2 data (deleted, or {}/ is not a KV version 2 mount)",
                l.mount
            ))
        })?;
        if data.is_null() {
            return Ok(None);
        }
        match data.get(&l.field) {
            Some(Value::String(s)) => Ok(Some(secret_bytes(s.as_bytes().to_vec()))),
            Some(_) => Err(corrupt(format!(
                "the field {:?} of {path} is not a string",
                l.field
            ))),
            None => Err(corrupt(format!(
                "{path} has no field {:?} (fields there: {})",
                l.field,
                data.as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()
            ))),
        }
    }
}

/// Zeroize every string of a parsed answer before it is freed (a linked path's
/// other fields are secrets too).
pub(super) fn wipe_value(v: &mut Value) {
    match v {
        Value::String(s) => drop(Zeroizing::new(std::mem::take(s))),
        Value::Array(a) => a.iter_mut().for_each(wipe_value),
        Value::Object(o) => o.values_mut().for_each(wipe_value),
        _ => {}
    }
}
