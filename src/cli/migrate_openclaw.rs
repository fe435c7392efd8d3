//! The OpenClaw half of `clawvault migrate`: everything OpenClaw itself must rewrite.
//!
//! After the JSON-era files are handled (`clawvault::migrate`), this pass
//! 1. imports a JSON-era auth store into OpenClaw's SQLite store with
//!    `openclaw doctor --fix` (2026.6+ refuses the JSON file until then);
//! 2. finds plaintext on OpenClaw's credential surface in `openclaw.json` and in the
//!    SQLite auth stores, stores each value in the vault and reads it back;
//! 3. writes ONE `secrets apply` plan (config targets, auth-profile targets and the
//!    `providerUpserts` declaring clawvault) and runs `openclaw secrets apply`;
//! 4. replaces what apply leaves in the SQLite stores (`openclaw scrub`'s work),
//!    removes config backups and retired auth stores that still hold a moved value
//!    (after an encrypted backup) and puts OpenClaw's marker into `models.json`;
//! 5. verifies with `openclaw secrets audit`.
//!
//! Without an `openclaw` binary it stops after writing the plan and names the one
//! command left to run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clawvault::backend::EntryName;
use clawvault::fsutil;
use clawvault::migrate::Report;
use clawvault::openclaw::apply::{find_openclaw, OpenClawCli};
use clawvault::openclaw::config_secrets::{self, ConfigSecret};
use clawvault::openclaw::secret_store;
use clawvault::openclaw::sqlite::{self, ScrubVault};
use clawvault::openclaw::{self as oc, plan, residue};
use clawvault::secret::ExposeSecret;
use clawvault::vault::Vault;
use clawvault::{Error, Result};

use super::openclaw_cmd::{provider_spec, scrub_stores, vault_secrets};
use super::Ctx;

/// How the pass should treat OpenClaw.
pub struct PassOptions<'a> {
    pub openclaw: Option<&'a Path>,
    pub no_openclaw: bool,
    pub agent: Option<&'a str>,
    pub dry_run: bool,
}

/// JSON-era auth stores still on disk (OpenClaw 2026.6+ refuses them until its
/// doctor imports them).
fn json_era_stores(ctx: &Ctx) -> Vec<PathBuf> {
    ctx.state
        .agent_ids()
        .into_iter()
        .map(|id| ctx.state.agent_dir(&id).join("auth-profiles.json"))
        .filter(|p| p.is_file())
        .collect()
}

fn read_config(cfg: &Path, report: &mut Report) -> Option<serde_json::Value> {
    let bytes = match fsutil::read_private(cfg) {
        Ok(Some(b)) => zeroize::Zeroizing::new(b),
        Ok(None) => return None,
        Err(e) => {
            report.add(cfg, "openclaw.json", "skipped", e.to_string());
            return None;
        }
    };
    match config_secrets::parse_config(&bytes) {
        Ok(v) => Some(v),
        Err(why) => {
            report.add(
                cfg,
                "openclaw.json",
                "skipped",
                format!("{why}; fix it (`openclaw config validate`) and run migrate again"),
            );
            None
        }
    }
}

/// Store `value` under `name` and read it back. `Ok(false)`: the vault already holds
/// a different value there (the caller reports it and moves nothing).
fn store_verified(vault: &Vault, name: &EntryName, value: &[u8]) -> Result<bool> {
    let backend = vault.backend()?;
    if let Some(existing) = backend.get(name)? {
        if existing.expose_secret() != value {
            return Ok(false);
        }
    }
    backend.set(name, value)?;
    fsutil::crash_point("migrate:openclaw:after-vault-set");
    match backend.get(name)? {
        Some(v) if v.expose_secret() == value => Ok(true),
        _ => Err(Error::Other(format!(
            "the vault did not return what was stored for {name}; nothing in OpenClaw's files was changed"
        ))),
    }
}

