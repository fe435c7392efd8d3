//! `clawvault openclaw register | plan | scrub`: wiring OpenClaw to clawvault.
//!
//! Exit codes: 0 done; 1 error (nothing half-done); 2 `register` could not rewrite
//! the config safely and printed the snippet to paste instead.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use clawvault::backend::EntryName;
use clawvault::fsutil;
use clawvault::openclaw::config::{self, ProviderSpec, RegisterOutcome};
use clawvault::openclaw::sqlite::{self, ScrubVault, SecretMap};
use clawvault::openclaw::{self as oc, absolute, plan, OpenClawError};
use clawvault::secret::ExposeSecret;
use clawvault::unlock::read_passphrase_file;
use clawvault::vault::{BackendConfig, Vault};
use clawvault::{Error, Result};

use super::Ctx;

#[derive(Debug, Subcommand)]
pub enum OpenclawCmd {
    /// Declare clawvault as an exec SecretRef provider in openclaw.json
    ///
    /// Records the real path of this binary and `resolve` with the state, vault and
    /// unlock options given here (e.g. --passphrase-file F), checks that OpenClaw
    /// will accept the command, and runs it once the way OpenClaw will.
    Register(RegisterArgs),
    /// Move plaintext from OpenClaw's SQLite auth stores into the vault and write a
    /// `openclaw secrets apply` plan that points the profiles at it
    Plan(PlanArgs),
    /// Replace plaintext that `openclaw secrets apply` left in the SQLite auth stores
    /// with references, then vacuum and checkpoint (stop the gateway first)
    Scrub(ScrubArgs),
}

