//! One secret kept as a single OS keychain item, found by service and account: the
//! identity remembered by `clawvault unlock --remember keychain` and the OpenBao
//! token of `init --token-keychain`. (Vault entries go through
//! [`super::keychain::KeychainBackend`], which splits large values into parts.)
//!
//! A Secret Service whose collection is locked may answer a read with "no entry"
//! (or fail only after a prompt that cannot open): a miss is therefore checked with a
//! write probe before it is reported as "nothing there". Errors never format a
//! keyring payload (`BadEncoding` carries the secret bytes).

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error as KError};
use secrecy::ExposeSecret;

use super::keychain::{platform_store, probe};
use crate::secret::SecretString;

/// What reading the item found.
pub enum Lookup {
    Found(SecretString),
    /// The keychain answered and holds no such item.
    Absent {
        store: String,
    },
}

/// Describe a keyring error without its payload.
fn describe(store: &str, service: &str, e: &KError) -> String {
    match e {
        KError::NoStorageAccess(inner) => format!(
            "{store} refused access ({inner}): the keyring collection is locked; unlock it (log in to the desktop session, or gnome-keyring-daemon --unlock)"
        ),
        KError::PlatformFailure(inner) => format!("{store} failed: {inner}"),
        KError::BadEncoding(_) | KError::BadDataFormat(_, _) => {
            format!("{store} holds an item {service} that is not text")
        }
        KError::NoEntry => format!("{store} has no item {service}"),
        KError::Ambiguous(v) => format!(
            "{store} holds {} items {service}; remove them with `clawvault lock` or your keychain tool",
            v.len()
        ),
        _ => format!("{store} failed"),
    }
}

/// The platform store, with a short reason when it cannot be reached.
fn store_or_why() -> Result<(Arc<CredentialStore>, String), String> {
    platform_store().map_err(|e| {
        let s = e.to_string();
        if s.contains("no D-Bus session bus") {
            "the Secret Service is not reachable: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)".to_string()
        } else {
            s
        }
    })
}

fn entry(service: &str, account: &str) -> Result<(Arc<CredentialStore>, Entry, String), String> {
    let (store, name) = store_or_why()?;
    let e = store
        .build(service, account, None)
        .map_err(|e| describe(&name, service, &e))?;
    Ok((store, e, name))
}

/// Read the item.
pub fn get(service: &str, account: &str) -> Result<Lookup, String> {
    let (store, e, name) = entry(service, account)?;
    match e.get_secret() {
        Ok(v) => {
            let v = zeroize::Zeroizing::new(v);
            let s = std::str::from_utf8(&v)
                .map_err(|_| format!("{name} holds an item {service} that is not text"))?;
            Ok(Lookup::Found(SecretString::from(s.to_string())))
        }
        Err(KError::NoEntry) => {
            // "No entry" from a locked collection means "no access": prove access.
            probe(&store, &name).map_err(|why| {
                format!("{why} (a read answered \"no entry\", but the keychain is not usable: is the collection locked?)")
            })?;
            Ok(Lookup::Absent { store: name })
        }
        Err(e) => Err(describe(&name, service, &e)),
    }
}

/// Store `secret`, then read it back to prove it was stored. Returns the store's name.
pub fn store(service: &str, account: &str, secret: &SecretString) -> Result<String, String> {
    let (_, e, name) = entry(service, account)?;
    e.set_secret(secret.expose_secret().as_bytes())
        .map_err(|e| describe(&name, service, &e))?;
    match e.get_secret() {
        Ok(v) if v == secret.expose_secret().as_bytes() => Ok(name),
        Ok(_) => Err(format!("{name} returned something else than was stored")),
        Err(err) => Err(describe(&name, service, &err)),
    }
}

/// Remove the item. `Ok(false)` when there was none.
pub fn forget(service: &str, account: &str) -> Result<bool, String> {
    let (store, e, name) = entry(service, account)?;
    match e.delete_credential() {
        Ok(()) => Ok(true),
        Err(KError::NoEntry) => {
            probe(&store, &name).map_err(|why| {
                format!("{why} (nothing could be checked or removed: is the collection locked?)")
            })?;
            Ok(false)
        }
        Err(err) => Err(describe(&name, service, &err)),
    }
}
