//! `models auth rotate ID`: replace a profile's secret and keep the previous value
//! recoverable for a grace period, as a standard age file encrypted to the vault's
//! recipient (`<vault>/previous/<entry>.<ms>.age`), on every backend. `--rollback`
//! puts the newest kept value back within the grace period. The running gateway is
//! asked to reload afterwards (see `reload.rs`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clawvault::auth::is_our_ref;
use clawvault::backend::age::{blob_file_name, legacy_blob_file_name};
use clawvault::backend::EntryName;
use clawvault::fsutil;
use clawvault::openclaw::agents::Use;
use clawvault::profiles::Material;
use clawvault::secret::ExposeSecret;
use clawvault::{authstore, Error, Result};

use super::{prompt, Ctx};

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// The profile, e.g. anthropic:default (it must already reference the vault)
    pub profile_id: String,
    /// Put back the value the last rotation replaced (within the grace period)
    #[arg(long)]
    pub rollback: bool,
    /// How long a replaced value stays recoverable
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = humantime::parse_duration)]
    pub grace: Duration,
    #[command(flatten)]
    pub agent: super::models::AgentArg,
}

fn previous_dir(vault_dir: &Path) -> PathBuf {
    vault_dir.join("previous")
}

/// Kept values of `name`, newest first: (path, time in ms). Files named after the
/// blob's legacy name (before upper case was escaped on macOS) count too.
fn kept(vault_dir: &Path, name: &EntryName) -> Vec<(PathBuf, u64)> {
    let stems: Vec<String> = std::iter::once(blob_file_name(name))
        .chain(legacy_blob_file_name(name))
        .map(|f| format!("{}.", f.strip_suffix(".age").unwrap_or(&f)))
        .collect();
    let mut v: Vec<(PathBuf, u64)> = std::fs::read_dir(previous_dir(vault_dir))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let ms = stems
                .iter()
                .find_map(|stem| n.strip_prefix(stem.as_str()))?
                .strip_suffix(".age")?
                .parse::<u64>()
                .ok()?;
            Some((e.path(), ms))
        })
        .collect();
    v.sort_by_key(|k| std::cmp::Reverse(k.1));
    v
}

pub fn run(ctx: &Ctx, outer: Option<&str>, a: RotateArgs) -> Result<ExitCode> {
    let agent = ctx.agent_for(a.agent.agent.as_deref().or(outer), Use::Change)?;
    let (doc, store) = authstore::effective_doc(&ctx.state, &agent)?;
    let p = doc.get(&a.profile_id).ok_or_else(|| {
        Error::Usage(format!(
            "{}: no profile {}; create it with `clawvault models auth paste-api-key` or `paste-token`",
            store.display(),
            a.profile_id
        ))
    })?;
    let name = match p.material() {
        Material::Ref(r) if is_our_ref(&r) => EntryName::new(&r.id)
            .map_err(|e| Error::Usage(format!("profile {}: {e}", a.profile_id)))?,
        _ => {
            return Err(Error::Usage(format!(
            "profile {} in {} does not reference the vault; move it first with `clawvault migrate`",
            a.profile_id,
            store.display()
        )))
        }
    };
    let vault = ctx.unlocked_vault()?;
    let backend = vault.backend()?;
    let grace_ms = a.grace.as_millis() as u64;
    let now = fsutil::now_ms();
    if a.rollback {
        let Some((path, at)) = kept(vault.dir(), &name).into_iter().next() else {
            return Err(Error::Usage(format!(
                "no replaced value of {} is kept in {}",
                a.profile_id,
                previous_dir(vault.dir()).display()
            )));
        };
        if now.saturating_sub(at) > grace_ms {
            return Err(Error::Usage(format!(
                "the value {} replaced is older than the grace period ({}); it is still in {} for `age -d` by hand",
                a.profile_id,
                humantime::format_duration(a.grace),
                path.display()
            )));
        }
        let ct =
            std::fs::read(&path).map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        let old = age::decrypt(&*vault.identity()?, &ct)
            .map_err(|e| Error::Other(format!("{}: cannot decrypt: {e}", path.display())))?;
        let old = zeroize::Zeroizing::new(old);
        backend.set(&name, &old)?;
        std::fs::remove_file(&path)
            .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        eprintln!(
            "rolled {} back to the value it had before the last rotation",
            a.profile_id
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(old) = backend.get(&name)? else {
        return Err(Error::Usage(format!(
            "the vault holds no value for {} ({name}); use `clawvault models auth paste-api-key`",
            a.profile_id
        )));
    };
    let new = prompt::read_secret("new value")?;
    if new.as_slice() == old.expose_secret() {
        return Err(Error::Usage(format!(
            "that is the value {} already has; nothing was changed",
            a.profile_id
        )));
    }
    let dir = previous_dir(vault.dir());
    fsutil::ensure_private_dir(&dir)?;
    let ct = age::encrypt(&vault.recipient()?, old.expose_secret())
        .map_err(|e| Error::Other(format!("cannot encrypt the previous value: {e}")))?;
    let stem = blob_file_name(&name);
    let stem = stem.strip_suffix(".age").unwrap_or(&stem);
    let kept_at = dir.join(format!("{stem}.{now}.age"));
    fsutil::write_atomic(&kept_at, &ct)?;
    drop(old);
    backend.set(&name, &new)?;
    // Values past their grace period go.
    for (p, at) in kept(vault.dir(), &name) {
        if now.saturating_sub(at) > grace_ms {
            let _ = std::fs::remove_file(p);
        }
    }
    eprintln!(
        "rotated {} (agent {}); the previous value stays recoverable for {} with `clawvault models auth rotate {} --rollback` (kept encrypted in {})",
        a.profile_id,
        agent.id,
        humantime::format_duration(a.grace),
        a.profile_id,
        kept_at.display()
    );
    Ok(ExitCode::SUCCESS)
}
