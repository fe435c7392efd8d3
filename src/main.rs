//! The `clawvault` binary: parse, run, and print errors in exactly one place.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // OpenClaw's exec protocol: a failed batch gets exactly one line on stderr.
    let one_line = matches!(args.command, cli::Command::Resolve);
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            // Errors never carry secret material (see threat-model.md); print them once.
            eprintln!("clawvault: error: {e}");
            if let Some(hint) = e.hint().filter(|_| !one_line) {
                eprintln!("clawvault: hint: {hint}");
            }
            ExitCode::from(1)
        }
    }
}
