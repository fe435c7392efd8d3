//! `vault.resolve-failures`: OpenClaw logs only "exited with code 1" when its exec
//! provider fails; `resolve` writes why into `<vault>/resolve-errors.log`
//! ([`crate::resolve_log`]). doctor reports recent failures there, with the last
//! reason (clawvault's own one-line error: ids and causes, never values).

use std::io::Read;
use std::path::Path;

use super::{Finding, Severity};

/// Failures older than this are history, not a finding.
pub const RECENT_MS: u64 = 24 * 60 * 60 * 1000;

pub fn check(vault_dir: &Path, now_ms: u64, out: &mut Vec<Finding>) {
    let path = crate::resolve_log::path(vault_dir);
    let Ok(f) = crate::fsutil::open_nofollow(std::fs::OpenOptions::new().read(true), &path) else {
        return;
    };
    let mut text = String::new();
    if f.take(crate::resolve_log::MAX_BYTES * 2)
        .read_to_string(&mut text)
        .is_err()
    {
        return;
    }
    let mut recent = 0usize;
    let mut last: Option<(usize, &str)> = None;
    for (i, line) in text.lines().enumerate() {
        let Some((ms, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(ms) = ms.parse::<u64>() else {
            continue;
        };
        if now_ms.saturating_sub(ms) <= RECENT_MS {
            recent += 1;
            last = Some((i + 1, rest));
        }
    }
    let Some((line, rest)) = last else {
        return;
    };
    let reason = rest.split_once("]: ").map_or(rest, |(_, r)| r);
    let reason: String = reason.chars().take(300).collect();
    out.push(Finding::new(
        "vault.resolve-failures".into(),
        Severity::Warn,
        format!(
            "OpenClaw's exec provider could not be served {recent} time(s) in the last 24 h; the last time: {reason}"
        ),
        &path,
        Some(line as u64),
        "fix that cause (`clawvault unlock --status` lists the unlock sources a daemon can use), then run `openclaw secrets reload`; this file keeps the history".into(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_recent_failures_are_reported_with_the_last_reason() {
        let d = tempfile::tempdir().unwrap();
        let now = 10 * RECENT_MS;
        std::fs::write(
            crate::resolve_log::path(d.path()),
            format!(
                "{} resolve failed for 1 id(s) [a]: old cause\n{} resolve failed for 2 id(s) [b, c]: the vault is locked\n",
                now - 2 * RECENT_MS,
                now - 1000
            ),
        )
        .unwrap();
        let mut out = vec![];
        check(d.path(), now, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].message.contains("1 time(s)"), "{}", out[0].message);
        assert!(out[0].message.ends_with("the vault is locked"));
        assert_eq!(out[0].line, Some(2));
        let mut out = vec![];
        check(d.path(), now + 2 * RECENT_MS, &mut out);
        assert!(out.is_empty());
    }
}
