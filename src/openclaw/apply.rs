//! Running the `openclaw` binary itself: `secrets apply` of a plan clawvault wrote,
//! `secrets audit` to verify, and `doctor --fix` to import a JSON-era auth store.
//!
//! OpenClaw is run with the same state directory and config path clawvault used
//! (`OPENCLAW_STATE_DIR`, `OPENCLAW_CONFIG_PATH`), no shell, and its output captured;
//! nothing clawvault passes it is secret (plans hold references only).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// An `openclaw` binary and the state it should act on.
#[derive(Debug, Clone)]
pub struct OpenClawCli {
    pub bin: PathBuf,
    pub state_dir: PathBuf,
    pub config: PathBuf,
}

/// What `secrets audit --json` said, in the parts clawvault acts on.
#[derive(Debug, Clone, Default)]
pub struct AuditSummary {
    pub status: String,
    pub plaintext: u64,
    pub unresolved: u64,
    pub refs_checked: u64,
    /// `(code, file, path)` of each finding, never a value (OpenClaw's audit
    /// output holds none).
    pub findings: Vec<(String, String, String)>,
}

/// Find `openclaw`: `--openclaw BIN` first, then `$CLAWVAULT_OPENCLAW_BIN`, else `$PATH`.
pub fn find_openclaw(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("CLAWVAULT_OPENCLAW_BIN").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("openclaw"))
        .find(|p| p.is_file())
}

impl OpenClawCli {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env("OPENCLAW_STATE_DIR", &self.state_dir)
            .env("OPENCLAW_CONFIG_PATH", &self.config)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The node that runs OpenClaw must be the one beside it when there is one
        // (an npm install under a prefix), else whatever PATH gives.
        if let Some(dir) = self.bin.parent() {
            if let Some(path) = std::env::var_os("PATH") {
                let mut v = vec![dir.to_path_buf()];
                v.extend(std::env::split_paths(&path));
                if let Ok(joined) = std::env::join_paths(v) {
                    c.env("PATH", joined);
                }
            }
        }
        c
    }

    fn run(&self, args: &[&str]) -> Result<std::process::Output, String> {
        let t = std::time::Instant::now();
        let out = self
            .command(args)
            .output()
            .map_err(|e| format!("cannot run {} {}: {e}", self.bin.display(), args.join(" ")))?;
        if std::env::var_os("CLAWVAULT_TRACE_OPENCLAW").is_some() {
            eprintln!(
                "clawvault: openclaw {} -> {} in {:.1}s",
                args.join(" "),
                out.status,
                t.elapsed().as_secs_f64()
            );
        }
        Ok(out)
    }

    /// `openclaw secrets apply --from PLAN --allow-exec`.
    pub fn apply(&self, plan: &Path) -> Result<(), String> {
        let plan_s = plan.to_string_lossy();
        let out = self.run(&["secrets", "apply", "--from", &plan_s, "--allow-exec"])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`openclaw secrets apply --from {} --allow-exec` failed ({}): {}",
                plan.display(),
                out.status,
                last_line(&out)
            ))
        }
    }

    /// `openclaw secrets apply --from PLAN --dry-run --allow-exec`: does OpenClaw
    /// accept every target?
    pub fn check_plan(&self, plan: &Path) -> Result<(), String> {
        let plan_s = plan.to_string_lossy();
        let out = self.run(&[
            "secrets",
            "apply",
            "--from",
            &plan_s,
            "--dry-run",
            "--allow-exec",
        ])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(last_line(&out))
        }
    }

    /// `openclaw doctor --fix --non-interactive` (imports a JSON-era auth store).
    pub fn doctor_fix(&self) -> Result<(), String> {
        let out = self.run(&["doctor", "--fix", "--non-interactive"])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`openclaw doctor --fix --non-interactive` failed ({}): {}",
                out.status,
                last_line(&out)
            ))
        }
    }

    /// `openclaw secrets reload --json`: the running gateway re-resolves every ref
    /// and swaps its snapshot. `Ok(warnings)`: it took (refs whose owner failed
    /// keep a stale value and count as warnings). OpenClaw finds the gateway and its
    /// token from the config; no credential goes in argv.
    pub fn reload(&self) -> Result<u64, String> {
        let out = self.run(&["secrets", "reload", "--json"])?;
        let v: Option<Value> = serde_json::from_slice(&out.stdout).ok();
        match v {
            Some(v) if v["ok"] == Value::Bool(true) => Ok(v["warningCount"].as_u64().unwrap_or(0)),
            Some(v) => Err(v["error"]["message"]
                .as_str()
                .map(|m| m.lines().next().unwrap_or(m).to_string())
                .unwrap_or_else(|| last_line(&out))),
            None => Err(last_line(&out)),
        }
    }

    /// `openclaw secrets audit --json --allow-exec`, summarised.
    pub fn audit(&self) -> Result<AuditSummary, String> {
        let out = self.run(&["secrets", "audit", "--json", "--allow-exec"])?;
        let v: Value = serde_json::from_slice(&out.stdout).map_err(|_| {
            format!(
                "`openclaw secrets audit --json --allow-exec` did not print JSON ({}): {}",
                out.status,
                last_line(&out)
            )
        })?;
        Ok(parse_audit(&v))
    }
}

/// The parts of an audit report clawvault reports on.
pub fn parse_audit(v: &Value) -> AuditSummary {
    let n = |p: &str| v.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    let findings = v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
                    (s("code"), s("file"), {
                        let p = s("jsonPath");
                        if p.is_empty() {
                            s("path")
                        } else {
                            p
                        }
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    AuditSummary {
        status: v["status"].as_str().unwrap_or("").to_string(),
        plaintext: n("/summary/plaintextCount"),
        unresolved: n("/summary/unresolvedRefCount"),
        refs_checked: n("/resolution/refsChecked"),
        findings,
    }
}

/// The last non-empty line OpenClaw printed (its error), without ANSI colours.
fn last_line(out: &std::process::Output) -> String {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no output");
    let clean: String = line.chars().filter(|c| !c.is_control()).collect();
    clean.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_summary_reads_openclaws_shape() {
        let v = serde_json::json!({
            "status": "findings",
            "summary": {"plaintextCount": 2, "unresolvedRefCount": 1},
            "resolution": {"refsChecked": 5},
            "findings": [{"code": "PLAINTEXT_FOUND", "file": "/s/openclaw.json", "jsonPath": "gateway.auth.token"}]
        });
        let s = parse_audit(&v);
        assert_eq!((s.plaintext, s.unresolved, s.refs_checked), (2, 1, 5));
        assert_eq!(s.findings[0].2, "gateway.auth.token");
    }
}
