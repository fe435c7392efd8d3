//! The operations behind `clawvault models auth ...` and `models status`.
//!
//! Ordering rule for every mutation: the vault changes before a reference to it is
//! written, and a reference is removed before its secret is deleted. A crash at any
//! point leaves either the old state, or a secret in the vault with no reference yet
//! (re-run converges): never a reference to nothing, never a secret in neither place.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::backend::EntryName;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::AgentTarget;
use crate::profiles::{AuthState, Material, ProfileDoc, ProfileType, SecretRef};
use crate::vault::Vault;

/// The exec provider alias clawvault registers in OpenClaw, and owns refs under.
pub const REF_PROVIDER: &str = "clawvault";

/// Whether `r` is a reference clawvault serves.
pub fn is_our_ref(r: &SecretRef) -> bool {
    r.source == "exec" && r.provider == REF_PROVIDER
}

/// Check a profile id: `<provider>:<name>` and usable in an exec id.
pub fn validate_profile_id(agent: &str, id: &str) -> Result<EntryName> {
    if !id.contains(':') {
        return Err(Error::Usage(format!(
            "profile id {id:?} must look like <provider>:<name>, e.g. anthropic:default"
        )));
    }
    EntryName::for_profile(agent, id).map_err(|e| {
        Error::Usage(format!(
            "profile id {id:?} cannot be referenced by OpenClaw: {e}"
        ))
    })
}

/// Check a provider id (it becomes part of profile ids and env lookups).
pub fn validate_provider(p: &str) -> Result<()> {
    let ok = !p.is_empty()
        && p.len() <= 64
        && p.as_bytes()[0].is_ascii_alphanumeric()
        && p.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
        });
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "provider {p:?} is not valid: use lowercase letters, digits, '-', '_' and '.'"
        )))
    }
}

/// Parse `365d`, `12h`, `30m`, `2w`, `90s`.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let bad = || {
        Error::Usage(format!(
            "cannot read duration {s:?}: use a number and one of s, m, h, d, w (e.g. 365d, 12h)"
        ))
    };
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(secs)
        .filter(|&t| t > 0)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

/// Store `secret` for a profile and point the profile at it.
pub fn store_profile_secret(
    vault: &Vault,
    agent: &AgentTarget,
    profile_id: &str,
    ty: ProfileType,
    provider: &str,
    secret: &[u8],
    expires_ms: Option<u64>,
) -> Result<()> {
    validate_provider(provider)?;
    let name = validate_profile_id(&agent.id, profile_id)?;
    let path = agent.profiles_path();
    // Fail early (before touching the vault) on a document we could not rewrite.
    let existing = ProfileDoc::load(&path)?;
    if let Some(p) = existing.get(profile_id) {
        let pt = p.profile_type();
        if pt != ty && pt != ProfileType::Other {
            return Err(Error::Usage(format!(
                "profile {profile_id} in {} is of type {}, not {}; log it out first or choose another --profile-id",
                path.display(),
                pt.as_str(),
                ty.as_str()
            )));
        }
    }
    vault.backend()?.set(&name, secret)?;
    fsutil::crash_point("paste:after-vault-set");
    let r = SecretRef::exec(REF_PROVIDER, name.as_str());
    ProfileDoc::modify(&path, |doc| {
        doc.set_ref(profile_id, ty, provider, &r);
        if ty == ProfileType::Token {
            doc.set_profile_field(profile_id, "expires", expires_ms.map(Value::from));
        }
        Ok(((), true))
    })?;
    Ok(())
}

/// What `logout` did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogoutReport {
    pub profile_id: String,
    pub secret_deleted: bool,
}

/// `models auth order get`: from `auth-state.json` when it exists beside
/// `auth-profiles.json` (OpenClaw's later layout), else from `auth-profiles.json`.
pub fn order_get(agent: &AgentTarget, provider: &str) -> Result<Option<Vec<String>>> {
    let path = agent.profiles_path();
    Ok(match AuthState::load(&AuthState::beside(&path))? {
        Some(st) => st.order(provider),
        None => ProfileDoc::load(&path)?.order(provider),
    })
}

/// The file that holds the order on a JSON-era install: `auth-state.json` when it
/// exists, else `auth-profiles.json`.
pub fn order_store_path(agent: &AgentTarget) -> Result<std::path::PathBuf> {
    let path = agent.profiles_path();
    let state = AuthState::beside(&path);
    Ok(if state.exists() { state } else { path })
}

