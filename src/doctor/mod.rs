//! `clawvault doctor`: audit a host that runs OpenClaw for plaintext credentials
//! and unsafe permissions, and fix what can be fixed.
//!
//! The pieces: [`detect`] recognises secrets in raw bytes, [`scan`] walks and
//! streams files in parallel, [`checks`] looks at permissions, locations, the
//! vault and the structure of OpenClaw's JSON stores, [`fix`] tightens modes and
//! scrubs shell histories. [`run`] ties them together for the CLI.
//!
//! Findings never hold a secret: only a redacted preview (first and last few
//! characters) and a SHA-256 used inside fingerprints.

pub mod baseline;
pub mod caches;
pub mod channel_sessions;
pub mod checks;
pub mod detect;
pub mod device_tokens;
mod findings;
pub mod fix;
mod formats;
mod harvest;
mod home;
mod model;
#[cfg(unix)]
pub mod reach;
mod render;
pub mod resolve_failures;
pub mod sarif;
pub mod scan;
pub mod suppress;

use std::collections::{HashMap, HashSet};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::fsutil::FsError;
use crate::paths::LEGACY_STATE_DIRS;
use crate::secret::SecretBytes;
use checks::{check_path, Subject};
use detect::{Detector, Kind};
use scan::{Category, FileHit, Progress, Target, WalkProblem};

use baseline::read_baseline;
pub use baseline::write_baseline;
use findings::*;
pub use fix::{FixAction, FixOutcome, FixPrompt, MigrationItem, MigrationKind};
pub use model::*;
pub use render::human_bytes;
use render::{draw_progress, render_human, render_json};

/// Where to look and with what.
pub struct AuditInput<'a> {
    pub args: &'a DoctorArgs,
    pub state_dir: &'a Path,
    pub vault_dir: Option<&'a Path>,
    /// The vault's own secrets, for exact-match detection (empty: patterns only).
    pub vault_secrets: &'a [SecretBytes],
}

fn home_dir(args: &DoctorArgs) -> Option<PathBuf> {
    args.home.clone().or_else(|| {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    })
}