#[derive(Debug, Args)]
pub struct ProviderArgs {
    /// The provider alias in secrets.providers
    #[arg(long, default_value = clawvault::auth::REF_PROVIDER, value_name = "NAME")]
    pub alias: String,
    /// Do not run the resolver once to check that it answers
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    pub provider: ProviderArgs,
    /// The OpenClaw config [default: $OPENCLAW_CONFIG_PATH, else <state-dir>/openclaw.json]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub provider: ProviderArgs,
    /// Write the plan here (mode 0600) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only this agent's store (the shared store counts as agent main) [default: all]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Replace a different secret the vault already holds under the same name
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ScrubArgs {
    /// The provider alias the references name
    #[arg(long, default_value = clawvault::auth::REF_PROVIDER, value_name = "NAME")]
    pub alias: String,
    /// Only this agent's store (the shared store counts as agent main) [default: all]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Report what would change without writing anything
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Ctx, cmd: OpenclawCmd) -> Result<ExitCode> {
    match cmd {
        OpenclawCmd::Register(a) => register(ctx, a),
        OpenclawCmd::Plan(a) => plan_cmd(ctx, a),
        OpenclawCmd::Scrub(a) => scrub(ctx, a),
    }
}

fn oc_err(e: OpenClawError) -> Error {
    Error::from(e)
}

/// The provider declaration for this invocation: real binary path, `resolve` with
/// absolute state and vault paths and the passphrase file, and the environment the
/// unlock sources need.
pub(super) fn provider_spec(ctx: &Ctx, vault: &Vault, alias: &str) -> Result<ProviderSpec> {
    config::validate_alias(alias).map_err(Error::Usage)?;
    let command = config::current_command().map_err(oc_err)?;
    config::check_command(&command).map_err(oc_err)?;
    let abs = |p: &Path| {
        absolute(p)
            .map_err(|e| Error::Other(format!("{}: cannot make it absolute: {e}", p.display())))
    };
    let state = abs(&ctx.state.path)?;
    let vault_dir = abs(vault.dir())?;
    let mut args = vec![
        "resolve".to_string(),
        "--state-dir".into(),
        state.to_string_lossy().into_owned(),
        "--vault".into(),
        vault_dir.to_string_lossy().into_owned(),
    ];
    if alias != clawvault::auth::REF_PROVIDER {
        args.push("--alias".into());
        args.push(alias.to_string());
    }
    let mut pass_env: Vec<String> = Vec::new();
    if ctx.global.passphrase_fd.is_some() {
        return Err(Error::Usage(
            "OpenClaw cannot hand the resolver a file descriptor; record a passphrase file with --passphrase-file F (mode 0600) instead".into(),
        ));
    }
    let opts = ctx.unlock_options();
    if let Some(f) = opts.passphrase_file.or(opts.passphrase_file_env) {
        let f = abs(&f)?;
        read_passphrase_file(&f).map_err(Error::Usage)?;
        if let Some(cd) = std::env::var_os("CREDENTIALS_DIRECTORY").filter(|c| !c.is_empty()) {
            if f.starts_with(&cd) {
                pass_env.push("CREDENTIALS_DIRECTORY".into());
            }
        }
        args.push("--passphrase-file".into());
        args.push(f.to_string_lossy().into_owned());
    } else if vault.reads_need_identity() {
        eprintln!(
            "clawvault: warning: the age vault at {} must be unlocked to serve OpenClaw and no --passphrase-file was given; the gateway will need a running, unlocked agent (`clawvault agent start && clawvault unlock`) or a remembered identity (`clawvault unlock --remember keyutils|keychain`)",
            vault.dir().display()
        );
        // Where the agent's socket and a keychain-remembered identity are found.
        pass_env.push("XDG_RUNTIME_DIR".into());
        pass_env.push("DBUS_SESSION_BUS_ADDRESS".into());
    }
    if let BackendConfig::Openbao(cfg) = &vault.manifest().backend {
        use clawvault::backend::openbao::OpenBaoAuth;
        match &cfg.auth {
            OpenBaoAuth::Token {
                token_keychain: Some(_),
                ..
            } => {
                pass_env.push("DBUS_SESSION_BUS_ADDRESS".into());
                pass_env.push("XDG_RUNTIME_DIR".into());
            }
            OpenBaoAuth::Token {
                token_file: None, ..
            } => {
                // The token comes from the environment: OpenClaw must pass it on.
                pass_env.push("BAO_TOKEN".into());
                pass_env.push("VAULT_TOKEN".into());
            }
            // role_id / secret_id may be systemd credentials.
            OpenBaoAuth::Approle { .. }
            | OpenBaoAuth::Jwt { .. }
            | OpenBaoAuth::Kubernetes { .. } => pass_env.push("CREDENTIALS_DIRECTORY".into()),
            OpenBaoAuth::Token { .. } => {}
        }
        if cfg.namespace.is_none() {
            pass_env.push("BAO_NAMESPACE".into());
            pass_env.push("VAULT_NAMESPACE".into());
        }
    }
    if let BackendConfig::Keychain { .. } = vault.manifest().backend {
        // The Secret Service is reached over the session bus.
        pass_env.push("DBUS_SESSION_BUS_ADDRESS".into());
        pass_env.push("XDG_RUNTIME_DIR".into());
    }
    let mut seen = std::collections::HashSet::new();
    pass_env.retain(|v| seen.insert(v.clone()));
    Ok(ProviderSpec {
        alias: alias.to_string(),
        command,
        args,
        pass_env,
        timeout_ms: config::TIMEOUT_MS,
    })
}

fn register(ctx: &Ctx, a: RegisterArgs) -> Result<ExitCode> {
    let vault = ctx.open_vault()?;
    let spec = provider_spec(ctx, &vault, &a.provider.alias)?;
    if !a.provider.no_check {
        config::probe(&spec).map_err(oc_err)?;
    }
    let path = a.config.unwrap_or_else(|| oc::config_path(&ctx.state));
    match config::register(&path, &spec).map_err(oc_err)? {
        RegisterOutcome::Written { replaced } => {
            let verb = if replaced.is_some() {
                "replaced"
            } else {
                "added"
            };
            eprintln!(
                "clawvault: {verb} secrets.providers.{} in {} (command {})",
                spec.alias,
                path.display(),
                spec.command.display()
            );
            eprintln!("clawvault: restart the gateway or run `openclaw secrets reload` to use it");
            Ok(ExitCode::SUCCESS)
        }
        RegisterOutcome::Unchanged => {
            eprintln!(
                "clawvault: {} already declares secrets.providers.{} exactly so; nothing to do",
                path.display(),
                spec.alias
            );
            Ok(ExitCode::SUCCESS)
        }
        RegisterOutcome::Manual { reason } => {
            eprintln!("clawvault: {} was not changed: {reason}", path.display());
            eprintln!(
                "clawvault: merge this into it by hand (keep your comments), then run `openclaw secrets reload`:"
            );
            println!("{}", spec.snippet());
            Ok(ExitCode::from(2))
        }
    }
}

fn plan_cmd(ctx: &Ctx, a: PlanArgs) -> Result<ExitCode> {
    if let Some(agent) = &a.agent {
        clawvault::paths::validate_agent_id(agent).map_err(Error::Usage)?;
    }
    let stores = sqlite::read_all(&ctx.state, a.agent.as_deref()).map_err(oc_err)?;
    if stores.is_empty() {
        return Err(Error::Usage(format!(
            "no OpenClaw SQLite auth store under {} (looked for state/openclaw.sqlite and agents/*/agent/openclaw-agent.sqlite); for a JSON-era install use `clawvault migrate`",
            ctx.state.path.display()
        )));
    }
    let (cands, mut skipped) = plan::collect(&stores);
    let vault = ctx.unlocked_vault()?;
    let spec = provider_spec(ctx, &vault, &a.provider.alias)?;
    if !a.provider.no_check {
        config::probe(&spec).map_err(oc_err)?;
    }
    let backend = vault.backend()?;
    let mut planned = Vec::new();
    for c in &cands {
        let name = EntryName::new(&c.entry())
            .map_err(|e| Error::Usage(format!("profile {}: {e}", c.profile_id)))?;
        if let Some(existing) = backend.get(&name)? {
            if existing.expose_secret() != c.secret.as_bytes() && !a.force {
                skipped.push(plan::Skipped {
                    agent_id: c.agent_id.clone(),
                    profile_id: c.profile_id.clone(),
                    store: c.store.clone(),
                    reason: format!(
                        "the vault already holds a different secret for {name}; pass --force to replace it"
                    ),
                });
                continue;
            }
        }
        backend.set(&name, c.secret.as_bytes())?;
        fsutil::crash_point("plan:after-vault-set");
        // Read back and compare before any plan points at it.
        match backend.get(&name)? {
            Some(v) if v.expose_secret() == c.secret.as_bytes() => {}
            _ => {
                return Err(Error::Other(format!(
                    "the vault did not return what was stored for {name}; no plan was written"
                )))
            }
        }
        planned.push(c);
    }
    let plan = plan::build(&spec, &planned);
    let mut text = serde_json::to_string_pretty(&plan).expect("JSON serializes");
    text.push('\n');
    match &a.out {
        Some(p) => fsutil::write_atomic(p, text.as_bytes())?,
        None => print!("{text}"),
    }
    for s in &skipped {
        eprintln!(
            "clawvault: skipped {} (agent {}, {}): {}",
            s.profile_id, s.agent_id, s.store, s.reason
        );
    }
    for c in &planned {
        eprintln!(
            "clawvault: stored {} ({}) from {} in the vault as {}",
            c.profile_id,
            match c.ty {
                clawvault::profiles::ProfileType::Token => "token",
                _ => "api_key",
            },
            c.store,
            c.entry()
        );
    }
    let from = a
        .out
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "plan.json".into());
    eprintln!(
        "clawvault: {} profile(s) in the plan. Next: `openclaw secrets apply --from {from} --allow-exec`, then `clawvault openclaw scrub` (OpenClaw 2026.9.6 leaves the shared store's plaintext behind)",
        planned.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The unlocked vault as scrub sees it: every entry's value, and backups under
/// `<vault>/backups/openclaw/`, age-encrypted to the vault recipient.
pub(super) struct VaultForScrub<'a> {
    pub vault: &'a Vault,
    pub secrets: SecretMap,
}

impl VaultForScrub<'_> {
    /// Where [`ScrubVault::backup`] writes.
    pub(super) fn backup_dir(&self) -> PathBuf {
        self.vault.dir().join("backups").join("openclaw")
    }
}

