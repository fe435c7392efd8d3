//! The `clawvault` binary: parse, run, and print errors in exactly one place.

use std::process::ExitCode;

use clap::Parser;

mod cli;

/// Replace the default panic message: a panic payload may carry secret bytes (a
/// formatted value, a slice of a buffer), so only the location is printed. The
/// default behaviour otherwise stays: the thread unwinds and the process exits 101.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        use std::io::Write;
        let line = match info.location() {
            Some(l) => format!(
                "clawvault: internal error at {}:{} (this is a bug; please report it)\n",
                l.file(),
                l.line()
            ),
            None => "clawvault: internal error (this is a bug; please report it)\n".to_string(),
        };
        // One write, ignoring failures (stderr may be closed).
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }));
}

fn main() -> ExitCode {
    install_panic_hook();
    // Test-only: lets the test suite check that a panic payload never reaches the
    // output. Compiled out of release builds.
    #[cfg(debug_assertions)]
    if let Some(text) = std::env::var_os("CLAWVAULT_TEST_PANIC") {
        panic!("{}", text.to_string_lossy());
    }
    // A usage error exits 1, as OpenClaw's CLI does: 2 means something specific
    // (`models status --check`: a credential is expiring), and a typo must never read
    // as that. Help and version still exit 0.
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // OpenClaw's exec protocol: a failed batch gets exactly one line on stderr.
    let one_line = matches!(args.command, cli::Command::Resolve(_));
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
