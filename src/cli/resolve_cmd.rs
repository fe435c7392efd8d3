//! `clawvault resolve`: OpenClaw's exec provider. Never prompts; reads everything it
//! needs from its arguments; exits non-zero only when the whole batch fails.

use std::io::{Read, Write};
use std::process::ExitCode;

use clawvault::resolve::{self, MAX_REQUEST_BYTES};
use clawvault::unlock::{self, NoPrompt};
use clawvault::{Error, Result};
use zeroize::Zeroizing;

use super::Ctx;

pub fn run(ctx: &Ctx) -> Result<ExitCode> {
    let mut input = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| Error::Other(format!("resolve: cannot read the request from stdin: {e}")))?;
    let req = resolve::parse_request(&input).map_err(|e| Error::Usage(format!("resolve: {e}")))?;
    let mut vault = ctx.open_vault()?;
    if vault.reads_need_identity() && !req.ids.is_empty() {
        unlock::unlock(&mut vault, &ctx.unlock_options(), &mut NoPrompt)?;
    }
    let resp = resolve::serve(vault.backend()?, &req.ids)
        .map_err(|e| Error::Other(format!("resolve: {e}")))?;
    let out = resp.to_json();
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|_| stdout.flush())
        .map_err(|e| Error::Other(format!("resolve: cannot write the response: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