impl ScrubVault for VaultForScrub<'_> {
    fn secret(&self, entry: &str) -> Option<&[u8]> {
        self.secrets.get(entry).map(|v| v.as_slice())
    }

    fn all_secrets(&self) -> Vec<&[u8]> {
        self.secrets.values().map(|v| v.as_slice()).collect()
    }

    fn backup(&self, label: &str, data: &[u8]) -> std::result::Result<PathBuf, String> {
        let dir = self.backup_dir();
        fsutil::ensure_private_dir(&dir).map_err(|e| e.to_string())?;
        let recipient = self.vault.recipient().map_err(|e| e.to_string())?;
        let ct = age::encrypt(&recipient, data).map_err(|e| e.to_string())?;
        let path = dir.join(format!("{}-{}.json.age", fsutil::now_ms(), label));
        fsutil::write_atomic(&path, &ct).map_err(|e| e.to_string())?;
        Ok(path)
    }
}

/// Every secret of the unlocked vault, for scrub's comparisons.
pub(super) fn vault_secrets(vault: &Vault) -> Result<VaultForScrub<'_>> {
    let backend = vault.backend()?;
    let names = backend.list()?;
    let mut secrets = SecretMap::new();
    for (n, v) in names.iter().zip(backend.get_many(&names)) {
        if let Some(v) = v? {
            secrets.insert(
                n.as_str().to_string(),
                zeroize::Zeroizing::new(v.expose_secret().to_vec()),
            );
        }
    }
    Ok(VaultForScrub { vault, secrets })
}

