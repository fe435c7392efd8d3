//! Where secret material lives. One small trait, several stores behind it.
//!
//! Every backend passes the same [`conformance`] suite, the real OS stores included.

use std::fmt;

use thiserror::Error;

use crate::secret::SecretBytes;

pub mod age;
pub mod conformance;
pub mod keychain;
pub mod keychain_item;
pub mod openbao;

/// The name of one secret in a vault: `<agent>/<profileId>` for profile material,
/// `env/<NAME>` for generic secrets. It follows OpenClaw's exec id grammar,
/// `^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$` with no `.` or `..` segment, so every
/// entry can be handed out through an exec SecretRef.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryName(String);

impl EntryName {
    pub fn new(s: &str) -> std::result::Result<EntryName, InvalidName> {
        validate_exec_id(s).map(|()| EntryName(s.to_string()))
    }

    /// The entry holding a profile's material.
    pub fn for_profile(
        agent: &str,
        profile_id: &str,
    ) -> std::result::Result<EntryName, InvalidName> {
        EntryName::new(&format!("{agent}/{profile_id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EntryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryName({:?})", self.0)
    }
}

/// Why a string is not a valid exec id. Never carries the string itself beyond a
/// short prefix: a malformed id in a request could be a pasted secret.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct InvalidName(pub &'static str);

/// OpenClaw's exec SecretRef id grammar.
pub fn validate_exec_id(s: &str) -> std::result::Result<(), InvalidName> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(InvalidName("id is empty"));
    }
    if b.len() > 256 {
        return Err(InvalidName("id is longer than 256 characters"));
    }
    if !b[0].is_ascii_alphanumeric() {
        return Err(InvalidName("id must start with a letter or digit"));
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || b"._:/#-".contains(c))
    {
        return Err(InvalidName(
            "id may only hold letters, digits and . _ : / # -",
        ));
    }
    if s.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(InvalidName("id must not have a '.' or '..' path segment"));
    }
    Ok(())
}

/// Errors from a backend. No variant carries secret bytes.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BackendError {
    #[error("the vault is locked: reading from the age backend needs the identity")]
    Locked,
    #[error("{store} is not usable: {reason}")]
    Unavailable { store: String, reason: String },
    #[error("{store} refused access to {name}: {reason}")]
    NoAccess {
        store: String,
        name: String,
        reason: String,
    },
    #[error("the secret for {name} is corrupt or was not made by this vault: {reason}")]
    Corrupt { name: String, reason: String },
    #[error("the secret for {name} is too large for {store}: {reason}")]
    TooLarge {
        name: String,
        store: String,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, BackendError>;

/// A store of named secrets.
pub trait Backend: Send + Sync {
    /// `age`, `keychain`, `openbao`: the word `models status` shows as `storage`.
    fn kind(&self) -> &'static str;
    /// Where the secrets are, for humans (no secrets in it).
    fn describe(&self) -> String;
    /// Create or replace.
    fn set(&self, name: &EntryName, value: &[u8]) -> Result<()>;
    /// `Ok(None)` when there is no such entry.
    fn get(&self, name: &EntryName) -> Result<Option<SecretBytes>>;
    /// Whether an entry exists, without decrypting it where the store allows.
    fn contains(&self, name: &EntryName) -> Result<bool>;
    /// Remove; `Ok(false)` when there was nothing to remove.
    fn delete(&self, name: &EntryName) -> Result<bool>;
    /// Remove with every past version, where the store keeps history (OpenBao's
    /// KV v2 metadata delete, for `logout --purge`); elsewhere the same as `delete`.
    fn purge(&self, name: &EntryName) -> Result<bool> {
        self.delete(name)
    }
    /// Every entry name in this vault, sorted.
    fn list(&self) -> Result<Vec<EntryName>>;
    /// Read many entries; backends override this to serve a batch in one session.
    fn get_many(&self, names: &[EntryName]) -> Vec<Result<Option<SecretBytes>>> {
        names.iter().map(|n| self.get(n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_id_grammar() {
        assert!(validate_exec_id("main/anthropic:default").is_ok());
        assert!(validate_exec_id("env/OPENAI_API_KEY").is_ok());
        assert!(validate_exec_id("a#b-c.d_e").is_ok());
        assert!(validate_exec_id("").is_err());
        assert!(validate_exec_id("/x").is_err());
        assert!(validate_exec_id("main/../x").is_err());
        assert!(validate_exec_id("main/./x").is_err());
        assert!(validate_exec_id("main/me@example.com").is_err());
        assert!(validate_exec_id(&"a".repeat(257)).is_err());
        assert!(validate_exec_id(&"a".repeat(256)).is_ok());
        assert!(validate_exec_id("a b").is_err());
    }
}
