//! The migrate journal and `--rollback`: no guessing oracle on disk, paths bound to
//! the state dir and vault the rollback runs against, and no restore of a file
//! OpenClaw has since imported.

mod common;

use common::{files, Home};
use predicates::prelude::*;
use serde_json::json;

const KEY: &str = "sk-ant-api03-JOURNAL-TEST-aaaaaaaaaaaaaaaa";
const WEAK: &str = "letmein2024";

fn plant_profiles(h: &Home) -> Vec<u8> {
    std::fs::create_dir_all(h.profiles().parent().unwrap()).unwrap();
    let doc = json!({"version":1,"profiles":{
        "anthropic:default":{"type":"api_key","provider":"anthropic","key":KEY}}});
    let bytes = serde_json::to_vec_pretty(&doc).unwrap();
    std::fs::write(h.profiles(), &bytes).unwrap();
    bytes
}

fn env_with(password: &str) -> String {
    format!("# service settings\nPORT=8080\nADMIN_PASSWORD={password}\nLOG_LEVEL=info\n")
}

fn journal(h: &Home) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(h.vault().join("migrate-journal.json")).unwrap()).unwrap()
}

fn manifest(h: &Home) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(h.vault().join("vault.json")).unwrap()).unwrap()
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn journal_is_not_a_guessing_oracle() {
    let h = Home::new();
    let pw = h.init_age();
    let original_profiles = plant_profiles(&h);
    let env = h.state().join(".env");
    let original_env = env_with(WEAK);
    std::fs::write(&env, &original_env).unwrap();
    h.cmd()
        .args(["migrate", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    h.cmd()
        .args(["import-env", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    let rewritten = std::fs::read_to_string(&env).unwrap();
    assert!(
        !rewritten.contains(WEAK) && rewritten.contains("PORT=8080"),
        "{rewritten}"
    );

    // The attacker's view: every file in the vault and state dir, no passphrase.
    // A wordlist attack rebuilds candidate originals and hashes them: no hash of
    // any candidate (the right one included) may appear anywhere on disk.
    let wordlist = ["password", "hunter2", "letmein", WEAK, "letmein2025"];
    let mut candidates: Vec<Vec<u8>> = wordlist.iter().map(|w| env_with(w).into_bytes()).collect();
    candidates.push(original_profiles.clone());
    let disk: Vec<(std::path::PathBuf, String)> = files(h.tmp.path())
        .into_iter()
        .map(|f| {
            let b = std::fs::read(&f).unwrap_or_default();
            (f, String::from_utf8_lossy(&b).to_lowercase())
        })
        .collect();
    for c in &candidates {
        let hex = clawvault::backup::sha256_hex(c);
        for (f, body) in &disk {
            assert!(
                !body.contains(&hex) && !body.contains(&hex[..32]),
                "an unkeyed SHA-256 of a candidate original is on disk in {}",
                f.display()
            );
        }
    }
    // Backup names carry no digest either: only time, random and the file name.
    for f in files(&h.vault().join("backups")) {
        let n = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            n.ends_with(".env.age") || n.ends_with("auth-profiles.json.age"),
            "{n}"
        );
    }
    // What the journal does hold: keyed fingerprints, relative paths, the vault id.
    let j = journal(&h);
    assert_eq!(j["version"], 2);
    assert_eq!(
        j["vaultId"].as_str().unwrap(),
        manifest(&h)["vaultId"].as_str().unwrap()
    );
    let entries = j["entries"].as_array().unwrap();
    assert!(entries.len() >= 2, "{j}");
    for e in entries {
        assert!(e.get("sha256").is_none(), "{e}");
        let fp = e["fingerprint"].as_str().unwrap();
        assert!(
            fp.starts_with("hmac-sha256:") && fp.len() == 12 + 64,
            "{fp}"
        );
        assert_eq!(e["root"], "state", "{e}");
        assert!(!e["path"].as_str().unwrap().starts_with('/'), "{e}");
        assert!(e["backup"].as_str().unwrap().starts_with("backups/"), "{e}");
    }

    // The keyed fingerprints still do their job: rollback verifies and restores.
    h.cmd()
        .args(["migrate", "--rollback", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success()
        .stdout(predicate::str::contains("restored"));
    assert_eq!(std::fs::read_to_string(&env).unwrap(), original_env);
    assert_eq!(std::fs::read(h.profiles()).unwrap(), original_profiles);
}

#[test]
fn rollback_refuses_a_backup_whose_keyed_fingerprint_does_not_match() {
    let h = Home::new();
    let pw = h.init_age();
    plant_profiles(&h);
    h.cmd()
        .args(["migrate", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    let migrated = std::fs::read(h.profiles()).unwrap();
    // Someone with only the recipient (public) swaps in a backup of their own.
    let j = journal(&h);
    let backup = h.vault().join(j["entries"][0]["backup"].as_str().unwrap());
    let out = std::process::Command::new("age")
        .arg("-r")
        .arg(manifest(&h)["recipient"].as_str().unwrap())
        .arg("-o")
        .arg(&backup)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"{\"attacker\":true}\n")?;
            c.wait()
        })
        .unwrap();
    assert!(out.success());
    h.cmd()
        .args(["migrate", "--rollback", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .failure()
        .stderr(predicate::str::contains("does not match the fingerprint"));
    assert_eq!(std::fs::read(h.profiles()).unwrap(), migrated);
}

#[test]
fn rollback_in_a_copied_state_dir_never_touches_the_original() {
    let h = Home::new();
    let pw = h.init_age();
    let original_profiles = plant_profiles(&h);
    h.cmd()
        .args(["migrate", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    let migrated = std::fs::read(h.profiles()).unwrap();
    assert_ne!(migrated, original_profiles);

    // A copy of the whole state dir (vault inside it), rolled back in place.
    let copy = h.tmp.path().join("copy");
    copy_tree(&h.state(), &copy);
    let before_original: Vec<_> = files(&h.state())
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(&f).unwrap()))
        .collect();
    h.cmd()
        .env("OPENCLAW_STATE_DIR", &copy)
        .args(["migrate", "--rollback", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    // The copy is restored...
    assert_eq!(
        std::fs::read(copy.join("agents/main/agent/auth-profiles.json")).unwrap(),
        original_profiles
    );
    // ...and not one byte of the original state dir (or its vault) changed.
    let after_original: Vec<_> = files(&h.state())
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(&f).unwrap()))
        .collect();
    assert_eq!(before_original, after_original);
}

#[test]
fn rollback_refuses_a_journal_path_outside_the_state_dir_and_keeps_its_vault_entries() {
    let h = Home::new();
    let pw = h.init_age();
    plant_profiles(&h);
    h.cmd()
        .args(["migrate", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    // A planted (or version-1) journal entry pointing outside this state dir.
    let victim = h.tmp.path().join("elsewhere/auth-profiles.json");
    std::fs::create_dir_all(victim.parent().unwrap()).unwrap();
    std::fs::write(&victim, b"victim\n").unwrap();
    let mut j = journal(&h);
    j["entries"][0]["root"] = json!("absolute");
    j["entries"][0]["path"] = json!(victim);
    j["stateDir"] = json!(h.tmp.path().join("another-state"));
    std::fs::write(
        h.vault().join("migrate-journal.json"),
        serde_json::to_vec_pretty(&j).unwrap(),
    )
    .unwrap();
    h.cmd()
        .args(["migrate", "--rollback", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success()
        .stdout(predicate::str::contains("refused"))
        .stdout(predicate::str::contains("outside the current state dir"));
    assert_eq!(std::fs::read(&victim).unwrap(), b"victim\n");
    // The profile file still references the vault entry, which must still resolve.
    let r = h.read_profiles()["profiles"]["anthropic:default"]["keyRef"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(&pw)
        .write_stdin(json!({"protocolVersion":1,"ids":[r]}).to_string())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(KEY));
}

#[test]
fn rollback_refuses_a_journal_of_another_vault() {
    let h = Home::new();
    let pw = h.init_age();
    plant_profiles(&h);
    h.cmd()
        .args(["migrate", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    let mut j = journal(&h);
    j["vaultId"] = json!("00000000000000000000000000000000");
    std::fs::write(
        h.vault().join("migrate-journal.json"),
        serde_json::to_vec_pretty(&j).unwrap(),
    )
    .unwrap();
    let migrated = std::fs::read(h.profiles()).unwrap();
    h.cmd()
        .args(["migrate", "--rollback", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .failure()
        .stderr(predicate::str::contains("belongs to vault"));
    assert_eq!(std::fs::read(h.profiles()).unwrap(), migrated);
}
