//! `clawvault resolve`: OpenClaw's exec provider. Never prompts; reads everything it
//! needs from its arguments; exits non-zero only when the whole batch fails.

use std::io::{Read, Write};
use std::process::ExitCode;

use clawvault::access_log;
use clawvault::agent::client::Client;
use clawvault::resolve::{self, MAX_REQUEST_BYTES};
use clawvault::unlock::{self, names, Attempt, NoPrompt};
use clawvault::{Error, Result};
use zeroize::Zeroizing;

use super::Ctx;

#[derive(clap::Args, Debug)]
pub struct ResolveArgs {
    /// The provider alias OpenClaw was told to use (`secrets.providers.<alias>`);
    /// a request naming another provider is refused
    #[arg(long, default_value = clawvault::auth::REF_PROVIDER, value_name = "ALIAS")]
    pub alias: String,
}

pub fn run(ctx: &Ctx, a: ResolveArgs) -> Result<ExitCode> {
    let mut input = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| Error::Other(format!("resolve: cannot read the request from stdin: {e}")))?;
    let req = resolve::parse_request(&input).map_err(|e| Error::Usage(format!("resolve: {e}")))?;
    // A request meant for another provider (a misrouted or hostile config) gets
    // nothing: only the alias this resolver was registered under is answered.
    if let Some(p) = &req.provider {
        if *p != a.alias {
            return Err(Error::Usage(format!(
                "resolve: the request is for provider {:?}, but this resolver answers only {:?}; register it under that alias (`clawvault openclaw register --alias ...`)",
                resolve::printable_provider(p),
                a.alias
            )));
        }
    }
    let mut vault = ctx.open_vault()?;
    // (1) The agent, when its socket answers.
    let agent_attempt = if req.ids.is_empty() {
        None
    } else {
        match Client::connect(vault.dir(), vault.id()) {
            Ok(mut c) => match c.resolve(&req.ids) {
                Ok(mut body) => {
                    body.push(b'\n');
                    eprintln!(
                        "clawvault: resolve: {} served by the agent at {}",
                        plural(req.ids.len(), "id"),
                        c.socket.display()
                    );
                    return write_out(&body);
                }
                Err(e) if e.is_locked() => Some(Attempt {
                    source: names::AGENT.into(),
                    outcome: format!("running at {} but locked", c.socket.display()),
                }),
                Err(e) => Some(Attempt {
                    source: names::AGENT.into(),
                    outcome: e.to_string(),
                }),
            },
            Err(why) => Some(Attempt {
                source: names::AGENT.into(),
                outcome: why.to_string(),
            }),
        }
    };
    // (2)-(5) Local sources; never a prompt.
    let how = if vault.reads_need_identity() && !req.ids.is_empty() {
        match unlock::unlock(&mut vault, &ctx.unlock_options(), &mut NoPrompt) {
            Ok(src) => format!("unlocked from {src}"),
            Err(mut e) => {
                if let Some(a) = agent_attempt {
                    e.attempts.insert(0, a);
                }
                let e: Error = e.into();
                clawvault::resolve_log::append(vault.dir(), &req.ids, &e.to_string());
                access_log::append(
                    vault.dir(),
                    None,
                    &access_log::Record::new(
                        "resolve",
                        "local",
                        access_log::Proc::me(),
                        &req.ids,
                        &format!("refused: {e}"),
                    ),
                );
                return Err(e);
            }
        }
    } else {
        format!(
            "the {} backend (no identity needed)",
            vault.manifest().backend.kind()
        )
    };
    let served = resolve::serve(vault.backend()?, &req.ids);
    if !req.ids.is_empty() {
        access_log::append(
            vault.dir(),
            access_log::Key::of(&vault).as_ref(),
            &access_log::Record::new(
                "resolve",
                "local",
                access_log::Proc::me(),
                &req.ids,
                &resolve::outcome(&served),
            ),
        );
    }
    let resp = served.map_err(|e| Error::Other(format!("resolve: {e}")))?;
    if !req.ids.is_empty() {
        eprintln!(
            "clawvault: resolve: {} served locally, {how}",
            plural(req.ids.len(), "id")
        );
    }
    write_out(&resp.to_json())
}

fn write_out(out: &[u8]) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out)
        .and_then(|_| stdout.flush())
        .map_err(|e| Error::Other(format!("resolve: cannot write the response: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
