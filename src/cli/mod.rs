//! The command line. Parses arguments, builds a [`Ctx`], dispatches. Errors are
//! printed in exactly one place, `main.rs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use clawvault::paths::{AgentTarget, StateDir, StateDirSource};
use clawvault::unlock::{self, names, Attempt, UnlockOptions};
use clawvault::vault::Vault;
use clawvault::{Error, Result};
use zeroize::Zeroizing;

mod agent_cmd;
mod completions_cmd;
mod doctor_cmd;
mod kv_versions;
mod link_cmd;
mod log_cmd;
mod migrate_cmd;
mod migrate_openclaw;
mod migrate_residue;
mod models;
mod openclaw_cmd;
mod openclaw_delegate;
mod prompt;
mod reload;
mod resolve_cmd;
mod rotate_cmd;
mod unlock_cmd;
mod vault_cmd;

/// An encrypted secrets vault for OpenClaw.
///
/// Keeps profile metadata in OpenClaw's auth-profiles.json and the key and token
/// material in age-encrypted files or the OS keychain. Secrets are never accepted as
/// command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "clawvault",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts, before or after the subcommand name.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// OpenClaw state directory [default: $OPENCLAW_STATE_DIR, else ~/.openclaw]
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Vault directory [default: <state-dir>/vault]
    #[arg(long, global = true, value_name = "DIR", env = "CLAWVAULT_DIR")]
    pub vault: Option<PathBuf>,
    /// Read the vault passphrase from this file (mode 0600; one trailing newline is stripped)
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Read the vault passphrase from this inherited file descriptor
    #[arg(long, global = true, value_name = "N")]
    pub passphrase_fd: Option<i32>,
    /// Name of the systemd credential holding the passphrase, inside $CREDENTIALS_DIRECTORY
    /// (LoadCredential= / LoadCredentialEncrypted=)
    #[arg(long, global = true, value_name = "NAME", default_value = unlock::DEFAULT_CREDENTIAL)]
    pub credential: String,
    /// After a change to a secret, do not ask a running OpenClaw gateway to reload
    #[arg(long, global = true)]
    pub no_reload: bool,
}

// Parsed once per process: the size of its largest variant (`init`'s flags) costs
// nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a vault
    Init(vault_cmd::InitArgs),
    /// Change the vault passphrase (and optionally raise the Argon2id parameters)
    Passwd(vault_cmd::PasswdArgs),
    /// The vault's age identity, for recovery with the stock `age` CLI
    #[command(subcommand)]
    Identity(vault_cmd::IdentityCmd),
    /// Model provider credentials, mirroring `openclaw models ...`
    #[command(subcommand)]
    Models(models::ModelsCmd),
    /// OpenClaw exec SecretRef provider: one JSON request on stdin, one response on stdout
    ///
    /// Asks the clawvault agent first; without one, unlocks from the keychain-remembered
    /// identity, the keyutils cache, a systemd credential, or a passphrase file/fd. Never prompts.
    Resolve(resolve_cmd::ResolveArgs),
    /// Move plaintext credentials from OpenClaw's files into the vault
    Migrate(migrate_cmd::MigrateArgs),
    /// Move credentials out of .env files into the vault
    ImportEnv(migrate_cmd::ImportEnvArgs),
    /// Run a command with provider variables and imported secrets set from the vault
    Exec(migrate_cmd::ExecArgs),
    /// Show the access log: every read of secret material (ids and callers, never values)
    Log(log_cmd::LogArgs),
    /// Wire OpenClaw to the vault: register the exec provider, plan and scrub SQLite stores
    #[command(subcommand)]
    Openclaw(openclaw_cmd::OpenclawCmd),
    /// Unlock for unattended use: unlock the running agent, or remember the identity
    ///
    /// Without --remember, reads the passphrase (systemd credential, --passphrase-file,
    /// CLAWVAULT_PASSPHRASE_FILE, --passphrase-fd, else a prompt) and hands it to the agent.
    /// With --remember, caches the identity where later commands find it. --status shows
    /// each unlock source in the order they are tried, without unlocking.
    Unlock(unlock_cmd::UnlockArgs),
    /// Forget every cached copy of the identity: the agent's, the keychain's, the keyutils key
    Lock,
    /// The clawvault agent: holds the unlocked identity and serves `resolve`
    #[command(subcommand)]
    Agent(agent_cmd::AgentCmd),
    /// Audit this host for plaintext credentials and unsafe permissions; --fix repairs
    ///
    /// Exit 0 clean, 1 findings at or above --fail-on, 2 the audit itself failed.
    Doctor(clawvault::doctor::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout
    Completions(completions_cmd::CompletionsArgs),
    /// Print the clawvault(1) man page (roff) to stdout
    Man,
}

/// Everything a command needs to find its files.
pub struct Ctx {
    pub global: Global,
    pub state: StateDir,
}

