//! The `keychain` backend: one OS keychain item per secret, through `keyring-core`
//! and the platform store crates (Secret Service over D-Bus on Linux, Keychain on
//! macOS, Credential Manager on Windows).
//!
//! Items are named service `clawvault:<vault-id>`, account `<entry name>`, so two
//! vaults on one machine never collide. A value larger than the platform's item
//! limit (Windows: 2,560 bytes) is split into parts kept under the service
//! `clawvault:<vault-id>/parts`; the main item then holds a small header. Nothing is
//! ever truncated.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error as KError};

use super::{Backend, BackendError, EntryName, Result};
use crate::secret::{secret_bytes, SecretBytes};
use zeroize::Zeroizing;

/// Windows Credential Manager's CRED_MAX_CREDENTIAL_BLOB_SIZE.
pub const WINDOWS_ITEM_LIMIT: usize = 2560;

/// The item size limit of the platform this binary runs on.
pub fn platform_item_limit() -> usize {
    if cfg!(windows) {
        WINDOWS_ITEM_LIMIT
    } else {
        // Secret Service and macOS Keychain take far larger items than any credential.
        1 << 20
    }
}

/// First bytes of a main item whose value is split into parts. A value that itself
/// starts with these bytes is always stored split, so reading is never ambiguous.
const PARTS_MAGIC: &[u8] = b"\0clawvault-parts-v1\0";

pub struct KeychainBackend {
    store: Arc<CredentialStore>,
    service: String,
    item_limit: usize,
    store_name: String,
}

/// Map a keyring error without ever formatting its payload: `BadEncoding` and
/// `BadDataFormat` carry the raw secret bytes.
fn map_err(store: &str, name: &str, e: KError) -> BackendError {
    match e {
        KError::NoStorageAccess(inner) => BackendError::NoAccess {
            store: store.to_string(),
            name: name.to_string(),
            reason: format!("{inner} (is the keyring collection locked? unlock it, e.g. by logging in to the desktop session or with gnome-keyring-daemon --unlock)"),
        },
        KError::PlatformFailure(inner) => BackendError::Unavailable {
            store: store.to_string(),
            reason: inner.to_string(),
        },
        KError::BadEncoding(_) => BackendError::Corrupt {
            name: name.to_string(),
            reason: "the keychain item is not in the expected encoding".into(),
        },
        KError::BadDataFormat(_, _) => BackendError::Corrupt {
            name: name.to_string(),
            reason: "the keychain item's data is in an unexpected format".into(),
        },
        KError::BadStoreFormat(s) => BackendError::Unavailable {
            store: store.to_string(),
            reason: s,
        },
        KError::TooLong(attr, limit) => BackendError::TooLarge {
            name: name.to_string(),
            store: store.to_string(),
            reason: format!("{attr} is limited to {limit}"),
        },
        KError::Invalid(attr, reason) => {
            BackendError::Other(format!("{store} rejected {attr} for {name}: {reason}"))
        }
        KError::Ambiguous(v) => BackendError::Other(format!(
            "{store} holds {} items for {name}; remove the duplicates with your keychain tool",
            v.len()
        )),
        KError::NoDefaultStore => BackendError::Unavailable {
            store: store.to_string(),
            reason: "no credential store is configured".into(),
        },
        KError::NotSupportedByStore(s) => BackendError::Unavailable {
            store: store.to_string(),
            reason: s,
        },
        KError::NoEntry => BackendError::Other(format!("{store} has no item for {name}")),
        _ => BackendError::Other(format!("{store} failed on {name}")),
    }
}

/// Open this platform's credential store. Refuses (never falls back) when the
/// platform has no store compiled in or the store cannot be reached.
pub fn platform_store() -> Result<(Arc<CredentialStore>, String)> {
    #[cfg(target_os = "linux")]
    {
        let name = "Secret Service (D-Bus)".to_string();
        return match dbus_secret_service_keyring_store::Store::new() {
            Ok(s) => Ok((s as Arc<CredentialStore>, name)),
            Err(e) => Err(BackendError::Unavailable {
                store: name,
                reason: describe_connect_error(&e),
            }),
        };
    }
    #[cfg(target_os = "macos")]
    {
        let name = "macOS Keychain".to_string();
        return match apple_native_keyring_store::keychain::Store::new() {
            Ok(s) => Ok((s as Arc<CredentialStore>, name)),
            Err(e) => Err(BackendError::Unavailable {
                store: name,
                reason: e.to_string(),
            }),
        };
    }
    #[cfg(target_os = "windows")]
    {
        let name = "Windows Credential Manager".to_string();
        return match windows_native_keyring_store::Store::new() {
            Ok(s) => Ok((s as Arc<CredentialStore>, name)),
            Err(e) => Err(BackendError::Unavailable {
                store: name,
                reason: e.to_string(),
            }),
        };
    }
    #[allow(unreachable_code)]
    Err(BackendError::Unavailable {
        store: "OS keychain".into(),
        reason: "this platform has no supported keychain; use the age backend".into(),
    })
}

