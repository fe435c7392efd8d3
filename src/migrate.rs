//! `clawvault migrate`: move every plaintext credential OpenClaw keeps in files into
//! the vault, with nothing lost and no plaintext left behind.
//!
//! For each document: (1) an encrypted backup of the original bytes and a journal
//! entry, (2) each secret stored in the vault and read back, (3) the document
//! rewritten with references under OpenClaw's lock, (4) the journal entry closed.
//! A crash at any point leaves the plaintext where it was and/or a verified copy in
//! the vault; a re-run finishes the job, and `--rollback` restores every original
//! byte for byte from the encrypted backups.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::auth::REF_PROVIDER;
use crate::backend::EntryName;
use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock};
use crate::paths::{StateDir, DEFAULT_AGENT};
use crate::profiles::{Material, ProfileDoc, ProfileType, SecretRef};
use crate::secret::ExposeSecret;
use crate::vault::Vault;

/// A file migrate reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// `agents/<id>/agent/auth-profiles.json`, or the legacy `agent/auth-profiles.json`.
    AuthProfiles,
    /// A flat per-provider `auth.json` beside it.
    LegacyAuthJson,
    /// `credentials/oauth.json`: OAuth material, reported, never moved.
    OAuthJson,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub kind: SourceKind,
    pub agent: String,
    pub path: PathBuf,
}

/// Find every credential file under the state directory.
pub fn discover(state: &StateDir, agent: Option<&str>) -> Vec<Source> {
    let mut out = Vec::new();
    let wanted = |a: &str| agent.map(|w| w == a).unwrap_or(true);
    let mut push_dir = |agent_id: &str, dir: &Path| {
        for (kind, file) in [
            (SourceKind::AuthProfiles, "auth-profiles.json"),
            (SourceKind::LegacyAuthJson, "auth.json"),
        ] {
            let p = dir.join(file);
            if p.is_file() {
                out.push(Source {
                    kind,
                    agent: agent_id.to_string(),
                    path: p,
                });
            }
        }
    };
    for id in state.agent_ids() {
        if wanted(&id) {
            push_dir(&id, &state.agent_dir(&id));
        }
    }
    // The legacy single-agent layout belongs to the default agent. When the default
    // agent has its own file too, OpenClaw no longer reads the legacy one, but its
    // plaintext is still a leak: it moves under its own namespace, so a stale key
    // there never overwrites the live profile of the same id.
    let legacy = state.path.join("agent");
    if wanted(DEFAULT_AGENT) && legacy.is_dir() {
        let shadowed = state
            .agent_dir(DEFAULT_AGENT)
            .join("auth-profiles.json")
            .exists();
        push_dir(
            if shadowed {
                LEGACY_SHADOWED_AGENT
            } else {
                DEFAULT_AGENT
            },
            &legacy,
        );
    }
    let oauth = state.path.join("credentials").join("oauth.json");
    if oauth.is_file() {
        out.push(Source {
            kind: SourceKind::OAuthJson,
            agent: DEFAULT_AGENT.to_string(),
            path: oauth,
        });
    }
    out
}

/// The exec-id namespace for `<state>/agent/` when `agents/main/` exists as well.
pub const LEGACY_SHADOWED_AGENT: &str = "legacy-agent";

/// What happened (or would happen) to one credential. Never holds material.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub path: PathBuf,
    pub profile_id: String,
    pub action: &'static str,
    pub detail: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
}

impl Report {
    pub fn add(&mut self, path: &Path, id: &str, action: &'static str, detail: impl Into<String>) {
        self.rows.push(Row {
            path: path.to_path_buf(),
            profile_id: id.to_string(),
            action,
            detail: detail.into(),
        });
    }

    pub fn count(&self, action: &str) -> usize {
        self.rows.iter().filter(|r| r.action == action).count()
    }
}

// The journal and rollback live in `migrate_journal.rs`.
pub(crate) use crate::migrate_journal::{begin, entry_is, finish, save_journal};
pub use crate::migrate_journal::{
    load_journal, load_journal_for, rollback, Journal, JournalEntry, JOURNAL_VERSION,
};

/// Store and verify: the value read back must equal what was written.
pub(crate) fn store_verified(vault: &Vault, name: &EntryName, secret: &str) -> Result<()> {
    let b = vault.backend()?;
    b.set(name, secret.as_bytes())?;
    fsutil::crash_point("migrate:after-vault-set");
    let back = b.get(name)?.ok_or_else(|| {
        Error::Other(format!(
            "{name} was stored but cannot be read back; nothing was rewritten"
        ))
    })?;
    if back.expose_secret() != secret.as_bytes() {
        return Err(Error::Other(format!(
            "{name} read back differently from what was stored; nothing was rewritten"
        )));
    }
    Ok(())
}

/// An inline item found in a document.
struct Item {
    id: String,
    ty: ProfileType,
    provider: String,
    secret: Zeroizing<String>,
}

