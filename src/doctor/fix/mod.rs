//! `doctor --fix`: tighten permissions, scrub shell-history lines (after showing
//! them redacted, keeping the original encrypted to the vault's age recipient),
//! and list what needs `clawvault migrate` / `import-env`. Every change goes
//! through a decision callback: the CLI asks on a TTY, or answers with `--yes`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

pub mod redact;
pub mod units;

use super::checks::shell_quote;
use super::detect::{self, Detector};
use super::{DoctorError, Report};
use crate::fsutil;

/// A change `--fix` can make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum FixAction {
    Chmod {
        path: PathBuf,
        mode: u32,
    },
    ScrubHistory {
        path: PathBuf,
        lines: Vec<u64>,
    },
    /// Overwrite the credentials in a transcript or log with a marker
    /// (`--redact`; never implied by `--yes` alone).
    Redact {
        path: PathBuf,
    },
    /// Remove copies of vault secrets from an OpenClaw service unit or plist.
    Unit {
        path: PathBuf,
    },
}

/// What the decision callback is asked about.
#[derive(Debug)]
pub struct FixPrompt<'a> {
    pub action: &'a FixAction,
    /// One line for a human: "chmod 600 ~/.openclaw/.env".
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationKind {
    /// An auth store with inline key/token material: `clawvault migrate`.
    AuthProfiles,
    /// A `.env` file with credentials: `clawvault import-env`.
    EnvFile,
}

/// Something only a migration can fix; the CLI hooks these to its commands.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationItem {
    pub kind: MigrationKind,
    pub path: PathBuf,
    pub agent: Option<String>,
    /// The state directory the file belongs to, when it is not the current one
    /// (a legacy `~/.clawdbot`): `migrate` must be pointed at it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    /// How to show `state_dir` in a command (`~/.clawdbot`).
    #[serde(skip)]
    pub state_dir_shown: Option<String>,
}

