//! Audits of a bare state directory (and its vault), and a report printed in full for assertion messages.

use std::fs;
use std::path::Path;

use clawvault::doctor::{self, AuditInput, DoctorArgs};

/// An audit of `state` alone: an empty home and working directory.
pub(crate) fn audit_state(
    state: &Path,
    home: &Path,
    vault_secrets: &[clawvault::secret::SecretBytes],
) -> doctor::Report {
    audit_in(state, home, None, vault_secrets)
}

/// [`audit_state`], with the vault in `vdir` checked too.
pub(crate) fn audit_vault(home: &Path, state: &Path, vdir: &Path) -> doctor::Report {
    audit_in(state, home, Some(vdir), &[])
}

fn audit_in(
    state: &Path,
    home: &Path,
    vault_dir: Option<&Path>,
    vault_secrets: &[clawvault::secret::SecretBytes],
) -> doctor::Report {
    let cwd = home.join("project");
    fs::create_dir_all(&cwd).unwrap();
    let args = DoctorArgs {
        home: Some(home.to_path_buf()),
        cwd: Some(cwd),
        no_progress: true,
        no_history: true,
        ..DoctorArgs::default()
    };
    doctor::audit(
        &AuditInput {
            args: &args,
            state_dir: state,
            vault_dir,
            vault_secrets,
        },
        &Default::default(),
    )
    .unwrap()
}

pub(crate) fn show_all(report: &doctor::Report) -> String {
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{:?} {} {} | {}",
                f.path, f.line, f.check_id, f.message, f.fix_hint
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
