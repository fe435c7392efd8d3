//! Runs `doctor` from the library, for `bench/doctor.sh` (the CLI is wired separately).
//!
//! Usage: doctor_bench STATE_DIR [doctor args...]

use clap::Parser;
use clawvault::doctor::{self, DoctorArgs};

#[derive(Parser)]
struct Cli {
    state_dir: std::path::PathBuf,
    #[command(flatten)]
    doctor: DoctorArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    match doctor::run(&cli.doctor, &cli.state_dir, None, &mut out, &mut err) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("doctor: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
