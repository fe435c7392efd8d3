//! The backend conformance suite, run against every backend: age files, the real
//! Secret Service (gnome-keyring under dbus-run-session in CI), and keyring-core's
//! mock store with a tiny item limit to force the parts path (fault-injection store,
//! not a stand-in for the real one).

mod common;

use std::sync::Arc;

use clawvault::backend::age::AgeBackend;
use clawvault::backend::conformance::{run_all, Limits};
use clawvault::backend::keychain::{self, KeychainBackend};
use clawvault::backend::{Backend, EntryName};
use clawvault::secret::ExposeSecret;

fn prefix() -> String {
    format!("t{}/", common::random_suffix())
}

#[test]
fn age_backend_conforms() {
    let d = tempfile::tempdir().unwrap();
    let id = age::x25519::Identity::generate();
    let b = AgeBackend::new(d.path().join("blobs"), id.to_public()).with_identity(Arc::new(id));
    run_all(
        &b,
        &prefix(),
        &Limits {
            large: 1 << 20,
            many: 200,
        },
    );
    common::assert_private_tree(&d.path().join("blobs"));
}

#[test]
fn keychain_backend_conforms_on_mock_store_with_parts() {
    let store: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
    let b = KeychainBackend::new(store, "mock store".into(), &common::random_suffix())
        .with_item_limit(keychain::WINDOWS_ITEM_LIMIT);
    run_all(
        &b,
        &prefix(),
        &Limits {
            large: 3 * keychain::WINDOWS_ITEM_LIMIT + 17,
            many: 30,
        },
    );
}

/// The real Secret Service, or a loud skip (a failure when CI requires it).
fn real_store() -> Option<(Arc<keyring_core::CredentialStore>, String)> {
    let required = std::env::var("CLAWVAULT_REQUIRE_SECRET_SERVICE").as_deref() == Ok("1");
    match keychain::platform_store() {
        Ok((s, n)) => match keychain::probe(&s, &n) {
            Ok(()) => Some((s, n)),
            Err(why) if required => panic!("the Secret Service is required but unusable: {why}"),
            Err(why) => {
                eprintln!("SKIPPED: Secret Service unusable: {why}");
                None
            }
        },
        Err(e) if required => panic!("the Secret Service is required but unavailable: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: no Secret Service: {e}");
            None
        }
    }
}

#[test]
fn keychain_backend_conforms_on_real_secret_service() {
    let Some((store, name)) = real_store() else {
        return;
    };
    let vault_id = common::random_suffix();
    let b = KeychainBackend::new(store, name, &vault_id);
    run_all(
        &b,
        &prefix(),
        &Limits {
            large: 256 * 1024,
            many: 60,
        },
    );
}

#[test]
fn keychain_parts_work_on_real_secret_service() {
    let Some((store, name)) = real_store() else {
        return;
    };
    let b = KeychainBackend::new(store, name, &common::random_suffix()).with_item_limit(100);
    let n = EntryName::new(&format!("{}main/big:value", prefix())).unwrap();
    let v: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    b.set(&n, &v).unwrap();
    assert_eq!(b.get(&n).unwrap().unwrap().expose_secret(), &v[..]);
    // The listing shows the entry, not its parts.
    assert_eq!(b.list().unwrap(), vec![n.clone()]);
    assert!(b.delete(&n).unwrap());
    assert!(b.get(&n).unwrap().is_none());
}

#[test]
fn two_vaults_on_one_keychain_never_collide() {
    let Some((store, name)) = real_store() else {
        return;
    };
    let a = KeychainBackend::new(store.clone(), name.clone(), &common::random_suffix());
    let b = KeychainBackend::new(store, name, &common::random_suffix());
    let n = EntryName::new("main/openai:default").unwrap();
    a.set(&n, b"from-a").unwrap();
    assert!(b.get(&n).unwrap().is_none());
    b.set(&n, b"from-b").unwrap();
    assert_eq!(a.get(&n).unwrap().unwrap().expose_secret(), b"from-a");
    assert!(a.delete(&n).unwrap());
    assert_eq!(b.get(&n).unwrap().unwrap().expose_secret(), b"from-b");
    assert!(b.delete(&n).unwrap());
}

#[test]
#[cfg_attr(
    windows,
    ignore = "under Wine the binary, named by a Unix path at compile time, does not spawn (program not found); not yet run on Windows"
)]
fn keychain_vault_end_to_end_through_the_cli() {
    if real_store().is_none() {
        return;
    }
    let h = common::Home::new();
    let pw = h.pw_file("pw", "recovery passphrase");
    let mut c = h.cmd();
    common::pass_dbus(&mut c);
    let out = c
        .args([
            "init",
            "--backend",
            "auto",
            "--force-weak",
            "--kdf-memory-mib",
            "1",
            "--kdf-iterations",
            "1",
            "--passphrase-file",
        ])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(
        said.contains("keychain backend") && said.contains("probe"),
        "{said}"
    );
    let env = |c: &mut assert_cmd::Command| {
        common::pass_dbus(c);
    };
    let mut c = h.cmd();
    env(&mut c);
    c.args([
        "models",
        "auth",
        "paste-api-key",
        "--provider",
        "openrouter",
        "--profile-id",
        "openrouter:default",
    ])
    .write_stdin("sk-or-v1-TESTONLY-abcdef\n")
    .assert()
    .success();
    // No passphrase needed to read from the keychain backend.
    let mut c = h.cmd();
    env(&mut c);
    let out = c
        .arg("resolve")
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/openrouter:default"]}"#)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["values"]["main/openrouter:default"],
        "sk-or-v1-TESTONLY-abcdef"
    );
    let mut c = h.cmd();
    env(&mut c);
    let out = c.args(["models", "status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["profiles"][0]["storage"], "keychain");
    assert_eq!(v["profiles"][0]["status"], "static");
    let mut c = h.cmd();
    env(&mut c);
    c.args(["models", "auth", "logout", "openrouter:default", "--yes"])
        .assert()
        .success();
}