pub fn run(ctx: &Ctx, vault: &Vault, o: &PassOptions, report: &mut Report) -> Result<()> {
    let cfg_path = oc::config_path(&ctx.state);
    let bin = if o.no_openclaw {
        None
    } else {
        find_openclaw(o.openclaw)
    };
    let cli = bin.as_ref().map(|b| OpenClawCli {
        bin: b.clone(),
        state_dir: std::path::absolute(&ctx.state.path).unwrap_or_else(|_| ctx.state.path.clone()),
        config: std::path::absolute(&cfg_path).unwrap_or_else(|_| cfg_path.clone()),
    });

    // (1) A JSON-era store: OpenClaw's doctor imports it (its secrets are refs by now).
    let json_stores = json_era_stores(ctx);
    if !json_stores.is_empty() && (cli.is_some() || sqlite_era(ctx)) {
        match (&cli, o.dry_run) {
            (_, true) => {
                for p in &json_stores {
                    report.add(p, "*", "would import", "into OpenClaw's SQLite store with `openclaw doctor --fix` (OpenClaw 2026.6+ refuses the JSON file until then)");
                }
            }
            (Some(cli), false) => {
                cli.doctor_fix().map_err(Error::Other)?;
                for p in &json_stores {
                    report.add(
                        p,
                        "*",
                        "imported",
                        "into OpenClaw's SQLite store by `openclaw doctor --fix`",
                    );
                }
            }
            (None, false) => {
                for p in &json_stores {
                    report.add(p, "*", "next step", "run `openclaw doctor --fix`: OpenClaw 2026.6+ refuses this file until its doctor imports it (it holds references only now)");
                }
            }
        }
    }

    // (2) What the plan will move.
    let config = read_config(&cfg_path, report);
    let (mut cfg_found, cfg_skipped) = config
        .as_ref()
        .map(config_secrets::find)
        .unwrap_or_default();
    // OpenClaw's own store (2026.8+) holds the values some refs point at, unencrypted.
    let shared_db = sqlite::shared_db_path(&ctx.state);
    let store_rows = match secret_store::read(&shared_db) {
        Ok(r) => r,
        Err(e) => {
            report.add(&shared_db, secret_store::TABLE, "skipped", e.to_string());
            vec![]
        }
    };
    if let Some(cfg) = &config {
        cfg_found.extend(secret_store::config_uses(cfg, &store_rows));
    }
    for s in &cfg_skipped {
        report.add(&cfg_path, &s.path, "skipped", s.reason.clone());
    }
    let stores = sqlite::read_all(&ctx.state, o.agent).map_err(Error::from)?;
    let (mut cands, skipped) = plan::collect(&stores);
    for c in plan::collect_store_refs(&stores, &store_rows) {
        if !cands
            .iter()
            .any(|x| x.agent_id == c.agent_id && x.profile_id == c.profile_id)
        {
            cands.push(c);
        }
    }
    let used_before = store_names_used(config.as_ref(), &stores);
    for s in &skipped {
        report.add(
            Path::new(&s.store),
            &s.profile_id,
            "skipped",
            s.reason.clone(),
        );
    }
    if o.dry_run {
        for e in &store_rows {
            if let Some(why) = secret_store::kept_reason(e, used_before.contains(&e.name)) {
                report.add(&shared_db, &store_key(e), "kept", why);
            }
        }
        for c in &cfg_found {
            report.add(
                &cfg_path,
                &c.path(),
                "would move",
                format!(
                    "to the vault as {} (through `openclaw secrets apply`)",
                    c.entry
                ),
            );
        }
        for c in &cands {
            report.add(
                Path::new(&c.store),
                &c.profile_id,
                "would move",
                format!(
                    "to the vault as {} (through `openclaw secrets apply`)",
                    c.entry()
                ),
            );
        }
        return Ok(());
    }

    let mut planned_cfg: Vec<&ConfigSecret> = Vec::new();
    for c in &cfg_found {
        let name =
            EntryName::new(&c.entry).map_err(|e| Error::Usage(format!("{}: {e}", c.path())))?;
        if store_verified(vault, &name, c.secret.as_bytes())? {
            planned_cfg.push(c);
        } else {
            report.add(&cfg_path, &c.path(), "conflict", format!("the vault already holds a different value as {} (from an earlier migrate?); nothing was changed for this path - check which value is current, put it in the config, and re-run", c.entry));
        }
    }
    let mut planned: Vec<&plan::Candidate> = Vec::new();
    for c in &cands {
        let name = EntryName::new(&c.entry())
            .map_err(|e| Error::Usage(format!("profile {}: {e}", c.profile_id)))?;
        if store_verified(vault, &name, c.secret.as_bytes())? {
            planned.push(c);
        } else {
            report.add(Path::new(&c.store), &c.profile_id, "conflict", format!("the vault already holds a different secret as {}; paste the right one with `clawvault models auth paste-api-key --provider {} --profile-id {}`", c.entry(), c.provider, c.profile_id));
        }
    }

    // (3) One plan, applied by OpenClaw.
    let alias = clawvault::auth::REF_PROVIDER;
    if !planned.is_empty() || !planned_cfg.is_empty() {
        let spec = provider_spec(ctx, vault, alias)?;
        let dir = vault.dir().join("plans");
        fsutil::ensure_private_dir(&dir)?;
        let plan_path = dir.join(format!("migrate-{}.json", fsutil::now_ms()));
        let write_plan =
            |path: &Path, cands: &[&plan::Candidate], cfg: &[&ConfigSecret]| -> Result<()> {
                let mut text = serde_json::to_vec_pretty(&plan::build_all(&spec, cands, cfg))
                    .expect("plan serializes");
                text.push(b'\n');
                fsutil::write_atomic(path, &text)?;
                Ok(())
            };
        write_plan(&plan_path, &planned, &planned_cfg)?;
        // OpenClaw registers a plugin's credential paths only while the plugin is
        // installed: a config path it does not accept now is found one by one (only
        // when the whole plan is refused) and left, with the reason.
        if let Some(cli) = &cli {
            if let Err(why) = cli.check_plan(&plan_path) {
                let probe = dir.join(format!("probe-{}.json", fsutil::now_ms()));
                let mut keep = Vec::new();
                for c in planned_cfg.iter().copied() {
                    // Core paths are always registered; only plugin paths come and go.
                    if !c.target_type.starts_with("plugins.") {
                        keep.push(c);
                        continue;
                    }
                    write_plan(&probe, &[], &[c])?;
                    match cli.check_plan(&probe) {
                        Ok(()) => keep.push(c),
                        Err(_) => report.add(&cfg_path, &c.path(), "left", "OpenClaw does not accept a SecretRef here now (is the plugin that owns it installed?); the value stays in the config and a copy in the vault"),
                    }
                }
                let _ = std::fs::remove_file(&probe);
                planned_cfg = keep;
                write_plan(&plan_path, &planned, &planned_cfg)?;
                cli.check_plan(&plan_path).map_err(|e| {
                    Error::Other(format!(
                        "OpenClaw refuses the plan {} ({e}; first: {why}); every value is safe in the vault and nothing in OpenClaw's files was changed",
                        plan_path.display()
                    ))
                })?;
            }
        }
        let Some(cli) = &cli else {
            for c in &planned_cfg {
                report.add(&cfg_path, &c.path(), "stored", format!("in the vault as {}; OpenClaw still reads the plaintext until the plan is applied", c.entry));
            }
            for c in &planned {
                report.add(Path::new(&c.store), &c.profile_id, "stored", format!("in the vault as {}; OpenClaw still reads the plaintext until the plan is applied", c.entry()));
            }
            report.add(&plan_path, "*", "next step", format!(
                "no `openclaw` binary found (give --openclaw BIN): run `openclaw secrets apply --from {} --allow-exec`, then `clawvault migrate` again to clean up",
                plan_path.display()
            ));
            return Ok(());
        };
        cli.apply(&plan_path).map_err(|e| {
            Error::Other(format!(
                "{e}; every value is safe in the vault and the plan is kept at {}",
                plan_path.display()
            ))
        })?;
        for c in &planned_cfg {
            report.add(
                &cfg_path,
                &c.path(),
                "moved",
                format!(
                    "to the vault as {}; OpenClaw resolves it through clawvault",
                    c.entry
                ),
            );
        }
        for c in &planned {
            report.add(
                Path::new(&c.store),
                &c.profile_id,
                "moved",
                format!(
                    "to the vault as {}; OpenClaw resolves it through clawvault",
                    c.entry()
                ),
            );
        }
    }

    // (4) What OpenClaw leaves behind.
    let sv = vault_secrets(vault)?;
    if sqlite::live_gateway_lock(&ctx.state).is_some() {
        report.add(&ctx.state.path, "*", "left", "a running gateway holds OpenClaw's database: stop it and run `clawvault openclaw scrub` to remove the plaintext `secrets apply` leaves in the shared store");
    } else {
        let purged = purge_store(
            ctx,
            &cfg_path,
            &shared_db,
            &store_rows,
            &used_before,
            &sv,
            report,
        )?;
        if purged || !stores.is_empty() || !json_stores.is_empty() {
            scrub_stores(ctx, &sv, alias, o.agent, false)?;
        }
        if !stores.is_empty() {
            restore_expiries(ctx, &stores, o.agent, report)?;
        }
    }
    let needles: Vec<&[u8]> = sv.all_secrets();
    let backup = |label: &str, data: &[u8]| sv.backup(label, data);
    let archives = residue::archives(&ctx.state, &cfg_path);
    for f in residue::remove_archives(&archives, &needles, false, &backup).map_err(Error::Other)? {
        let why = if f.count > 0 {
            format!("an archive OpenClaw keeps held {} moved value(s)", f.count)
        } else {
            "an auth store OpenClaw already imported into SQLite (its audit flags it as legacy residue)".to_string()
        };
        report.add(
            &f.path,
            "*",
            "removed",
            format!("{why}; encrypted backup at {}", f.backup.display()),
        );
    }
    let models = residue::models_json_files(&ctx.state);
    for f in residue::scrub_models_json(&models, &needles, false, &backup).map_err(Error::Other)? {
        report.add(
            &f.path,
            "*",
            "rewrote",
            format!(
                "{} resolved key(s) replaced by OpenClaw's `{}` marker; encrypted backup at {}",
                f.count,
                residue::SECRETREF_MARKER,
                f.backup.display()
            ),
        );
    }

    // (5) OpenClaw's own verdict.
    if let Some(cli) = &cli {
        if cfg_path.is_file() || !stores.is_empty() {
            match cli.audit() {
                Ok(a) => {
                    report.add(
                        &cfg_path,
                        "*",
                        if a.plaintext == 0 && a.unresolved == 0 {
                            "verified"
                        } else {
                            "left"
                        },
                        format!(
                        "`openclaw secrets audit`: {} plaintext, {} unresolved, {} refs checked",
                        a.plaintext, a.unresolved, a.refs_checked
                    ),
                    );
                    for (code, file, path) in a
                        .findings
                        .iter()
                        .filter(|f| f.0 == "PLAINTEXT_FOUND" || f.0 == "REF_UNRESOLVED")
                    {
                        report.add(
                            Path::new(file),
                            path,
                            "left",
                            format!("{code}: see `openclaw secrets audit`"),
                        );
                    }
                }
                Err(e) => report.add(&cfg_path, "*", "unverified", e),
            }
        }
    }
    Ok(())
}