#[cfg(target_os = "linux")]
fn describe_connect_error(e: &KError) -> String {
    let s = match e {
        KError::PlatformFailure(inner) | KError::NoStorageAccess(inner) => inner.to_string(),
        other => map_err("Secret Service", "-", clone_err(other)).to_string(),
    };
    if s.contains("autolaunch") || s.contains("DBUS_SESSION_BUS_ADDRESS") {
        format!("no D-Bus session bus ({s}); run inside a desktop or `dbus-run-session` with a Secret Service such as gnome-keyring")
    } else {
        s
    }
}

#[cfg(target_os = "linux")]
fn clone_err(e: &KError) -> KError {
    match e {
        KError::NoStorageAccess(_) => KError::NotSupportedByStore("no storage access".into()),
        KError::NotSupportedByStore(s) => KError::NotSupportedByStore(s.clone()),
        _ => KError::NotSupportedByStore("unknown error".into()),
    }
}

impl KeychainBackend {
    /// A backend over `store` for the vault `vault_id`.
    pub fn new(store: Arc<CredentialStore>, store_name: String, vault_id: &str) -> Self {
        KeychainBackend {
            store,
            service: service_name(vault_id),
            item_limit: platform_item_limit(),
            store_name,
        }
    }

    /// Override the per-item size limit (tests force splitting with a small one).
    pub fn with_item_limit(mut self, limit: usize) -> Self {
        assert!(limit > PARTS_MAGIC.len() + 32, "item limit too small");
        self.item_limit = limit;
        self
    }

    fn parts_service(&self) -> String {
        format!("{}/parts", self.service)
    }

    fn entry(&self, service: &str, account: &str) -> Result<Entry> {
        self.store
            .build(service, &store_account(account), None)
            .map_err(|e| map_err(&self.store_name, account, e))
    }

    fn raw_get(&self, service: &str, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        match self.entry(service, account)?.get_secret() {
            Ok(v) => Ok(Some(Zeroizing::new(v))),
            Err(KError::NoEntry) => Ok(None),
            Err(e) => Err(map_err(&self.store_name, account, e)),
        }
    }

    fn raw_set(&self, service: &str, account: &str, value: &[u8]) -> Result<()> {
        self.entry(service, account)?
            .set_secret(value)
            .map_err(|e| map_err(&self.store_name, account, e))
    }

    fn raw_delete(&self, service: &str, account: &str) -> Result<bool> {
        match self.entry(service, account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(KError::NoEntry) => Ok(false),
            Err(e) => Err(map_err(&self.store_name, account, e)),
        }
    }

    fn part_account(name: &EntryName, i: usize) -> String {
        format!("{}#part{i}", name.as_str())
    }

    /// Parse a parts header: `magic || count(u32 be) || total_len(u32 be)`.
    fn parse_header(v: &[u8]) -> Option<(usize, usize)> {
        let rest = v.strip_prefix(PARTS_MAGIC)?;
        if rest.len() != 8 {
            return None;
        }
        let count = u32::from_be_bytes(rest[0..4].try_into().ok()?) as usize;
        let total = u32::from_be_bytes(rest[4..8].try_into().ok()?) as usize;
        Some((count, total))
    }

    fn delete_parts_from(&self, name: &EntryName, from: usize) -> Result<()> {
        let mut i = from;
        while self.raw_delete(&self.parts_service(), &Self::part_account(name, i))? {
            i += 1;
        }
        Ok(())
    }
}

