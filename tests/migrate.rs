//! migrate / import-env / exec behaviour: crash safety at every enumerated write
//! step, idempotence, conflicts, dry runs, and exec's environment.

mod common;

use common::{files, stdout_ok, Home};
use predicates::prelude::*;
use serde_json::json;

const K1: &str = "sk-ant-api03-MIGRATE-TEST-aaaaaaaaaaaaaaaa";
const K2: &str = "sk-proj-MIGRATE-TEST-bbbbbbbbbbbbbbbbbbbb";

fn plant(h: &Home) -> Vec<u8> {
    std::fs::create_dir_all(h.profiles().parent().unwrap()).unwrap();
    let doc = json!({"version":1,"profiles":{
        "anthropic:default":{"type":"api_key","provider":"anthropic","key":K1},
        "openai:default":{"type":"api_key","provider":"openai","key":K2,"extra":[1,2]}},
        "usageStats":{"anthropic:default":{"errorCount":3}}});
    let bytes = serde_json::to_vec_pretty(&doc).unwrap();
    std::fs::write(h.profiles(), &bytes).unwrap();
    bytes
}

fn resolve(h: &Home, pw: &std::path::Path, ids: &[&str]) -> serde_json::Value {
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(pw)
        .write_stdin(json!({"protocolVersion":1,"ids":ids}).to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every secret is readable from exactly one authoritative place: the profile file
/// inline, or the vault through the reference in the profile file.
fn assert_each_secret_in_one_place(h: &Home, pw: &std::path::Path) {
    let doc = h.read_profiles();
    for (id, want) in [("anthropic:default", K1), ("openai:default", K2)] {
        let p = &doc["profiles"][id];
        if let Some(k) = p.get("key") {
            assert_eq!(k, want);
            assert!(p.get("keyRef").is_none());
        } else {
            let r = p["keyRef"]["id"].as_str().unwrap();
            assert_eq!(resolve(h, pw, &[r])["values"][r], want, "{id}");
        }
    }
}

#[test]
fn crash_at_every_migrate_step_converges_on_rerun() {
    // Every crash point on migrate's write path, enumerated (not sampled).
    let points = [
        "migrate:after-backup",
        "migrate:after-journal",
        "migrate:after-vault-set",
        "write_atomic:before-rename",
        "write_atomic:after-rename",
        "profiles:before-write",
        "migrate:after-rewrite",
    ];
    for point in points {
        let h = Home::new();
        let original = plant(&h);
        let pw = h.init_age();
        let out = h
            .cmd()
            .args(["migrate", "--passphrase-file"])
            .arg(&pw)
            .env("CLAWVAULT_TEST_CRASH_AT", point)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{point}: the crash point was not reached"
        );
        assert_each_secret_in_one_place(&h, &pw);
        // A crash inside the lock leaves it behind; the re-run sees that no live
        // clawvault holds it (flock) and breaks it at once.
        h.cmd()
            .args(["migrate", "--passphrase-file"])
            .arg(&pw)
            .assert()
            .success();
        let doc = h.read_profiles();
        assert!(
            doc["profiles"]["anthropic:default"].get("key").is_none(),
            "{point}"
        );
        assert_eq!(doc["usageStats"]["anthropic:default"]["errorCount"], 3);
        assert_eq!(doc["profiles"]["openai:default"]["extra"], json!([1, 2]));
        assert_each_secret_in_one_place(&h, &pw);
        let dir = h.profiles().parent().unwrap().to_path_buf();
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "auth-profiles.json")
            .collect();
        assert!(leftovers.is_empty(), "{point}: left behind {leftovers:?}");
        // No plaintext .bak anywhere; the backup is encrypted.
        for f in files(h.tmp.path()) {
            if f.extension().map(|e| e == "age").unwrap_or(false) || f.starts_with(h.vault()) {
                continue;
            }
            let body = std::fs::read(&f).unwrap_or_default();
            if f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".auth-profiles.json.tmp-")
            {
                continue;
            }
            assert!(
                !contains(&body, K1.as_bytes()),
                "{point}: plaintext in {}",
                f.display()
            );
        }
        // And rollback still restores the original bytes.
        h.cmd()
            .args(["migrate", "--rollback", "--passphrase-file"])
            .arg(&pw)
            .assert()
            .success();
        assert_eq!(std::fs::read(h.profiles()).unwrap(), original, "{point}");
    }
}

