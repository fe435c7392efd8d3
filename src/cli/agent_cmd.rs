//! `clawvault agent start|stop|status|run`.

use std::io::Read;
use std::process::ExitCode;
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use clawvault::agent::client::{endpoint_exists, Client};
use clawvault::agent::{locked, paths, server};
use clawvault::fsutil;
use clawvault::unlock::{self, NoPrompt, Sources};
use clawvault::{Error, Result};

use super::prompt;
use super::Ctx;

#[derive(Debug, Subcommand)]
pub enum AgentCmd {
    /// Start the agent in the background; returns once its socket answers
    ///
    /// The agent unlocks itself from the keychain-remembered identity, the keyutils
    /// cache or a systemd credential when it can; otherwise `start` hands it a
    /// passphrase from --passphrase-file / CLAWVAULT_PASSPHRASE_FILE / --passphrase-fd /
    /// the prompt, or leaves it locked for `clawvault unlock`.
    Start(RunArgs),
    /// Stop the agent (it zeroizes the identity and removes its socket)
    Stop,
    /// Show whether the agent runs and is unlocked (exit 3 when it is not running)
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Run the agent in the foreground, for a service manager (sd_notify READY=1 when
    /// NOTIFY_SOCKET is set; SIGTERM stops it cleanly)
    Run(RunArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Lock (zeroize the identity) after this long without a request: 30s, 15m, 1h, 2d;
    /// 0 = never (for daemons)
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub idle: String,
    /// OpenBao / Vault backends: when the server is unreachable or sealed, answer from
    /// an age-encrypted cache of the values served before, if no older than this
    /// (e.g. 24h). Needs the vault identity (unlocked at start, or `clawvault unlock`).
    #[arg(long, value_name = "DURATION")]
    pub offline_grace: Option<String>,
}

fn parse_grace(s: &Option<String>) -> Result<Option<Duration>> {
    s.as_deref()
        .map(|g| {
            clawvault::auth::parse_duration(g).map_err(|_| {
                Error::Usage(format!(
                    "--offline-grace {g:?}: use a duration such as 15m, 24h, 7d"
                ))
            })
        })
        .transpose()
}

fn parse_idle(s: &str) -> Result<Option<Duration>> {
    if s.trim() == "0" {
        return Ok(None);
    }
    clawvault::auth::parse_duration(s).map(Some).map_err(|_| {
        Error::Usage(format!(
            "--idle {s:?}: use 0 (never) or a duration such as 30s, 15m, 1h"
        ))
    })
}

pub fn run(ctx: &Ctx, c: AgentCmd) -> Result<ExitCode> {
    match c {
        AgentCmd::Run(a) => run_foreground(ctx, &a),
        AgentCmd::Start(a) => start(ctx, &a),
        AgentCmd::Stop => stop(ctx),
        AgentCmd::Status { json } => status(ctx, json),
    }
}

fn run_foreground(ctx: &Ctx, a: &RunArgs) -> Result<ExitCode> {
    let idle = parse_idle(&a.idle)?;
    let offline_grace = parse_grace(&a.offline_grace)?;
    // Before any secret is in memory: no core dumps, no ptrace attach.
    for f in locked::harden_process() {
        eprintln!("clawvault agent: warning: cannot harden the process: {f}");
    }
    let mut vault = ctx.open_vault()?;
    let vault_dir = std::path::absolute(ctx.vault_dir()).unwrap_or_else(|_| ctx.vault_dir());
    // Single instance first: a second agent must not spend an Argon2id run to learn
    // that another one already serves the vault.
    let pid_lock = server::lock_instance(&vault_dir, vault.id()).map_err(Error::Other)?;
    // The offline cache is readable only with the identity, so a server backend
    // unlocks at start too when it is on.
    let initial = if vault.reads_need_identity() || offline_grace.is_some() {
        // Unwrapping copies the raw key through stack frames: they are scrubbed
        // once it returns, so none of it lies in this (long-lived) thread's stack.
        clawvault::secret::with_scrubbed_stack(|| {
            match unlock::unlock_from(
                &mut vault,
                &ctx.unlock_options(),
                &mut NoPrompt,
                Sources::ALL,
            ) {
                Ok(src) => Ok(Some((vault.identity_string()?, src))),
                Err(e) if e.fatal.is_some() => Err(Error::from(e)),
                Err(e) => {
                    eprintln!("clawvault agent: starting locked: {e}");
                    Ok(None)
                }
            }
        })?
    } else {
        None
    };
    drop(vault);
    server::run(server::Config {
        vault_dir,
        idle,
        initial,
        pid_lock: Some(pid_lock),
        offline_grace,
    })
    .map_err(Error::Other)?;
    Ok(ExitCode::SUCCESS)
}

fn start(ctx: &Ctx, a: &RunArgs) -> Result<ExitCode> {
    parse_idle(&a.idle)?;
    parse_grace(&a.offline_grace)?;
    let vault = ctx.open_vault()?;
    if let Ok(mut c) = Client::connect(vault.dir(), vault.id()) {
        if let Ok(s) = c.status() {
            println!(
                "the agent is already running (pid {}) on {}, {}",
                s.pid,
                s.socket,
                if s.unlocked || !s.needs_identity {
                    "unlocked"
                } else {
                    "locked"
                }
            );
            return Ok(ExitCode::SUCCESS);
        }
    }
    let vault_dir = std::path::absolute(ctx.vault_dir()).unwrap_or_else(|_| ctx.vault_dir());
    let p = paths::for_bind(&vault_dir, vault.id());
    fsutil::ensure_private_dir(&p.dir)?;
    let log = fsutil::open_append_private(&p.log, false).map_err(|e| {
        Error::Other(format!(
            "cannot open the agent log {}: {e}",
            p.log.display()
        ))
    })?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let exe = std::env::current_exe()
        .map_err(|e| Error::Other(format!("cannot find the clawvault binary: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--state-dir")
        .arg(&ctx.state.path)
        .arg("--vault")
        .arg(&vault_dir)
        .arg("--credential")
        .arg(&ctx.global.credential)
        .args(["agent", "run", "--idle", &a.idle])
        .args(
            a.offline_grace
                .as_deref()
                .map(|g| vec!["--offline-grace", g])
                .unwrap_or_default(),
        )
        .env_remove("CLAWVAULT_PASSPHRASE_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    detach(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::Other(format!("cannot start the agent: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            return Err(Error::Other(format!(
                "the agent exited ({st}) before it was ready: {}",
                log_tail(&p.log, log_start)
            )));
        }
        if let Ok(mut c) = Client::connect(&vault_dir, vault.id()) {
            if let Ok(s) = c.status() {
                break s;
            }
        }
        if Instant::now() > deadline {
            return Err(Error::Other(format!(
                "the agent did not answer on {} within 30 s; see {}",
                p.socket.display(),
                p.log.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut state = if status.unlocked {
        format!(
            "unlocked from {}",
            status.unlocked_by.clone().unwrap_or_default()
        )
    } else if !status.needs_identity {
        "serving the keychain backend (no identity needed)".to_string()
    } else {
        "locked".to_string()
    };
    if status.needs_identity && !status.unlocked {
        let mut attempts = vec![];
        let prompt_text = format!("Passphrase for the vault at {}: ", vault_dir.display());
        if let Some((src, pass)) = unlock::passphrase_from_sources(
            &ctx.unlock_options(),
            &mut prompt::TtyPrompter,
            &prompt_text,
            &mut attempts,
            Sources {
                credential: false,
                ..Sources::PASSPHRASE_ONLY
            },
        ) {
            let mut c = Client::connect(&vault_dir, vault.id())
                .map_err(|e| Error::Other(format!("agent: {e}")))?;
            c.unlock(&pass).map_err(|e| {
                Error::Other(format!(
                    "the agent started but did not unlock with {src}: {e}"
                ))
            })?;
            state = format!("unlocked with {src}");
        } else {
            state = "locked: run `clawvault unlock` to unlock it".into();
        }
    }
    println!(
        "started the clawvault agent (pid {}) on {}, {state}; log: {}",
        status.pid,
        status.socket,
        p.log.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Let the agent outlive this command: its own session (Unix: setsid, away from
/// our terminal and process group).
#[cfg(unix)]
fn detach(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

/// Windows: no console (so closing ours does not stop it) and its own process
/// group (so our Ctrl-C does not reach it). Our own standard handles are made
/// non-inheritable first: the agent gets its own (null, the log), and would
/// otherwise also inherit ours - a caller reading `agent start`'s output through
/// a pipe would then wait for the agent to exit before seeing end of file.
#[cfg(windows)]
fn detach(cmd: &mut std::process::Command) {
    use std::os::windows::io::AsRawHandle;
    use std::os::windows::process::CommandExt;
    use windows_sys::Win32::Foundation::{SetHandleInformation, HANDLE_FLAG_INHERIT};
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    for h in [
        std::io::stdin().as_raw_handle(),
        std::io::stdout().as_raw_handle(),
        std::io::stderr().as_raw_handle(),
    ] {
        if !h.is_null() {
            // SAFETY: our own standard handles; only the inherit flag changes.
            unsafe { SetHandleInformation(h as _, HANDLE_FLAG_INHERIT, 0) };
        }
    }
    cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
}

fn log_tail(path: &std::path::Path, from: u64) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        use std::io::{Seek, SeekFrom};
        let _ = f.seek(SeekFrom::Start(from));
        let _ = f.take(4096).read_to_string(&mut s);
    }
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.last() {
        Some(l) => l.to_string(),
        None => format!("see {}", path.display()),
    }
}

fn stop(ctx: &Ctx) -> Result<ExitCode> {
    let vault = ctx.open_vault()?;
    let mut c = match Client::connect(vault.dir(), vault.id()) {
        Ok(c) => c,
        Err(why) => {
            println!("no agent to stop: {why}");
            return Ok(ExitCode::SUCCESS);
        }
    };
    let pid = c.status().map(|s| s.pid).ok();
    c.stop().map_err(|e| Error::Other(format!("agent: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while endpoint_exists(&c.socket) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if endpoint_exists(&c.socket) {
        return Err(Error::Other(format!(
            "the agent did not stop within 10 s ({} still there)",
            c.socket.display()
        )));
    }
    match pid {
        Some(p) => println!("stopped the clawvault agent (pid {p})"),
        None => println!("stopped the clawvault agent"),
    }
    Ok(ExitCode::SUCCESS)
}

fn status(ctx: &Ctx, json: bool) -> Result<ExitCode> {
    let vault = ctx.open_vault()?;
    let got = Client::connect(vault.dir(), vault.id())
        .map_err(|e| e.to_string())
        .and_then(|mut c| c.status().map_err(|e| e.to_string()));
    match got {
        Ok(s) => {
            if json {
                let mut v = serde_json::to_value(&s).expect("serializes");
                v["running"] = true.into();
                println!("{v}");
            } else {
                println!(
                    "running (pid {}) on {}; vault {} ({} backend); {}; idle lock {}",
                    s.pid,
                    s.socket,
                    s.vault_id,
                    s.backend,
                    if s.unlocked {
                        format!("unlocked from {}", s.unlocked_by.unwrap_or_default())
                    } else if !s.needs_identity {
                        "no identity needed".into()
                    } else {
                        "locked".into()
                    },
                    if s.idle_secs == 0 {
                        "never".into()
                    } else {
                        format!("after {}s", s.idle_secs)
                    }
                );
                if let Some(o) = &s.offline {
                    let n = o["staleServed"].as_u64().unwrap_or(0);
                    println!(
                        "offline cache: values up to {}s old; {}",
                        o["graceSecs"].as_u64().unwrap_or(0),
                        if n == 0 {
                            "every answer so far came from the server".to_string()
                        } else {
                            format!("{n} answer(s) were STALE, served from the cache while the server was unreachable")
                        }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            if json {
                println!("{}", serde_json::json!({"running": false, "reason": why}));
            } else {
                println!("agent: {why}");
            }
            Ok(ExitCode::from(3))
        }
    }
}
