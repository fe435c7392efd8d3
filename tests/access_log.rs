//! `<vault>/access.log` through the real binary: every command that reads secret
//! material writes exactly one line per request (ids, callers, outcome; never a
//! value), the agent logs what it serves with its peer, and `clawvault log --verify`
//! catches a removed and an edited line.
// Unix only: file modes, uids and the agent's peer credentials.
#![cfg(unix)]

mod common;

use std::path::Path;

use common::*;

const KEY: &str = "sk-proj-AccessLogTestKey0123456789abcdefABCDEF";

fn lines(h: &Home) -> Vec<serde_json::Value> {
    let p = h.vault().join("access.log");
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn log_cmd(h: &Home, pw: &Path, args: &[&str]) -> std::process::Output {
    h.cmd()
        .arg("log")
        .args(args)
        .arg("--passphrase-file")
        .arg(pw)
        .output()
        .unwrap()
}

#[test]
fn each_read_is_one_line_without_values_and_verify_catches_cuts_and_edits() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste("paste-api-key", "openai", Some("openai:default"), KEY);
    let id = "main/openai:default";
    assert!(lines(&h).is_empty(), "pasting is not a read");

    // resolve, served locally (as OpenClaw runs it: passphrase file from the env).
    let out = h.resolve(&[id], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = h.resolve(&["main/missing:default"], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    });
    assert!(out.status.success());
    // exec and identity export.
    let out = h
        .cmd()
        .args(["exec", "--passphrase-file"])
        .arg(&pw)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = h
        .cmd()
        .args(["identity", "export", "--yes", "--passphrase-file"])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(out.status.success());

    let got = lines(&h);
    let cmds: Vec<&str> = got.iter().map(|l| l["cmd"].as_str().unwrap()).collect();
    assert_eq!(
        cmds,
        ["resolve", "resolve", "exec", "identity-export"],
        "{got:#?}"
    );
    assert_eq!(got[0]["ids"], serde_json::json!([id]));
    assert_eq!(got[0]["outcome"], "ok");
    assert_eq!(got[0]["via"], "local");
    assert!(
        got[1]["outcome"].as_str().unwrap().contains("NOT_FOUND"),
        "{}",
        got[1]
    );
    assert_eq!(got[2]["ids"], serde_json::json!([id]));
    // The reader is this clawvault, its parent this test.
    let exe = got[0]["caller"]["exe"].as_str().unwrap();
    assert!(exe.ends_with("clawvault"), "{exe}");
    assert_eq!(
        got[0]["parent"]["pid"].as_u64(),
        Some(std::process::id() as u64)
    );
    for l in &got {
        assert!(l["mac"].is_string(), "an age vault's reads are keyed: {l}");
    }
    let text = std::fs::read_to_string(h.vault().join("access.log")).unwrap();
    assert!(!text.contains(KEY) && !text.contains(&KEY[10..30]));
    assert_eq!(mode(&h.vault().join("access.log")), 0o600);

    // Reading it: filters, and never a value.
    let out = log_cmd(&h, &pw, &["--id", id]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(shown.lines().count(), 2, "{shown}");
    assert!(
        shown.contains("resolve via local") && !shown.contains(KEY),
        "{shown}"
    );
    let out = log_cmd(&h, &pw, &["--since", "1h", "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 4);

    // Verify: intact, then a line removed, then a line edited.
    let out = log_cmd(&h, &pw, &["--verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("4 verified"));
    let all: Vec<&str> = text.lines().collect();
    let log = h.vault().join("access.log");
    std::fs::write(&log, format!("{}\n{}\n{}\n", all[0], all[2], all[3])).unwrap();
    let out = log_cmd(&h, &pw, &["--verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("BROKEN"));
    std::fs::write(
        &log,
        text.replacen("\"outcome\":\"ok\"", "\"outcome\":\"no\"", 1),
    )
    .unwrap();
    let out = log_cmd(&h, &pw, &["--verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("MAC"));
}

#[test]
fn the_agent_logs_what_it_serves_with_its_peer() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste("paste-api-key", "openai", Some("openai:default"), KEY);
    let pw_s = pw.to_str().unwrap().to_string();
    let _a = h.agent_run(&["--idle", "0", "--passphrase-file", &pw_s], |_| {});
    let out = h.resolve(&["main/openai:default"], |_| {});
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = lines(&h);
    assert_eq!(got.len(), 1, "one line per request, by the agent: {got:#?}");
    assert_eq!(got[0]["via"], "agent");
    assert_eq!(got[0]["cmd"], "resolve");
    assert!(got[0]["mac"].is_string());
    // The peer is the `clawvault resolve` process OpenClaw would have run; its
    // parent is the caller (this test).
    assert!(got[0]["caller"]["exe"]
        .as_str()
        .unwrap()
        .ends_with("clawvault"));
    assert_eq!(
        got[0]["caller"]["uid"].as_u64(),
        Some(unsafe { libc::getuid() } as u64)
    );
    assert_eq!(
        got[0]["parent"]["pid"].as_u64(),
        Some(std::process::id() as u64)
    );
    let out = log_cmd(&h, &pw, &["--verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
