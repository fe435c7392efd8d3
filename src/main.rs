//! The `clawvault` binary: parse, run, and print errors in exactly one place.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            // Errors never carry secret material (see threat-model.md); print them once.
            eprintln!("clawvault: error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("clawvault: hint: {hint}");
            }
            ExitCode::from(1)
        }
    }
}
