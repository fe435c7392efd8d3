//! `doctor --fix` for service definitions: systemd units and drop-ins
//! (`Environment=`) and launchd plists (`EnvironmentVariables`).
//!
//! The rule is narrow on purpose. An assignment is removed only when both hold:
//! - its value is a byte-exact copy of a secret the vault holds (so OpenClaw now
//!   resolves it through a clawvault ref and nothing is lost), and
//! - the unit starts OpenClaw (so no other program loses a variable it reads).
//!
//! Anything else that looks like a credential stays, and is reported with what to
//! do (another program's key: keep it out of the unit with `clawvault exec`). Each
//! rewrite keeps the original encrypted to the vault's recipient first, replaces the
//! file atomically with its mode (never wider than it was, never group/other
//! writable), and names the reload step; clawvault never runs systemctl/launchctl.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::super::detect::{Detector, Kind};
use super::super::{DoctorError, Report};
use super::{redact, FixAction, FixOutcome, FixPrompt};
use crate::fsutil;

pub mod launchd;
pub mod systemd;

/// A unit file or plist in one of the places `doctor` reads service definitions from.
pub fn is_unit_path(p: &Path) -> bool {
    let s = p.to_string_lossy();
    (s.contains("/.config/systemd/user/") || s.contains("/Library/LaunchAgents/"))
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "service" | "conf" | "plist" | "socket" | "timer"))
}

/// What one unit holds: assignments to remove, and what stays with the reason.
struct Plan {
    text: String,
    /// 1-based lines whose every credential leaves the file.
    fixed_lines: BTreeSet<u64>,
    removed: Vec<String>,
    kept: Vec<String>,
}

fn credential(det: &Detector, v: &[u8]) -> Option<Kind> {
    let mut hits = Vec::new();
    det.scan(v, 0, v.len(), &mut hits);
    if hits.iter().any(|h| h.kind == Kind::VaultSecret) {
        return Some(Kind::VaultSecret);
    }
    hits.first().map(|h| h.kind)
}

fn line_of(text: &str, byte: usize) -> u64 {
    text[..byte].bytes().filter(|&b| b == b'\n').count() as u64 + 1
}

fn plan_systemd(text: &str, det: &Detector) -> Plan {
    let openclaw = systemd::runs_openclaw(text);
    let mut out = String::with_capacity(text.len());
    let (mut removed, mut kept, mut fixed_lines) = (vec![], vec![], BTreeSet::new());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches(['\n', '\r']);
        let nl = &line[body.len()..];
        let Some(words) = systemd::environment_words(body) else {
            out.push_str(line);
            continue;
        };
        let mut drop = vec![];
        let mut kept_here = false;
        for w in &words {
            match credential(det, &w.value) {
                Some(Kind::VaultSecret) if openclaw => drop.push(w),
                Some(_) => {
                    kept_here = true;
                    kept.push(format!(
                        "{} (line {}): {}",
                        w.name,
                        i + 1,
                        if openclaw {
                            "not a value the vault holds: OpenClaw may read it from this unit; move it with `clawvault import-env` or a SecretRef first, then run --fix again"
                        } else {
                            "this unit does not start OpenClaw: store the value in the vault (`clawvault import-env`) and start the program through `clawvault exec --`"
                        }
                    ));
                }
                None => {}
            }
        }
        if drop.is_empty() {
            out.push_str(line);
            continue;
        }
        removed.extend(drop.iter().map(|w| w.name.clone()));
        if !kept_here {
            fixed_lines.insert(i as u64 + 1);
        }
        if let Some(rest) = systemd::without(body, &drop, &words) {
            out.push_str(&rest);
            out.push_str(nl);
        }
    }
    Plan {
        text: out,
        fixed_lines,
        removed,
        kept,
    }
}

fn plan_launchd(text: &str, det: &Detector) -> Plan {
    let openclaw = launchd::runs_openclaw(text);
    let pairs = launchd::environment_pairs(text);
    let (mut drop, mut removed, mut kept, mut fixed_lines) =
        (vec![], vec![], vec![], BTreeSet::new());
    for p in &pairs {
        match credential(det, &p.value) {
            Some(Kind::VaultSecret) if openclaw => {
                for l in line_of(text, p.start)..=line_of(text, p.end) {
                    fixed_lines.insert(l);
                }
                removed.push(p.name.clone());
                drop.push(p);
            }
            Some(_) => kept.push(format!(
                "{} (line {}): {}",
                p.name,
                line_of(text, p.start),
                if openclaw {
                    "not a value the vault holds: move it with `clawvault import-env` or a SecretRef first, then run --fix again"
                } else {
                    "this job does not start OpenClaw: store the value in the vault and start the program through `clawvault exec --`"
                }
            )),
            None => {}
        }
    }
    Plan {
        text: launchd::without(text, &drop),
        fixed_lines,
        removed,
        kept,
    }
}

