//! `clawvault doctor`: the audit lives in [`clawvault::doctor`]; this file adds what
//! needs the vault and the terminal: the vault's own secrets for exact matching,
//! the TTY confirmations, and `--fix`'s migration and `.env` import.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clawvault::doctor::{self, DoctorArgs, FixAction, FixPrompt, MigrationKind};
use clawvault::importenv;
use clawvault::migrate;
use clawvault::secret::{secret_bytes, SecretBytes};
use clawvault::unlock::{self, NoPrompt};
use clawvault::vault::Vault;

use super::Ctx;

/// Exit 0 clean, 1 findings at or above `--fail-on`, 2 the audit itself failed.
pub fn run(ctx: &Ctx, args: DoctorArgs) -> ExitCode {
    match run_inner(ctx, &args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("clawvault: error: doctor: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(ctx: &Ctx, args: &DoctorArgs) -> Result<u8, String> {
    let vault_dir = ctx.vault_dir();
    let vault = if Vault::exists(&vault_dir) {
        Some(Vault::open(&vault_dir).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if args.fix {
        migrate_found(ctx, args, vault.as_ref(), tty)?;
    }
    let opts = ctx.unlock_options();
    let secrets = vault
        .as_ref()
        .map(|v| vault_secrets(v, &opts))
        .unwrap_or_default();
    let (yes, redact) = (args.yes, args.redact);
    let mut decide = |p: &FixPrompt| -> bool {
        // Redacting transcripts is never implied by --yes alone.
        if yes && (redact || !matches!(p.action, FixAction::Redact { .. })) {
            return true;
        }
        tty && confirm(&format!("{}?", p.summary))
    };
    if args.fix && !args.yes && !tty {
        eprintln!(
            "clawvault: doctor --fix without a terminal changes nothing unless --yes is given"
        );
    }
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    doctor::run_with(
        args,
        &ctx.state.path,
        vault.as_ref().map(|v| v.dir()),
        &secrets,
        &mut decide,
        &mut stdout.lock(),
        &mut stderr.lock(),
    )
    .map_err(|e| e.to_string())
}

/// The vault's secrets, so a copy of one anywhere on the host is found even when
/// no pattern knows its shape. Best effort and never interactive: the agent, then
/// the keychain backend (no identity needed), then every unlock source but the prompt
/// (a --passphrase-fd already read by --fix's migration is spent: pattern matching only).
fn vault_secrets(v: &Vault, opts: &unlock::UnlockOptions) -> Vec<SecretBytes> {
    let names = match v
        .backend()
        .map_err(|e| e.to_string())
        .and_then(|b| b.list().map_err(|e| e.to_string()))
    {
        Ok(n) => n,
        Err(e) => {
            eprintln!("clawvault: doctor: cannot list the vault ({e}); matching by pattern only");
            return vec![];
        }
    };
    if names.is_empty() {
        return vec![];
    }
    let agent = super::fetch_from_agent(v, &names, "doctor");
    let fetched = if let Ok(f) = agent {
        f
    } else {
        let mut v2 = match Vault::open(v.dir()) {
            Ok(x) => x,
            Err(_) => return vec![],
        };
        if v2.reads_need_identity() {
            if let Err(mut e) = unlock::unlock(&mut v2, opts, &mut NoPrompt) {
                if let Err(Some(a)) = agent {
                    e.attempts.insert(0, a);
                }
                eprintln!(
                    "clawvault: doctor: the vault is locked, so copies of its secrets are found by pattern only ({})",
                    e.attempts
                        .iter()
                        .map(|a| a.source.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return vec![];
            }
        }
        match importenv::fetch_local_logged(&v2, &names, "doctor") {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "clawvault: doctor: cannot read the vault ({e}); matching by pattern only"
                );
                return vec![];
            }
        }
    };
    fetched
        .into_values()
        .map(|s| secret_bytes(s.as_bytes().to_vec()))
        .collect()
}

/// `--fix`, first half: move what a first audit pass found in auth stores and
/// `.env` files into the vault (both keep encrypted backups and a journal for
/// `clawvault migrate --rollback`). The report that follows shows what is left.
fn migrate_found(
    ctx: &Ctx,
    args: &DoctorArgs,
    vault: Option<&Vault>,
    tty: bool,
) -> Result<(), String> {
    let input = doctor::AuditInput {
        args,
        state_dir: &ctx.state.path,
        vault_dir: vault.map(|v| v.dir()),
        vault_secrets: &[],
    };
    let report = doctor::audit(&input, &Default::default()).map_err(|e| e.to_string())?;
    let auth = report
        .needs_migration
        .iter()
        // `migrate` reads the current state directory only: stores of another one
        // (a legacy ~/.clawdbot) stay listed with their own `--state-dir` command.
        .any(|m| m.kind == MigrationKind::AuthProfiles && m.state_dir.is_none());
    let envs: Vec<PathBuf> = report
        .needs_migration
        .iter()
        .filter(|m| m.kind == MigrationKind::EnvFile)
        .map(|m| m.path.clone())
        .collect();
    if !auth && envs.is_empty() {
        return Ok(());
    }
    if vault.is_none() {
        eprintln!(
            "clawvault: doctor: plaintext credentials need moving but there is no vault at {}; run `clawvault init`, then `clawvault doctor --fix` again",
            ctx.vault_dir().display()
        );
        return Ok(());
    }
    let mut what = vec![];
    if auth {
        what.push("clawvault migrate (every agent's auth store)".to_string());
    }
    for e in &envs {
        what.push(format!("clawvault import-env {}", e.display()));
    }
    let go = args.yes || (tty && confirm(&format!("Run {}?", what.join(" and "))));
    if !go {
        eprintln!("clawvault: doctor: skipped: {}", what.join("; "));
        return Ok(());
    }
    let v = ctx.unlocked_vault().map_err(|e| e.to_string())?;
    if auth {
        let r = migrate::migrate(
            &ctx.state,
            &v,
            &migrate::Options {
                agent: None,
                dry_run: false,
            },
        )
        .map_err(|e| format!("migrate: {e}"))?;
        eprintln!(
            "clawvault: doctor: migrate moved {} credential(s) into the vault",
            r.count("moved")
        );
    }
    if !envs.is_empty() {
        let agent = ctx.agent(None).map_err(|e| e.to_string())?;
        let r = importenv::import(
            &v,
            &agent,
            &envs,
            &importenv::Options {
                state: Some(ctx.state.clone()),
                // Never a variable openclaw.json reads from the environment: OpenClaw
                // would lose it (the same rule as `migrate`).
                keep: super::migrate_cmd::config_env_names(ctx),
                ..Default::default()
            },
        )
        .map_err(|e| format!("import-env: {e}"))?;
        eprintln!(
            "clawvault: doctor: import-env moved {} variable(s) into the vault",
            r.count("moved")
        );
    }
    Ok(())
}

fn confirm(question: &str) -> bool {
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
}
