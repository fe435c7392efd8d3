//! KV v2 versions made visible: the current version and its time (for
//! `models status`), and `models auth rollback`, which writes an earlier version's
//! data again as the newest version (what `bao kv rollback` does; history is kept).

use serde::Serialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::*;
use crate::backend::{BackendError, EntryName, Result};

/// What KV v2 metadata says about one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KvVersions {
    /// The current version number.
    pub current: u64,
    /// When the current version was written (RFC 3339, the server's clock).
    pub updated: String,
    /// Versions whose data is still readable (not deleted or destroyed), ascending.
    pub live: Vec<u64>,
    /// The existing field this entry is linked to, if any (`models auth link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked: Option<String>,
}

impl OpenBaoBackend {
    /// The versions of `name`; `None` when it has no metadata.
    pub fn versions(&self, name: &EntryName) -> Result<Option<KvVersions>> {
        self.check_name(name)?;
        let link = self.linked(name.as_str()).cloned();
        let path = match &link {
            Some(l) => l.metadata_path(),
            None => self.metadata_path(name.as_str()),
        };
        let r = self.call(Method::Get, &path, None)?;
        match r.status {
            200 => {}
            404 if r.errors().is_empty() => return Ok(None),
            403 => return Err(self.denied(name.as_str(), &path, "read")),
            _ => return Err(self.unexpected("a metadata read of", name.as_str(), &r, &[])),
        }
        let v = r.json().unwrap_or(Value::Null);
        let d = v.get("data").cloned().unwrap_or(Value::Null);
        let current = seconds(d.get("current_version")).unwrap_or(0);
        let mut live = Vec::new();
        let mut updated = String::new();
        if let Some(vs) = d.get("versions").and_then(|x| x.as_object()) {
            for (k, ver) in vs {
                let Ok(n) = k.parse::<u64>() else { continue };
                let deleted = ver
                    .get("deletion_time")
                    .and_then(|x| x.as_str())
                    .is_some_and(|s| !s.is_empty());
                let destroyed = ver.get("destroyed").and_then(|x| x.as_bool()) == Some(true);
                if !deleted && !destroyed {
                    live.push(n);
                }
                if n == current {
                    updated = ver
                        .get("created_time")
                        .and_then(|x| x.as_str())
                        .unwrap_or("")
                        .to_string();
                }
            }
        }
        live.sort_unstable();
        Ok(Some(KvVersions {
            current,
            updated,
            live,
            linked: link.map(|l| l.to_string()),
        }))
    }

    /// Write version `version` (default: the newest live version before the current
    /// one) again as the newest version. Returns (restored, new current).
    pub fn rollback(&self, name: &EntryName, version: Option<u64>) -> Result<(u64, u64)> {
        self.refuse_linked(name)?;
        let info = self.versions(name)?.ok_or_else(|| {
            BackendError::Other(format!("{name} has no versions in {}", self.store))
        })?;
        let target = match version {
            Some(n) => n,
            None => *info
                .live
                .iter()
                .rev()
                .find(|n| **n < info.current)
                .ok_or_else(|| {
                    BackendError::Other(format!(
                        "{name} has no earlier readable version than {} (live: {:?})",
                        info.current, info.live
                    ))
                })?,
        };
        if !info.live.contains(&target) {
            return Err(BackendError::Other(format!(
                "version {target} of {name} is not readable (deleted, destroyed or never written); readable versions: {:?}",
                info.live
            )));
        }
        let path = self.data_path(name.as_str());
        let r = self.call(Method::GetVersion(target), &path, None)?;
        match r.status {
            200 => {}
            403 => return Err(self.denied(name.as_str(), &path, "read")),
            _ => return Err(self.unexpected("a versioned read of", name.as_str(), &r, &[])),
        }
        // The old version's data object, re-sent as is (its value stays base64).
        let mut v = r.json().unwrap_or(Value::Null);
        let data = v.pointer_mut("/data/data").map(std::mem::take);
        wipe_value(&mut v);
        let mut data = data
            .filter(|d| d.is_object())
            .ok_or_else(|| BackendError::Corrupt {
                name: name.to_string(),
                reason: format!("version {target} has no KV v2 data"),
            })?;
        let body = Zeroizing::new(serde_json::json!({ "data": data }).to_string());
        wipe_value(&mut data);
        let w = self.call(Method::Post, &path, Some(body.as_bytes()))?;
        match w.status {
            200 | 204 => {}
            403 => return Err(self.denied(name.as_str(), &path, "create\", \"update")),
            _ => return Err(self.unexpected("a rollback write of", name.as_str(), &w, &[])),
        }
        let new = w
            .json()
            .and_then(|j| seconds(j.pointer("/data/version")))
            .unwrap_or(info.current + 1);
        Ok((target, new))
    }
}
