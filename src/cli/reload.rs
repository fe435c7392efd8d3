//! After a change to a secret the gateway may use, have the running OpenClaw gateway
//! re-resolve its refs (`openclaw secrets reload`): OpenClaw resolves SecretRefs only
//! at start and on reload, so without this a pasted or rotated key does nothing
//! until a restart. One line on stderr either way; `--no-reload` skips it.

use std::path::PathBuf;

use clawvault::openclaw::apply::{find_openclaw, OpenClawCli};
use clawvault::openclaw::{self as oc, sqlite};

use super::Ctx;

/// What happened, for the one line and for tests.
#[derive(Debug, PartialEq)]
pub enum Reload {
    Skipped,
    NoGateway,
    NoOpenClaw(String),
    Done { gateway: String, warnings: u64 },
    Failed { gateway: String, reason: String },
}

pub fn after_change(ctx: &Ctx, skip: bool) -> Reload {
    if skip {
        return Reload::Skipped;
    }
    let Some(gateway) = sqlite::live_gateway_lock(&ctx.state) else {
        return Reload::NoGateway;
    };
    let Some(bin) = find_openclaw(None) else {
        return Reload::NoOpenClaw(gateway);
    };
    let cfg = oc::config_path(&ctx.state);
    let cli = OpenClawCli {
        bin,
        state_dir: std::path::absolute(&ctx.state.path).unwrap_or_else(|_| ctx.state.path.clone()),
        config: std::path::absolute(&cfg).unwrap_or_else(|_| PathBuf::from(&cfg)),
    };
    match cli.reload() {
        Ok(warnings) => Reload::Done { gateway, warnings },
        Err(reason) => Reload::Failed { gateway, reason },
    }
}

/// Run [`after_change`] and say what happened in one line on stderr.
pub fn announce(ctx: &Ctx, skip: bool) {
    match after_change(ctx, skip) {
        Reload::Skipped => {}
        Reload::NoGateway => {
            eprintln!("clawvault: no OpenClaw gateway is running; it reads the change when it starts")
        }
        Reload::NoOpenClaw(g) => eprintln!(
            "clawvault: {g} is running and no `openclaw` binary was found: run `openclaw secrets reload` so it uses the change"
        ),
        Reload::Done { gateway, warnings: 0 } => {
            eprintln!("clawvault: {gateway} reloaded its secrets and resolved every ref")
        }
        Reload::Done { gateway, warnings } => eprintln!(
            "clawvault: {gateway} reloaded its secrets with {warnings} warning(s) (refs it could not resolve keep their last value): run `openclaw secrets audit --allow-exec`"
        ),
        Reload::Failed { gateway, reason } => eprintln!(
            "clawvault: {gateway} did not reload ({reason}); it keeps its previous secrets: run `openclaw secrets reload` once that is fixed"
        ),
    }
}