impl Ctx {
    /// `vault_only`: the command reads only the vault (`resolve`), so an explicit
    /// `--vault` is enough even with no HOME to find the state directory by.
    /// `auditing`: the command is `doctor`, which reports an untrusted state directory
    /// (and fixes it with --fix) instead of refusing to look at it.
    fn new(global: Global, vault_only: bool, auditing: bool) -> Result<Ctx> {
        unlock::validate_credential_name(&global.credential).map_err(Error::Usage)?;
        let from_vault = || {
            global
                .vault
                .as_ref()
                .filter(|_| vault_only)
                .map(|v| StateDir {
                    // The default layout keeps the vault at <state>/vault.
                    path: v.parent().map(PathBuf::from).unwrap_or_else(|| v.clone()),
                    source: StateDirSource::Flag,
                })
        };
        let state = StateDir::resolve(global.state_dir.as_deref())
            .or_else(from_vault)
            .ok_or_else(|| {
            Error::Usage(
                "cannot find the OpenClaw state directory: HOME is not set; pass --state-dir DIR or set OPENCLAW_STATE_DIR".into(),
            )
        })?;
        // StrictModes on OpenClaw's state directory: clawvault reads profiles and
        // writes references there, so another user must not be able to swap it.
        if !auditing {
            clawvault::trust::check_if_exists(&state.path, clawvault::trust::Kind::Dir)
                .map_err(clawvault::fsutil::FsError::from)?;
        }
        if let StateDirSource::Legacy(name) = &state.source {
            eprintln!(
                "clawvault: ~/.openclaw does not exist; using the legacy state directory ~/{name}"
            );
        }
        Ok(Ctx { global, state })
    }

    pub fn vault_dir(&self) -> PathBuf {
        self.global
            .vault
            .clone()
            .unwrap_or_else(|| self.state.default_vault_dir())
    }

    pub fn agent(&self, flag: Option<&str>) -> Result<AgentTarget> {
        AgentTarget::resolve(&self.state, flag).map_err(Error::Usage)
    }

    /// The agent a `models` command acts on: `--agent`, else `$OPENCLAW_AGENT_DIR`, else
    /// the agent OpenClaw itself would pick for this kind of command (refusing, as
    /// OpenClaw does, when several agents are configured and none is selected).
    pub fn agent_for(
        &self,
        flag: Option<&str>,
        u: clawvault::openclaw::agents::Use,
    ) -> Result<AgentTarget> {
        let env_dir = std::env::var_os("OPENCLAW_AGENT_DIR").is_some_and(|p| !p.is_empty());
        if flag.is_some() || env_dir {
            return self.agent(flag);
        }
        let cfg_path = clawvault::openclaw::config_path(&self.state);
        // An unreadable or invalid config is reported by the commands that read it;
        // here it only means no roster, as for a host without a config.
        let config = std::fs::read(&cfg_path)
            .ok()
            .and_then(|b| clawvault::openclaw::config_secrets::parse_config(&b).ok());
        let id = clawvault::openclaw::agents::select(config.as_ref(), u)
            .map_err(|e| Error::Usage(format!("{}: {e}", cfg_path.display())))?;
        self.agent(Some(&id))
    }