/// Replace the plaintext OpenClaw left in every SQLite auth store with references
/// (then vacuum and checkpoint); returns how many cells were replaced.
pub(super) fn scrub_stores(
    ctx: &Ctx,
    sv: &VaultForScrub<'_>,
    alias: &str,
    agent: Option<&str>,
    dry_run: bool,
) -> Result<usize> {
    let mut total = 0;
    for (kind, path) in sqlite::store_locations(&ctx.state, agent) {
        let Some(r) = sqlite::scrub_db(kind, &path, alias, sv, dry_run).map_err(oc_err)? else {
            continue;
        };
        let verb = if dry_run { "would replace" } else { "replaced" };
        for s in &r.replaced {
            eprintln!(
                "clawvault: {verb} the plaintext of {} in {} ({}) with a reference to {}",
                s.profile_id,
                r.kind.describe(),
                r.db_path.display(),
                s.entry
            );
        }
        for m in &r.mismatched {
            eprintln!(
                "clawvault: left {m} in {} alone: its plaintext differs from the vault's copy (run `clawvault openclaw plan` for it)",
                r.db_path.display()
            );
        }
        if let Some(b) = &r.backup {
            eprintln!(
                "clawvault: encrypted backup of the old row: {}",
                b.display()
            );
        }
        if r.vacuumed {
            eprintln!(
                "clawvault: vacuumed and checkpointed {}: no vault secret remains in its pages or WAL",
                r.db_path.display()
            );
        }
        total += r.replaced.len();
    }
    Ok(total)
}

fn scrub(ctx: &Ctx, a: ScrubArgs) -> Result<ExitCode> {
    config::validate_alias(&a.alias).map_err(Error::Usage)?;
    if let Some(agent) = &a.agent {
        clawvault::paths::validate_agent_id(agent).map_err(Error::Usage)?;
    }
    if let Some(holder) = sqlite::live_gateway_lock(&ctx.state) {
        return Err(oc_err(OpenClawError::InUse {
            what: ctx.state.path.display().to_string(),
            holder,
        }));
    }
    // The refs scrub writes must resolve: the provider has to be declared.
    let cfg = oc::config_path(&ctx.state);
    if let Ok(Some(bytes)) = fsutil::read_private(&cfg) {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if v["secrets"]["providers"][&a.alias]["source"] != "exec" {
                return Err(Error::Usage(format!(
                    "{} declares no exec provider {:?}; apply the plan or run `clawvault openclaw register` first - nothing was changed",
                    cfg.display(),
                    a.alias
                )));
            }
        }
    }
    let vault = ctx.unlocked_vault()?;
    let sv = vault_secrets(&vault)?;
    let total = scrub_stores(ctx, &sv, &a.alias, a.agent.as_deref(), a.dry_run)?;
    // Archives OpenClaw keeps after importing JSON: report, never delete silently.
    let needles = sv.all_secrets();
    for id in ctx.state.agent_ids() {
        let dir = ctx.state.agent_dir(&id);
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("auth-profiles.json.") {
                let bytes = zeroize::Zeroizing::new(std::fs::read(e.path()).unwrap_or_default());
                if needles
                    .iter()
                    .any(|n| !n.is_empty() && bytes.windows(n.len()).any(|w| w == *n))
                {
                    eprintln!(
                        "clawvault: warning: {} still holds plaintext of a vault secret (an archive OpenClaw keeps, which nothing reads); delete it once you no longer need it (`clawvault doctor` lists such archives)",
                        e.path().display()
                    );
                }
            }
        }
    }
    if total == 0 {
        eprintln!("clawvault: no plaintext copy of a vault secret left to replace");
    }
    Ok(ExitCode::SUCCESS)
}