/// `secret_store_entries.<NAME>`, as OpenClaw's audit names a row.
fn store_key(e: &secret_store::StoreEntry) -> String {
    format!("{}.{}", secret_store::TABLE, e.name)
}

/// Every store name a SecretRef in the config or an auth store uses.
fn store_names_used(
    config: Option<&serde_json::Value>,
    stores: &[sqlite::AuthStore],
) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    if let Some(c) = config {
        secret_store::names_used(c, &mut used);
    }
    for s in stores {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&s.raw) {
            secret_store::names_used(&v, &mut used);
        }
    }
    used
}

/// After `secrets apply`: delete the store rows no ref uses any more whose value the
/// vault holds (the ones this run moved, or an earlier run stored as `store/<NAME>`),
/// and the soft-deleted rows whose value the vault holds; report every row that
/// stays, with the reason. Returns whether a row was deleted (the caller vacuums).
fn purge_store(
    ctx: &Ctx,
    cfg_path: &Path,
    db: &Path,
    before: &[secret_store::StoreEntry],
    used_before: &BTreeSet<String>,
    sv: &super::openclaw_cmd::VaultForScrub<'_>,
    report: &mut Report,
) -> Result<bool> {
    if before.is_empty() {
        return Ok(false);
    }
    let config = fsutil::read_private(cfg_path)
        .ok()
        .flatten()
        .and_then(|b| config_secrets::parse_config(&zeroize::Zeroizing::new(b)).ok());
    let stores = sqlite::read_all(&ctx.state, None).map_err(Error::from)?;
    let used_now = store_names_used(config.as_ref(), &stores);
    let names: BTreeSet<String> = before
        .iter()
        .filter(|e| e.movable() && !used_now.contains(&e.name))
        .filter(|e| {
            used_before.contains(&e.name) || sv.secret(&e.vault_entry()) == Some(e.value.as_bytes())
        })
        .map(|e| e.name.clone())
        .collect();
    let gone = secret_store::delete_moved(db, &names, sv).map_err(Error::from)?;
    for e in before {
        let key = store_key(e);
        if gone.contains(&e.name) {
            let why = if e.deleted {
                "a soft-deleted row OpenClaw keeps for 30 days; the vault holds its value, so it was purged"
            } else {
                "OpenClaw's unencrypted store no longer holds it: its refs now resolve through clawvault"
            };
            report.add(db, &key, "removed", why);
        } else if let Some(why) = secret_store::kept_reason(e, used_now.contains(&e.name)) {
            report.add(db, &key, "kept", why);
        } else {
            report.add(db, &key, "left", "a ref still uses it, or the vault does not hold its value; run `clawvault migrate` again, then `openclaw secrets audit`");
        }
    }
    if !gone.is_empty() {
        eprintln!(
            "clawvault: encrypted backups of the deleted store rows are in {}",
            sv.backup_dir().display()
        );
    }
    Ok(!gone.is_empty())
}

