//! `clawvault log`: read `<vault>/access.log` (every read of secret material; ids,
//! callers and outcomes, never values), and `--verify` its chain.

use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use clawvault::access_log::{self, verify, Key, Record};
use clawvault::{Error, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Only reads newer than this (`30m`, `1h`, `2d`).
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub since: Option<Duration>,
    /// Only reads that asked for this id.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// One JSON object per line, as stored.
    #[arg(long)]
    pub json: bool,
    /// Check the chain and every MAC (unlocks the vault); exit 1 on a cut or edit.
    #[arg(long, conflicts_with_all = ["since", "id", "json"])]
    pub verify: bool,
}

fn who(p: &access_log::Proc) -> String {
    match &p.exe {
        Some(e) => format!("{} ({e})", p.pid),
        None => p.pid.to_string(),
    }
}

fn show(r: &Record) -> String {
    let t = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(r.t));
    let parent = r
        .parent
        .as_ref()
        .map(|p| format!(" from {}", who(p)))
        .unwrap_or_default();
    let more = if r.n > r.ids.len() {
        format!(" +{}", r.n - r.ids.len())
    } else {
        String::new()
    };
    format!(
        "{t}  {} via {}  pid {}{parent}  {} id(s) [{}{more}]  {}",
        r.cmd,
        r.via,
        who(&r.caller),
        r.n,
        r.ids.join(", "),
        r.outcome
    )
}

pub fn run(ctx: &Ctx, a: LogArgs) -> Result<ExitCode> {
    let v = ctx.open_vault()?;
    let lines = access_log::read_all(v.dir()).map_err(|e| {
        Error::Other(format!(
            "{}: cannot read the access log: {e}",
            access_log::path(v.dir()).display()
        ))
    })?;
    if a.verify {
        let v = ctx.unlocked_vault()?;
        let key = Key::of(&v).ok_or_else(|| {
            Error::Other("the vault identity is needed to check the log's MACs".into())
        })?;
        let verdict = verify::verify(&lines, &key);
        for b in &verdict.breaks {
            println!("BROKEN {b}");
        }
        println!(
            "{} line(s): {} verified, {} without a MAC (written by a reader that held no vault identity), {} break(s)",
            verdict.lines,
            verdict.keyed,
            verdict.unkeyed,
            verdict.breaks.len()
        );
        return Ok(if verdict.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let cutoff = a
        .since
        .map(|d| clawvault::fsutil::now_ms().saturating_sub(d.as_millis() as u64));
    for (path, n, bytes) in &lines {
        let Ok(r) = serde_json::from_slice::<Record>(bytes) else {
            eprintln!(
                "clawvault: log: {}:{n} is not a log line (run `clawvault log --verify`)",
                path.display()
            );
            continue;
        };
        if cutoff.is_some_and(|c| r.t < c) {
            continue;
        }
        if let Some(id) = &a.id {
            if !r.ids.iter().any(|i| i == id) {
                continue;
            }
        }
        if a.json {
            println!("{}", String::from_utf8_lossy(bytes));
        } else {
            println!("{}", show(&r));
        }
    }
    Ok(ExitCode::SUCCESS)
}
