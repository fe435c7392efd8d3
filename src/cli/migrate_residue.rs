//! `migrate`'s last step: the host pass. After the stores, `.env` and `openclaw.json`
//! are moved, copies of the same credentials remain where no store points: shell
//! histories, session transcripts and logs, units, loose files. This runs `doctor`'s
//! fixer over the host (what `clawvault doctor --fix --yes --redact` does), matching
//! the vault's own values byte for byte, so one `clawvault migrate` leaves no movable
//! plaintext; what cannot move is listed with the reason.

use clawvault::doctor::{self, DoctorArgs, FixAction, FixPrompt};
use clawvault::importenv;
use clawvault::secret::{secret_bytes, SecretBytes};
use clawvault::vault::Vault;

use super::Ctx;

pub struct ResidueOptions {
    /// Leave transcripts and logs as they are (their findings stay listed).
    pub no_redact: bool,
    /// Write the report to stderr (stdout holds `--json`).
    pub report_to_stderr: bool,
}

/// Run the pass. `Ok(code)`: doctor's exit code (0 clean, 1 findings remain).
pub fn run(ctx: &Ctx, v: &Vault, o: &ResidueOptions) -> Result<u8, String> {
    let args = DoctorArgs {
        fix: true,
        yes: true,
        redact: !o.no_redact,
        no_progress: true,
        ..Default::default()
    };
    let secrets = vault_values(v);
    let redact = args.redact;
    let mut decide =
        |p: &FixPrompt| -> bool { redact || !matches!(p.action, FixAction::Redact { .. }) };
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    eprintln!(
        "clawvault: migrate: host pass (`clawvault doctor --fix --yes{}`): copies left outside the stores",
        if redact { " --redact" } else { "" }
    );
    if o.report_to_stderr {
        let mut out = std::io::stderr();
        doctor::run_with(
            &args,
            &ctx.state.path,
            Some(v.dir()),
            &secrets,
            &mut decide,
            &mut out,
            &mut err,
        )
    } else {
        doctor::run_with(
            &args,
            &ctx.state.path,
            Some(v.dir()),
            &secrets,
            &mut decide,
            &mut stdout.lock(),
            &mut err,
        )
    }
    .map_err(|e| e.to_string())
}

/// The vault's values (already unlocked by `migrate`), so copies are found even where
/// no pattern knows their shape.
fn vault_values(v: &Vault) -> Vec<SecretBytes> {
    let names = match v
        .backend()
        .map_err(|e| e.to_string())
        .and_then(|b| b.list().map_err(|e| e.to_string()))
    {
        Ok(n) => n,
        Err(e) => {
            eprintln!("clawvault: migrate: cannot list the vault ({e}); matching by pattern only");
            return vec![];
        }
    };
    match importenv::fetch_local_logged(v, &names, "migrate") {
        Ok(f) => f
            .into_values()
            .map(|s| secret_bytes(s.as_bytes().to_vec()))
            .collect(),
        Err(e) => {
            eprintln!("clawvault: migrate: cannot read the vault ({e}); matching by pattern only");
            vec![]
        }
    }
}