fn inline_items(doc: &ProfileDoc, report: &mut Report, path: &Path) -> Vec<Item> {
    let mut items = Vec::new();
    for p in doc.profiles() {
        match p.material() {
            Material::Inline(_) => {
                let ty = p.profile_type();
                items.push(Item {
                    id: p.id.to_string(),
                    ty,
                    provider: p.provider(),
                    secret: Zeroizing::new(p.inline_secret().unwrap_or_default().to_string()),
                })
            }
            Material::OAuth => report.add(
                path,
                p.id,
                "kept-oauth",
                "OAuth material stays in the file: OpenClaw rotates it and cannot reference it; keep the file 0600",
            ),
            _ => {}
        }
    }
    items
}

/// Options for [`migrate`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub agent: Option<String>,
    pub dry_run: bool,
}

/// Run the migration. `vault` must be unlocked when it needs the identity to read
/// back (age), except for a dry run.
pub fn migrate(state: &StateDir, vault: &Vault, opts: &Options) -> Result<Report> {
    let mut report = Report::default();
    let sources = discover(state, opts.agent.as_deref());
    let mut journal = if opts.dry_run {
        Journal::default()
    } else {
        load_journal_for(vault, state)?
    };
    for src in &sources {
        match src.kind {
            SourceKind::AuthProfiles => {
                migrate_profiles(vault, src, opts, &mut journal, &mut report)?
            }
            SourceKind::LegacyAuthJson => {
                migrate_legacy(vault, src, opts, &mut journal, &mut report)?
            }
            SourceKind::OAuthJson => report.add(
                &src.path,
                "*",
                "kept-oauth",
                "credentials/oauth.json holds OAuth material OpenClaw manages itself; keep it 0600",
            ),
        }
    }
    // Other OpenClaw state directories under legacy names are not this run's to
    // touch (OpenClaw reads one state dir), but their plaintext is still a leak.
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        for name in crate::paths::LEGACY_STATE_DIRS {
            let dir = std::path::Path::new(&home).join(name);
            let same = std::fs::canonicalize(&dir).ok() == std::fs::canonicalize(&state.path).ok();
            if dir.is_dir() && !same {
                report.add(
                    &dir,
                    "*",
                    "not-this-state-dir",
                    format!(
                        "another OpenClaw state directory (legacy name) this run did not touch; migrate it with `clawvault --state-dir {} migrate`, or delete it",
                        dir.display()
                    ),
                );
            }
        }
    }
    Ok(report)
}

fn migrate_profiles(
    vault: &Vault,
    src: &Source,
    opts: &Options,
    j: &mut Journal,
    report: &mut Report,
) -> Result<()> {
    let doc = if opts.dry_run {
        ProfileDoc::load(&src.path)?
    } else {
        ProfileDoc::load_locked(&src.path)?
    };
    let items = inline_items(&doc, report, &src.path);
    if items.is_empty() {
        // Close entries left open by a run that crashed after its rewrite.
        if !opts.dry_run {
            let mut changed = false;
            for i in 0..j.entries.len() {
                if j.entries[i].status == "started" && entry_is(j, i, &src.path) {
                    j.entries[i].status = "done".into();
                    changed = true;
                }
            }
            if changed {
                save_journal(vault, j)?;
            }
        }
        return Ok(());
    }
    let mut names = Vec::new();
    for it in &items {
        match EntryName::for_profile(&src.agent, &it.id) {
            Ok(n) => names.push(Some(n)),
            Err(e) => {
                report.add(
                    &src.path,
                    &it.id,
                    "skipped",
                    format!("cannot be referenced by OpenClaw: {e}"),
                );
                names.push(None);
            }
        }
    }
    if opts.dry_run {
        for (it, n) in items.iter().zip(&names) {
            if let Some(n) = n {
                report.add(&src.path, &it.id, "would-move", format!("to {n}"));
            }
        }
        return Ok(());
    }
    let ji = begin(vault, j, &src.path)?;
    for (it, n) in items.iter().zip(&names) {
        if let Some(n) = n {
            store_verified(vault, n, &it.secret)?;
            if !j.entries[ji].stored.contains(&n.to_string()) {
                j.entries[ji].stored.push(n.to_string());
            }
        }
    }
    save_journal(vault, j)?;
    // Rewrite under the lock, re-reading the document: a profile changed or removed
    // since we read it is left alone and reported.
    let moved = ProfileDoc::modify(&src.path, |doc| {
        let mut moved = Vec::new();
        for (it, n) in items.iter().zip(&names) {
            let Some(n) = n else { continue };
            let same = doc
                .get(&it.id)
                .and_then(|p| p.inline_secret().map(|s| s == it.secret.as_str()))
                .unwrap_or(false);
            if same {
                doc.set_ref(
                    &it.id,
                    it.ty,
                    &it.provider,
                    &SecretRef::exec(REF_PROVIDER, n.as_str()),
                );
                moved.push((it.id.clone(), n.clone(), true));
            } else {
                moved.push((it.id.clone(), n.clone(), false));
            }
        }
        let any = moved.iter().any(|m| m.2);
        Ok((moved, any))
    })?;
    fsutil::crash_point("migrate:after-rewrite");
    for (id, n, ok) in moved {
        if ok {
            report.add(&src.path, &id, "moved", format!("to {n}"));
        } else {
            report.add(
                &src.path,
                &id,
                "changed",
                "changed or removed while migrating; left as it is now (run migrate again)",
            );
        }
    }
    finish(vault, j, ji)
}