/// `models auth order set`: every id must be a profile of `provider` in
/// `auth-profiles.json`; the order goes to `auth-state.json` when it exists, else to
/// `auth-profiles.json`. The profiles lock is held throughout, so a concurrent
/// logout cannot slip a removed id into the order.
pub fn order_set(agent: &AgentTarget, provider: &str, ids: &[String]) -> Result<Vec<String>> {
    let path = agent.profiles_path();
    let state = AuthState::beside(&path);
    let out = ProfileDoc::modify(&path, |doc| {
        doc.check_order_ids(provider, ids)?;
        let in_state = AuthState::modify(&state, |st| {
            st.set_order(provider, ids);
            Ok((st.order(provider), true))
        })?;
        match in_state {
            Some(order) => Ok((order, false)),
            None => {
                doc.set_order(provider, ids)?;
                Ok((doc.order(provider), true))
            }
        }
    })?;
    Ok(out.unwrap_or_default())
}

/// `models auth order clear`, in whichever file holds the order (see [`order_get`]).
/// Returns whether there was an override.
pub fn order_clear(agent: &AgentTarget, provider: &str) -> Result<bool> {
    let path = agent.profiles_path();
    if let Some(had) = AuthState::modify(&AuthState::beside(&path), |st| {
        let had = st.clear_order(provider);
        Ok((had, had))
    })? {
        return Ok(had);
    }
    Ok(ProfileDoc::modify(&path, |doc| {
        let had = doc.clear_order(provider);
        Ok((had, had))
    })?)
}

/// Remove a profile, drop it from `order`, then delete its secret from the vault.
/// When `auth-state.json` exists beside `auth-profiles.json`, the id also leaves its
/// `order` lists and `lastGood` entries (first, under the profiles lock: a crash
/// leaves a profile nothing prefers, and a re-run finishes).
/// `purge` also removes the secret's past versions where the backend keeps them
/// (OpenBao's KV v2); a plain delete there leaves them recoverable.
pub fn logout(
    vault: Option<&Vault>,
    agent: &AgentTarget,
    profile_id: &str,
    purge: bool,
) -> Result<LogoutReport> {
    let path = agent.profiles_path();
    let state = AuthState::beside(&path);
    let (removed, state_changed) = ProfileDoc::modify(&path, |doc| {
        let state_changed = AuthState::modify(&state, |st| {
            let changed = st.forget_profile(profile_id);
            Ok((changed, changed))
        })?
        .unwrap_or(false);
        let m = doc.get(profile_id).map(|p| p.material());
        if m.is_some() {
            doc.remove_profile(profile_id);
        }
        let changed = m.is_some();
        Ok(((m, state_changed), changed))
    })?;
    fsutil::crash_point("logout:after-profile-write");
    let name = match &removed {
        Some(Material::Ref(r)) if is_our_ref(r) => EntryName::new(&r.id).ok(),
        Some(_) => None,
        // Not in the document: a logout interrupted after the profile was removed
        // may have left its secret behind. Finish the job.
        None => EntryName::for_profile(&agent.id, profile_id).ok(),
    };
    let secret_deleted = match (vault, &name) {
        (Some(v), Some(n)) if purge => v.backend()?.purge(n)?,
        (Some(v), Some(n)) => v.backend()?.delete(n)?,
        _ => false,
    };
    if removed.is_none() && !secret_deleted && !state_changed {
        return Err(crate::profiles::ProfileError::NoSuchProfile {
            path,
            id: profile_id.to_string(),
        }
        .into());
    }
    Ok(LogoutReport {
        profile_id: profile_id.to_string(),
        secret_deleted,
    })
}

/// OpenClaw's per-profile status words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Expiring,
    Expired,
    Missing,
    Static,
    /// Stored, but the registered resolver cannot hand it to OpenClaw right now
    /// (a locked vault, an unreachable server); `unavailable` says why.
    Unavailable,
}

/// Expiring means 24 h or less left.
pub const EXPIRING_WITHIN_MS: i64 = 24 * 3600 * 1000;

/// One row of `models status --json` / `list --json`. Never holds material.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileStatus {
    pub profile_id: String,
    pub provider: String,
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub status: Status,
    pub storage: String,
    pub expires: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Why the resolver could not answer for this profile's ref (never a value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// The exec id of a clawvault ref (for the resolve check); not part of the output.
    #[serde(skip)]
    pub ref_id: Option<String>,
}

