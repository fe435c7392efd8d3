//! `doctor --fix`: permissions tightened, history scrubbed with an encrypted backup.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use clawvault::doctor::{self, AuditInput, DoctorArgs, Severity};
use clawvault::secret::SecretString;
use clawvault::vault::{keywrap::KdfParams, BackendChoice, Vault};

use crate::host::{args_for, build_host};

#[test]
fn fix_tightens_permissions_and_scrubs_history_with_encrypted_backup() {
    let h = build_host();
    let hist = h.home.join(".bash_history");
    let original = fs::read(&hist).unwrap();
    let mut args = args_for(&h);
    args.fix = true;

    // Without --yes nothing changes.
    let mut out = Vec::new();
    doctor::run(&args, &h.state, None, &mut out, &mut Vec::new()).unwrap();
    let env_mode = fs::metadata(h.state.join(".env"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(env_mode, 0o644);
    assert!(String::from_utf8(out).unwrap().contains("pass --yes"));

    // With --yes but no vault: permissions fixed, history scrub refused.
    args.yes = true;
    let mut out = Vec::new();
    doctor::run(&args, &h.state, None, &mut out, &mut Vec::new()).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        fs::metadata(h.state.join(".env"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(&h.state).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(out.contains("no vault"), "{out}");
    assert_eq!(fs::read(&hist).unwrap(), original);
    for s in &h.secrets {
        assert!(
            !out.contains(s.as_str()),
            "the history preview shows a secret"
        );
    }

    // With a vault: the lines go, the original is kept encrypted to the vault.
    let vdir = h.state.join("vault");
    let pass = SecretString::from("test passphrase".to_string());
    let (vault, _) = Vault::init(
        &vdir,
        BackendChoice::Age,
        &pass,
        KdfParams::new_random(256, 1, 1),
    )
    .unwrap();
    let mut asked = Vec::new();
    let mut out = Vec::new();
    doctor::run_with(
        &args,
        &h.state,
        Some(&vdir),
        &[],
        &mut |p| {
            asked.push(p.summary.clone());
            true
        },
        &mut out,
        &mut Vec::new(),
    )
    .unwrap();
    assert!(
        asked.iter().any(|a| a.contains(".bash_history")),
        "{asked:?}"
    );
    let scrubbed = fs::read_to_string(&hist).unwrap();
    assert_eq!(scrubbed, "ls -la\ncd ~/.openclaw\ngit status\n");
    let backups: Vec<PathBuf> = fs::read_dir(vdir.join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // One backup of the history (the others are of transcripts and logs the same
    // --fix redacted, since every question was answered yes).
    let id = vault.identity().unwrap();
    let of_history: Vec<&PathBuf> = backups
        .iter()
        .filter(|b| age::decrypt(id.as_ref(), &fs::read(b).unwrap()).unwrap() == original)
        .collect();
    assert_eq!(of_history.len(), 1, "{backups:?}");
    for b in &backups {
        assert_eq!(fs::metadata(b).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(
        backups.iter().all(|b| b == of_history[0]
            || b.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("redact-")),
        "{backups:?}"
    );

    // Afterwards the history is clean.
    let args = DoctorArgs { fix: false, ..args };
    let report = doctor::audit(
        &AuditInput {
            args: &args,
            state_dir: &h.state,
            vault_dir: Some(&vdir),
            vault_secrets: &[],
        },
        &Default::default(),
    )
    .unwrap();
    assert!(!report.findings.iter().any(|f| f.abs_path == hist));
    assert!(report
        .findings
        .iter()
        .all(|f| f.severity != Severity::Error || f.check_id != "perm.loose-permissions"));
}