impl MigrationItem {
    pub fn command(&self) -> String {
        match self.kind {
            MigrationKind::AuthProfiles => format!(
                "clawvault {}migrate --agent {}",
                match (&self.state_dir_shown, &self.state_dir) {
                    (Some(s), _) => format!("--state-dir {s} "),
                    (None, Some(d)) => format!("--state-dir {} ", shell_quote(d)),
                    (None, None) => String::new(),
                },
                self.agent.as_deref().unwrap_or(crate::paths::DEFAULT_AGENT)
            ),
            MigrationKind::EnvFile => format!("clawvault import-env {}", shell_quote(&self.path)),
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct FixOutcome {
    pub applied: Vec<String>,
    pub declined: Vec<String>,
    pub refused: Vec<String>,
    pub backups: Vec<PathBuf>,
    /// Credentials a transcript or log exposed: rotate them now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rotate_now: Vec<redact::RotateNow>,
}

/// Apply what can be applied; fixed findings move from `report.findings` to
/// `report.fixed`. `show` receives the redacted preview of history lines.
pub fn apply(
    report: &mut Report,
    state_dir: &Path,
    vault_dir: Option<&Path>,
    det: &Detector,
    decide: &mut dyn FnMut(&FixPrompt) -> bool,
    show: &mut dyn Write,
) -> Result<FixOutcome, DoctorError> {
    let mut outcome = FixOutcome::default();
    let mut chmods: BTreeMap<PathBuf, u32> = BTreeMap::new();
    let mut scrubs: BTreeMap<PathBuf, BTreeSet<u64>> = BTreeMap::new();
    for f in &report.findings {
        match &f.action {
            Some(FixAction::Chmod { path, mode }) => {
                chmods.insert(path.clone(), *mode);
            }
            Some(FixAction::ScrubHistory { path, lines }) => {
                scrubs
                    .entry(path.clone())
                    .or_default()
                    .extend(lines.iter().copied());
            }
            Some(FixAction::Redact { .. }) | Some(FixAction::Unit { .. }) | None => {}
        }
    }
    let mut done: Vec<FixAction> = Vec::new();

    for (path, mode) in chmods {
        let action = FixAction::Chmod {
            path: path.clone(),
            mode,
        };
        let summary = chmod_summary(&path, mode);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                outcome.refused.push(format!(
                    "{summary}: it is a symlink; fix the target by hand"
                ));
                continue;
            }
            Err(e) => {
                outcome.refused.push(format!("{summary}: {e}"));
                continue;
            }
            Ok(_) => {}
        }
        if !consent(
            decide,
            &mut outcome,
            &action,
            &summary,
            "pass --yes to apply",
        ) {
            continue;
        }
        chmod(&path, mode).map_err(|e| DoctorError::Fix {
            path: path.clone(),
            reason: format!("chmod failed: {e}"),
        })?;
        outcome.applied.push(summary);
        done.push(action);
    }

    for (path, lines) in scrubs {
        let action = FixAction::ScrubHistory {
            path: path.clone(),
            lines: lines.iter().copied().collect(),
        };
        writeln!(
            show,
            "{} line(s) of {} hold credentials:",
            lines.len(),
            path.display()
        )?;
        preview_lines(&path, &lines, det, show)?;
        let Some((backup_dir, recipient)) = backup_target(vault_dir) else {
            outcome.refused.push(format!(
                "scrub {}: no vault to keep the encrypted backup in; create one with `clawvault init`, then run --fix again",
                path.display()
            ));
            continue;
        };
        let summary = format!(
            "remove {} line(s) from {} (the original is kept encrypted to the vault in {})",
            lines.len(),
            path.display(),
            backup_dir.display()
        );
        if !consent(
            decide,
            &mut outcome,
            &action,
            &summary,
            "pass --yes to apply",
        ) {
            continue;
        }
        let backup = scrub(&path, &lines, &recipient, &backup_dir)?;
        outcome.applied.push(summary);
        outcome.backups.push(backup);
        done.push(action);
    }

    units::fix_units(report, vault_dir, det, decide, show, &mut outcome)?;

    redact_found(
        report,
        state_dir,
        vault_dir,
        det,
        decide,
        show,
        &mut outcome,
    )?;

    let (fixed, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut report.findings)
        .into_iter()
        .partition(|f| match &f.action {
            Some(FixAction::Chmod { path, .. }) => done
                .iter()
                .any(|d| matches!(d, FixAction::Chmod { path: p, .. } if p == path)),
            Some(FixAction::ScrubHistory { path, .. }) => done
                .iter()
                .any(|d| matches!(d, FixAction::ScrubHistory { path: p, .. } if p == path)),
            Some(FixAction::Redact { .. }) | Some(FixAction::Unit { .. }) | None => false,
        });
    report.findings = kept;
    report.fixed.extend(fixed);
    Ok(outcome)
}

/// Findings in a transcript or a log: a credential found there.
/// Where `--fix` keeps the originals it rewrites: `<vault>/backups`, encrypted to the
/// vault's recipient. `None` without a readable vault (the caller refuses the fix).
pub(super) fn backup_target(vault_dir: Option<&Path>) -> Option<(PathBuf, age::x25519::Recipient)> {
    let d = vault_dir?;
    let r = crate::vault::Vault::open(d).ok()?.recipient().ok()?;
    Some((d.join("backups"), r))
}

/// Ask `decide` about `action`; a refusal is kept in `outcome.declined` with what
/// to pass to apply it (`hint`).
pub(super) fn consent(
    decide: &mut dyn FnMut(&FixPrompt) -> bool,
    outcome: &mut FixOutcome,
    action: &FixAction,
    summary: &str,
    hint: &str,
) -> bool {
    let yes = decide(&FixPrompt {
        action,
        summary: summary.to_string(),
    });
    if !yes {
        outcome.declined.push(format!("{summary} ({hint})"));
    }
    yes
}

fn redactable(f: &super::Finding) -> bool {
    match f.check_id.as_str() {
        "plaintext.transcript" | "plaintext.log" => true,
        "vault.secret-copy" => matches!(
            super::scan::categorize_state(&f.abs_path),
            super::scan::Category::Transcript | super::scan::Category::Log
        ),
        _ => false,
    }
}

/// `--redact`: overwrite the credentials in every transcript and log that holds
/// one, keep each original encrypted, and list what must be rotated.
fn redact_found(
    report: &mut Report,
    state_dir: &Path,
    vault_dir: Option<&Path>,
    det: &Detector,
    decide: &mut dyn FnMut(&FixPrompt) -> bool,
    show: &mut dyn Write,
    outcome: &mut FixOutcome,
) -> Result<(), DoctorError> {
    let paths: BTreeSet<PathBuf> = report
        .findings
        .iter()
        .filter(|f| redactable(f))
        .map(|f| f.abs_path.clone())
        .collect();
    if paths.is_empty() {
        return Ok(());
    }
    let recipient = backup_target(vault_dir);
    let mut exposed: BTreeMap<[u8; 32], (detect::Hit, Vec<PathBuf>)> = BTreeMap::new();
    let mut redacted: BTreeSet<PathBuf> = BTreeSet::new();
    for path in paths {
        let action = FixAction::Redact { path: path.clone() };
        let Some((backup_dir, recipient)) = &recipient else {
            outcome.refused.push(format!(
                "redact {}: no vault to keep the encrypted backup in; create one with `clawvault init`, then run --fix --redact again",
                path.display()
            ));
            continue;
        };
        let summary = format!(
            "overwrite the credentials in {} with the marker `{}` (the original is kept encrypted to the vault in {})",
            path.display(),
            redact::MARKER,
            backup_dir.display()
        );
        if !consent(
            decide,
            &mut *outcome,
            &action,
            &summary,
            "pass --redact --yes to apply",
        ) {
            continue;
        }
        match redact::redact_file(&path, det, recipient, backup_dir) {
            Ok(Some(r)) => {
                let mut msg = format!(
                    "redacted {} credential occurrence(s) in {}",
                    r.occurrences,
                    path.display()
                );
                if r.appended > 0 {
                    msg.push_str(&format!(
                        " ({} byte(s) appended meanwhile were checked too)",
                        r.appended
                    ));
                }
                if !r.kept_lines.is_empty() {
                    outcome.refused.push(format!(
                        "redact {}: line(s) {:?} left unchanged: overwriting would break their JSON; delete the file after rotating",
                        path.display(),
                        r.kept_lines
                    ));
                } else {
                    redacted.insert(path.clone());
                }
                for h in r.hits {
                    exposed
                        .entry(h.hash)
                        .or_insert_with(|| (h, Vec::new()))
                        .1
                        .push(path.clone());
                }
                outcome.applied.push(msg);
                outcome.backups.push(r.backup);
            }
            Ok(None) => {
                redacted.insert(path.clone());
            }
            Err(e) => outcome.refused.push(format!("redact: {e}")),
        }
    }
    if !exposed.is_empty() {
        let profiles = redact::profile_ids(state_dir);
        writeln!(
            show,
            "ROTATE NOW: {} credential(s) reached a transcript or a log (a model provider or a backup saw them):",
            exposed.len()
        )?;
        for (h, files) in exposed.into_values() {
            let r = redact::rotate_entry(&h, files, &profiles);
            writeln!(
                show,
                "  {} {}{}: {}",
                r.kind,
                r.preview,
                match (&r.provider, &r.profile_id) {
                    (Some(p), Some(id)) => format!(" (provider {p}, profile {id})"),
                    _ => String::new(),
                },
                r.command
            )?;
            outcome.rotate_now.push(r);
        }
    }
    let (fixed, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut report.findings)
        .into_iter()
        .partition(|f| redactable(f) && redacted.contains(&f.abs_path));
    report.findings = kept;
    report.fixed.extend(fixed);
    Ok(())
}

/// Print the given lines with every secret in them redacted.
fn preview_lines(
    path: &Path,
    lines: &BTreeSet<u64>,
    det: &Detector,
    show: &mut dyn Write,
) -> Result<(), DoctorError> {
    const CAP: usize = 4096;
    let f = File::open(path).map_err(|e| DoctorError::Fix {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut r = BufReader::new(f);
    let mut n = 1u64;
    let mut cur: Vec<u8> = Vec::new();
    let mut over = false;
    let emit = |n: u64, cur: &[u8], over: bool, show: &mut dyn Write| -> io::Result<()> {
        if over {
            writeln!(show, "  {n}: (a line of more than {CAP} bytes)")
        } else {
            writeln!(show, "  {n}: {}", redact_line(det, cur))
        }
    };
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let len = chunk.len();
        let mut start = 0;
        while start < len {
            let (end, nl) = match memchr::memchr(b'\n', &chunk[start..]) {
                Some(i) => (start + i, true),
                None => (len, false),
            };
            if lines.contains(&n) {
                if cur.len() + (end - start) <= CAP {
                    cur.extend_from_slice(&chunk[start..end]);
                } else {
                    over = true;
                }
            }
            if nl {
                if lines.contains(&n) {
                    emit(n, &cur, over, show)?;
                }
                cur.clear();
                over = false;
                n += 1;
                start = end + 1;
            } else {
                start = end;
            }
        }
        r.consume(len);
    }
    if lines.contains(&n) && (!cur.is_empty() || over) {
        emit(n, &cur, over, show)?;
    }
    Ok(())
}

/// A line a fix touches, for display: redacted whole (issue 14, finding 10:
/// only detected tokens used to be hidden, so `curl -u admin:Hunter2pw` showed
/// the password). Only a leading variable name survives, never any value.
pub fn redact_line(_det: &Detector, line: &[u8]) -> String {
    super::detect::redact_whole_line(line)
}

fn io_fix(path: &Path) -> impl Fn(io::Error) -> DoctorError + '_ {
    move |e| DoctorError::Fix {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Encrypt `path` into `backup_dir`, then rewrite it without `drop` lines
/// (streaming both ways; temp file, fsync, rename, fsync the directory).
fn scrub(
    path: &Path,
    drop: &BTreeSet<u64>,
    recipient: &age::x25519::Recipient,
    backup_dir: &Path,
) -> Result<PathBuf, DoctorError> {
    fsutil::ensure_private_dir(backup_dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "history".into())
        .replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-',
            "_",
        );
    let backup = backup_dir.join(format!(
        "shell-history{name}-{}-{:08x}.age",
        fsutil::now_ms(),
        rand::random::<u32>()
    ));
    {
        let mut src =
            fsutil::open_nofollow(OpenOptions::new().read(true), path).map_err(io_fix(path))?;
        let dst = fsutil::create_new_private(&backup).map_err(io_fix(&backup))?;
        let enc =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                .map_err(|e| DoctorError::Fix {
                    path: backup.clone(),
                    reason: format!("age encryption failed: {e}"),
                })?;
        let mut w = enc.wrap_output(dst).map_err(io_fix(&backup))?;
        io::copy(&mut src, &mut w).map_err(io_fix(&backup))?;
        let f = w.finish().map_err(io_fix(&backup))?;
        f.sync_all().map_err(io_fix(&backup))?;
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(
        ".{name}.scrub-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| -> io::Result<()> {
        let out = fsutil::create_new_private(&tmp)?;
        let mut w = BufWriter::new(out);
        let mut r = BufReader::new(fsutil::open_nofollow(OpenOptions::new().read(true), path)?);
        let mut n = 1u64;
        loop {
            let chunk = r.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let len = chunk.len();
            let mut start = 0;
            while start < len {
                let (end, nl) = match memchr::memchr(b'\n', &chunk[start..]) {
                    Some(i) => (start + i + 1, true),
                    None => (len, false),
                };
                if !drop.contains(&n) {
                    w.write_all(&chunk[start..end])?;
                }
                if nl {
                    n += 1;
                }
                start = end;
            }
            r.consume(len);
        }
        let out = w.into_inner().map_err(|e| e.into_error())?;
        out.sync_all()?;
        fsutil::replace(&tmp, path)?;
        fsutil::sync_dir(dir)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(DoctorError::Fix {
            path: path.to_path_buf(),
            reason: format!("scrubbing failed, the file is unchanged: {e}"),
        });
    }
    Ok(backup)
}

/// What a `Chmod` fix does, in one line for the consent prompt and the report.
#[cfg(unix)]
fn chmod_summary(path: &Path, mode: u32) -> String {
    format!("chmod {mode:o} {}", shell_quote(path))
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// On Windows a `Chmod` fix (0600/0700) gives the path the owner-only DACL.
#[cfg(windows)]
fn chmod_summary(path: &Path, _mode: u32) -> String {
    format!("owner-only DACL on {}", shell_quote(path))
}

#[cfg(windows)]
fn chmod(path: &Path, _mode: u32) -> io::Result<()> {
    fsutil::make_private(path)
}
