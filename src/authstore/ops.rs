//! `paste-*` and `logout` on whichever store the install uses.

use serde_json::Value;

use super::{write_store, Store};
use crate::auth::{self, is_our_ref, LogoutReport, REF_PROVIDER};
use crate::backend::EntryName;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::{AgentTarget, StateDir};
use crate::profiles::{Material, ProfileError, ProfileType, SecretRef};
use crate::vault::Vault;

/// Store `secret` in the vault and a reference in the agent's store (the JSON
/// document or the SQLite store, as the install uses). Returns the store written.
#[allow(clippy::too_many_arguments)]
pub fn paste(
    vault: &Vault,
    state: &StateDir,
    agent: &AgentTarget,
    profile_id: &str,
    ty: ProfileType,
    provider: &str,
    secret: &[u8],
    expires_ms: Option<u64>,
) -> Result<Store> {
    let store = write_store(state, agent)?;
    if let Store::Json(_) = store {
        auth::store_profile_secret(vault, agent, profile_id, ty, provider, secret, expires_ms)?;
        return Ok(store);
    }
    auth::validate_provider(provider)?;
    let name = auth::validate_profile_id(&agent.id, profile_id)?;
    // A rotation: the profile already points at this vault entry, so only the vault
    // changes. Nothing is written to OpenClaw's database, which also works while a
    // gateway holds it (the caller then asks the gateway to reload).
    if let Store::Sqlite { kind, db } = &store {
        let same = crate::openclaw::sqlite::read_store(kind.clone(), db)
            .ok()
            .flatten()
            .is_some_and(|s| {
                s.doc.get(profile_id).is_some_and(|p| {
                    let ours = matches!(p.material(), Material::Ref(r) if is_our_ref(&r) && r.id == name.as_str());
                    let expiry_kept = ty != ProfileType::Token
                        || p.expires() == expires_ms.map(|e| e as i64);
                    p.profile_type() == ty && ours && expiry_kept
                })
            });
        if same {
            vault.backend()?.set(&name, secret)?;
            return Ok(store);
        }
    }
    // Fail early (before touching the vault) on a type clash.
    store.modify(state, |doc| {
        if let Some(p) = doc.get(profile_id) {
            let pt = p.profile_type();
            if pt != ty && pt != ProfileType::Other {
                return Err(ProfileError::Invalid(format!(
                    "profile {profile_id} in {} is of type {}, not {}; log it out first or choose another --profile-id",
                    doc.path().display(),
                    pt.as_str(),
                    ty.as_str()
                )));
            }
        }
        Ok(((), false))
    })?;
    vault.backend()?.set(&name, secret)?;
    fsutil::crash_point("paste:after-vault-set");
    let r = SecretRef::exec(REF_PROVIDER, name.as_str());
    store.modify(state, |doc| {
        doc.set_ref(profile_id, ty, provider, &r);
        if ty == ProfileType::Token {
            doc.set_profile_field(profile_id, "expires", expires_ms.map(Value::from));
        }
        Ok(((), true))
    })?;
    Ok(store)
}

/// Remove a profile from the agent's store, then its secret from the vault.
pub fn logout(
    vault: Option<&Vault>,
    state: &StateDir,
    agent: &AgentTarget,
    profile_id: &str,
    purge: bool,
) -> Result<LogoutReport> {
    let store = write_store(state, agent)?;
    if let Store::Json(_) = store {
        return auth::logout(vault, agent, profile_id, purge);
    }
    let removed = store.modify(state, |doc| {
        let m = doc.get(profile_id).map(|p| p.material());
        if m.is_some() {
            doc.remove_profile(profile_id);
        }
        let changed = m.is_some();
        Ok((m, changed))
    })?;
    let name = match &removed {
        Some(Material::Ref(r)) if is_our_ref(r) => EntryName::new(&r.id).ok(),
        Some(_) => None,
        None => EntryName::for_profile(&agent.id, profile_id).ok(),
    };
    let secret_deleted = match (vault, &name) {
        (Some(v), Some(n)) if purge => v.backend()?.purge(n)?,
        (Some(v), Some(n)) => v.backend()?.delete(n)?,
        _ => false,
    };
    if removed.is_none() && !secret_deleted {
        return Err(Error::from(ProfileError::NoSuchProfile {
            path: store.path().to_path_buf(),
            id: profile_id.to_string(),
        }));
    }
    Ok(LogoutReport {
        profile_id: profile_id.to_string(),
        secret_deleted,
    })
}
