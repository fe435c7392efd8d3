//! `clawvault openclaw register | plan | scrub` driven through the real binary, on
//! fixture databases laid out as OpenClaw 2026.9.6 lays them out (the real OpenClaw
//! runs in tests/openclaw_e2e.rs).
// Unix only: the real OpenClaw (Linux npm install), uids and file modes.
#![cfg(unix)]

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

fn shared_store(h: &Home, json: &str) -> std::path::PathBuf {
    let dir = h.state().join("state");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("openclaw.sqlite");
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA user_version=23;
         CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;",
    )
    .unwrap();
    c.execute(
        "INSERT INTO config_machine_state VALUES ('authProfiles.store', ?1, 1)",
        [json],
    )
    .unwrap();
    p
}

#[test]
fn register_writes_the_provider_and_the_resolver_answers_like_openclaw_runs_it() {
    let h = Home::new();
    let pw = h.init_age();
    let cfg = h.state().join("openclaw.json");
    std::fs::write(&cfg, "{\"gateway\":{\"mode\":\"local\",\"port\":18789}}\n").unwrap();
    h.cmd()
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "register"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "added secrets.providers.clawvault",
        ));
    let v: Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    assert_eq!(v["gateway"]["port"], 18789);
    let p = &v["secrets"]["providers"]["clawvault"];
    let args: Vec<&str> = p["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "resolve");
    assert!(args.contains(&"--passphrase-file") && args.contains(&"--state-dir"));
    assert_eq!(p["timeoutMs"], 5000);
    assert_eq!(p["jsonOnly"], true);
    assert_eq!(mode(&cfg), 0o600);
    // Second run: nothing to do.
    h.cmd()
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "register"])
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing to do"));
}

#[test]
fn register_leaves_a_json5_config_alone_and_prints_the_snippet() {
    let h = Home::new();
    let pw = h.init_age();
    let cfg = h.state().join("openclaw.json");
    let text = "{\n  // my gateway\n  gateway: { mode: 'local' },\n}\n";
    std::fs::write(&cfg, text).unwrap();
    h.cmd()
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "register"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("\"source\": \"exec\""))
        .stderr(predicate::str::contains("not strict JSON"));
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), text);
}

#[test]
fn register_refuses_a_passphrase_fd_and_a_wrong_passphrase() {
    let h = Home::new();
    h.init_age();
    h.cmd()
        .args(["--passphrase-fd", "0", "openclaw", "register"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("file descriptor"));
    let bad = h.pw_file("bad", "wrong passphrase");
    h.cmd()
        .arg("--passphrase-file")
        .arg(&bad)
        .args(["openclaw", "register"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("resolver"));
    assert!(!h.state().join("openclaw.json").exists());
}

#[test]
fn plan_stores_secrets_and_emits_targets_without_them() {
    let h = Home::new();
    let pw = h.init_age();
    let key = format!("sk-ant-api03-{}", random_suffix());
    shared_store(
        &h,
        &format!(
            r#"{{"version":1,"profiles":{{"anthropic:manual":{{"type":"api_key","provider":"anthropic","key":"{key}"}},"openai:me":{{"type":"oauth","provider":"openai","access":"a","refresh":"r","expires":1}}}}}}"#
        ),
    );
    let out = h.tmp.path().join("plan.json");
    h.cmd()
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "plan", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("skipped openai:me").and(predicate::str::contains(&key).not()),
        );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(&key));
    assert_eq!(mode(&out), 0o600);
    let plan: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(plan["targets"].as_array().unwrap().len(), 1);
    assert_eq!(plan["targets"][0]["ref"]["id"], "main/anthropic:manual");
    // The vault serves it.
    let resp = h
        .cmd()
        .arg("--passphrase-file")
        .arg(&pw)
        .arg("resolve")
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/anthropic:manual"]}"#)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&resp).unwrap();
    assert_eq!(v["values"]["main/anthropic:manual"], key.as_str());
}

#[test]
fn scrub_refuses_while_a_gateway_lock_is_live() {
    let h = Home::new();
    let pw = h.init_age();
    let lockdir = h
        .state()
        .join("tmp")
        .join(format!("openclaw-{}", unsafe { libc::geteuid() }));
    std::fs::create_dir_all(&lockdir).unwrap();
    // This test process stands in for a live gateway.
    std::fs::write(
        lockdir.join("gateway.state.lock"),
        format!("{{\"pid\":{},\"createdAt\":\"x\"}}", std::process::id()),
    )
    .unwrap();
    h.cmd()
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "scrub"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("gateway")
                .and(predicate::str::contains("nothing was changed")),
        );
}
