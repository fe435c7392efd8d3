//! OpenBao-backed profiles in `models status`: KV v2 version and last update, and
//! `models auth rollback ID [--version N]`.

use std::process::ExitCode;

use clap::Args;
use serde_json::{Map, Value};

use clawvault::auth::{self, ProfileStatus};
use clawvault::backend::openbao::OpenBaoBackend;
use clawvault::vault::{BackendConfig, Vault};
use clawvault::{Error, Result};

use super::Ctx;

fn openbao(vault: &Vault) -> Result<Option<OpenBaoBackend>> {
    match &vault.manifest().backend {
        BackendConfig::Openbao(cfg) => {
            Ok(Some(OpenBaoBackend::new(cfg).map_err(|e| {
                Error::from(clawvault::vault::VaultError::Backend(e))
            })?))
        }
        _ => Ok(None),
    }
}

/// `{profileId: {current, updated, live, linked?}}` for an OpenBao vault, `None`
/// otherwise. A profile whose versions cannot be read shows the reason instead.
pub fn collect(
    vault: Option<&Vault>,
    agent: &str,
    rows: &[ProfileStatus],
) -> Result<Option<Value>> {
    let Some(b) = vault.map(openbao).transpose()?.flatten() else {
        return Ok(None);
    };
    let mut out = Map::new();
    for r in rows {
        let Ok(name) = auth::validate_profile_id(agent, &r.profile_id) else {
            continue;
        };
        let v = match b.versions(&name) {
            Ok(Some(v)) => serde_json::to_value(v).unwrap_or(Value::Null),
            Ok(None) => continue,
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
        out.insert(r.profile_id.clone(), v);
    }
    Ok(Some(Value::Object(out)))
}

/// The table form, under the status table.
pub fn print(kv: &Value) {
    let Some(m) = kv.as_object().filter(|m| !m.is_empty()) else {
        return;
    };
    println!("\nOpenBao KV v2 versions:");
    for (id, v) in m {
        if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
            println!("  {id}  (cannot read versions: {e})");
            continue;
        }
        let linked = v
            .get("linked")
            .and_then(|l| l.as_str())
            .map(|l| format!("  linked to {l}"))
            .unwrap_or_default();
        println!(
            "  {id}  version {}  updated {}  readable versions {}{linked}",
            v["current"],
            v["updated"].as_str().unwrap_or("?"),
            v["live"]
        );
    }
}

#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct RollbackArgs {
    /// The profile id, e.g. openrouter:default
    pub profile_id: String,
    /// The version to restore [default: the newest readable one before the current]
    #[arg(long = "version", id = "kv_version", value_name = "N")]
    pub version: Option<u64>,
    /// Agent id [default: from $OPENCLAW_AGENT_DIR, else main]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
}

pub fn rollback(ctx: &Ctx, outer_agent: Option<&str>, a: RollbackArgs) -> Result<ExitCode> {
    let agent = ctx.agent(a.agent.as_deref().or(outer_agent))?;
    let name = auth::validate_profile_id(&agent.id, &a.profile_id)?;
    let vault = ctx.open_vault()?;
    let b = openbao(&vault)?.ok_or_else(|| {
        Error::Usage(format!(
            "rollback needs the openbao backend (KV v2 keeps versions); the vault at {} uses {}",
            vault.dir().display(),
            vault.manifest().backend.kind()
        ))
    })?;
    let (from, now) = b
        .rollback(&name, a.version)
        .map_err(|e| Error::from(clawvault::vault::VaultError::Backend(e)))?;
    eprintln!(
        "restored version {from} of {} (agent {}) as the current version {now}; earlier versions are kept",
        a.profile_id, agent.id
    );
    Ok(ExitCode::SUCCESS)
}