/// Status of every profile, checked without decrypting anything.
pub fn status(doc: &ProfileDoc, vault: Option<&Vault>, now_ms: i64) -> Result<Vec<ProfileStatus>> {
    let backend = match vault {
        Some(v) => Some(v.backend()?),
        None => None,
    };
    let mut out = Vec::with_capacity(doc.len());
    for p in doc.profiles() {
        let ty = p.profile_type();
        let material = p.material();
        let ref_id = match &material {
            Material::Ref(r) if is_our_ref(r) => Some(r.id.clone()),
            _ => None,
        };
        let (present, storage) = match material {
            Material::Inline(_) | Material::OAuth => (true, "plaintext".to_string()),
            Material::Missing => (false, "none".to_string()),
            Material::Ref(r) if is_our_ref(&r) => match (backend, EntryName::new(&r.id)) {
                (Some(b), Ok(name)) => (b.contains(&name)?, b.kind().to_string()),
                _ => (false, format!("ref:{}:{}", r.source, r.provider)),
            },
            // Someone else's reference: we cannot check it, so we trust it.
            Material::Ref(r) => (true, format!("ref:{}:{}", r.source, r.provider)),
        };
        let expires = p.expires();
        let status = if !present {
            Status::Missing
        } else {
            match (ty, expires) {
                (ProfileType::ApiKey, _) | (ProfileType::Token, None) => Status::Static,
                (_, Some(e)) if e <= now_ms => Status::Expired,
                (_, Some(e)) if e - now_ms <= EXPIRING_WITHIN_MS => Status::Expiring,
                (_, Some(_)) => Status::Ok,
                (_, None) => Status::Static,
            }
        };
        out.push(ProfileStatus {
            profile_id: p.id.to_string(),
            provider: p.provider(),
            ty: ty.as_str(),
            status,
            storage,
            expires,
            email: p.email().map(str::to_string),
            unavailable: None,
            ref_id,
        });
    }
    Ok(out)
}

/// The profile `paste-api-key` writes when no `--profile-id` is given, as OpenClaw
/// 2026.9.6 picks it: an existing API-key profile of the provider (the first in the
/// provider's `order`, else the first by id), so a new key replaces the old one; else
/// `<provider>:manual`.
pub fn default_api_key_profile(doc: &ProfileDoc, provider: &str) -> String {
    let candidates: Vec<String> = doc
        .profiles()
        .filter(|p| p.profile_type() == ProfileType::ApiKey && p.provider() == provider)
        .map(|p| p.id.to_string())
        .collect();
    let ordered = doc
        .order(provider)
        .unwrap_or_default()
        .into_iter()
        .find(|id| candidates.contains(id));
    ordered
        .or_else(|| candidates.iter().min().cloned())
        .unwrap_or_else(|| format!("{provider}:manual"))
}

/// `--check` exit code, OpenClaw's set: 1 when any profile is expired, missing or
/// unavailable, 2 when one is expiring, else 0.
pub fn check_exit_code(rows: &[ProfileStatus]) -> u8 {
    if rows.iter().any(|r| {
        matches!(
            r.status,
            Status::Expired | Status::Missing | Status::Unavailable
        )
    }) {
        1
    } else if rows.iter().any(|r| r.status == Status::Expiring) {
        2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn paste_api_key_default_follows_openclaw() {
        let parse =
            |j: &str| ProfileDoc::parse(Path::new("/x/auth-profiles.json"), j.as_bytes()).unwrap();
        let empty = parse(r#"{"version":1,"profiles":{}}"#);
        assert_eq!(default_api_key_profile(&empty, "groq"), "groq:manual");
        let doc = parse(
            r#"{"version":1,"profiles":{
                "groq:z": {"type":"api_key","provider":"groq","key":"a"},
                "groq:b": {"type":"api_key","provider":"groq","key":"b"},
                "groq:tok": {"type":"token","provider":"groq","token":"c"},
                "openai:default": {"type":"api_key","provider":"openai","key":"d"}}}"#,
        );
        assert_eq!(default_api_key_profile(&doc, "groq"), "groq:b");
        assert_eq!(default_api_key_profile(&doc, "mistral"), "mistral:manual");
        let ordered = parse(
            r#"{"version":1,"order":{"groq":["groq:tok","groq:z"]},"profiles":{
                "groq:z": {"type":"api_key","provider":"groq","key":"a"},
                "groq:b": {"type":"api_key","provider":"groq","key":"b"},
                "groq:tok": {"type":"token","provider":"groq","token":"c"}}}"#,
        );
        assert_eq!(default_api_key_profile(&ordered, "groq"), "groq:z");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("365d").unwrap().as_secs(), 365 * 86400);
        assert_eq!(parse_duration("12h").unwrap().as_secs(), 43200);
        assert_eq!(parse_duration("30m").unwrap().as_secs(), 1800);
        assert_eq!(parse_duration("2w").unwrap().as_secs(), 14 * 86400);
        for bad in ["", "d", "12", "12y", "-1d", "0d", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn profile_ids() {
        assert!(validate_profile_id("main", "anthropic:default").is_ok());
        assert!(validate_profile_id("main", "anthropic").is_err());
        assert!(validate_profile_id("main", "openai:me@example.com").is_err());
        assert!(validate_provider("openrouter").is_ok());
        assert!(validate_provider("Open Router").is_err());
    }
}
