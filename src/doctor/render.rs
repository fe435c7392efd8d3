//! How a report is printed: text grouped by severity, OpenClaw's lint JSON, and the
//! progress bar. (SARIF is in `sarif.rs`.)

use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::Ordering;

use super::scan::Progress;
use super::{DoctorError, Finding, FixOutcome, Report, Severity};

pub(super) fn draw_progress(p: &Progress, err: &mut dyn Write) {
    let total = p.total_bytes.load(Ordering::Relaxed).max(1);
    let done = p.bytes_done.load(Ordering::Relaxed).min(total);
    let files = p.files_done.load(Ordering::Relaxed);
    let tf = p.total_files.load(Ordering::Relaxed);
    if tf == 0 {
        return;
    }
    let w = 30usize;
    let fill = (done as u128 * w as u128 / total as u128) as usize;
    let _ = write!(
        err,
        "\r\x1b[2Kdoctor [{}{}] {} / {}  {files}/{tf} files",
        "#".repeat(fill),
        "-".repeat(w - fill),
        human_bytes(done),
        human_bytes(total)
    );
    let _ = err.flush();
}

pub fn human_bytes(n: u64) -> String {
    const U: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < U.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

pub(super) fn render_json(
    report: &Report,
    outcome: Option<&FixOutcome>,
    out: &mut dyn Write,
) -> Result<(), DoctorError> {
    // OpenClaw's `doctor --lint --json` envelope (schemaVersion 1: schemaVersion,
    // ok, checksRun, checksSkipped, findings[checkId, severity info|warning|error,
    // message, path, line, column, fixHint]); the rest are our extra fields.
    // A check here is one file's content scan; a skipped check is a directory
    // left out (OpenClaw caches, see `skipped`).
    let v = serde_json::json!({
        "schemaVersion": 1,
        "ok": report.findings.is_empty(),
        "checksRun": report.files_scanned,
        "checksSkipped": report.skipped.len(),
        "findings": report.findings,
        "skipped": report.skipped,
        "summary": {
            "error": report.count(Severity::Error),
            "warning": report.count(Severity::Warn),
            "info": report.count(Severity::Info),
            "filesScanned": report.files_scanned,
            "bytesScanned": report.bytes_scanned,
            "baselined": report.baselined,
            "elapsedMs": report.elapsed.as_millis() as u64,
        },
        "fixed": report.fixed,
        "needsMigration": report.needs_migration,
        "fix": outcome,
    });
    serde_json::to_writer_pretty(&mut *out, &v).map_err(io::Error::other)?;
    writeln!(out)?;
    Ok(())
}

fn show_path(p: &str, home: Option<&Path>) -> String {
    if let Some(h) = home.and_then(|h| h.to_str()).filter(|h| !h.is_empty()) {
        if let Some(rest) = p.strip_prefix(h) {
            if rest.starts_with('/') {
                return format!("~{rest}");
            }
        }
    }
    p.to_string()
}

pub(super) fn render_human(
    report: &Report,
    outcome: Option<&FixOutcome>,
    home: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), DoctorError> {
    writeln!(
        out,
        "clawvault doctor: {} file(s), {} scanned in {:.1} s",
        report.files_scanned,
        human_bytes(report.bytes_scanned),
        report.elapsed.as_secs_f64()
    )?;
    for sev in [Severity::Error, Severity::Warn, Severity::Info] {
        let group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity == sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(out, "\n{} ({})", sev.as_str().to_uppercase(), group.len())?;
        let mut last_path = None;
        for f in group {
            if last_path != Some(&f.path) {
                writeln!(out, "  {}", show_path(&f.path, home))?;
                last_path = Some(&f.path);
            }
            let at = match (f.line, f.column) {
                (Some(l), Some(c)) => format!("line {l}:{c}: "),
                (Some(l), None) => format!("line {l}: "),
                _ => String::new(),
            };
            writeln!(out, "    {at}{}  [{}]", f.message, f.check_id)?;
            writeln!(out, "      fix: {}", f.fix_hint)?;
        }
    }
    if !report.fixed.is_empty() {
        writeln!(out, "\nFIXED ({})", report.fixed.len())?;
        for f in &report.fixed {
            let at = f.line.map(|l| format!(":{l}")).unwrap_or_default();
            writeln!(out, "  {}{at}  [{}]", show_path(&f.path, home), f.check_id)?;
        }
    }
    if let Some(o) = outcome {
        for s in &o.declined {
            writeln!(out, "  not applied: {s}")?;
        }
        for s in &o.refused {
            writeln!(out, "  refused: {s}")?;
        }
    }
    if !report.skipped.is_empty() {
        writeln!(out, "\nNOT SCANNED")?;
        for s in &report.skipped {
            writeln!(out, "  {}", show_path(s, home))?;
        }
    }
    if !report.needs_migration.is_empty() {
        writeln!(out, "\nNEEDS MIGRATION")?;
        for m in &report.needs_migration {
            writeln!(
                out,
                "  {}  ->  {}",
                show_path(&m.path.display().to_string(), home),
                m.command()
            )?;
        }
    }
    let (e, w, i) = (
        report.count(Severity::Error),
        report.count(Severity::Warn),
        report.count(Severity::Info),
    );
    writeln!(out)?;
    if e + w + i == 0 {
        write!(out, "No problems found.")?;
    } else {
        write!(out, "{e} error(s), {w} warning(s), {i} info.")?;
    }
    if report.baselined > 0 {
        write!(out, " {} accepted by the baseline.", report.baselined)?;
    }
    writeln!(out)?;
    Ok(())
}
