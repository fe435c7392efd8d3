//! `clawvault migrate` is the one command: after the stores, its host pass removes the
//! copies no store points to (a session transcript, a log, the shell history), by the
//! vault's own values, and says what it left. `--no-redact` keeps transcripts and logs
//! (listed); `--no-host-pass` skips the pass; `--json` keeps stdout one JSON
//! document.
// Unix only: file modes.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

fn key() -> String {
    format!(
        "sk-ant-api03-{}{}{}AA",
        random_suffix(),
        random_suffix(),
        random_suffix()
    )
}

fn private(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A JSON-era home: the key in the auth store, a transcript, a log and the history.
fn host(h: &Home, k: &str) {
    private(
        &h.profiles(),
        &format!(
            r#"{{"version":1,"profiles":{{"anthropic:default":{{"type":"api_key","provider":"anthropic","key":"{k}"}}}}}}"#
        ),
    );
    private(
        &h.state().join("agents/main/sessions/s1.jsonl"),
        &format!("{{\"type\":\"message\",\"role\":\"user\",\"text\":\"my key is {k}\"}}\n"),
    );
    private(
        &h.state().join("logs/gateway.log"),
        &format!("{{\"level\":\"debug\",\"msg\":\"auth\",\"apiKey\":\"{k}\"}}\n"),
    );
    private(
        &h.tmp.path().join(".bash_history"),
        &format!("ls\nexport ANTHROPIC_API_KEY={k}\n"),
    );
    for d in [h.tmp.path().to_path_buf(), h.state()] {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

fn holding(h: &Home, k: &str) -> Vec<String> {
    let vault = h.vault();
    files(h.tmp.path())
        .into_iter()
        .filter(|f| !f.starts_with(&vault))
        .filter(|f| {
            std::fs::read(f)
                .map(|b| b.windows(k.len()).any(|w| w == k.as_bytes()))
                .unwrap_or(false)
        })
        .map(|f| f.strip_prefix(h.tmp.path()).unwrap().display().to_string())
        .collect()
}

fn migrate(h: &Home, pw: &Path, extra: &[&str]) -> std::process::Output {
    h.cmd()
        .args(["migrate", "--no-openclaw"])
        .args(extra)
        .arg("--passphrase-file")
        .arg(pw)
        .output()
        .unwrap()
}

#[test]
fn one_migrate_leaves_no_copy_in_transcripts_logs_or_history() {
    let h = Home::new();
    let pw = h.init_age();
    let k = key();
    host(&h, &k);
    assert_eq!(holding(&h, &k).len(), 4);
    let out = migrate(&h, &pw, &[]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(&k), "migrate printed the key");
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert_eq!(holding(&h, &k), Vec::<String>::new(), "{all}");
    assert!(
        all.contains("ROTATE NOW"),
        "a key that reached a transcript must be rotated: {all}"
    );
    // The transcript is still one valid JSON line per record.
    let t = std::fs::read_to_string(h.state().join("agents/main/sessions/s1.jsonl")).unwrap();
    for line in t.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

#[test]
fn no_redact_keeps_transcripts_and_logs_and_lists_them() {
    let h = Home::new();
    let pw = h.init_age();
    let k = key();
    host(&h, &k);
    let out = migrate(&h, &pw, &["--no-redact"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // Everything migrate itself moves, moved: exit 0; the kept copies are listed.
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("the host pass left the findings listed above"));
    let mut left = holding(&h, &k);
    left.sort();
    assert_eq!(
        left,
        [
            "state/agents/main/sessions/s1.jsonl",
            "state/logs/gateway.log"
        ]
    );
    assert!(
        stdout.contains("s1.jsonl") && stdout.contains("gateway.log"),
        "{stdout}"
    );
    assert!(!stdout.contains(&k));
}

#[test]
fn no_host_pass_moves_the_stores_only_and_json_stays_one_document() {
    let h = Home::new();
    let pw = h.init_age();
    let k = key();
    host(&h, &k);
    let out = migrate(&h, &pw, &["--no-host-pass", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"][0]["action"], "moved", "{v}");
    assert_eq!(holding(&h, &k).len(), 3, "only the auth store was touched");

    let h = Home::new();
    let pw = h.init_age();
    host(&h, &k);
    let out = migrate(&h, &pw, &["--json"]);
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(holding(&h, &k), Vec::<String>::new());
}

/// `doctor --fix` moves `.env` values with `migrate`'s rule: a variable openclaw.json
/// reads from the environment stays (moving it would break OpenClaw).
#[test]
fn doctor_fix_keeps_a_variable_the_config_reads_from_the_environment() {
    let h = Home::new();
    let pw = h.init_age();
    let mistral = format!("{}{}", random_suffix(), random_suffix());
    let groq = format!(
        "gsk_{}{}{}",
        random_suffix(),
        random_suffix(),
        random_suffix()
    );
    private(
        &h.state().join("openclaw.json"),
        r#"{"models":{"providers":{"mistral":{"baseUrl":"https://api.mistral.ai/v1","apiKey":"${MISTRAL_API_KEY}","models":[]}}}}"#,
    );
    let env = h.state().join(".env");
    private(
        &env,
        &format!("MISTRAL_API_KEY={mistral}\nGROQ_API_KEY={groq}\n"),
    );
    for d in [h.tmp.path().to_path_buf(), h.state()] {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let out = h
        .cmd()
        .args([
            "doctor",
            "--fix",
            "--yes",
            "--no-progress",
            "--passphrase-file",
        ])
        .arg(&pw)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&env).unwrap();
    assert!(
        text.contains(&format!("MISTRAL_API_KEY={mistral}")),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains(&groq), "{text}");
}
