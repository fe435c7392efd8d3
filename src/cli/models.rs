//! `clawvault models auth ...` and `clawvault models status`, mirroring OpenClaw.

use clawvault::openclaw::agents::Use;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use clawvault::auth::{self, ProfileStatus};
use clawvault::authstore;
use clawvault::fsutil::now_ms;
use clawvault::profiles::ProfileType;
use clawvault::{Error, Result};

use super::{prompt, Ctx};

#[derive(Debug, Subcommand)]
pub enum ModelsCmd {
    /// Manage auth profiles
    Auth(AuthArgs),
    /// Per-profile status: ok, expiring, expired, missing or static
    Status(StatusArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AgentArg {
    /// Agent id [default: from $OPENCLAW_AGENT_DIR, else main]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuthArgs {
    /// Agent id for every subcommand [default: main]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    #[command(subcommand)]
    pub cmd: AuthCmd,
}

#[derive(Debug, Subcommand)]
pub enum AuthCmd {
    /// List profiles (never prints secret material)
    List {
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        agent: AgentArg,
    },
    /// Store an API key (from a hidden prompt, or stdin when piped)
    PasteApiKey {
        #[arg(long)]
        provider: String,
        /// [default: the provider's existing API-key profile, else <provider>:manual]
        #[arg(long)]
        profile_id: Option<String>,
        #[command(flatten)]
        agent: AgentArg,
    },
    /// Store a token (from a hidden prompt, or stdin when piped)
    PasteToken {
        #[arg(long)]
        provider: String,
        /// [default: <provider>:manual]
        #[arg(long)]
        profile_id: Option<String>,
        /// Lifetime, e.g. 365d, 12h, 30m, 2w; stored as an absolute `expires`
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
        #[command(flatten)]
        agent: AgentArg,
    },
    /// Interactive token setup (needs a terminal)
    SetupToken {
        #[arg(long)]
        provider: String,
        /// [default: <provider>:default]
        #[arg(long)]
        profile_id: Option<String>,
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        agent: AgentArg,
    },
    /// Remove a profile, its secret, and every reference to it in `order`
    Logout {
        profile_id: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        /// Also destroy the secret's past versions (OpenBao / Vault KV v2 keeps them
        /// after a plain delete, recoverable with `bao kv undelete`)
        #[arg(long)]
        purge: bool,
        #[command(flatten)]
        agent: AgentArg,
    },
    /// The per-agent order override
    #[command(subcommand)]
    Order(OrderCmd),
    /// Use a key that already lives in an OpenBao / Vault KV v2 field (read-only)
    Link(super::link_cmd::LinkArgs),
    /// Restore an earlier KV v2 version of an OpenBao-backed profile
    Rollback(super::kv_versions::RollbackArgs),
    /// Replace a profile's secret, keeping the old one recoverable (--rollback) for a
    /// grace period; a running gateway is asked to reload
    Rotate(super::rotate_cmd::RotateArgs),
    /// OpenClaw's own (OAuth / provider sign-in): handed to `openclaw models auth login`
    #[command(disable_help_flag = true)]
    Login(Delegated),
    /// OpenClaw's own (GitHub device flow): handed to `openclaw models auth login-github-copilot`
    #[command(disable_help_flag = true)]
    LoginGithubCopilot(Delegated),
    /// OpenClaw's own: handed to `openclaw models auth activate`
    #[command(disable_help_flag = true)]
    Activate(Delegated),
    /// OpenClaw's own (interactive provider picker): handed to `openclaw models auth add`
    #[command(disable_help_flag = true)]
    Add(Delegated),
}

/// Arguments passed unchanged to the `openclaw` binary.
#[derive(Debug, Args)]
pub struct Delegated {
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum OrderCmd {
    Get {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        agent: AgentArg,
    },
    Set {
        #[arg(long)]
        provider: String,
        #[arg(required = true)]
        ids: Vec<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        agent: AgentArg,
    },
    Clear {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        agent: AgentArg,
    },
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when a profile is expired, missing or cannot be resolved now, 2 when one
    /// expires within 24 h (OpenClaw's set)
    #[arg(long)]
    pub check: bool,
    /// OpenClaw's own live provider probe: handed to `openclaw models status --probe`
    #[arg(long)]
    pub probe: bool,
    /// OpenClaw's plain output: handed to `openclaw models status --plain`
    #[arg(long)]
    pub plain: bool,
    #[command(flatten)]
    pub agent: AgentArg,
}

pub fn run(ctx: &Ctx, cmd: ModelsCmd) -> Result<ExitCode> {
    match cmd {
        ModelsCmd::Status(a) => status(ctx, a),
        ModelsCmd::Auth(a) => auth_cmd(ctx, a),
    }
}

fn pick<'a>(outer: &'a Option<String>, inner: &'a AgentArg) -> Option<&'a str> {
    inner.agent.as_deref().or(outer.as_deref())
}

fn expires_at(expires_in: Option<&str>) -> Result<Option<u64>> {
    expires_in
        .map(|s| auth::parse_duration(s).map(|d| now_ms() + d.as_millis() as u64))
        .transpose()
}

#[allow(clippy::too_many_arguments)] // the body paste-api-key and paste-token share
fn paste(
    ctx: &Ctx,
    agent: Option<&str>,
    provider: &str,
    profile_id: Option<String>,
    ty: ProfileType,
    default_name: &str,
    expires_in: Option<&str>,
    interactive_only: bool,
) -> Result<ExitCode> {
    let agent = ctx.agent_for(agent, Use::Change)?;
    auth::validate_provider(provider)?;
    let id = match profile_id {
        Some(id) => id,
        None if ty == ProfileType::ApiKey => {
            let (doc, _) = authstore::effective_doc(&ctx.state, &agent)?;
            auth::default_api_key_profile(&doc, provider)
        }
        None => format!("{provider}:{default_name}"),
    };
    auth::validate_profile_id(&agent.id, &id)?;
    let expires = expires_at(expires_in)?;
    let vault = ctx.open_vault()?;
    if interactive_only && !prompt::stdin_is_tty() {
        return Err(Error::Usage(
            "setup-token needs a terminal; in scripts use `clawvault models auth paste-token` with the token on stdin".into(),
        ));
    }
    let what = if ty == ProfileType::Token {
        "token"
    } else {
        "API key"
    };
    // Refuse before reading the secret when the store cannot be written.
    authstore::write_store(&ctx.state, &agent)?;
    let secret = prompt::read_secret(what)?;
    let store = authstore::ops::paste(
        &vault, &ctx.state, &agent, &id, ty, provider, &secret, expires,
    )?;
    eprintln!(
        "stored {what} for {id} (agent {}) in the {} vault; {} now holds only a reference",
        agent.id,
        vault.manifest().backend.kind(),
        store.path().display()
    );
    Ok(ExitCode::SUCCESS)
}

fn auth_cmd(ctx: &Ctx, a: AuthArgs) -> Result<ExitCode> {
    let outer = a.agent;
    match a.cmd {
        AuthCmd::Link(l) => super::link_cmd::run(ctx, outer.as_deref(), l),
        AuthCmd::Rollback(r) => super::kv_versions::rollback(ctx, outer.as_deref(), r),
        AuthCmd::Rotate(r) => super::rotate_cmd::run(ctx, outer.as_deref(), r),
        AuthCmd::List {
            provider,
            json,
            agent,
        } => {
            let agent = ctx.agent_for(pick(&outer, &agent), Use::Read)?;
            let (doc, store_path) = authstore::effective_doc(&ctx.state, &agent)?;
            let vault = ctx.open_vault_if_exists()?;
            let mut rows = auth::status(&doc, vault.as_ref(), now_ms() as i64)?;
            if let Some(p) = &provider {
                rows.retain(|r| &r.provider == p);
            }
            if json {
                // OpenClaw's shape (`agentId`, `agentDir`, `authStatePath`,
                // `provider`, profiles[].id/provider/type/label), plus clawvault's
                // per-profile status fields.
                let profiles: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| {
                        let mut v = serde_json::to_value(r).expect("serializes");
                        if let Some(o) = v.as_object_mut() {
                            o.insert("id".into(), json!(r.profile_id));
                            o.insert("label".into(), json!(r.profile_id));
                        }
                        v
                    })
                    .collect();
                print_json(&json!({
                    "agentId": agent.id,
                    "agentDir": agent.dir,
                    "authStatePath": store_path,
                    "provider": provider,
                    "profiles": profiles,
                    "agent": agent.id,
                }));
            } else {
                print_table(&rows, false);
            }
            Ok(ExitCode::SUCCESS)
        }
        AuthCmd::PasteApiKey {
            provider,
            profile_id,
            agent,
        } => paste(
            ctx,
            pick(&outer, &agent),
            &provider,
            profile_id,
            ProfileType::ApiKey,
            "manual",
            None,
            false,
        ),
        AuthCmd::PasteToken {
            provider,
            profile_id,
            expires_in,
            agent,
        } => paste(
            ctx,
            pick(&outer, &agent),
            &provider,
            profile_id,
            ProfileType::Token,
            "manual",
            expires_in.as_deref(),
            false,
        ),
        AuthCmd::SetupToken {
            provider,
            profile_id,
            expires_in,
            yes: _,
            agent,
        } => {
            if !prompt::stdin_is_tty() {
                return Err(Error::Usage(
                    "setup-token needs a terminal; in scripts pipe the token to `clawvault models auth paste-token`".into(),
                ));
            }
            if provider == "anthropic" {
                eprintln!("Run `claude setup-token` in another terminal: it prints a long-lived token (sk-ant-oat01-...). Paste it below.");
            } else {
                eprintln!("Create a long-lived token in {provider}'s console and paste it below.");
            }
            paste(
                ctx,
                pick(&outer, &agent),
                &provider,
                profile_id,
                ProfileType::Token,
                "default",
                expires_in.as_deref(),
                true,
            )
        }
        AuthCmd::Logout {
            profile_id,
            yes,
            purge,
            agent,
        } => {
            let agent = ctx.agent_for(pick(&outer, &agent), Use::Change)?;
            if !yes {
                if !prompt::stdin_is_tty() {
                    return Err(Error::Usage(format!(
                        "logout removes {profile_id} and its secret; pass --yes to confirm when no terminal is attached"
                    )));
                }
                if !prompt::confirm(&format!("Remove {profile_id} and its stored secret?")) {
                    eprintln!("nothing removed");
                    return Ok(ExitCode::from(1));
                }
            }
            let vault = ctx.open_vault_if_exists()?;
            let r = authstore::ops::logout(vault.as_ref(), &ctx.state, &agent, &profile_id, purge)?;
            eprintln!(
                "removed {}{}",
                r.profile_id,
                if r.secret_deleted {
                    " and its secret"
                } else {
                    ""
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        AuthCmd::Order(o) => order(ctx, &outer, o),
        AuthCmd::Login(d) => delegate(ctx, &outer, "login", d),
        AuthCmd::LoginGithubCopilot(d) => delegate(ctx, &outer, "login-github-copilot", d),
        AuthCmd::Activate(d) => delegate(ctx, &outer, "activate", d),
        AuthCmd::Add(d) => delegate(ctx, &outer, "add", d),
    }
}

/// `openclaw models auth <sub> [--agent ID] ARGS...`: what stays OpenClaw's by nature
/// (OAuth sign-in, which OpenClaw's policy keeps out of SecretRefs, and its pickers).
fn delegate(ctx: &Ctx, outer: &Option<String>, sub: &str, d: Delegated) -> Result<ExitCode> {
    let mut args: Vec<String> = vec!["models".into(), "auth".into(), sub.into()];
    if let Some(a) = outer {
        args.extend(["--agent".into(), a.clone()]);
    }
    args.extend(d.args);
    super::openclaw_delegate::run(&ctx.state, &args)
}

fn order(ctx: &Ctx, outer: &Option<String>, o: OrderCmd) -> Result<ExitCode> {
    let (agent, provider, json) = match &o {
        OrderCmd::Get {
            agent,
            provider,
            json,
        }
        | OrderCmd::Set {
            agent,
            provider,
            json,
            ..
        }
        | OrderCmd::Clear {
            agent,
            provider,
            json,
        } => (agent, provider.clone(), *json),
    };
    let u = if matches!(o, OrderCmd::Get { .. }) {
        Use::Read
    } else {
        Use::Change
    };
    let agent = ctx.agent_for(pick(outer, agent), u)?;
    auth::validate_provider(&provider)?;
    if authstore::era(&ctx.state) == authstore::Era::Sqlite {
        // The order holds no secret and lives in OpenClaw's own state: OpenClaw's
        // command writes it with OpenClaw's rules.
        let mut args: Vec<String> = vec!["models".into(), "auth".into(), "order".into()];
        match &o {
            OrderCmd::Get { .. } => args.push("get".into()),
            OrderCmd::Set { .. } => args.push("set".into()),
            OrderCmd::Clear { .. } => args.push("clear".into()),
        }
        args.extend([
            "--provider".into(),
            provider.clone(),
            "--agent".into(),
            agent.id.clone(),
        ]);
        if json {
            args.push("--json".into());
        }
        if let OrderCmd::Set { ids, .. } = &o {
            args.extend(ids.iter().cloned());
        }
        return super::openclaw_delegate::run(&ctx.state, &args);
    }
    // auth-state.json beside auth-profiles.json holds the order when it exists.
    let result = match o {
        OrderCmd::Get { .. } => auth::order_get(&agent, &provider)?,
        OrderCmd::Set { ids, .. } => Some(auth::order_set(&agent, &provider, &ids)?),
        OrderCmd::Clear { .. } => {
            auth::order_clear(&agent, &provider)?;
            None
        }
    };
    if json {
        // OpenClaw's shape (`agentId`, `agentDir`, `provider`, `authStatePath`,
        // `order`), plus `agent` as before.
        let state_path = auth::order_store_path(&agent)?;
        print_json(&json!({
            "agentId": agent.id,
            "agentDir": agent.dir,
            "provider": provider,
            "authStatePath": state_path,
            "order": result,
            "agent": agent.id,
        }));
    } else {
        match result {
            Some(ids) => println!("{}", ids.join(" ")),
            None => println!("(no order override for {provider})"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status(ctx: &Ctx, a: StatusArgs) -> Result<ExitCode> {
    if a.probe || a.plain {
        // Live model calls and OpenClaw's plain format are OpenClaw's own.
        let mut args: Vec<String> = vec!["models".into(), "status".into()];
        for (on, flag) in [
            (a.probe, "--probe"),
            (a.plain, "--plain"),
            (a.json, "--json"),
            (a.check, "--check"),
        ] {
            if on {
                args.push(flag.into());
            }
        }
        if let Some(id) = &a.agent.agent {
            args.extend(["--agent".into(), id.clone()]);
        }
        return super::openclaw_delegate::run(&ctx.state, &args);
    }
    let agent = ctx.agent_for(a.agent.agent.as_deref(), Use::Read)?;
    let (doc, store_path) = authstore::effective_doc(&ctx.state, &agent)?;
    let vault = ctx.open_vault_if_exists()?;
    let mut rows = auth::status(&doc, vault.as_ref(), now_ms() as i64)?;
    let unregistered = vault.is_some() && !check_resolvable(ctx, &mut rows);
    let kv = super::kv_versions::collect(vault.as_ref(), &agent.id, &rows)?;
    if a.json {
        // clawvault's rows (`agent`, `profiles`), and the part of OpenClaw's
        // `models status --json` that describes the same profiles, under OpenClaw's
        // names: `agentDir`, `configPath`, `auth.storePath`, `auth.oauth.profiles[]`
        // (`profileId`, `provider`, `type`, `status`, `source`, `label`). The label is
        // the profile id: OpenClaw's shows part of a plaintext key, clawvault never.
        let openclaw_rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "profileId": r.profile_id,
                    "provider": r.provider,
                    "type": r.ty,
                    "status": r.status,
                    "source": "store",
                    "label": r.profile_id,
                })
            })
            .collect();
        let mut out = json!({
            "agent": agent.id,
            "profiles": rows,
            "agentDir": agent.dir,
            "configPath": clawvault::openclaw::config_path(&ctx.state),
            "auth": {
                "storePath": store_path,
                "oauth": {
                    "warnAfterMs": auth::EXPIRING_WITHIN_MS,
                    "profiles": openclaw_rows,
                },
            },
        });
        if let Some(kv) = kv {
            out["openbaoVersions"] = kv;
        }
        print_json(&out);
    } else {
        print_table(&rows, true);
        for r in rows
            .iter()
            .filter(|r| r.status == auth::Status::Unavailable)
        {
            println!(
                "{}: OpenClaw cannot resolve it now: {}",
                r.profile_id,
                r.unavailable.as_deref().unwrap_or("unknown reason")
            );
        }
        if unregistered && rows.iter().any(|r| r.ref_id.is_some()) {
            println!(
                "no exec provider `{}` in openclaw.json: OpenClaw cannot resolve these references until `clawvault openclaw register`",
                auth::REF_PROVIDER
            );
        }
        if let Some(kv) = &kv {
            super::kv_versions::print(kv);
        }
        if let Some(v) = &vault {
            let log = clawvault::resolve_log::path(v.dir());
            if log.exists() {
                println!(
                    "resolve failures (as OpenClaw saw them) are logged in {}",
                    log.display()
                );
            }
        }
    }
    Ok(if a.check {
        ExitCode::from(auth::check_exit_code(&rows))
    } else {
        ExitCode::SUCCESS
    })
}

/// Ask the registered resolver, run the way OpenClaw runs it, for every clawvault ref
/// that is stored; mark what it cannot hand over now as `unavailable` with the reason.
/// Returns false when `openclaw.json` registers no clawvault exec provider.
fn check_resolvable(ctx: &Ctx, rows: &mut [auth::ProfileStatus]) -> bool {
    let cfg_path = clawvault::openclaw::config_path(&ctx.state);
    let Some(config) = std::fs::read(&cfg_path)
        .ok()
        .and_then(|b| clawvault::openclaw::config_secrets::parse_config(&b).ok())
    else {
        return false;
    };
    let Some(spec) = clawvault::openclaw::runner::registered_spec(&config, auth::REF_PROVIDER)
    else {
        return false;
    };
    // The command comes from a file: run it only when that file and the command pass
    // the same StrictModes check as every other path clawvault trusts.
    let trusted = clawvault::trust::check(&cfg_path, clawvault::trust::Kind::File)
        .and_then(|_| clawvault::trust::check(&spec.command, clawvault::trust::Kind::File));
    if let Err(e) = trusted {
        eprintln!("clawvault: warning: not running the registered resolver to check the refs: {e}");
        return true;
    }
    let ids: Vec<String> = rows
        .iter()
        .filter(|r| r.status != auth::Status::Missing)
        .filter_map(|r| r.ref_id.clone())
        .collect();
    if ids.is_empty() {
        return true;
    }
    let answer = clawvault::openclaw::runner::resolve(&spec, &ids);
    for r in rows
        .iter_mut()
        .filter(|r| r.status != auth::Status::Missing)
    {
        let Some(id) = &r.ref_id else { continue };
        let reason = match &answer {
            Err(e) => Some(e.clone()),
            Ok(a) => a.get(id).cloned().flatten(),
        };
        if let Some(reason) = reason {
            r.status = auth::Status::Unavailable;
            r.unavailable = Some(reason);
        }
    }
    true
}

fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON values serialize")
    );
}

fn fmt_expires(e: Option<i64>) -> String {
    let Some(ms) = e else { return "-".into() };
    let left = ms - now_ms() as i64;
    let abs = left.unsigned_abs() / 1000;
    let span = if abs >= 86_400 {
        format!("{}d", abs / 86_400)
    } else if abs >= 3600 {
        format!("{}h", abs / 3600)
    } else {
        format!("{}m", abs / 60)
    };
    if left >= 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

fn print_table(rows: &[ProfileStatus], with_status: bool) {
    if rows.is_empty() {
        println!("no profiles");
        return;
    }
    let w = rows
        .iter()
        .map(|r| r.profile_id.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = String::with_capacity(rows.len() * 80);
    if with_status {
        out.push_str(&format!(
            "{:<w$}  {:<8}  {:<9}  {:<10}  EXPIRES\n",
            "PROFILE", "TYPE", "STATUS", "STORAGE"
        ));
    } else {
        out.push_str(&format!(
            "{:<w$}  {:<8}  {:<10}  EXPIRES\n",
            "PROFILE", "TYPE", "STORAGE"
        ));
    }
    for r in rows {
        let st = serde_json::to_value(r.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        if with_status {
            out.push_str(&format!(
                "{:<w$}  {:<8}  {:<9}  {:<10}  {}\n",
                r.profile_id,
                r.ty,
                st,
                r.storage,
                fmt_expires(r.expires)
            ));
        } else {
            out.push_str(&format!(
                "{:<w$}  {:<8}  {:<10}  {}\n",
                r.profile_id,
                r.ty,
                r.storage,
                fmt_expires(r.expires)
            ));
        }
    }
    print!("{out}");
}
