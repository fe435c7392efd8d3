//! `migrate`, `import-env`, `exec`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use clawvault::importenv;
use clawvault::migrate::{self, Report};
use clawvault::profiles::ProfileDoc;
use clawvault::unlock;
use clawvault::{Error, Result};

use super::Ctx;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only this agent [default: every agent]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Print the plan without touching anything
    #[arg(long)]
    pub dry_run: bool,
    /// Restore every file migrate or import-env rewrote, byte for byte, from the encrypted backups
    #[arg(long, conflicts_with = "dry_run")]
    pub rollback: bool,
    #[arg(long)]
    pub json: bool,
    /// The `openclaw` binary that applies the plan for openclaw.json and the SQLite
    /// auth stores and audits the result [default: `openclaw` on PATH]
    #[arg(long, value_name = "BIN")]
    pub openclaw: Option<PathBuf>,
    /// Do not run OpenClaw: store the values and write the plan, then name the
    /// command that applies it
    #[arg(long, conflicts_with = "openclaw")]
    pub no_openclaw: bool,
    /// Skip the host pass (`doctor --fix`) that follows the move: copies in
    /// histories, transcripts, logs and units stay, and are not listed
    #[arg(long)]
    pub no_host_pass: bool,
    /// In the host pass, leave session transcripts and logs untouched (their
    /// credentials stay listed; `clawvault doctor --fix --redact` rewrites them later)
    #[arg(long)]
    pub no_redact: bool,
}

#[derive(Debug, Args)]
pub struct ImportEnvArgs {
    /// .env files [default: <state>/.env and ./.env, when they exist]
    pub files: Vec<PathBuf>,
    /// Agent whose profiles receive provider keys [default: main]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    #[arg(long)]
    pub dry_run: bool,
    /// Overwrite a different value already in the vault or the profiles
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// The command and its arguments (run directly, no shell)
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

fn print_report(r: &Report, json: bool, dry_run: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "dryRun": dry_run, "rows": r.rows }))
                .expect("serializes")
        );
        return;
    }
    if r.rows.is_empty() {
        println!("nothing to do: no plaintext credential found");
        return;
    }
    for row in &r.rows {
        println!(
            "{:<11} {}  {}  {}",
            row.action,
            row.profile_id,
            row.path.display(),
            row.detail
        );
    }
}