/// Run the audit; does not print.
pub fn audit(input: &AuditInput<'_>, progress: &Progress) -> Result<Report, DoctorError> {
    let started = Instant::now();
    let args = input.args;
    let home = home_dir(args);
    let det = Detector::with_known(
        input.vault_secrets,
        &harvest::known_credentials(input.state_dir, home.as_deref()),
    );
    let mut findings: Vec<Finding> = Vec::new();
    let mut problems: Vec<WalkProblem> = Vec::new();
    let mut targets: Vec<Target> = Vec::new();
    let mut symlinks: Vec<PathBuf> = Vec::new();
    // Files inside a state directory (their permissions are checked).
    let mut state_roots: Vec<PathBuf> = Vec::new();

    let vault_dir: Option<PathBuf> = input.vault_dir.map(Path::to_path_buf).or_else(|| {
        let d = input.state_dir.join("vault");
        crate::vault::Vault::exists(&d).then_some(d)
    });

    // State directories: the current one and every legacy one that exists.
    let mut roots = vec![input.state_dir.to_path_buf()];
    if let Some(h) = &home {
        for name in std::iter::once(".openclaw").chain(LEGACY_STATE_DIRS.iter().copied()) {
            let p = h.join(name);
            if p.is_dir() && !roots.iter().any(|r| same_file(r, &p)) {
                roots.push(p);
            }
        }
    }
    let skip: Vec<PathBuf> = vault_dir.iter().cloned().collect();
    let mut skipped: Vec<String> = Vec::new();
    for root in &roots {
        if std::fs::symlink_metadata(root).is_err() {
            continue;
        }
        check_path(root, Subject::StateDir, &mut findings);
        for sub in ["agents", "agent", "credentials", "state"] {
            let p = root.join(sub);
            if p.is_dir() {
                check_path(&p, Subject::AgentDir, &mut findings);
            }
        }
        for e in std::fs::read_dir(root.join("agents"))
            .into_iter()
            .flatten()
            .flatten()
        {
            check_path(&e.path(), Subject::AgentDir, &mut findings);
            let a = e.path().join("agent");
            if a.is_dir() {
                check_path(&a, Subject::AgentDir, &mut findings);
            }
        }
        let mut skip = skip.clone();
        if !args.include_caches {
            for c in caches::cache_dirs(root) {
                skipped.push(format!(
                    "{}: OpenClaw's cache of web assets / generated code (--include-caches to scan it)",
                    c.display()
                ));
                skip.push(c);
            }
        }
        scan::walk(
            root,
            &skip,
            &scan::categorize_state,
            &mut targets,
            &mut symlinks,
            &mut problems,
        );
        state_roots.push(root.clone());
    }

    // The config file when it lives elsewhere.
    if let Some(c) = std::env::var_os("OPENCLAW_CONFIG_PATH").filter(|c| !c.is_empty()) {
        push_file(&PathBuf::from(c), Category::Config, &mut targets);
    }
    // .env files in the working directory.
    let cwd = args.cwd.clone().or_else(|| std::env::current_dir().ok());
    if let Some(cwd) = cwd {
        for e in std::fs::read_dir(&cwd).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if scan::categorize_name(&name) == Some(Category::EnvFile) {
                push_file(&e.path(), Category::EnvFile, &mut targets);
            }
        }
    }
    // Paths given on the command line.
    for p in &args.paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let cat = |rel: &Path| -> Category {
                    let name = rel
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    match scan::categorize_name(&name) {
                        Some(Category::StateFile) | None => Category::Given,
                        Some(c) => c,
                    }
                };
                scan::walk(p, &skip, &cat, &mut targets, &mut symlinks, &mut problems);
            }
            Ok(_) => {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let cat = match scan::categorize_name(&name) {
                    Some(Category::StateFile) | None => Category::Given,
                    Some(c) => c,
                };
                push_file(p, cat, &mut targets);
            }
            Err(e) => problems.push(WalkProblem {
                path: p.clone(),
                reason: e.to_string(),
            }),
        }
    }
    if let Some(h) = &home {
        if !args.no_history {
            for rel in [
                ".bash_history",
                ".zsh_history",
                ".zhistory",
                ".histfile",
                ".sh_history",
                ".history",
                ".local/share/fish/fish_history",
                ".python_history",
                ".node_repl_history",
            ] {
                push_file(&h.join(rel), Category::ShellHistory, &mut targets);
            }
            if args.home.is_none() {
                if let Some(hf) = std::env::var_os("HISTFILE").filter(|v| !v.is_empty()) {
                    push_file(&PathBuf::from(hf), Category::ShellHistory, &mut targets);
                }
            }
        }
        for dir in [".config/systemd/user", "Library/LaunchAgents"] {
            let d = h.join(dir);
            if d.is_dir() {
                scan::walk(
                    &d,
                    &[],
                    &|_| Category::ServiceUnit,
                    &mut targets,
                    &mut symlinks,
                    &mut problems,
                );
            }
        }
        let envd = h.join(".config/environment.d");
        if envd.is_dir() {
            scan::walk(
                &envd,
                &[],
                &|_| Category::EnvFile,
                &mut targets,
                &mut symlinks,
                &mut problems,
            );
        }
    }
    // The rest of the home, last, so files the walks above took keep their category.
    if let Some(h) = home.as_ref().filter(|_| !args.no_home_walk) {
        let mut skip = skip.clone();
        skip.extend(state_roots.iter().cloned());
        home::walk(h, &skip, &mut targets);
    }
    dedup_targets(&mut targets);

    // Scan.
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let results = scan::scan_targets(&det, &targets, threads, scan::SEGMENT, progress);

    // `~` in commands only when it means the home audited.
    let tilde_home = home
        .clone()
        .filter(|h| std::env::var_os("HOME").is_some_and(|e| same_file(Path::new(&e), h)));
    let mut needs_migration: Vec<MigrationItem> = Vec::new();
    for (t, r) in targets.iter().zip(results) {
        if let Some(e) = &r.error {
            findings.push(Finding::new(
                "audit.unreadable".into(),
                Severity::Warn,
                format!("could not be read ({e}); it was not checked"),
                &t.path,
                None,
                "run doctor as the file's owner, or check it by hand".into(),
            ));
        }
        let in_state = state_roots.iter().any(|s| t.path.starts_with(s));
        // A file of another state directory (a legacy ~/.clawdbot): `migrate`
        // only reads the current one, so its commands must name that directory.
        let other_root = state_roots
            .iter()
            .filter(|s| t.path.starts_with(s))
            .max_by_key(|s| s.as_os_str().len())
            .filter(|s| !same_file(s, input.state_dir))
            .map(|s| StateRoot {
                dir: s.clone(),
                shown: show_dir(s, tilde_home.as_deref()),
            });
        let before = findings.len();
        file_findings(
            &det,
            t,
            &r.hits,
            other_root.as_ref(),
            &mut findings,
            &mut needs_migration,
        );
        if r.truncated {
            findings.push(Finding::new(
                "audit.truncated".into(),
                Severity::Warn,
                format!(
                    "more than {} findings; the rest of this file was not reported",
                    scan::MAX_HITS_PER_FILE
                ),
                &t.path,
                None,
                "fix the findings listed and run doctor again".into(),
            ));
        }
        let had = findings.len() > before;
        if t.category.is_credential_store() && (in_state || had) {
            check_path(&t.path, Subject::CredentialFile, &mut findings);
        }
    }
    for s in &symlinks {
        let name = s
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if scan::categorize_name(&name).is_some_and(|c| c.is_credential_store()) {
            check_path(s, Subject::CredentialFile, &mut findings);
        }
    }
    for p in problems {
        findings.push(Finding::new(
            "audit.unreadable".into(),
            Severity::Warn,
            format!("could not be read ({}); it was not checked", p.reason),
            &p.path,
            None,
            "run doctor as the file's owner, or check it by hand".into(),
        ));
    }
    if let Some(v) = &vault_dir {
        checks::check_vault(v, &mut findings);
        dangling_refs(&det, v, &targets, &mut findings);
        resolve_failures::check(v, crate::fsutil::now_ms(), &mut findings);
    }
    for p in registered_passphrase_files(&targets) {
        check_path(&p, Subject::PassphraseFile, &mut findings);
    }

    for f in &mut findings {
        f.seal();
    }
    // One finding per fingerprint (a symlinked and a real path can repeat one).
    let mut seen = HashSet::new();
    findings.retain(|f| seen.insert(f.dedup_key()));

    let mut baselined = 0;
    if let Some(b) = &args.baseline {
        if !args.update_baseline {
            let accepted = read_baseline(b)?;
            let n = findings.len();
            findings.retain(|f| !accepted.contains(&f.fingerprint));
            baselined = n - findings.len();
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.check_id.cmp(&b.check_id))
    });
    let mut seen_m = HashSet::new();
    needs_migration.retain(|m| seen_m.insert((m.kind, m.path.clone())));
    Ok(Report {
        findings,
        files_scanned: targets.len() as u64,
        bytes_scanned: progress.bytes_done.load(Ordering::Relaxed),
        baselined,
        fixed: Vec::new(),
        needs_migration,
        skipped,
        elapsed: started.elapsed(),
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (
        crate::fsutil::file_id(a, true),
        crate::fsutil::file_id(b, true),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn push_file(p: &Path, cat: Category, targets: &mut Vec<Target>) {
    if let Ok(m) = std::fs::symlink_metadata(p) {
        if m.is_file() {
            targets.push(Target {
                path: p.to_path_buf(),
                category: cat,
                size: m.len(),
            });
        }
    }
}

/// One entry per inode; the first category given wins, except that a more
/// specific category beats `Given`.
fn dedup_targets(targets: &mut Vec<Target>) {
    let mut seen: HashMap<(u64, u64), usize> = HashMap::new();
    let mut keep = vec![true; targets.len()];
    for i in 0..targets.len() {
        let Ok(id) = crate::fsutil::file_id(&targets[i].path, true) else {
            continue;
        };
        match seen.get(&id) {
            Some(&j) => {
                if targets[j].category == Category::Given {
                    targets[j].category = targets[i].category;
                }
                keep[i] = false;
            }
            None => {
                seen.insert(id, i);
            }
        }
    }
    let mut k = keep.into_iter();
    targets.retain(|_| k.next().unwrap_or(true));
}

/// `agents/<id>/agent/...` -> `<id>`; the legacy `<state>/agent/` -> `main`.
fn agent_of(path: &Path) -> Option<String> {
    let comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for w in comps.windows(3) {
        if w[0] == "agents" && w[2] == "agent" {
            return Some(w[1].clone());
        }
    }
    comps
        .iter()
        .any(|c| c == "agent")
        .then(|| crate::paths::DEFAULT_AGENT.to_string())
}

/// Profiles whose exec SecretRef points at a vault entry that does not exist.
/// Every backend answers `contains` without an unlock (age: a blob file; keychain:
/// an item lookup; OpenBao: a metadata read); one that cannot be reached is
/// reported as an info line and its references are left unchecked.
fn dangling_refs(det: &Detector, vault_dir: &Path, targets: &[Target], out: &mut Vec<Finding>) {
    let Ok(vault) = crate::vault::Vault::open(vault_dir) else {
        return;
    };
    // (file, its bytes, profile, vault id): collected first, so a vault whose
    // profiles hold no reference never touches its backend.
    let mut refs: Vec<(
        &Path,
        std::rc::Rc<Vec<u8>>,
        String,
        crate::backend::EntryName,
    )> = Vec::new();
    for t in targets
        .iter()
        .filter(|t| t.category == Category::AuthProfiles && t.size <= STRUCT_MAX)
    {
        let Ok(bytes) = std::fs::read(&t.path) else {
            continue;
        };
        let Some(st) = checks::structure(det, t.category, &bytes) else {
            continue;
        };
        let bytes = std::rc::Rc::new(bytes);
        for (profile, provider, id) in st.refs {
            if provider != "clawvault" {
                continue;
            }
            if let Ok(name) = crate::backend::EntryName::new(&id) {
                refs.push((&t.path, bytes.clone(), profile, name));
            }
        }
    }
    if refs.is_empty() {
        return;
    }
    let kind = vault.manifest().backend.kind();
    let unchecked = |e: String, out: &mut Vec<Finding>| {
        out.push(Finding::new(
            "vault.refs-unchecked".into(),
            Severity::Info,
            format!("the {kind} backend could not be reached ({e}); {} profile reference(s) to the vault were not checked", refs.len()),
            vault_dir,
            None,
            format!("run doctor again where the {kind} backend is reachable to check that every keyRef/tokenRef points at a stored secret"),
        ));
    };
    let backend = match vault.backend() {
        Ok(b) => b,
        Err(e) => return unchecked(e.to_string(), out),
    };
    let mut found = Vec::new();
    for (path, bytes, profile, name) in &refs {
        match backend.contains(name) {
            Ok(true) => {}
            Ok(false) => {
                let id = name.as_str();
                let line = checks::line_of(bytes, &serde_json::to_vec(id).unwrap_or_default());
                found.push(Finding::new(
                    "vault.dangling-ref".into(),
                    Severity::Error,
                    format!("profile {profile} references vault entry {id}, which the vault does not hold: OpenClaw will fail to resolve it"),
                    path,
                    (line > 0).then_some(line),
                    format!("store it again with `clawvault migrate` or `clawvault models auth paste-api-key`, or remove profile {profile}"),
                ));
            }
            Err(e) => return unchecked(e.to_string(), out),
        }
    }
    out.extend(found);
}

/// Passphrase files that `openclaw register` recorded in openclaw.json for the
/// resolver (`secrets.providers.*.args`: `--passphrase-file F`).
fn registered_passphrase_files(targets: &[Target]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for t in targets.iter().filter(|t| {
        t.category == Category::Config
            && t.size <= STRUCT_MAX
            && t.path.file_name().is_some_and(|n| n == "openclaw.json")
    }) {
        let Ok(bytes) = std::fs::read(&t.path) else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let Some(providers) = v
            .pointer("/secrets/providers")
            .and_then(serde_json::Value::as_object)
        else {
            continue;
        };
        for p in providers.values() {
            let Some(args) = p.get("args").and_then(serde_json::Value::as_array) else {
                continue;
            };
            let args: Vec<&str> = args.iter().filter_map(serde_json::Value::as_str).collect();
            for (i, a) in args.iter().enumerate() {
                let f = if *a == "--passphrase-file" {
                    args.get(i + 1).copied()
                } else {
                    a.strip_prefix("--passphrase-file=")
                };
                if let Some(f) = f.filter(|f| !f.is_empty()) {
                    let f = PathBuf::from(f);
                    let f = match (f.is_relative(), t.path.parent()) {
                        (true, Some(dir)) => dir.join(f),
                        _ => f,
                    };
                    if !files.contains(&f) {
                        files.push(f);
                    }
                }
            }
        }
    }
    files
}

/// `clawvault doctor`: audit, print, optionally fix. Returns the exit code
/// (0 clean, 1 findings at or above `--fail-on`); `Err` means exit 2.
/// `--fix` applies changes only with `--yes`: the CLI asks on a TTY through
/// [`run_with`].
pub fn run(
    args: &DoctorArgs,
    state_dir: &Path,
    vault_dir: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, DoctorError> {
    let (yes, redact) = (args.yes, args.redact);
    run_with(
        args,
        state_dir,
        vault_dir,
        &[],
        &mut |p| yes && (redact || !matches!(p.action, FixAction::Redact { .. })),
        out,
        err,
    )
}

/// [`run`] with the vault's secrets for exact matching and a decision callback
/// for each `--fix` action (the CLI prompts on a TTY; `|_| yes` otherwise).
pub fn run_with(
    args: &DoctorArgs,
    state_dir: &Path,
    vault_dir: Option<&Path>,
    vault_secrets: &[SecretBytes],
    decide: &mut dyn FnMut(&FixPrompt) -> bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, DoctorError> {
    let input = AuditInput {
        args,
        state_dir,
        vault_dir,
        vault_secrets,
    };
    let progress = Progress::default();
    let show_bar = !args.no_progress && io::stderr().is_terminal();
    let mut report = if show_bar {
        std::thread::scope(|s| {
            let h = s.spawn(|| audit(&input, &progress));
            while !h.is_finished() {
                std::thread::sleep(Duration::from_millis(120));
                draw_progress(&progress, err);
            }
            let _ = write!(err, "\r\x1b[2K");
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        })?
    } else {
        audit(&input, &progress)?
    };
    if args.update_baseline {
        if let Some(b) = &args.baseline {
            write_baseline(b, &report)?;
            writeln!(
                err,
                "doctor: wrote {} accepted finding(s) to {}",
                report.findings.len(),
                b.display()
            )?;
            report.baselined = report.findings.len();
            report.findings.clear();
        }
    }
    let mut outcome = None;
    if args.fix {
        let vd: Option<PathBuf> = vault_dir.map(Path::to_path_buf).or_else(|| {
            let d = state_dir.join("vault");
            crate::vault::Vault::exists(&d).then_some(d)
        });
        let det = Detector::new(vault_secrets);
        let preview: &mut dyn Write = if args.output() == Format::Text {
            out
        } else {
            err
        };
        outcome = Some(fix::apply(
            &mut report,
            state_dir,
            vd.as_deref(),
            &det,
            decide,
            preview,
        )?);
    }
    match args.output() {
        Format::Json => render_json(&report, outcome.as_ref(), out)?,
        Format::Sarif => sarif::render(&report, out)?,
        Format::Text => render_human(&report, outcome.as_ref(), home_dir(args).as_deref(), out)?,
    }
    Ok(report.exit_code(args.fail_on))
}