/// The account an entry is stored under. Windows Credential Manager compares
/// target names without regard to case, so there upper-case letters (and `%`) are
/// escaped as `%XX`: `case:A` and `case:a` stay two items.
#[cfg(windows)]
fn store_account(account: &str) -> String {
    let mut out = String::with_capacity(account.len());
    for c in account.chars() {
        if c.is_ascii_uppercase() || c == '%' {
            out.push_str(&format!("%{:02X}", c as u8));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(not(windows))]
fn store_account(account: &str) -> std::borrow::Cow<'_, str> {
    std::borrow::Cow::Borrowed(account)
}

/// The inverse of [`store_account`]; `None` for an account it did not make.
#[cfg(windows)]
fn entry_account(stored: &str) -> Option<String> {
    let mut out = String::with_capacity(stored.len());
    let mut it = stored.chars();
    while let Some(c) = it.next() {
        if c == '%' {
            let hex: String = it.by_ref().take(2).collect();
            out.push(u8::from_str_radix(&hex, 16).ok()? as char);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(not(windows))]
fn entry_account(stored: &str) -> Option<String> {
    Some(stored.to_string())
}

/// The keychain service name of a vault.
pub fn service_name(vault_id: &str) -> String {
    format!("clawvault:{vault_id}")
}

impl Backend for KeychainBackend {
    fn kind(&self) -> &'static str {
        "keychain"
    }

    fn describe(&self) -> String {
        format!("{} items under service {}", self.store_name, self.service)
    }

    fn set(&self, name: &EntryName, value: &[u8]) -> Result<()> {
        if value.len() <= self.item_limit && !value.starts_with(PARTS_MAGIC) {
            self.raw_set(&self.service, name.as_str(), value)?;
            // A previous, larger value may have left parts behind.
            return self.delete_parts_from(name, 0);
        }
        let count = value.len().div_ceil(self.item_limit).max(1);
        if value.len() > u32::MAX as usize {
            return Err(BackendError::TooLarge {
                name: name.to_string(),
                store: self.store_name.clone(),
                reason: "values are limited to 4 GiB".into(),
            });
        }
        // Parts first, header last: a reader never sees a header without its parts.
        for (i, chunk) in value.chunks(self.item_limit).enumerate() {
            self.raw_set(&self.parts_service(), &Self::part_account(name, i), chunk)?;
        }
        let mut header = PARTS_MAGIC.to_vec();
        header.extend_from_slice(&(count as u32).to_be_bytes());
        header.extend_from_slice(&(value.len() as u32).to_be_bytes());
        self.raw_set(&self.service, name.as_str(), &header)?;
        self.delete_parts_from(name, count)
    }

    fn get(&self, name: &EntryName) -> Result<Option<SecretBytes>> {
        let Some(main) = self.raw_get(&self.service, name.as_str())? else {
            return Ok(None);
        };
        let Some((count, total)) = Self::parse_header(&main) else {
            return Ok(Some(secret_bytes(main.to_vec())));
        };
        let mut out = Zeroizing::new(Vec::with_capacity(total));
        for i in 0..count {
            let part = self
                .raw_get(&self.parts_service(), &Self::part_account(name, i))?
                .ok_or_else(|| BackendError::Corrupt {
                    name: name.to_string(),
                    reason: format!("part {i} of {count} is missing from the keychain"),
                })?;
            out.extend_from_slice(&part);
        }
        if out.len() != total {
            return Err(BackendError::Corrupt {
                name: name.to_string(),
                reason: format!("its parts add up to {} bytes, expected {total}", out.len()),
            });
        }
        Ok(Some(secret_bytes(out.to_vec())))
    }

    fn contains(&self, name: &EntryName) -> Result<bool> {
        match self.entry(&self.service, name.as_str())?.get_credential() {
            Ok(_) => Ok(true),
            Err(KError::NoEntry) => Ok(false),
            Err(e) => Err(map_err(&self.store_name, name.as_str(), e)),
        }
    }

    fn delete(&self, name: &EntryName) -> Result<bool> {
        let existed = self.raw_delete(&self.service, name.as_str())?;
        self.delete_parts_from(name, 0)?;
        Ok(existed)
    }

    fn list(&self) -> Result<Vec<EntryName>> {
        #[cfg(not(windows))]
        let spec: HashMap<&str, &str> = HashMap::from([("service", self.service.as_str())]);
        // Credential Manager searches target names (`<account>.<service>`) by regex.
        #[cfg(windows)]
        let pattern = format!(r"\.{}$", regex::escape(&self.service));
        #[cfg(windows)]
        let spec: HashMap<&str, &str> = HashMap::from([("pattern", pattern.as_str())]);
        let found = self
            .store
            .search(&spec)
            .map_err(|e| map_err(&self.store_name, "(search)", e))?;
        let mut names: Vec<EntryName> = found
            .into_iter()
            .filter(|e| e.get_credential().is_ok())
            .filter_map(|e| e.get_specifiers())
            .filter(|(svc, _)| *svc == self.service)
            .filter_map(|(_, user)| EntryName::new(&entry_account(&user)?).ok())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// Probe a store the way `init --backend auto` does: set, get, delete a random item.
/// Returns why it failed. A Secret Service with no unlocked collection answers a bare
/// `get` with "no entry", so only a full round trip proves access.
pub fn probe(store: &Arc<CredentialStore>, store_name: &str) -> std::result::Result<(), String> {
    let account = format!("probe-{:016x}", rand::random::<u64>());
    let service = "clawvault:probe";
    let entry = store
        .build(service, &account, None)
        .map_err(|e| map_err(store_name, &account, e).to_string())?;
    let value = format!("probe-{:016x}", rand::random::<u64>());
    entry
        .set_secret(value.as_bytes())
        .map_err(|e| map_err(store_name, "a probe item", e).to_string())?;
    let got = entry.get_secret();
    let _ = entry.delete_credential();
    match got {
        Ok(v) if v == value.as_bytes() => Ok(()),
        Ok(_) => Err(format!(
            "{store_name} returned a different value than was stored"
        )),
        Err(e) => Err(map_err(store_name, "a probe item", e).to_string()),
    }
}