/// `secrets apply` writes a token profile's `tokenRef` into the agent store without
/// its `expires` (OpenClaw 2026.9.6), so OpenClaw then shows it as `static` and never
/// warns before it expires. Put back the expiry each token profile had before.
fn restore_expiries(
    ctx: &Ctx,
    before: &[sqlite::AuthStore],
    agent: Option<&str>,
    report: &mut Report,
) -> Result<()> {
    use clawvault::profiles::ProfileType;
    let mut expiries: std::collections::BTreeMap<String, i64> = Default::default();
    for s in before {
        for p in s.doc.profiles() {
            if p.profile_type() == ProfileType::Token {
                if let Some(e) = p.expires() {
                    expiries.entry(p.id.to_string()).or_insert(e);
                }
            }
        }
    }
    if expiries.is_empty() {
        return Ok(());
    }
    for (kind, path) in sqlite::store_locations(&ctx.state, agent) {
        if !path.is_file() {
            continue;
        }
        let fixed = clawvault::authstore::sqlite_write::modify(&ctx.state, &kind, &path, |doc| {
            let mut fixed = Vec::new();
            for (id, exp) in &expiries {
                let lost = doc
                    .get(id)
                    .map(|p| p.profile_type() == ProfileType::Token && p.expires().is_none())
                    .unwrap_or(false);
                if lost {
                    doc.set_profile_field(id, "expires", Some((*exp).into()));
                    fixed.push(id.clone());
                }
            }
            let changed = !fixed.is_empty();
            Ok((fixed, changed))
        })?;
        for id in fixed {
            report.add(&path, &id, "repaired", "restored the `expires` that `openclaw secrets apply` dropped, so OpenClaw still warns before the token expires");
        }
    }
    Ok(())
}

/// Whether this install keeps auth profiles in SQLite (OpenClaw 2026.6+): its
/// shared database exists, or an `openclaw` new enough to create it runs it.
fn sqlite_era(ctx: &Ctx) -> bool {
    ctx.state
        .path
        .join("state")
        .join("openclaw.sqlite")
        .is_file()
        || ctx.state.agent_ids().iter().any(|id| {
            ctx.state
                .agent_dir(id)
                .join("openclaw-agent.sqlite")
                .is_file()
        })
}
