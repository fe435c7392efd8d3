//! Hand a command to the real `openclaw` binary, same arguments, same exit code
//! (for what stays OpenClaw's by nature, or lives in OpenClaw's own state).

use std::path::PathBuf;
use std::process::ExitCode;

use clawvault::paths::StateDir;
use clawvault::{Error, Result};

/// `$CLAWVAULT_OPENCLAW_BIN`, else `openclaw` on `PATH`.
pub fn openclaw_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CLAWVAULT_OPENCLAW_BIN").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("openclaw"))
        .find(|p| p.is_file())
}

/// Run `openclaw ARGS` against `state` (OPENCLAW_STATE_DIR) with inherited stdio.
pub fn run(state: &StateDir, args: &[String]) -> Result<ExitCode> {
    let bin = openclaw_bin().ok_or_else(|| {
        Error::Usage(format!(
            "`openclaw {}` is OpenClaw's own command on this install and no `openclaw` binary was found (set CLAWVAULT_OPENCLAW_BIN or put it on PATH)",
            args.join(" ")
        ))
    })?;
    let status = std::process::Command::new(&bin)
        .args(args)
        .env("OPENCLAW_STATE_DIR", &state.path)
        .status()
        .map_err(|e| Error::Other(format!("cannot run {}: {e}", bin.display())))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}
