//! Checks against the vault: references it lacks, on every backend; its loose files;
//! copies of its secrets (not of placeholders); a registered passphrase file.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use clawvault::doctor::{self, AuditInput, Severity};
use clawvault::secret::{secret_bytes, SecretString};
use clawvault::vault::{keywrap::KdfParams, BackendChoice, Vault};

use crate::audit::{audit_state, audit_vault, show_all};
use crate::host::{args_for, build_host, write_lines};
use crate::secrets::{ALNUM, HEX};
use crate::seeded::r;

#[test]
fn dangling_vault_reference_and_loose_vault_files() {
    let h = build_host();
    let vdir = h.state.join("vault");
    let pass = SecretString::from("test passphrase".to_string());
    Vault::init(
        &vdir,
        BackendChoice::Age,
        &pass,
        KdfParams::new_random(256, 1, 1),
    )
    .unwrap();
    fs::set_permissions(
        Vault::manifest_path(&vdir),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    // Exposure is judged by reachability: open the directories above it too.
    for d in [&vdir, &h.state, h.state.parent().unwrap()] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let args = args_for(&h);
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
    let ids: Vec<(&str, Option<u64>)> = report
        .findings
        .iter()
        .map(|f| (f.check_id.as_str(), f.line))
        .collect();
    // openrouter:default's keyRef (line 7) points at an entry the vault lacks.
    assert!(ids.contains(&("vault.dangling-ref", Some(7))), "{ids:?}");
    assert!(report
        .findings
        .iter()
        .any(|f| f.check_id == "vault.loose-permissions"
            && f.abs_path == Vault::manifest_path(&vdir)));
}

/// A placeholder that `migrate` moved into the vault is not a secret: copies of
/// it are not reported as vault copies, while a real vault secret still is.
#[test]
fn placeholder_held_in_the_vault_is_not_matched_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    let real = format!("q{}", r(ALNUM, 39));
    let arch = state.join("agents/main/agent/auth-profiles.json.migrated-20260101T000000Z");
    write_lines(
        &arch,
        &[
            r#"{"version":1,"profiles":{"#.into(),
            r#""openai:default":{"type":"api_key","provider":"openai","key":"YOUR_API_KEY"},"#
                .into(),
            r#""groq:default":{"type":"api_key","provider":"groq","key":"xxxxxxxxxxxxxxxx"},"#
                .into(),
            r#""mistral:default":{"type":"api_key","provider":"mistral","key":"changeme"}"#.into(),
            "}}".into(),
        ],
    );
    let log = state.join("logs/gateway.log");
    write_lines(
        &log,
        &[
            "set OPENAI_API_KEY to YOUR_API_KEY first".into(),
            format!("upstream said {real} then closed"),
        ],
    );
    let vault: Vec<_> = [
        "YOUR_API_KEY",
        "xxxxxxxxxxxxxxxx",
        "changeme",
        real.as_str(),
    ]
    .iter()
    .map(|s| secret_bytes(s.as_bytes().to_vec()))
    .collect();
    let report = audit_state(&state, &home, &vault);
    let copies: Vec<(PathBuf, Option<u64>)> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "vault.secret-copy")
        .map(|f| (f.abs_path.clone(), f.line))
        .collect();
    assert_eq!(
        copies,
        vec![(log.clone(), Some(2))],
        "{}",
        show_all(&report)
    );
    assert!(
        !report.findings.iter().any(|f| f.abs_path == arch
            && (f.check_id.starts_with("plaintext.") || f.check_id.starts_with("vault."))),
        "{}",
        show_all(&report)
    );
}

/// A vault with a profile reference to `id`, whose manifest is rewritten to use
/// `backend` (no unlock needed to ask whether an entry exists).
fn vault_with_backend(
    backend: serde_json::Value,
) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    let ap = state.join("agents/main/agent/auth-profiles.json");
    write_lines(
        &ap,
        &[
            "{".into(),
            r#"  "version": 1,"#.into(),
            r#"  "profiles": {"#.into(),
            r#"    "openrouter:default": { "type": "api_key", "provider": "openrouter","#.into(),
            format!(
                r#"      "keyRef": {{ "source": "exec", "provider": "clawvault", "id": "main/openrouter:missing-{}" }} }}"#,
                r(HEX, 12)
            ),
            "  }".into(),
            "}".into(),
        ],
    );
    let vdir = state.join("vault");
    Vault::init(
        &vdir,
        BackendChoice::Age,
        &SecretString::from("test passphrase".to_string()),
        KdfParams::new_random(256, 1, 1),
    )
    .unwrap();
    let mp = Vault::manifest_path(&vdir);
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&mp).unwrap()).unwrap();
    m["backend"] = backend;
    fs::write(&mp, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    fs::set_permissions(&mp, fs::Permissions::from_mode(0o600)).unwrap();
    (tmp, home, state, vdir)
}

/// References are checked on every backend: an OpenBao server that cannot be
/// reached (and a keychain, reachable or not) leaves a trace instead of silence.
#[test]
fn dangling_refs_are_checked_or_reported_unchecked_on_every_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let tok = tmp.path().join("token");
    fs::write(&tok, "s.not-a-real-token\n").unwrap();
    fs::set_permissions(&tok, fs::Permissions::from_mode(0o600)).unwrap();
    let bao = serde_json::json!({
        "kind": "openbao",
        "addr": "http://127.0.0.1:1",
        "mount": "secret",
        "prefix": "clawvault/doctor-test",
        "auth": { "method": "token", "tokenFile": tok },
    });
    let (_t, home, state, vdir) = vault_with_backend(bao);
    let report = audit_vault(&home, &state, &vdir);
    let f = report
        .findings
        .iter()
        .find(|f| f.check_id == "vault.refs-unchecked")
        .unwrap_or_else(|| panic!("{}", show_all(&report)));
    assert_eq!(f.severity, Severity::Info);
    assert!(f.message.contains("openbao"), "{}", f.message);

    let kc = serde_json::json!({ "kind": "keychain", "service": format!("clawvault-doctor-{}", r(HEX, 8)) });
    let (_t, home, state, vdir) = vault_with_backend(kc);
    let report = audit_vault(&home, &state, &vdir);
    let ids: Vec<(&str, Option<u64>)> = report
        .findings
        .iter()
        .map(|f| (f.check_id.as_str(), f.line))
        .collect();
    assert!(
        ids.contains(&("vault.dangling-ref", Some(5)))
            || ids.contains(&("vault.refs-unchecked", None)),
        "{ids:?}"
    );
}

/// The passphrase file `openclaw register` recorded for the resolver is checked
/// for loose permissions wherever it lives.
#[test]
fn registered_passphrase_file_with_loose_permissions_is_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    fs::create_dir_all(&state).unwrap();
    let pw = tmp.path().join("secrets/clawvault.pass.txt");
    fs::create_dir_all(pw.parent().unwrap()).unwrap();
    fs::write(&pw, "correct horse battery staple\n").unwrap();
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = serde_json::json!({
        "secrets": { "providers": { "clawvault": {
            "source": "exec",
            "command": "/usr/local/bin/clawvault",
            "args": ["resolve", "--passphrase-file", pw],
            "jsonOnly": true,
        } } }
    });
    fs::write(
        state.join("openclaw.json"),
        serde_json::to_vec_pretty(&cfg).unwrap(),
    )
    .unwrap();
    let report = audit_state(&state, &home, &[]);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.abs_path == pw && f.check_id == "vault.passphrase-file.loose-permissions"),
        "{}",
        show_all(&report)
    );
}
