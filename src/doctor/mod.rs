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
pub mod fix;
mod formats;
mod harvest;
mod home;
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
pub use fix::{FixAction, FixOutcome, FixPrompt, MigrationItem, MigrationKind};
pub use render::human_bytes;
use render::{draw_progress, render_human, render_json};

/// How bad a finding is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    /// `warning` in JSON, the word OpenClaw's `doctor --lint --json` uses.
    #[serde(rename = "warning", alias = "warn")]
    Warn,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// The lowest severity that makes `doctor` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Info,
    Warn,
    Error,
    /// Always exit 0 unless the audit itself fails.
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Warn => Some(Severity::Warn),
            FailOn::Error => Some(Severity::Error),
            FailOn::Never => None,
        }
    }
}

/// `clawvault doctor` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    /// More files or directories to scan (directories recursively; .gitignore is not honoured).
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
    /// Print OpenClaw's `doctor --lint --json` shape: {schemaVersion, ok, checksRun,
    /// checksSkipped, findings[{checkId, severity, message, path, line, fixHint}]}.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format: text, json (as --json) or sarif (SARIF 2.1.0: rule ids are the
    /// finding codes, locations are path, line and column; redacted messages only).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Warn, value_name = "SEVERITY")]
    pub fail_on: FailOn,
    /// Tighten permissions and scrub shell-history lines; lists what needs `clawvault migrate`.
    #[arg(long)]
    pub fix: bool,
    /// Apply --fix without asking.
    #[arg(long)]
    pub yes: bool,
    /// With --fix: overwrite credentials found in session transcripts and logs with a
    /// marker (encrypted backup first) and list them as "rotate now". Asked on a
    /// terminal; --yes applies it only together with --redact.
    #[arg(long, requires = "fix")]
    pub redact: bool,
    /// Accepted findings, by fingerprint; findings listed there are not reported.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write every current finding's fingerprint to the --baseline file.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Do not read shell histories.
    #[arg(long)]
    pub no_history: bool,
    /// Do not read the rest of the home directory (project files, shell startup
    /// files, scripts, other tools' configs); the state directories, histories and
    /// service definitions are still read.
    #[arg(long)]
    pub no_home_walk: bool,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// The home directory to audit (histories, units, legacy state dirs); default $HOME.
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The directory whose .env files are checked; default the current directory.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Scanner threads; default the number of CPUs.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Also scan OpenClaw's caches of web assets and generated code
    /// (`<state>/cache/`, `node_modules/`), skipped by default.
    #[arg(long)]
    pub include_caches: bool,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

impl DoctorArgs {
    /// The output format (`--json` is `--format json`).
    pub fn output(&self) -> Format {
        match (self.json, self.format) {
            (true, _) => Format::Json,
            (false, Some(f)) => f,
            (false, None) => Format::Text,
        }
    }
}

impl Default for DoctorArgs {
    fn default() -> Self {
        DoctorArgs {
            paths: Vec::new(),
            json: false,
            format: None,
            fail_on: FailOn::Warn,
            fix: false,
            yes: false,
            redact: false,
            baseline: None,
            update_baseline: false,
            no_history: false,
            no_home_walk: false,
            no_progress: false,
            home: None,
            cwd: None,
            threads: None,
            include_caches: false,
        }
    }
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DoctorError {
    #[error("{path}: {reason}")]
    Baseline { path: PathBuf, reason: String },
    #[error("writing the report failed: {0}")]
    Output(#[from] io::Error),
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error("{path}: {reason}")]
    Fix { path: PathBuf, reason: String },
}

/// One finding, in the shape of OpenClaw's `doctor --lint --json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub check_id: String,
    pub severity: Severity,
    pub message: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based column of the secret on `line` (code points), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    pub fix_hint: String,
    /// Stable id for baselines: SHA-256 of check id, path, line and the message
    /// (which holds only a redacted preview), never of the secret.
    pub fingerprint: String,
    #[serde(skip)]
    pub abs_path: PathBuf,
    #[serde(skip)]
    pub action: Option<FixAction>,
    #[serde(skip)]
    secret_hash: Option<[u8; 32]>,
}

