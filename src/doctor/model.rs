//! What an audit produces and takes: severities, the CLI arguments, findings and
//! the report.

use super::*;

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
    pub(super) secret_hash: Option<[u8; 32]>,
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
    pub(super) fn dedup_key(&self) -> (String, String, Option<u64>, Vec<u8>) {
        let what = match &self.secret_hash {
            Some(h) => h.to_vec(),
            None => self.message.as_bytes().to_vec(),
        };
        (self.check_id.clone(), self.path.clone(), self.line, what)
    }

    pub(super) fn seal(&mut self) {
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

pub(super) fn hex(b: &[u8]) -> String {
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