fn reload_step(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if path.extension().is_some_and(|e| e == "plist") {
        format!(
            "launchctl bootout gui/$(id -u) {0} && launchctl bootstrap gui/$(id -u) {0}",
            super::super::checks::shell_quote(path)
        )
    } else {
        let unit = path
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|d| d.to_str())
            .and_then(|d| d.strip_suffix(".d"))
            .map(str::to_string)
            .unwrap_or(name);
        format!("systemctl --user daemon-reload && systemctl --user restart {unit}")
    }
}

/// Fix every unit a finding points at; fixed findings move to `report.fixed`.
pub fn fix_units(
    report: &mut Report,
    vault_dir: Option<&Path>,
    det: &Detector,
    decide: &mut dyn FnMut(&FixPrompt) -> bool,
    show: &mut dyn Write,
    outcome: &mut FixOutcome,
) -> Result<(), DoctorError> {
    let paths: BTreeSet<PathBuf> = report
        .findings
        .iter()
        .filter(|f| is_unit_path(&f.abs_path))
        .map(|f| f.abs_path.clone())
        .collect();
    let mut fixed: Vec<(PathBuf, BTreeSet<u64>)> = Vec::new();
    // Looked up once for the run, not per unit.
    let target = if paths.is_empty() {
        None
    } else {
        super::backup_target(vault_dir)
    };
    for path in paths {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                outcome.refused.push(format!(
                    "{}: a symlink; fix the file it points to by hand",
                    path.display()
                ));
                continue;
            }
            Err(e) => {
                outcome.refused.push(format!("{}: {e}", path.display()));
                continue;
            }
            Ok(_) => {}
        }
        let bytes = fs::read(&path).map_err(|e| DoctorError::Fix {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let bytes = zeroize::Zeroizing::new(bytes);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            outcome.refused.push(format!(
                "{}: not UTF-8 text; edit it by hand",
                path.display()
            ));
            continue;
        };
        let plan = if path.extension().is_some_and(|e| e == "plist") {
            plan_launchd(text, det)
        } else {
            plan_systemd(text, det)
        };
        let plan_text = zeroize::Zeroizing::new(plan.text);
        for k in &plan.kept {
            outcome.refused.push(format!("{}: {k}", path.display()));
        }
        if plan.removed.is_empty() {
            continue;
        }
        let Some((backup_dir, recipient)) = &target else {
            outcome.refused.push(format!(
                "{}: no vault to keep the encrypted backup in; run `clawvault init`, then --fix again",
                path.display()
            ));
            continue;
        };
        let action = FixAction::Unit { path: path.clone() };
        let summary = format!(
            "remove {} from {} (copies of vault secrets OpenClaw now resolves through clawvault; the original is kept encrypted in {})",
            plan.removed.join(", "),
            path.display(),
            backup_dir.display()
        );
        if !super::consent(decide, outcome, &action, &summary, "pass --yes to apply") {
            continue;
        }
        #[cfg(unix)]
        let mode = fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o600);
        let backup = redact::write_backup("unit", &path, &bytes, recipient, backup_dir)?;
        fsutil::crash_point("doctor.unit.backup-written");
        fsutil::write_atomic(&path, plan_text.as_bytes())?;
        // write_atomic creates 0600; give the unit its own mode back, minus any
        // group/other write bit. (systemd and launchd units exist only on Unix.)
        #[cfg(unix)]
        let _ = fs::set_permissions(&path, fs::Permissions::from_mode(mode & !0o022));
        writeln!(
            show,
            "removed {} from {}; then run: {}",
            plan.removed.join(", "),
            path.display(),
            reload_step(&path)
        )?;
        outcome.applied.push(summary);
        outcome.backups.push(backup);
        fixed.push((path, plan.fixed_lines));
    }
    let (done, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut report.findings)
        .into_iter()
        .partition(|f| {
            fixed
                .iter()
                .any(|(p, lines)| *p == f.abs_path && f.line.is_some_and(|l| lines.contains(&l)))
        });
    report.findings = kept;
    report.fixed.extend(done);
    Ok(())
}