pub fn migrate(ctx: &Ctx, a: MigrateArgs) -> Result<ExitCode> {
    if let Some(id) = &a.agent {
        ctx.agent(Some(id))?;
    }
    if a.rollback {
        let v = ctx.unlocked_vault()?;
        let r = migrate::rollback(&v, &ctx.state)?;
        print_report(&r, a.json, false);
        return Ok(ExitCode::SUCCESS);
    }
    let v = if a.dry_run {
        ctx.open_vault()?
    } else {
        ctx.unlocked_vault()?
    };
    let mut r = migrate::migrate(
        &ctx.state,
        &v,
        &migrate::Options {
            agent: a.agent.clone(),
            dry_run: a.dry_run,
        },
    )?;
    // The `.env` OpenClaw loads (state dir, and the config's directory when it
    // differs): provider keys become profiles holding refs, before OpenClaw's pass
    // (so its doctor imports them on a JSON-era install).
    import_state_env(ctx, &v, &a, &mut r)?;
    // openclaw.json and the SQLite-era stores, through OpenClaw's own apply.
    let pass = super::migrate_openclaw::run(
        ctx,
        &v,
        &super::migrate_openclaw::PassOptions {
            openclaw: a.openclaw.as_deref(),
            no_openclaw: a.no_openclaw,
            agent: a.agent.as_deref(),
            dry_run: a.dry_run,
        },
        &mut r,
    );
    print_report(&r, a.json, a.dry_run);
    pass?;
    // The pass ran `openclaw doctor --fix` itself when it found an openclaw binary.
    if !a.dry_run && r.count("imported") == 0 {
        print_openclaw_next_step(&r, a.json);
    }
    // The host pass: copies outside the stores (histories, transcripts, logs, units).
    if a.dry_run && !a.no_host_pass {
        eprintln!("clawvault: migrate: then the host pass would run (`clawvault doctor --fix --yes{}`); run `clawvault doctor` to see what it would find", if a.no_redact { "" } else { " --redact" });
    } else if !a.no_host_pass {
        let code = super::migrate_residue::run(
            ctx,
            &v,
            &super::migrate_residue::ResidueOptions {
                no_redact: a.no_redact,
                report_to_stderr: a.json,
            },
        )
        .map_err(|e| Error::Other(format!("host pass: {e}")))?;
        // What the pass could not fix is listed above with the reason (other tools'
        // files, values OpenClaw reads from the environment, OAuth). It does not change
        // the exit code: `migrate` fails when something it should move did not move.
        if code != 0 {
            eprintln!("clawvault: migrate: the host pass left the findings listed above; `clawvault doctor` shows them again");
        }
    }
    Ok(if r.count("left") > 0 || r.count("conflict") > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The variables `openclaw.json` reads from the environment (`${NAME}`, env
/// SecretRefs): moving one out of a `.env` would break OpenClaw, so they are kept.
pub(super) fn config_env_names(ctx: &Ctx) -> Vec<String> {
    let cfg = clawvault::openclaw::config_path(&ctx.state);
    match clawvault::fsutil::read_private(&cfg) {
        Ok(Some(bytes)) => {
            let bytes = zeroize::Zeroizing::new(bytes);
            clawvault::openclaw::config_secrets::parse_config(&bytes)
                .map(|c| clawvault::openclaw::config_env::env_names_used(&c))
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// `migrate`'s share of `import-env`: only the `.env` files OpenClaw itself loads,
/// only the variables OpenClaw resolves through an auth profile, never one the
/// config reads from the environment. Project `.env` files are `doctor`'s to offer.
fn import_state_env(
    ctx: &Ctx,
    v: &clawvault::vault::Vault,
    a: &MigrateArgs,
    r: &mut Report,
) -> Result<()> {
    let cfg = clawvault::openclaw::config_path(&ctx.state);
    let mut files = vec![ctx.state.path.join(".env")];
    if let Some(dir) = cfg.parent().filter(|d| !d.as_os_str().is_empty()) {
        let p = dir.join(".env");
        let same =
            |x: &std::path::Path, y: &std::path::Path| match (x.canonicalize(), y.canonicalize()) {
                (Ok(x), Ok(y)) => x == y,
                _ => x == y,
            };
        if !files.iter().any(|f| same(f, &p)) {
            files.push(p);
        }
    }
    files.retain(|p| p.is_file());
    if files.is_empty() {
        return Ok(());
    }
    let keep = config_env_names(ctx);
    let agent = ctx.agent(a.agent.as_deref())?;
    let sub = importenv::import(
        v,
        &agent,
        &files,
        &importenv::Options {
            dry_run: a.dry_run,
            force: false,
            state: Some(ctx.state.clone()),
            providers_only: true,
            keep,
        },
    )?;
    r.rows.extend(sub.rows);
    Ok(())
}

/// After moving profiles in a JSON-era `auth-profiles.json`: OpenClaw 2026.6 and
/// later refuse that file (AUTH_PROFILE_MIGRATION_REQUIRED) until its doctor
/// imports it into SQLite. Say so, with the exact command.
fn print_openclaw_next_step(r: &Report, json: bool) {
    let json_era = r.rows.iter().any(|row| {
        row.action == "moved"
            && row
                .path
                .file_name()
                .map(|n| n == "auth-profiles.json" || n == "auth.json")
                .unwrap_or(false)
    });
    if !json_era {
        return;
    }
    let msg = "next step: run `openclaw doctor --fix` - OpenClaw 2026.6 and later refuse auth-profiles.json (AUTH_PROFILE_MIGRATION_REQUIRED) until it imports the file (now holding only references) into its SQLite store";
    if json {
        eprintln!("{msg}");
    } else {
        println!("{msg}");
    }
}

pub fn import_env(ctx: &Ctx, a: ImportEnvArgs) -> Result<ExitCode> {
    let agent = ctx.agent(a.agent.as_deref())?;
    // The vault is checked (StrictModes) even when there is nothing to import, so a
    // misconfigured vault is reported now rather than on the day a .env appears.
    drop(ctx.open_vault()?);
    let files: Vec<PathBuf> = if a.files.is_empty() {
        let mut d = vec![ctx.state.path.join(".env")];
        if let Ok(cwd) = std::env::current_dir() {
            let local = cwd.join(".env");
            if !d.contains(&local) {
                d.push(local);
            }
        }
        d.into_iter().filter(|p| p.is_file()).collect()
    } else {
        a.files
            .iter()
            .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()))
            .collect()
    };
    if files.is_empty() {
        println!(
            "no .env file found (looked in {} and ./.env)",
            ctx.state.path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let v = if a.dry_run {
        // A dry run never needs the passphrase: it uses what unlocks unattended and
        // otherwise plans without comparing values already in the vault.
        let mut v = ctx.open_vault()?;
        if v.reads_need_identity() {
            let _ = clawvault::unlock::unlock(
                &mut v,
                &ctx.unlock_options(),
                &mut clawvault::unlock::NoPrompt,
            );
        }
        v
    } else {
        ctx.unlocked_vault()?
    };
    let r = importenv::import(
        &v,
        &agent,
        &files,
        &importenv::Options {
            dry_run: a.dry_run,
            force: a.force,
            state: Some(ctx.state.clone()),
            ..Default::default()
        },
    )?;
    print_report(&r, a.json, a.dry_run);
    Ok(if r.count("conflict") > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn exec(ctx: &Ctx, a: ExecArgs) -> Result<ExitCode> {
    let agent = ctx.agent(a.agent.as_deref())?;
    let mut v = ctx.open_vault()?;
    let doc = ProfileDoc::load(&agent.profiles_path())?;
    let plan = importenv::exec_plan(&v, &doc)?;
    let names = importenv::plan_entries(&plan);
    // Like `resolve`: the agent first, so a daemon's `exec` needs no passphrase.
    let fetched = match super::fetch_from_agent(&v, &names, "exec") {
        Ok(f) => f,
        Err(agent_attempt) => {
            if v.reads_need_identity() && !names.is_empty() {
                let mut v2 = ctx.open_vault()?;
                if let Err(mut e) = unlock::unlock(
                    &mut v2,
                    &ctx.unlock_options(),
                    &mut super::prompt::TtyPrompter,
                ) {
                    // Say why the agent did not serve it (not running, locked...).
                    if let Some(a) = agent_attempt {
                        e.attempts.insert(0, a);
                    }
                    return Err(e.into());
                }
                v = v2;
            }
            importenv::fetch_local_logged(&v, &names, "exec")?
        }
    };
    let env = importenv::fill_plan(plan, &fetched);
    let (cmd, args) = a.command.split_first().expect("clap requires a command");
    let mut c = std::process::Command::new(cmd);
    c.args(args);
    // clawvault's own unlock material is not the child's: its passphrase file,
    // its OpenBao token, its test and lock settings.
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name.starts_with("CLAWVAULT_") || name == "BAO_TOKEN" || name == "VAULT_TOKEN" {
            c.env_remove(&k);
        }
    }
    for (k, val) in &env {
        c.env(k, val.as_str());
    }
    drop(v);
    let status = c
        .status()
        .map_err(|e| Error::Other(format!("cannot run {cmd}: {e}")))?;
    drop(env);
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal: Option<i32> = None; // Windows: every exit has a code
    Ok(match (status.code(), signal) {
        (Some(c), _) => ExitCode::from(c as u8),
        (None, Some(sig)) => ExitCode::from(128u8.wrapping_add(sig as u8)),
        _ => ExitCode::from(1),
    })
}
