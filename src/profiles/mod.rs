//! OpenClaw's `auth-profiles.json` (version 1), read and written losslessly.
//!
//! The document is kept as a JSON tree with key order preserved (`preserve_order`)
//! and numbers kept as written (`arbitrary_precision`), so every field clawvault does
//! not know survives a rewrite unchanged. clawvault only ever touches the fields it
//! owns: a profile's material (`key`/`apiKey`/`keyRef`, `token`/`tokenRef`) and the
//! `order` lists.
//!
//! Later OpenClaw releases keep `order`, `lastGood` and `usageStats` in a sibling
//! `auth-state.json` ([`AuthState`]); when that file exists it is where `order` lives.
//! Both files share one reader and writer: strict lossless parse, OpenClaw's
//! `<file>.lock`, atomic 0600 writes, symlinks refused.
//!
//! - this file: the errors, profile types, `SecretRef`, `Material` and `ProfileView`;
//! - `doc.rs`: [`ProfileDoc`]; `state.rs`: [`AuthState`];
//! - `store.rs`: the shared strict parse, lock, atomic write and `order` helpers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::fsutil::{self, FileLock, FsError};

/// The document version this clawvault understands.
pub const DOC_VERSION: u64 = 1;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProfileError {
    #[error("{path}: invalid JSON at line {line}, column {column} ({what}); fix the file by hand or restore it from a backup - clawvault left it untouched")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        what: &'static str,
    },
    #[error("{path}: {reason}; clawvault left it untouched")]
    Shape { path: PathBuf, reason: String },
    #[error("{path} has version {found}, newer than the {DOC_VERSION} clawvault understands; upgrade clawvault")]
    NewerVersion { path: PathBuf, found: u64 },
    #[error("no profile {id:?} in {path}")]
    NoSuchProfile { path: PathBuf, id: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Fs(#[from] FsError),
}

pub type Result<T> = std::result::Result<T, ProfileError>;

/// The kinds of profile OpenClaw knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileType {
    ApiKey,
    Token,
    OAuth,
    Other,
}

impl ProfileType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileType::ApiKey => "api_key",
            ProfileType::Token => "token",
            ProfileType::OAuth => "oauth",
            ProfileType::Other => "unknown",
        }
    }

    /// Parse a `type`, accepting OpenClaw's old spellings.
    fn parse(s: &str) -> ProfileType {
        match s {
            "api_key" | "apiKey" | "api-key" => ProfileType::ApiKey,
            "token" => ProfileType::Token,
            "oauth" => ProfileType::OAuth,
            _ => ProfileType::Other,
        }
    }
}

/// A SecretRef: `{source, provider, id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub source: String,
    pub provider: String,
    pub id: String,
}

impl SecretRef {
    pub fn exec(provider: &str, id: &str) -> SecretRef {
        SecretRef {
            source: "exec".into(),
            provider: provider.into(),
            id: id.into(),
        }
    }

    fn from_value(v: &Value) -> Option<SecretRef> {
        let o = v.as_object()?;
        Some(SecretRef {
            source: o.get("source")?.as_str()?.to_string(),
            provider: o.get("provider")?.as_str()?.to_string(),
            id: o.get("id")?.as_str()?.to_string(),
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("source".into(), Value::String(self.source.clone()));
        m.insert("provider".into(), Value::String(self.provider.clone()));
        m.insert("id".into(), Value::String(self.id.clone()));
        Value::Object(m)
    }
}

/// Where a profile's material is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    /// Inline plaintext (the field name it sits in).
    Inline(&'static str),
    /// A reference.
    Ref(SecretRef),
    /// OAuth material (always inline; OpenClaw rotates it itself).
    OAuth,
    /// Nothing usable.
    Missing,
}

/// A read-only view of one profile.
#[derive(Debug, Clone)]
pub struct ProfileView<'a> {
    pub id: &'a str,
    pub obj: &'a Map<String, Value>,
}

impl<'a> ProfileView<'a> {
    pub fn profile_type(&self) -> ProfileType {
        self.obj
            .get("type")
            .or_else(|| self.obj.get("mode"))
            .and_then(|t| t.as_str())
            .map(ProfileType::parse)
            .unwrap_or(ProfileType::Other)
    }

    pub fn provider(&self) -> String {
        self.obj
            .get("provider")
            .and_then(|p| p.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| self.id.split(':').next().unwrap_or("").to_string())
    }

    /// `expires` in Unix ms, when present and numeric.
    pub fn expires(&self) -> Option<i64> {
        self.obj.get("expires").and_then(|e| {
            e.as_i64()
                .or_else(|| e.as_f64().map(|f| f as i64))
                .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
        })
    }

    pub fn email(&self) -> Option<&str> {
        self.obj.get("email").and_then(|e| e.as_str())
    }

    fn non_empty_str(&self, field: &str) -> bool {
        self.obj
            .get(field)
            .and_then(|v| v.as_str())
            .map(|s| !s.is_empty())
            .unwrap_or(false)
    }

    pub fn material(&self) -> Material {
        match self.profile_type() {
            ProfileType::ApiKey => {
                if let Some(r) = self.obj.get("keyRef").and_then(SecretRef::from_value) {
                    Material::Ref(r)
                } else if self.non_empty_str("key") {
                    Material::Inline("key")
                } else if self.non_empty_str("apiKey") {
                    Material::Inline("apiKey")
                } else {
                    Material::Missing
                }
            }
            ProfileType::Token => {
                if let Some(r) = self.obj.get("tokenRef").and_then(SecretRef::from_value) {
                    Material::Ref(r)
                } else if self.non_empty_str("token") {
                    Material::Inline("token")
                } else {
                    Material::Missing
                }
            }
            ProfileType::OAuth => {
                if self.non_empty_str("access") || self.non_empty_str("refresh") {
                    Material::OAuth
                } else {
                    Material::Missing
                }
            }
            ProfileType::Other => Material::Missing,
        }
    }

    /// The inline secret string, if the material is inline.
    pub fn inline_secret(&self) -> Option<&'a str> {
        match self.material() {
            Material::Inline(field) => self.obj.get(field).and_then(|v| v.as_str()),
            _ => None,
        }
    }
}

mod doc;
mod state;
mod store;
#[cfg(test)]
mod tests;

pub use doc::ProfileDoc;
pub use state::{AuthState, AUTH_STATE_FILE};
