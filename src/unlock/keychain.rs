//! The vault identity remembered in the OS keychain (`clawvault unlock --remember
//! keychain`): one item, service `clawvault-identity:<vault-id>`, account `identity`.
//!
//! A Secret Service whose collection is locked may answer a read with "no entry"
//! (or fail only after a prompt that cannot open): a miss is therefore checked with a
//! write probe before it is reported as "nothing remembered".

use keyring_core::Error as KError;

use crate::backend::keychain::{platform_store, probe};
use crate::secret::SecretString;

pub const ACCOUNT: &str = "identity";

pub fn service(vault_id: &str) -> String {
    format!("clawvault-identity:{vault_id}")
}

/// What reading the remembered identity found.
pub enum Lookup {
    Found(SecretString),
    /// The keychain answered and holds nothing for this vault.
    Absent {
        store: String,
    },
}

/// Describe a keyring error without its payload (`BadEncoding` carries secret bytes).
fn describe(store: &str, e: &KError) -> String {
    match e {
        KError::NoStorageAccess(inner) => format!(
            "{store} refused access ({inner}): the keyring collection is locked; unlock it (log in to the desktop session, or gnome-keyring-daemon --unlock)"
        ),
        KError::PlatformFailure(inner) => format!("{store} failed: {inner}"),
        KError::BadEncoding(_) | KError::BadDataFormat(_, _) => {
            format!("{store} holds an item for this vault that is not an identity")
        }
        KError::NoEntry => format!("{store} has nothing remembered for this vault"),
        KError::Ambiguous(v) => format!(
            "{store} holds {} identity items for this vault; run `clawvault lock` to remove them",
            v.len()
        ),
        _ => format!("{store} failed"),
    }
}

/// The platform store, with a short reason when it cannot be reached.
fn store_or_why() -> Result<(std::sync::Arc<keyring_core::CredentialStore>, String), String> {
    platform_store().map_err(|e| {
        let s = e.to_string();
        if s.contains("no D-Bus session bus") {
            "the Secret Service is not reachable: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)".to_string()
        } else {
            s
        }
    })
}

fn entry(vault_id: &str) -> Result<(keyring_core::Entry, String), String> {
    let (store, name) = store_or_why()?;
    let e = store
        .build(&service(vault_id), ACCOUNT, None)
        .map_err(|e| describe(&name, &e))?;
    Ok((e, name))
}

/// Read the remembered identity.
pub fn get(vault_id: &str) -> Result<Lookup, String> {
    let (store, name) = store_or_why()?;
    let e = store
        .build(&service(vault_id), ACCOUNT, None)
        .map_err(|e| describe(&name, &e))?;
    match e.get_secret() {
        Ok(v) => {
            let v = zeroize::Zeroizing::new(v);
            let s = std::str::from_utf8(&v)
                .map_err(|_| format!("{name} holds an item for this vault that is not text"))?;
            Ok(Lookup::Found(SecretString::from(s.to_string())))
        }
        Err(KError::NoEntry) => {
            // "No entry" from a locked collection means "no access": prove access.
            probe(&store, &name).map_err(|why| {
                format!("{why} (a read answered \"no entry\", but the keychain is not usable: is the collection locked?)")
            })?;
            Ok(Lookup::Absent { store: name })
        }
        Err(e) => Err(describe(&name, &e)),
    }
}

/// Remember `identity` for `vault_id`; reads it back to prove it was stored.
pub fn store(vault_id: &str, identity: &SecretString) -> Result<String, String> {
    use secrecy::ExposeSecret;
    let (e, name) = entry(vault_id)?;
    e.set_secret(identity.expose_secret().as_bytes())
        .map_err(|e| describe(&name, &e))?;
    match e.get_secret() {
        Ok(v) if v == identity.expose_secret().as_bytes() => Ok(name),
        Ok(_) => Err(format!("{name} returned something else than was stored")),
        Err(err) => Err(describe(&name, &err)),
    }
}

/// Forget the remembered identity. `Ok(false)` when there was none.
pub fn forget(vault_id: &str) -> Result<bool, String> {
    let (store, name) = store_or_why()?;
    let e = store
        .build(&service(vault_id), ACCOUNT, None)
        .map_err(|e| describe(&name, &e))?;
    match e.delete_credential() {
        Ok(()) => Ok(true),
        Err(KError::NoEntry) => {
            probe(&store, &name).map_err(|why| {
                format!("{why} (nothing could be checked or removed: is the collection locked?)")
            })?;
            Ok(false)
        }
        Err(err) => Err(describe(&name, &err)),
    }
}
