//! `clawvault unlock [--remember keychain|keyutils|dpapi] [--status]` and `clawvault lock`.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use clawvault::agent::client::Client;
use clawvault::fsutil;
use clawvault::unlock::{
    self, dpapi, keychain, keyutils, names, Attempt, SourceStatus, Sources, UnlockError,
};
use clawvault::{Error, Result};

use super::{prompt, Ctx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Remember {
    /// The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager),
    /// item service clawvault-identity:<vault-id>
    Keychain,
    /// The Linux kernel user keyring, as a cache that expires after --ttl (gone at reboot)
    Keyutils,
    /// Windows only: <vault>/identity.dpapi, encrypted with DPAPI for this Windows user
    Dpapi,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// Remember the unlocked identity here instead of (only) unlocking the agent
    #[arg(long, value_enum, value_name = "WHERE")]
    pub remember: Option<Remember>,
    /// How long the keyutils cache keeps the identity: 30m, 12h, 7d
    #[arg(long, value_name = "DURATION", requires = "remember")]
    pub ttl: Option<String>,
    /// Show each unlock source, in the order they are tried, as available /
    /// unavailable / would-unlock, without unlocking
    #[arg(long, conflicts_with_all = ["remember", "ttl"])]
    pub status: bool,
    /// With --status: print JSON
    #[arg(long, requires = "status")]
    pub json: bool,
}

pub fn unlock(ctx: &Ctx, a: UnlockArgs) -> Result<ExitCode> {
    if a.status {
        return status(ctx, a.json);
    }
    match a.remember {
        Some(r) => remember(ctx, r, a.ttl.as_deref()),
        None => unlock_agent(ctx),
    }
}

fn remember(ctx: &Ctx, r: Remember, ttl: Option<&str>) -> Result<ExitCode> {
    if r == Remember::Dpapi && !dpapi::SUPPORTED {
        return Err(Error::Usage(dpapi::windows_only()));
    }
    let ttl = match (r, ttl) {
        (Remember::Keychain, Some(_)) => {
            return Err(Error::Usage(
                "--ttl applies to --remember keyutils only; the keychain keeps the identity until `clawvault lock`".into(),
            ))
        }
        (Remember::Dpapi, Some(_)) => {
            return Err(Error::Usage(
                "--ttl applies to --remember keyutils only; DPAPI keeps the identity until `clawvault lock`".into(),
            ))
        }
        (Remember::Keyutils, Some(t)) => Some(clawvault::auth::parse_duration(t)?),
        (Remember::Keyutils, None) => Some(std::time::Duration::from_secs(12 * 3600)),
        (Remember::Keychain | Remember::Dpapi, None) => None,
    };
    let mut vault = ctx.open_vault()?;
    let mut sources = Sources::ALL;
    match r {
        Remember::Keychain => sources.keychain = false,
        Remember::Keyutils => sources.keyutils = false,
        Remember::Dpapi => sources.dpapi = false,
    }
    let src = unlock::unlock_from(
        &mut vault,
        &ctx.unlock_options(),
        &mut prompt::TtyPrompter,
        sources,
    )?;
    let id = vault.identity_string()?;
    match r {
        Remember::Keychain => {
            // A marker (no secret) so a later `lock` without the session bus knows a
            // copy may be left there, instead of reporting nothing to forget.
            fsutil::write_atomic(&remembered_marker(vault.dir()), b"keychain\n")?;
            let store = keychain::store(vault.id(), &id).map_err(|e| {
                Error::Other(format!("keychain: cannot remember the identity: {e}"))
            })?;
            println!(
                "remembered the identity of vault {} in {store} (service {}; unlocked from {src}); `clawvault lock` forgets it",
                vault.id(),
                keychain::service(vault.id())
            );
        }
        Remember::Keyutils => {
            let ttl = ttl.expect("set above");
            keyutils::store(vault.id(), &id, ttl)
                .map_err(|e| Error::Other(format!("keyutils: cannot cache the identity: {e}")))?;
            println!(
                "cached the identity of vault {} in the kernel user keyring as {} for {} s (unlocked from {src}); it is gone at reboot; `clawvault lock` forgets it sooner",
                vault.id(),
                keyutils::key_name(vault.id()),
                ttl.as_secs()
            );
        }
        Remember::Dpapi => {
            let p = dpapi::store(vault.dir(), vault.id(), &id)
                .map_err(|e| Error::Other(format!("dpapi: cannot remember the identity: {e}")))?;
            println!(
                "remembered the identity of vault {} in {}, encrypted with DPAPI for this Windows user (unlocked from {src}); `clawvault lock` forgets it",
                vault.id(),
                p.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn unlock_agent(ctx: &Ctx) -> Result<ExitCode> {
    let vault = ctx.open_vault()?;
    let mut c = Client::connect(vault.dir(), vault.id()).map_err(|why| {
        Error::Usage(format!(
            "nothing to unlock: agent: {why}; start it with `clawvault agent start`, or cache the identity with `clawvault unlock --remember keychain|keyutils`"
        ))
    })?;
    let mut attempts = vec![];
    let prompt_text = format!("Passphrase for the vault at {}: ", vault.dir().display());
    let Some((src, pass)) = unlock::passphrase_from_sources(
        &ctx.unlock_options(),
        &mut prompt::TtyPrompter,
        &prompt_text,
        &mut attempts,
        Sources::PASSPHRASE_ONLY,
    ) else {
        return Err(UnlockError {
            dir: vault.dir().to_path_buf(),
            attempts,
            wrong_passphrase: false,
            fatal: None,
        }
        .into());
    };
    match c.unlock(&pass) {
        Ok(()) => {
            println!("unlocked the agent at {} with {src}", c.socket.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.code == clawvault::agent::codes::WRONG_PASSPHRASE => {
            attempts.push(Attempt {
                source: src,
                outcome: "wrong passphrase".into(),
            });
            Err(UnlockError {
                dir: vault.dir().to_path_buf(),
                attempts,
                wrong_passphrase: true,
                fatal: None,
            }
            .into())
        }
        Err(e) => Err(Error::Other(format!("agent: {e}"))),
    }
}

fn status(ctx: &Ctx, json: bool) -> Result<ExitCode> {
    let vault = ctx.open_vault()?;
    let agent = match Client::connect(vault.dir(), vault.id()) {
        Err(why) => SourceStatus {
            source: names::AGENT.into(),
            state: "unavailable",
            detail: why.to_string(),
        },
        Ok(mut c) => match c.status() {
            Ok(s) if s.unlocked || !s.needs_identity => SourceStatus {
                source: names::AGENT.into(),
                state: "would-unlock",
                detail: format!(
                    "running (pid {}) on {}, {}",
                    s.pid,
                    s.socket,
                    if s.unlocked {
                        "unlocked"
                    } else {
                        "serves the keychain backend"
                    }
                ),
            },
            Ok(s) => SourceStatus {
                source: names::AGENT.into(),
                state: "available",
                detail: format!(
                    "running (pid {}) on {}, locked: `clawvault unlock` unlocks it",
                    s.pid, s.socket
                ),
            },
            Err(e) => SourceStatus {
                source: names::AGENT.into(),
                state: "unavailable",
                detail: e.to_string(),
            },
        },
    };
    let mut rows = vec![agent];
    rows.extend(unlock::status(
        &vault,
        &ctx.unlock_options(),
        prompt::stdin_is_tty(),
    ));
    let first = rows
        .iter()
        .find(|r| r.state == "would-unlock")
        .or_else(|| rows.iter().find(|r| r.state == "available"))
        .map(|r| r.source.clone());
    if json {
        let v = serde_json::json!({
            "vault": vault.dir().display().to_string(),
            "vaultId": vault.id(),
            "backend": vault.manifest().backend.kind(),
            "readsNeedIdentity": vault.reads_need_identity(),
            "sources": rows,
            "next": first,
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("serializes"));
    } else {
        println!(
            "vault {} at {} ({} backend{})",
            vault.id(),
            vault.dir().display(),
            vault.manifest().backend.kind(),
            if vault.reads_need_identity() {
                ""
            } else {
                "; reads need no identity"
            }
        );
        println!("unlock sources, in the order they are tried:");
        for (i, r) in rows.iter().enumerate() {
            println!("  {}. {:<19} {:<13} {}", i + 1, r.source, r.state, r.detail);
        }
        match &first {
            Some(s) => println!("the next unlock would use: {s}"),
            None => println!("no source can unlock the vault now"),
        }
    }
    // Scripts and health checks read the exit code: 1 when nothing can unlock.
    Ok(if first.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Forget every cached copy: the agent's, the keychain item, the keyutils key, the
/// DPAPI file.
pub fn lock(ctx: &Ctx) -> Result<ExitCode> {
    let vault = ctx.open_vault()?;
    let mut failed = vec![];
    match Client::connect(vault.dir(), vault.id()) {
        Ok(mut c) => match c.lock() {
            Ok(()) => println!(
                "agent: locked (at {}; identity zeroized)",
                c.socket.display()
            ),
            Err(e) => failed.push(format!("agent: {e}")),
        },
        Err(_) => println!("agent: not running"),
    }
    let marker = remembered_marker(vault.dir());
    let marked = marker.exists();
    match clawvault::backend::keychain::platform_store() {
        Err(e) if marked => failed.push(format!(
            "keychain: not reachable ({e}), and `unlock --remember keychain` stored the identity there; run `clawvault lock` again inside the session that can reach it"
        )),
        Err(_) => println!("keychain: not reachable here, and this vault never remembered its identity there"),
        Ok(_) => match keychain::forget(vault.id()) {
            Ok(removed) => {
                let _ = std::fs::remove_file(&marker);
                println!(
                    "keychain: {}",
                    if removed {
                        "removed the remembered identity"
                    } else {
                        "nothing remembered"
                    }
                );
            }
            Err(e) => failed.push(format!("keychain: {e}")),
        },
    }
    match keyutils::forget(vault.id()) {
        Ok(true) => println!("keyutils: removed the cached identity"),
        Ok(false) => println!("keyutils: nothing cached"),
        Err(e) => failed.push(format!("keyutils: {e}")),
    }
    // Elsewhere than Windows a line only when a file was there (a vault copied over).
    match dpapi::forget(vault.dir()) {
        Ok(true) => println!("dpapi: removed the remembered identity"),
        Ok(false) if dpapi::SUPPORTED => println!("dpapi: nothing remembered"),
        Ok(false) => {}
        Err(e) => failed.push(format!("dpapi: {e}")),
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Other(format!(
            "could not forget every cached copy: {}",
            failed.join("; ")
        )))
    }
}

/// `<vault>/keychain-remembered`: present while the identity may be in the keychain.
fn remembered_marker(vault_dir: &std::path::Path) -> std::path::PathBuf {
    vault_dir.join("keychain-remembered")
}
