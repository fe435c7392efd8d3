//! The agent's offline cache against a real `bao server -dev` on loopback: with
//! `--offline-grace`, a resolve after the server died still answers from the
//! age-encrypted cache, says it is stale (access log, agent status), and `clawvault
//! lock` makes the cache unreadable. Without the flag nothing is cached.
// Unix only: the real OpenBao dev server (Linux binary), the agent and file modes.
#![cfg(unix)]

#[path = "common/openbao.rs"]
mod bao;
mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use bao::DevServer;
use common::Home;

const PASSPHRASE: &str = "correct horse battery";
const ID: &str = "main/openai:default";

fn init(h: &Home, s: &DevServer, scratch: &Path) -> PathBuf {
    let token = scratch.join("token");
    std::fs::write(&token, &s.root_token).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let pw = h.pw_file("pw", PASSPHRASE);
    let out = h
        .cmd()
        .args([
            "init",
            "--backend",
            "openbao",
            "--force-weak",
            "--kdf-memory-mib",
            "1",
            "--kdf-iterations",
            "1",
            "--addr",
            &s.addr,
            "--prefix",
            &format!("clawvault/offline-{}", common::random_suffix()),
        ])
        .arg("--token-file")
        .arg(&token)
        .arg("--passphrase-file")
        .arg(&pw)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pw
}

fn resolve(h: &Home) -> (bool, Option<String>, String) {
    let out = h.resolve(&[ID], |_| {});
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (
        out.status.success(),
        v["values"][ID].as_str().map(str::to_string),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn last_log_line(h: &Home) -> serde_json::Value {
    let text = std::fs::read_to_string(h.vault().join("access.log")).unwrap_or_default();
    serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap()
}

#[test]
fn a_dead_server_is_answered_from_the_encrypted_cache_marked_stale() {
    let Some(mut s) = DevServer::start("offline_cache") else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let h = Home::new();
    let pw = init(&h, &s, scratch.path());
    let key = format!(
        "sk-proj-{}{}{}",
        common::random_suffix(),
        common::random_suffix(),
        common::random_suffix()
    );
    h.cmd()
        .args([
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "openai",
            "--profile-id",
            "openai:default",
        ])
        .write_stdin(format!("{key}\n"))
        .assert()
        .success();
    let pw_s = pw.to_str().unwrap().to_string();
    let _agent = h.agent_run(
        &[
            "--idle",
            "0",
            "--offline-grace",
            "1h",
            "--passphrase-file",
            &pw_s,
        ],
        |_| {},
    );

    // Served by the server; the cache is a standard age file with no plaintext.
    let (ok, got, err) = resolve(&h);
    assert!(ok, "{err}");
    assert_eq!(got.as_deref(), Some(key.as_str()));
    let cache = h.vault().join("cache/offline.age");
    let bytes = std::fs::read(&cache).expect("the cache was written");
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    assert!(!bytes.windows(key.len()).any(|w| w == key.as_bytes()));
    assert_eq!(common::mode(&cache), 0o600);
    assert_eq!(last_log_line(&h)["outcome"], "ok");

    // The server dies: the answer still comes, from the cache, marked stale.
    s.kill();
    let (ok, got, err) = resolve(&h);
    assert!(ok, "{err}");
    assert_eq!(got.as_deref(), Some(key.as_str()));
    let line = last_log_line(&h);
    assert!(
        line["outcome"].as_str().unwrap().starts_with("stale:"),
        "{line}"
    );
    let (_, status) = h.agent_status();
    assert_eq!(status["offline"]["staleServed"], 1, "{status}");

    // Locked, the cache cannot be read: the outage is an error again.
    h.cmd().arg("lock").assert().success();
    let (ok, got, _) = resolve(&h);
    assert!(!ok && got.is_none());
    // Unlocked again, the agent reads the cache file back (its memory was cleared).
    h.cmd()
        .args(["unlock", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    let (ok, got, err) = resolve(&h);
    assert!(ok, "{err}");
    assert_eq!(got.as_deref(), Some(key.as_str()));
}

#[test]
fn without_offline_grace_nothing_is_cached() {
    let Some(mut s) = DevServer::start("offline_cache_off") else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let h = Home::new();
    let pw = init(&h, &s, scratch.path());
    h.cmd()
        .args([
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "openai",
            "--profile-id",
            "openai:default",
        ])
        .write_stdin("sk-proj-NoCacheValue0123456789abcdefABCD\n")
        .assert()
        .success();
    let pw_s = pw.to_str().unwrap().to_string();
    let _agent = h.agent_run(&["--idle", "0", "--passphrase-file", &pw_s], |_| {});
    assert!(resolve(&h).0);
    assert!(!h.vault().join("cache").exists());
    s.kill();
    let (ok, got, _) = resolve(&h);
    assert!(!ok && got.is_none());
}
