//! `clawvault completions SHELL` and `clawvault man`: generated at run time from the
//! same clap definitions that parse the command line, so they can never drift from
//! the binary the operator actually has installed (a build-time step would write files
//! that packagers must remember to ship, and that go stale on `cargo install`).

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;
use clawvault::Result;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to write the completion script for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Write the completion script for `shell` to stdout.
pub fn completions(a: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(a.shell, &mut cmd, "clawvault", &mut out);
    out.flush().ok();
    Ok(ExitCode::SUCCESS)
}

/// Write the clawvault(1) man page (roff) to stdout.
pub fn man() -> Result<ExitCode> {
    let cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    // A closed pipe (`clawvault man | head`) is not an error worth reporting.
    clap_mangen::Man::new(cmd).render(&mut out).ok();
    out.flush().ok();
    Ok(ExitCode::SUCCESS)
}