#[test]
fn dry_run_touches_nothing_and_rerun_is_idempotent() {
    let h = Home::new();
    let original = plant(&h);
    let pw = h.init_age();
    h.cmd()
        .args(["migrate", "--dry-run", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would-move"))
        .stdout(predicate::str::contains(K1).not());
    assert_eq!(std::fs::read(h.profiles()).unwrap(), original);
    assert!(!h.vault().join("migrate-journal.json").exists());
    h.cmd()
        .args(["migrate", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success()
        .stdout(predicate::str::contains("moved"));
    let after = std::fs::read(h.profiles()).unwrap();
    h.cmd()
        .args(["migrate", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to do"));
    assert_eq!(std::fs::read(h.profiles()).unwrap(), after);
}

#[test]
fn import_env_conflicts_need_force_and_exec_sees_the_values() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste(
        "paste-api-key",
        "openai",
        None,
        "sk-proj-ALREADY-IN-VAULT-cccccccc",
    );
    let env = h.state().join(".env");
    std::fs::write(&env, format!("OPENAI_API_KEY={K2}\nGROQ_API_KEY=gsk_TEST_dddddddddddd\nMY_SERVICE_TOKEN=tok-eeeeeeee\nPORT=1\n")).unwrap();
    h.cmd()
        .args(["import-env", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("conflict"))
        .stdout(predicate::str::contains(K2).not());
    let body = std::fs::read_to_string(&env).unwrap();
    assert!(
        body.contains(&format!("OPENAI_API_KEY={K2}")),
        "a conflicting value stays: {body}"
    );
    assert!(
        !body.contains("gsk_TEST") && body.contains("PORT=1"),
        "{body}"
    );
    h.cmd()
        .args(["import-env", "--force", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    assert!(!std::fs::read_to_string(&env).unwrap().contains(K2));
    // Idempotent.
    let before = std::fs::read(&env).unwrap();
    h.cmd()
        .args(["import-env", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    assert_eq!(std::fs::read(&env).unwrap(), before);
    // exec sets provider variables and generic secrets in the child's environment.
    let out = h
        .cmd()
        .args(["exec", "--passphrase-file"])
        .arg(&pw)
        .args([
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s' \"$OPENAI_API_KEY\" \"$GROQ_API_KEY\" \"$MY_SERVICE_TOKEN\"; exit 7",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(7),
        "exec exits with the child's status"
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{K2}|gsk_TEST_dddddddddddd|tok-eeeeeeee")
    );
}

/// A token in a known format under a name that does not say so stays (`exec`
/// admits variables by name only) and is reported as kept, with the reason.
#[test]
fn import_env_reports_a_token_under_a_plain_name_as_kept() {
    let h = Home::new();
    let pw = h.init_age();
    // Built at run time: no token-shaped literal in the source.
    let pat = format!(
        "ghp_{}",
        "Rt5Yw8Ln2Qz6Kp9Xv3Hm7Bc1".repeat(2).get(..36).unwrap()
    );
    let env = h.state().join(".env");
    let body = format!("MY_SERVICE_PAT={pat}\nREGION=eu-west-1\n");
    std::fs::write(&env, &body).unwrap();
    let stdout = stdout_ok(
        h.cmd()
            .args(["import-env", "--json", "--passphrase-file"])
            .arg(&pw),
    );
    assert!(!stdout.contains(&pat), "the report shows the token");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["profileId"] == "MY_SERVICE_PAT")
        .unwrap_or_else(|| panic!("no row: {report:#}"));
    assert_eq!(row["action"], "kept", "{report:#}");
    assert!(
        row["detail"].as_str().unwrap().contains("by name only"),
        "{report:#}"
    );
    assert!(
        !rows.iter().any(|r| r["profileId"] == "REGION"),
        "{report:#}"
    );
    assert_eq!(
        std::fs::read_to_string(&env).unwrap(),
        body,
        "the file is unchanged"
    );
}

#[test]
fn import_env_errors_name_the_line_and_change_nothing() {
    let h = Home::new();
    let pw = h.init_age();
    let env = h.tmp.path().join("bad.env");
    std::fs::write(
        &env,
        b"OPENAI_API_KEY=sk-proj-x\nBROKEN=\"sk-never-closed\n",
    )
    .unwrap();
    h.cmd()
        .args(["import-env", "--passphrase-file"])
        .arg(&pw)
        .arg(&env)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.env:2"))
        .stderr(predicate::str::contains("sk-never-closed").not());
    assert_eq!(
        std::fs::read(&env).unwrap(),
        b"OPENAI_API_KEY=sk-proj-x\nBROKEN=\"sk-never-closed\n"
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_shadowed_legacy_single_agent_file_moves_under_its_own_namespace() {
    let h = Home::new();
    let pw = h.init_age();
    plant(&h);
    // The pre-multi-agent layout, still on disk beside agents/main/: OpenClaw no longer
    // reads it, but it holds a stale key for the same profile id.
    let stale = "sk-ant-api03-STALE-LEGACY-cccccccccccccccc";
    let legacy = h.state().join("agent").join("auth-profiles.json");
    std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    std::fs::write(
        &legacy,
        json!({"version":1,"profiles":{
            "anthropic:default":{"type":"api_key","provider":"anthropic","key":stale}}})
        .to_string(),
    )
    .unwrap();
    // Another state dir under a legacy name is reported, not touched.
    let other = h.tmp.path().join(".clawdbot");
    std::fs::create_dir_all(&other).unwrap();
    let out = h
        .cmd()
        .args(["migrate", "--json", "--passphrase-file"])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("not-this-state-dir"), "{report}");
    assert!(report.contains(".clawdbot"), "{report}");
    // The live profile keeps the live key; the stale one moved aside, nothing lost.
    let v = resolve(
        &h,
        &pw,
        &["main/anthropic:default", "legacy-agent/anthropic:default"],
    );
    assert_eq!(v["values"]["main/anthropic:default"], K1);
    assert_eq!(v["values"]["legacy-agent/anthropic:default"], stale);
    let moved = std::fs::read_to_string(&legacy).unwrap();
    assert!(!moved.contains(stale), "{moved}");
    assert!(moved.contains("legacy-agent/anthropic:default"), "{moved}");
    for f in files(&h.state()) {
        let b = std::fs::read(&f).unwrap();
        assert!(
            !b.windows(stale.len()).any(|w| w == stale.as_bytes()),
            "plaintext left in {}",
            f.display()
        );
    }
}

#[test]
fn import_env_dry_run_plans_on_a_locked_vault() {
    let h = Home::new();
    h.init_age();
    h.paste("paste-api-key", "openai", None, K2);
    let env = h.tmp.path().join("app.env");
    let text =
        format!("OPENAI_API_KEY={K2}x\nGROQ_API_KEY=gsk_DRYRUN0123456789abcdef\nPORT=8080\n");
    std::fs::write(&env, &text).unwrap();
    // No passphrase source at all: the dry run still shows its plan.
    let out = h
        .cmd()
        .args(["import-env", "--dry-run", "--json"])
        .arg(&env)
        .output()
        .unwrap();
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("GROQ_API_KEY") && report.contains("would-move"),
        "{report}"
    );
    assert!(report.contains("unlock it to compare"), "{report}");
    assert!(
        !report.contains("gsk_DRYRUN") && !report.contains(K2),
        "{report}"
    );
    assert_eq!(
        std::fs::read_to_string(&env).unwrap(),
        text,
        "a dry run writes nothing"
    );
}
