//! `clawvault models auth link`: a profile whose key already lives in an existing
//! OpenBao / Vault KV v2 field (the layout OpenClaw's Vault plugin reads), used in
//! place without copying.

use std::process::ExitCode;

use clap::Args;

use clawvault::auth::{self, REF_PROVIDER};
use clawvault::backend::openbao::KvLink;
use clawvault::profiles::{ProfileDoc, ProfileType, SecretRef};
use clawvault::{Error, Result};

use super::Ctx;

#[derive(Debug, Args)]
pub struct LinkArgs {
    #[arg(long)]
    pub provider: String,
    /// [default: <provider>:default]
    #[arg(long)]
    pub profile_id: Option<String>,
    /// The existing field, MOUNT/PATH#FIELD (e.g. secret/providers/openrouter#apiKey;
    /// MOUNT/data/PATH#FIELD when the mount has several segments)
    #[arg(
        long,
        value_name = "MOUNT/PATH#FIELD",
        required_unless_present = "unlink"
    )]
    pub kv: Option<String>,
    /// Remove the link (the profile keeps its reference; paste a key to store one)
    #[arg(long, conflicts_with = "kv")]
    pub unlink: bool,
    /// Agent id [default: from $OPENCLAW_AGENT_DIR, else main]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
}

pub fn run(ctx: &Ctx, outer_agent: Option<&str>, a: LinkArgs) -> Result<ExitCode> {
    let agent = ctx.agent_for(
        a.agent.as_deref().or(outer_agent),
        clawvault::openclaw::agents::Use::Change,
    )?;
    auth::validate_provider(&a.provider)?;
    let id = a
        .profile_id
        .unwrap_or_else(|| format!("{}:default", a.provider));
    let name = auth::validate_profile_id(&agent.id, &id)?;
    let link = match &a.kv {
        Some(kv) => Some(KvLink::parse(kv).map_err(Error::Usage)?),
        None => None,
    };
    let path = agent.profiles_path();
    ProfileDoc::load(&path)?;
    let mut vault = ctx.open_vault()?;
    let manifest = vault.set_openbao_link(&name, link.clone())?;
    let Some(link) = link else {
        eprintln!(
            "unlinked {id} (agent {}) in {}",
            agent.id,
            manifest.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let r = SecretRef::exec(REF_PROVIDER, name.as_str());
    ProfileDoc::modify(&path, |doc| {
        doc.set_ref(&id, ProfileType::ApiKey, &a.provider, &r);
        Ok(((), true))
    })?;
    eprintln!(
        "linked {id} (agent {}) to the existing OpenBao field {link} (read-only in clawvault); {} holds only a reference",
        agent.id,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