impl Finding {
    pub(crate) fn new(
        check_id: String,
        severity: Severity,
        message: String,
        path: &Path,
        line: Option<u64>,
        fix_hint: String,
    ) -> Finding {
        Finding {
            check_id,
            severity,
            message,
            path: path.display().to_string(),
            line,
            column: None,
            fix_hint,
            fingerprint: String::new(),
            abs_path: path.to_path_buf(),
            action: None,
            secret_hash: None,
        }
    }

    /// In memory only: the same secret reported twice at one place (file and line)
    /// is one finding; on another line of the same file it is another copy.
    fn dedup_key(&self) -> (String, String, Option<u64>, Vec<u8>) {
        let what = match &self.secret_hash {
            Some(h) => h.to_vec(),
            None => self.message.as_bytes().to_vec(),
        };
        (self.check_id.clone(), self.path.clone(), self.line, what)
    }

    fn seal(&mut self) {
        let mut h = Sha256::new();
        h.update(self.check_id.as_bytes());
        h.update([0]);
        h.update(self.path.as_bytes());
        h.update([0]);
        h.update(self.line.unwrap_or(0).to_le_bytes());
        // Never the secret's own hash: baselines are files on disk, and an unkeyed
        // hash of a credential there would let a thief test guesses offline. The
        // message holds only the redacted preview.
        h.update(self.message.as_bytes());
        self.fingerprint = hex(&h.finalize()[..16]);
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The result of an audit.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub findings: Vec<Finding>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    /// Findings left out because the baseline accepts them.
    pub baselined: usize,
    /// Findings `--fix` took care of.
    pub fixed: Vec<Finding>,
    pub needs_migration: Vec<MigrationItem>,
    /// Directories not scanned, with why (OpenClaw caches unless `--include-caches`).
    pub skipped: Vec<String>,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl Report {
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }

    /// 0 clean, 1 findings at or above `fail_on`.
    pub fn exit_code(&self, fail_on: FailOn) -> u8 {
        match fail_on.threshold() {
            Some(t) if self.findings.iter().any(|f| f.severity >= t) => 1,
            _ => 0,
        }
    }
}

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

struct Advice {
    check_id: &'static str,
    place: &'static str,
    fix: String,
}

/// A state directory other than the current one, and how to write it in a command.
struct StateRoot {
    dir: PathBuf,
    shown: String,
}

/// `dir` for a command line: `~/.clawdbot` under `home`, else quoted.
fn show_dir(dir: &Path, home: Option<&Path>) -> String {
    if let Some(rest) = home.and_then(|h| dir.strip_prefix(h).ok()) {
        let q = checks::shell_quote(rest);
        if !rest.as_os_str().is_empty() && !q.starts_with('\'') {
            return format!("~/{q}");
        }
    }
    checks::shell_quote(dir)
}

fn advice(cat: Category, path: &Path, other: Option<&StateRoot>) -> Advice {
    let q = checks::shell_quote(path);
    let agent = agent_of(path).unwrap_or_else(|| crate::paths::DEFAULT_AGENT.into());
    // `migrate` reads the current state directory only.
    let sd = other
        .map(|o| format!("--state-dir {} ", o.shown))
        .unwrap_or_default();
    match cat {
        Category::AuthProfiles => Advice {
            check_id: "plaintext.auth-profile",
            place: "stored inline in an auth profile",
            fix: format!("run `clawvault {sd}migrate --agent {agent}` to move it into the vault behind a keyRef"),
        },
        Category::AuthArchive => Advice {
            check_id: "plaintext.auth-archive",
            place: "left in an auth-profiles archive",
            fix: format!("after `clawvault {sd}migrate`, delete this plaintext copy (rm {q}) and rotate the key if it was ever backed up"),
        },
        Category::LegacyAuth => Advice {
            check_id: "plaintext.legacy-auth",
            place: "in a legacy auth.json",
            fix: format!("run `clawvault {sd}migrate --agent {agent}` (it reads legacy auth.json), then delete {q}"),
        },
        Category::OAuthStore => Advice {
            check_id: "oauth.profile",
            place: "in the OAuth credential store",
            fix: "OpenClaw rotates OAuth tokens itself: keep this file 0600 in a 0700 directory".into(),
        },
        Category::Config => Advice {
            check_id: "plaintext.config",
            place: "in openclaw.json",
            fix: "move it into the vault and put a SecretRef in its place ({\"source\":\"exec\",\"provider\":\"clawvault\",\"id\":...})".into(),
        },
        Category::ModelsJson => Advice {
            check_id: "plaintext.models-json",
            place: "in a generated models.json",
            fix: "remove the key from openclaw.json (use a SecretRef), then delete this generated file so OpenClaw regenerates it".into(),
        },
        Category::EnvFile => Advice {
            check_id: "plaintext.env-file",
            place: "in a .env file",
            fix: format!("run `clawvault import-env {q}`, then delete the line"),
        },
        Category::Sqlite => Advice {
            check_id: "plaintext.sqlite",
            place: "in a SQLite store (deleted rows linger in free pages and the -wal)",
            fix: "run `clawvault openclaw plan` (moves the values into the vault) and the `openclaw secrets apply` it prints, then stop the gateway and run `clawvault openclaw scrub` (replaces leftovers, vacuums and checkpoints)".into(),
        },
        Category::Transcript => Advice {
            check_id: "plaintext.transcript",
            place: "in a session transcript",
            fix: "rotate this credential (it reached a model transcript), then redact or delete the session file".into(),
        },
        Category::Log => Advice {
            check_id: "plaintext.log",
            place: "in a log file",
            fix: "rotate this credential, then delete or redact the log".into(),
        },
        Category::ShellHistory => Advice {
            check_id: "plaintext.shell-history",
            place: "in shell history",
            fix: "rotate it; `clawvault doctor --fix` scrubs the line and keeps an encrypted backup".into(),
        },
        Category::ServiceUnit => Advice {
            check_id: "plaintext.service-unit",
            place: "in a service definition (Environment=/EnvironmentVariables)",
            fix: "remove it from the unit; let OpenClaw resolve it through clawvault, or use an EnvironmentFile= kept 0600".into(),
        },
        Category::StateFile | Category::Given => Advice {
            check_id: "plaintext.file",
            place: "in a file",
            fix: "rotate this credential and remove it from the file".into(),
        },
        Category::HomeFile => Advice {
            check_id: "plaintext.home-file",
            place: "in a file under your home directory",
            fix: "remove it from the file and rotate it; a key OpenClaw uses belongs in the vault (`clawvault models auth paste-api-key`), another tool's in that tool's own credential store".into(),
        },
    }
}

const STRUCT_MAX: u64 = 16 << 20;

fn file_findings(
    det: &Detector,
    t: &Target,
    hits: &[FileHit],
    other_root: Option<&StateRoot>,
    out: &mut Vec<Finding>,
    migrations: &mut Vec<MigrationItem>,
) {
    let adv = advice(t.category, &t.path, other_root);
    // `.env` files: which assignment each hit sits in, and whether import-env
    // would move it (it leaves names it does not know alone).
    let env = (t.category == Category::EnvFile && !hits.is_empty())
        .then(|| env_assignments(&t.path, t.size));
    let mut env_importable = false;
    let structured = matches!(
        t.category,
        Category::AuthProfiles
            | Category::AuthArchive
            | Category::LegacyAuth
            | Category::OAuthStore
            | Category::Config
            | Category::ModelsJson
    ) && t.size <= STRUCT_MAX;
    let (bytes, st) = if structured {
        match std::fs::read(&t.path) {
            Ok(b) => {
                let st = checks::structure(det, t.category, &b);
                (b, st)
            }
            Err(_) => (Vec::new(), None),
        }
    } else {
        (Vec::new(), None)
    };
    if channel_sessions::is_whatsapp_creds(&t.path) && t.size <= STRUCT_MAX {
        let bytes = std::fs::read(&t.path).unwrap_or_default();
        // Exposure is judged with the file's permissions (`check_path`); the key
        // itself cannot move, so it is information.
        for (key, line) in channel_sessions::private_keys(&bytes) {
            out.push(Finding::new(
                channel_sessions::CHECK_ID.into(),
                Severity::Info,
                format!("WhatsApp linked-device private key ({key}) kept by OpenClaw's WhatsApp channel"),
                &t.path,
                Some(line),
                channel_sessions::FIX_HINT.into(),
            ));
        }
        // The rest of the file is the same session state (`advSecretKey`, ...).
        for h in hits {
            let mut f = Finding::new(
                channel_sessions::CHECK_ID.into(),
                Severity::Info,
                format!(
                    "WhatsApp session secret {} kept by OpenClaw's WhatsApp channel",
                    h.hit.redacted
                ),
                &t.path,
                Some(h.line),
                channel_sessions::FIX_HINT.into(),
            );
            f.column = Some(h.column);
            out.push(f);
        }
        return;
    }
    let line_for = |h: &FileHit| t.category.has_lines().then_some(h.line);
    let column_for = |h: &FileHit| t.category.has_lines().then_some(h.column);
    let mut claimed: HashSet<[u8; 32]> = HashSet::new();
    let mut per_line: HashSet<([u8; 32], u64)> = HashSet::new();
    let mut device: Option<HashSet<[u8; 32]>> = None;
    let mut any_inline = false;
    if let Some(st) = &st {
        #[cfg(unix)]
        let tight = std::fs::metadata(&t.path)
            .map(|m| std::os::unix::fs::MetadataExt::mode(&m) & 0o077 == 0)
            .unwrap_or(false);
        #[cfg(windows)]
        let tight = matches!(crate::trust::check_private(&t.path), Ok(None));
        for (id, provider, needle) in &st.oauth {
            let line = checks::line_of(&bytes, needle);
            out.push(Finding::new(
                "oauth.profile".into(),
                if tight { Severity::Info } else { Severity::Warn },
                format!("OAuth token {id} ({provider}) is kept in this file; OpenClaw rotates it itself and cannot read it through a SecretRef"),
                &t.path,
                (line > 0).then_some(line),
                "nothing to migrate: keep this file 0600 in a 0700 directory (`clawvault doctor --fix` tightens it)".into(),
            ));
        }
        claimed.extend(st.oauth_hashes.iter().copied());
        for it in &st.inline {
            let hit = hits.iter().find(|h| h.hit.hash == it.hash);
            let line = match hit {
                Some(h) => line_for(h),
                None => {
                    let l = checks::line_of(&bytes, &it.needle);
                    (l > 0).then_some(l)
                }
            };
            let kind = match hit {
                Some(h) if h.hit.kind != Kind::NamedCredential => h.hit.kind,
                _ => it.kind,
            };
            let (check, sev) = if kind == Kind::VaultSecret {
                ("vault.secret-copy", Severity::Error)
            } else {
                (adv.check_id, Severity::Error)
            };
            let column = hit.and_then(column_for);
            let mut f = Finding::new(
                check.into(),
                sev,
                format!(
                    "{} {} {} ({})",
                    kind_label(kind, hit.map(|h| &h.hit)),
                    it.redacted,
                    adv.place,
                    it.place
                ),
                &t.path,
                line,
                adv.fix.clone(),
            );
            f.column = column;
            f.secret_hash = Some(it.hash);
            out.push(f);
            claimed.insert(it.hash);
            any_inline = true;
        }
    }
    for h in hits {
        // A value the structure already reported is not reported again; a value
        // repeated on several lines is reported at each (each line is a copy).
        if claimed.contains(&h.hit.hash) || !per_line.insert((h.hit.hash, h.line)) {
            continue;
        }
        if t.category == Category::Sqlite
            && device
                .get_or_insert_with(|| device_tokens::device_token_hashes(&t.path))
                .contains(&h.hit.hash)
        {
            let mut f = Finding::new(
                device_tokens::CHECK_ID.into(),
                Severity::Info,
                format!(
                    "OpenClaw's own device auth token {} (device_auth_tokens) {}",
                    h.hit.redacted, adv.place
                ),
                &t.path,
                line_for(h),
                device_tokens::FIX_HINT.into(),
            );
            f.column = column_for(h);
            f.secret_hash = Some(h.hit.hash);
            out.push(f);
            continue;
        }
        let kind = h.hit.kind;
        let what = match (&h.hit.copy_of, &h.hit.name) {
            (Some(o), _) => format!(" (the value of {o})"),
            (None, Some(n)) if kind != Kind::VaultSecret => format!(" assigned to {n}"),
            _ => String::new(),
        };
        let env_fix = env.as_ref().map(|e| env_fix(e, h.hit.start, &t.path));
        env_importable |= env_fix.as_ref().is_some_and(|(_, moves)| *moves);
        let (check, fix) = if kind == Kind::VaultSecret {
            (
                "vault.secret-copy",
                "this copy defeats the vault: remove it, and rotate the secret if the file was shared or backed up".to_string(),
            )
        } else if let Some((fix, _)) = env_fix {
            (adv.check_id, fix)
        } else {
            (adv.check_id, adv.fix.clone())
        };
        let mut f = Finding::new(
            check.into(),
            Severity::Error,
            format!(
                "{} {}{what} {}",
                kind_label(kind, Some(&h.hit)),
                h.hit.redacted,
                adv.place
            ),
            &t.path,
            line_for(h),
            fix,
        );
        f.column = column_for(h);
        f.secret_hash = Some(h.hit.hash);
        if t.category == Category::ShellHistory {
            f.action = Some(FixAction::ScrubHistory {
                path: t.path.clone(),
                lines: vec![h.line],
            });
        }
        out.push(f);
        any_inline = true;
    }
    if any_inline {
        match t.category {
            Category::AuthProfiles | Category::LegacyAuth => migrations.push(MigrationItem {
                kind: MigrationKind::AuthProfiles,
                path: t.path.clone(),
                agent: agent_of(&t.path),
                state_dir: other_root.map(|o| o.dir.clone()),
                state_dir_shown: other_root.map(|o| o.shown.clone()),
            }),
            Category::EnvFile if env_importable => migrations.push(MigrationItem {
                kind: MigrationKind::EnvFile,
                path: t.path.clone(),
                agent: None,
                state_dir: None,
                state_dir_shown: None,
            }),
            _ => {}
        }
    }
}

/// A `.env` file's assignments: byte span, name, and whether `import-env` moves
/// the name (judged on its effective value). `Err` when it does not parse.
type EnvAssignments = Result<Vec<(std::ops::Range<usize>, String, bool)>, String>;

fn env_assignments(path: &Path, size: u64) -> EnvAssignments {
    if size > STRUCT_MAX {
        return Err("too large to parse".into());
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let file = crate::envfile::EnvFile::parse(path, bytes).map_err(|e| e.to_string())?;
    let (effective, _) = file.effective();
    let moves: HashMap<&str, bool> = effective
        .iter()
        .map(|e| {
            (
                e.name.as_str(),
                crate::importenv::would_import(&e.name, &e.value),
            )
        })
        .collect();
    Ok(file
        .entries
        .iter()
        .map(|e| {
            let m = moves.get(e.name.as_str()).copied().unwrap_or(false);
            (e.span.clone(), e.name.clone(), m)
        })
        .collect())
}

/// The fix for a hit at byte `at` of a `.env` file, and whether `import-env`
/// would move it.
fn env_fix(env: &EnvAssignments, at: usize, path: &Path) -> (String, bool) {
    let q = checks::shell_quote(path);
    let entries = match env {
        Ok(e) => e,
        Err(why) => {
            return (
                format!("`clawvault import-env` cannot read this file ({why}): rotate this credential and remove it from the file, or fix the file and run `clawvault import-env {q}`"),
                false,
            )
        }
    };
    match entries.iter().find(|(span, _, _)| span.contains(&at)) {
        Some((_, _, true)) => (
            format!("run `clawvault import-env {q}`, then delete the line"),
            true,
        ),
        Some((_, name, false)) => (
            format!("`clawvault import-env` moves only provider variables and names ending in _API_KEY, _TOKEN, _SECRET or _PASSWORD, so it leaves {name} alone: move it into the vault by hand (rename it, e.g. to {name}_SECRET, here and where it is read, so that `clawvault import-env {q}` moves it), or rotate it and delete the line"),
            false,
        ),
        None => (
            "not in a NAME=value assignment `clawvault import-env` can move: rotate this credential and delete it from the file".into(),
            false,
        ),
    }
}

fn kind_label(kind: Kind, hit: Option<&detect::Hit>) -> String {
    match (kind, hit.and_then(|h| h.name.as_deref())) {
        (Kind::VaultSecret, Some(n)) => format!("copy of a vault secret ({n})"),
        _ => {
            let l = kind.label();
            if l.starts_with("xAI") {
                return l.to_string();
            }
            let mut c = l.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        }
    }
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