/// A legacy flat `auth.json` (`{ "<provider>": { "type": ..., ... } }`) as a profile
/// document whose profiles are `<provider>:default` (untrusted bytes: fuzzed).
pub fn parse_legacy(
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<(Map<String, Value>, ProfileDoc)> {
    let root: Map<String, Value> = match crate::strictjson::from_slice(bytes) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return Err(Error::Usage(format!(
                "{}: not a JSON object; clawvault left it untouched",
                path.display()
            )))
        }
        Err(e) => {
            return Err(Error::Usage(format!(
                "{}: invalid JSON at line {}, column {}; clawvault left it untouched",
                path.display(),
                e.line(),
                e.column()
            )))
        }
    };
    // Wrap each provider entry as a profile view to reuse the material rules.
    let mut tmp = ProfileDoc::empty(path);
    for (provider, v) in &root {
        if let Value::Object(o) = v {
            let mut o = o.clone();
            o.entry("provider")
                .or_insert_with(|| Value::String(provider.clone()));
            tmp.insert_profile(&format!("{provider}:default"), o);
        }
    }
    Ok((root, tmp))
}

fn migrate_legacy(
    vault: &Vault,
    src: &Source,
    opts: &Options,
    j: &mut Journal,
    report: &mut Report,
) -> Result<()> {
    let bytes = fsutil::read_private(&src.path)?.unwrap_or_default();
    let bytes = Zeroizing::new(bytes);
    let (root, tmp) = parse_legacy(&src.path, &bytes)?;
    let target = src.path.with_file_name("auth-profiles.json");
    let existing = ProfileDoc::load(&target)?;
    let mut sub = Report::default();
    let items = inline_items(&tmp, &mut sub, &src.path);
    for r in sub.rows {
        report.rows.push(r);
    }
    let mut todo = Vec::new();
    for it in items {
        if existing.get(&it.id).is_some() {
            report.add(&src.path, &it.id, "conflict", format!("{} already has {}; the legacy entry was left in auth.json (remove it by hand once you have checked)", target.display(), it.id));
            continue;
        }
        match EntryName::for_profile(&src.agent, &it.id) {
            Ok(n) => todo.push((it, n)),
            Err(e) => report.add(
                &src.path,
                &it.id,
                "skipped",
                format!("cannot be referenced by OpenClaw: {e}"),
            ),
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    if opts.dry_run {
        for (it, n) in &todo {
            report.add(
                &src.path,
                &it.id,
                "would-move",
                format!("to {n} (into {})", target.display()),
            );
        }
        return Ok(());
    }
    let ji_legacy = begin(vault, j, &src.path)?;
    let ji_target = begin(vault, j, &target)?;
    for (it, n) in &todo {
        store_verified(vault, n, &it.secret)?;
        j.entries[ji_legacy].stored.push(n.to_string());
    }
    save_journal(vault, j)?;
    // First the profiles gain references, then the legacy file loses its material.
    ProfileDoc::modify(&target, |doc| {
        for (it, n) in &todo {
            let provider = it.provider.clone();
            let mut obj = root
                .get(it.id.split(':').next().unwrap_or(""))
                .and_then(|v| v.as_object())
                .cloned()
                .unwrap_or_default();
            obj.entry("provider")
                .or_insert_with(|| Value::String(provider.clone()));
            doc.insert_profile(&it.id, obj);
            doc.set_ref(
                &it.id,
                it.ty,
                &provider,
                &SecretRef::exec(REF_PROVIDER, n.as_str()),
            );
        }
        Ok(((), true))
    })?;
    fsutil::crash_point("migrate:after-legacy-target");
    {
        let _lock = FileLock::acquire(&src.path, fsutil::LOCK_WAIT)?;
        let mut rest = root.clone();
        for (it, _) in &todo {
            rest.shift_remove(it.id.split(':').next().unwrap_or(""));
        }
        if rest.is_empty() {
            std::fs::remove_file(&src.path).map_err(|e| fsutil::FsError::io(&src.path, e))?;
        } else {
            let mut s = serde_json::to_vec_pretty(&Value::Object(rest)).expect("serializes");
            s.push(b'\n');
            fsutil::write_atomic(&src.path, &s)?;
        }
    }
    for (it, n) in &todo {
        report.add(
            &src.path,
            &it.id,
            "moved",
            format!("to {n} (profile now in {})", target.display()),
        );
    }
    finish(vault, j, ji_target)?;
    finish(vault, j, ji_legacy)
}