    pub fn unlock_options(&self) -> UnlockOptions {
        UnlockOptions {
            passphrase_file: self.global.passphrase_file.clone(),
            passphrase_file_env: std::env::var_os("CLAWVAULT_PASSPHRASE_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            passphrase_fd: self.global.passphrase_fd,
            credentials_directory: std::env::var_os("CREDENTIALS_DIRECTORY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            credential_name: self.global.credential.clone(),
        }
    }

    /// Open the vault without unlocking it.
    pub fn open_vault(&self) -> Result<Vault> {
        Ok(Vault::open(&self.vault_dir())?)
    }

    /// Open the vault if one exists.
    pub fn open_vault_if_exists(&self) -> Result<Option<Vault>> {
        let dir = self.vault_dir();
        if Vault::exists(&dir) {
            Ok(Some(Vault::open(&dir)?))
        } else {
            Ok(None)
        }
    }

    /// Open and unlock the vault for reading secrets.
    pub fn unlocked_vault(&self) -> Result<Vault> {
        let mut v = self.open_vault()?;
        unlock::unlock(&mut v, &self.unlock_options(), &mut prompt::TtyPrompter)?;
        Ok(v)
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    // An inherited --passphrase-fd is ours to read, never a child's to inherit
    // (`clawvault exec` must not hand it on when the agent served the request).
    if let Some(fd) = cli.global.passphrase_fd {
        set_cloexec(fd);
    }
    // Generated from the clap definitions alone: no state directory needed.
    match cli.command {
        Command::Completions(a) => return completions_cmd::completions(a),
        Command::Man => return completions_cmd::man(),
        _ => {}
    }
    let changes = changes_secrets(&cli.command);
    let no_reload = cli.global.no_reload;
    let ctx = Ctx::new(
        cli.global,
        matches!(cli.command, Command::Resolve(_)),
        matches!(cli.command, Command::Doctor(_)),
    )?;
    let code = match cli.command {
        Command::Init(a) => vault_cmd::init(&ctx, a),
        Command::Passwd(a) => vault_cmd::passwd(&ctx, a),
        Command::Identity(c) => vault_cmd::identity(&ctx, c),
        Command::Models(c) => models::run(&ctx, c),
        Command::Resolve(a) => resolve_cmd::run(&ctx, a),
        Command::Migrate(a) => migrate_cmd::migrate(&ctx, a),
        Command::ImportEnv(a) => migrate_cmd::import_env(&ctx, a),
        Command::Exec(a) => migrate_cmd::exec(&ctx, a),
        Command::Log(a) => log_cmd::run(&ctx, a),
        Command::Openclaw(c) => openclaw_cmd::run(&ctx, c),
        Command::Unlock(a) => unlock_cmd::unlock(&ctx, a),
        Command::Lock => unlock_cmd::lock(&ctx),
        Command::Agent(c) => agent_cmd::run(&ctx, c),
        Command::Doctor(a) => Ok(doctor_cmd::run(&ctx, a)),
        Command::Completions(_) | Command::Man => unreachable!("handled above"),
    }?;
    if changes {
        reload::announce(&ctx, no_reload);
    }
    Ok(code)
}

/// Commands after which a running gateway should re-resolve its refs (a failed
/// command returns early and changes nothing to reload).
fn changes_secrets(c: &Command) -> bool {
    use models::{AuthCmd, ModelsCmd};
    match c {
        Command::Models(ModelsCmd::Auth(a)) => matches!(
            a.cmd,
            AuthCmd::PasteApiKey { .. }
                | AuthCmd::PasteToken { .. }
                | AuthCmd::SetupToken { .. }
                | AuthCmd::Logout { .. }
                | AuthCmd::Link(_)
                | AuthCmd::Rollback(_)
                | AuthCmd::Rotate(_)
        ),
        Command::Migrate(a) => !a.dry_run,
        Command::ImportEnv(a) => !a.dry_run,
        _ => false,
    }
}

#[cfg(unix)]
fn set_cloexec(fd: i32) {
    // SAFETY: F_GETFD/F_SETFD on an integer fd; a bad fd just fails.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}

/// Windows: `--passphrase-fd` names an inherited handle; stop children inheriting it.
#[cfg(windows)]
fn set_cloexec(fd: i32) {
    use windows_sys::Win32::Foundation::{SetHandleInformation, HANDLE_FLAG_INHERIT};
    if fd > 0 && clawvault::fsutil::fd_is_open(fd) {
        // SAFETY: only clears a flag on an open handle value; a bad one just fails.
        unsafe { SetHandleInformation(fd as usize as _, HANDLE_FLAG_INHERIT, 0) };
    }
}

/// The entries from a running, unlocked agent. `Err(None)` when the agent is not
/// asked (the vault needs no identity, or nothing is needed), `Err(Some(why))`
/// when it could not serve them (not running, locked...): the caller unlocks
/// locally. `who` labels the stderr note ("exec", "doctor").
pub(super) fn fetch_from_agent(
    v: &clawvault::vault::Vault,
    names: &[clawvault::backend::EntryName],
    who: &str,
) -> std::result::Result<HashMap<String, Zeroizing<String>>, Option<Attempt>> {
    if !v.reads_need_identity() || names.is_empty() {
        return Err(None);
    }
    let failed = |outcome: String| {
        Some(Attempt {
            source: names::AGENT.into(),
            outcome,
        })
    };
    let mut client = clawvault::agent::client::Client::connect(v.dir(), v.id())
        .map_err(|why| failed(why.to_string()))?;
    let ids: Vec<String> = names.iter().map(|n| n.as_str().to_string()).collect();
    let body = client.resolve(&ids).map_err(|e| {
        if e.is_locked() {
            failed(format!("running at {} but locked", client.socket.display()))
        } else {
            failed(e.to_string())
        }
    })?;
    #[derive(serde::Deserialize)]
    struct Resp {
        #[serde(default)]
        values: HashMap<String, String>,
    }
    let resp: Resp = serde_json::from_slice(&body)
        .map_err(|e| failed(format!("unreadable reply from the agent: {e}")))?;
    eprintln!(
        "clawvault: {who}: {} entries served by the agent at {}",
        ids.len(),
        client.socket.display()
    );
    Ok(resp
        .values
        .into_iter()
        .map(|(k, val)| (k, Zeroizing::new(val)))
        .collect())
}
