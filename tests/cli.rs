//! Integration tests driving the real binary, each in its own temp OpenClaw home.
// Unix only: file modes, symlinks and Unix exit signals.
#![cfg(unix)]

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::json;

const KEY: &str = "sk-ant-api03-TESTONLY-0123456789abcdefghij";
const TOKEN: &str = "sk-ant-oat01-TESTONLY-token-zyxwvutsrqponm";

#[test]
fn paste_stores_only_a_reference_and_the_vault_serves_it() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste("paste-api-key", "anthropic", None, KEY);
    let doc = h.read_profiles();
    assert_eq!(
        doc["profiles"]["anthropic:default"],
        json!({"type":"api_key","provider":"anthropic",
               "keyRef":{"source":"exec","provider":"clawvault","id":"main/anthropic:default"}})
    );
    assert!(!std::fs::read_to_string(h.profiles()).unwrap().contains(KEY));
    // The resolver, run the way OpenClaw runs it: bare environment, cwd elsewhere.
    let out = assert_cmd::Command::cargo_bin("clawvault")
        .unwrap()
        .env_clear()
        .current_dir("/")
        .arg("resolve")
        .arg("--state-dir")
        .arg(h.state())
        .arg("--passphrase-file")
        .arg(&pw)
        .write_stdin(r#"{"protocolVersion":1,"provider":"clawvault","ids":["main/anthropic:default","main/nope:x"]}"#)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["values"]["main/anthropic:default"], KEY);
    assert_eq!(v["errors"]["main/nope:x"]["code"], "NOT_FOUND");
    assert_private_tree(&h.vault());
}

#[test]
fn list_and_status_json_never_show_secrets() {
    let h = Home::new();
    h.init_age();
    h.paste("paste-api-key", "openai", None, KEY);
    h.paste("paste-token", "anthropic", None, TOKEN);
    for args in [
        vec!["models", "auth", "list", "--json"],
        vec!["models", "auth", "list"],
        vec!["models", "status", "--json"],
        vec!["models", "status"],
    ] {
        let out = h.cmd().args(&args).assert().success().get_output().clone();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains(KEY) && !all.contains(TOKEN),
            "{args:?}: {all}"
        );
    }
    let out = h
        .cmd()
        .args(["models", "status", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["profiles"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["profileId"], "openai:default");
    assert_eq!(rows[0]["status"], "static");
    assert_eq!(rows[0]["storage"], "age");
    assert_eq!(rows[1]["profileId"], "anthropic:manual");
    assert_eq!(rows[1]["type"], "token");
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "profileId",
            "provider",
            "type",
            "status",
            "storage",
            "expires"
        ]
    );
}

#[test]
fn check_exit_codes_follow_openclaw() {
    let h = Home::new();
    h.init_age();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let write = |profiles: serde_json::Value| {
        std::fs::create_dir_all(h.profiles().parent().unwrap()).unwrap();
        std::fs::write(
            h.profiles(),
            json!({"version":1,"profiles":profiles}).to_string(),
        )
        .unwrap();
    };
    write(
        json!({"a:default":{"type":"api_key","provider":"a","key":"k"},
                 "b:manual":{"type":"token","provider":"b","token":"t","expires": now + 30*86_400_000i64}}),
    );
    h.cmd()
        .args(["models", "status", "--check"])
        .assert()
        .code(0);
    write(
        json!({"b:manual":{"type":"token","provider":"b","token":"t","expires": now + 3_600_000}}),
    );
    h.cmd()
        .args(["models", "status", "--check"])
        .assert()
        .code(2);
    write(json!({"b:manual":{"type":"token","provider":"b","token":"t","expires": now - 1000}}));
    h.cmd()
        .args(["models", "status", "--check"])
        .assert()
        .code(1);
    // A reference to nothing in the vault is "missing", found without decrypting.
    write(json!({"c:default":{"type":"api_key","provider":"c",
        "keyRef":{"source":"exec","provider":"clawvault","id":"main/c:default"}}}));
    let out = h
        .cmd()
        .args(["models", "status", "--json", "--check"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["profiles"][0]["status"], "missing");
    // Someone else's ref is reported as such and trusted.
    write(json!({"d:default":{"type":"api_key","provider":"d",
        "keyRef":{"source":"env","provider":"default","id":"D_API_KEY"}}}));
    let out = h
        .cmd()
        .args(["models", "status", "--json", "--check"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["profiles"][0]["storage"], "ref:env:default");
}

#[test]
fn order_and_logout_keep_every_unknown_field() {
    let h = Home::new();
    h.init_age();
    std::fs::create_dir_all(h.profiles().parent().unwrap()).unwrap();
    let original = r#"{
  "version": 1,
  "futureTopLevel": {"x": [1, 2, 3]},
  "profiles": {
    "anthropic:default": {"type": "api_key", "provider": "anthropic", "key": "inline-key", "metadata": {"team": "a"}, "copyToAgents": ["w"]},
    "anthropic:manual": {"type": "token", "provider": "anthropic", "token": "inline-token", "expires": 1798761600000, "displayName": "M"}
  },
  "order": {"anthropic": ["anthropic:manual", "anthropic:default"], "openai": ["openai:default"]},
  "lastGood": {"anthropic": "anthropic:default"},
  "usageStats": {"anthropic:default": {"lastUsed": 1736160000000, "errorCount": 0}}
}"#;
    std::fs::write(h.profiles(), original).unwrap();
    h.cmd()
        .args([
            "models",
            "auth",
            "order",
            "set",
            "--provider",
            "anthropic",
            "anthropic:default",
            "anthropic:manual",
        ])
        .assert()
        .success();
    h.paste("paste-api-key", "openai", None, KEY);
    h.cmd()
        .args(["models", "auth", "logout", "anthropic:manual", "--yes"])
        .assert()
        .success();
    let doc = h.read_profiles();
    assert_eq!(doc["futureTopLevel"], json!({"x":[1,2,3]}));
    assert_eq!(doc["lastGood"], json!({"anthropic":"anthropic:default"}));
    assert_eq!(
        doc["usageStats"]["anthropic:default"]["lastUsed"],
        json!(1736160000000i64)
    );
    assert_eq!(doc["order"]["anthropic"], json!(["anthropic:default"]));
    assert_eq!(doc["order"]["openai"], json!(["openai:default"]));
    assert_eq!(
        doc["profiles"]["anthropic:default"],
        json!({"type":"api_key","provider":"anthropic","key":"inline-key","metadata":{"team":"a"},"copyToAgents":["w"]})
    );
    assert!(doc["profiles"].get("anthropic:manual").is_none());
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "version",
            "futureTopLevel",
            "profiles",
            "order",
            "lastGood",
            "usageStats"
        ]
    );
    // order get / clear with --json
    let out = h
        .cmd()
        .args([
            "models",
            "auth",
            "order",
            "get",
            "--provider",
            "anthropic",
            "--json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["order"], json!(["anthropic:default"]));
    h.cmd()
        .args([
            "models",
            "auth",
            "order",
            "clear",
            "--provider",
            "anthropic",
        ])
        .assert()
        .success();
    assert!(h.read_profiles()["order"].get("anthropic").is_none());
    // An order naming an unknown profile is refused and changes nothing.
    let before = std::fs::read(h.profiles()).unwrap();
    h.cmd()
        .args([
            "models",
            "auth",
            "order",
            "set",
            "--provider",
            "openai",
            "openai:nope",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("openai:nope"));
    assert_eq!(std::fs::read(h.profiles()).unwrap(), before);
    assert!(!h.profiles().with_extension("json.lock").exists());
}

#[test]
fn logout_deletes_the_secret_too() {
    let h = Home::new();
    h.init_age();
    h.paste("paste-token", "anthropic", None, TOKEN);
    let blob = h.vault().join("blobs/main%2Fanthropic%3Amanual.age");
    assert!(blob.exists());
    h.cmd()
        .args(["models", "auth", "logout", "anthropic:manual"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--yes"));
    assert!(
        blob.exists(),
        "without --yes and no terminal nothing is removed"
    );
    h.cmd()
        .args(["models", "auth", "logout", "anthropic:manual", "--yes"])
        .assert()
        .success();
    assert!(!blob.exists());
    h.cmd()
        .args(["models", "auth", "logout", "anthropic:manual", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no profile \"anthropic:manual\""));
}

#[test]
fn paste_token_records_absolute_expiry_and_agent_flag_works_everywhere() {
    let h = Home::new();
    h.init_age();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    h.cmd()
        .args([
            "--agent",
            "work",
            "models",
            "auth",
            "paste-token",
            "--provider",
            "anthropic",
            "--expires-in",
            "12h",
        ])
        .write_stdin(TOKEN)
        .assert()
        .failure(); // --agent is not a top-level flag: it belongs to `auth` and its subcommands
    h.cmd()
        .args([
            "models",
            "auth",
            "--agent",
            "work",
            "paste-token",
            "--provider",
            "anthropic",
            "--expires-in",
            "12h",
        ])
        .write_stdin(TOKEN)
        .assert()
        .success();
    h.cmd()
        .args([
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "openai",
            "--profile-id",
            "openai:default",
            "--agent",
            "work",
        ])
        .write_stdin(KEY)
        .assert()
        .success();
    let p = h.state().join("agents/work/agent/auth-profiles.json");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    let exp = doc["profiles"]["anthropic:manual"]["expires"]
        .as_i64()
        .unwrap();
    assert!((exp - before - 12 * 3_600_000).abs() < 60_000, "{exp}");
    assert_eq!(
        doc["profiles"]["anthropic:manual"]["tokenRef"]["id"],
        "work/anthropic:manual"
    );
    assert_eq!(
        doc["profiles"]["openai:default"]["keyRef"]["id"],
        "work/openai:default"
    );
    assert_eq!(common::mode(&p), 0o600);
    assert_eq!(common::mode(p.parent().unwrap()), 0o700);
}

#[test]
fn empty_or_multiline_input_is_refused() {
    let h = Home::new();
    h.init_age();
    for input in ["", "\n", "   \n", "two\nlines\n"] {
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
            .write_stdin(input)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("nothing was stored"));
    }
    assert!(!h.profiles().exists());
    assert_eq!(
        std::fs::read_dir(h.vault().join("blobs")).unwrap().count(),
        0
    );
}

#[test]
fn wrong_passphrase_gives_one_line_and_changes_nothing() {
    let h = Home::new();
    h.init_age();
    h.paste("paste-api-key", "openai", None, KEY);
    let bad = h.pw_file("bad", "not the passphrase");
    let manifest_before = std::fs::read(h.vault().join("vault.json")).unwrap();
    let out = h
        .cmd()
        .args(["identity", "export", "--passphrase-file"])
        .arg(&bad)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("clawvault: error:"))
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(out.stdout.is_empty());
    h.cmd()
        .args(["passwd", "--passphrase-file"])
        .arg(&bad)
        .arg("--new-passphrase-file")
        .arg(h.pw_file("new", "a new long passphrase"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not unlock"));
    assert_eq!(
        std::fs::read(h.vault().join("vault.json")).unwrap(),
        manifest_before
    );
}

#[test]
fn passwd_rewraps_and_the_old_passphrase_stops_working() {
    let h = Home::new();
    let old = h.init_age();
    h.paste("paste-api-key", "openai", None, KEY);
    let new = h.pw_file("new", "a new passphrase");
    h.cmd()
        .args([
            "passwd",
            "--force-weak",
            "--kdf-memory-mib",
            "2",
            "--kdf-iterations",
            "1",
            "--passphrase-file",
        ])
        .arg(&old)
        .arg("--new-passphrase-file")
        .arg(&new)
        .assert()
        .success();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(h.vault().join("vault.json")).unwrap()).unwrap();
    assert_eq!(m["identity"]["kdf"]["memoryKib"], 2048);
    h.cmd()
        .args(["identity", "export", "--passphrase-file"])
        .arg(&old)
        .assert()
        .code(1);
    h.cmd()
        .args(["identity", "export", "--passphrase-file"])
        .arg(&new)
        .assert()
        .success()
        .stdout(predicate::str::contains("AGE-SECRET-KEY-1"));
    assert_private_tree(&h.vault());
}

#[test]
fn malformed_profiles_file_names_file_and_line_and_is_untouched() {
    let h = Home::new();
    h.init_age();
    std::fs::create_dir_all(h.profiles().parent().unwrap()).unwrap();
    let bad =
        b"{\n  \"version\": 1,\n  \"profiles\": {\n    \"a:b\": {\"type\": \"api_key\",}\n  }\n}\n";
    std::fs::write(h.profiles(), bad).unwrap();
    for args in [
        vec!["models", "auth", "list"],
        vec!["models", "status"],
        vec![
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "openai",
            "--profile-id",
            "openai:default",
        ],
        vec!["models", "auth", "order", "set", "--provider", "a", "a:b"],
    ] {
        h.cmd()
            .args(&args)
            .write_stdin(KEY)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(h.profiles().display().to_string()))
            .stderr(predicate::str::contains("line 4"));
    }
    assert_eq!(std::fs::read(h.profiles()).unwrap(), bad);
    assert_eq!(
        std::fs::read_dir(h.vault().join("blobs")).unwrap().count(),
        0,
        "no secret stored for a doc we cannot rewrite"
    );
}

#[test]
fn symlinked_profiles_file_is_refused() {
    let h = Home::new();
    h.init_age();
    let dir = h.profiles().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    let elsewhere = h.tmp.path().join("elsewhere.json");
    std::fs::write(&elsewhere, "{}").unwrap();
    std::os::unix::fs::symlink(&elsewhere, h.profiles()).unwrap();
    h.cmd()
        .args(["models", "auth", "list"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("symlink"));
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "{}");
}

#[test]
fn stock_age_cli_decrypts_every_blob_with_the_exported_identity() {
    if which("age").is_none() {
        assert!(
            std::env::var("CLAWVAULT_REQUIRE_AGE").is_err(),
            "the stock age CLI is required in CI"
        );
        eprintln!("SKIPPED: the stock `age` CLI is not installed");
        return;
    }
    let h = Home::new();
    let pw = h.init_age();
    h.paste("paste-api-key", "openai", None, KEY);
    h.paste("paste-token", "anthropic", Some("anthropic:work#2"), TOKEN);
    let id = h
        .cmd()
        .args(["identity", "export", "--passphrase-file"])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(id.status.success());
    let idf = h.pw_file(
        "identity.txt",
        std::str::from_utf8(&id.stdout).unwrap().trim_end(),
    );
    for (file, want) in [
        ("main%2Fopenai%3Adefault.age", KEY),
        ("main%2Fanthropic%3Awork%232.age", TOKEN),
    ] {
        let out = std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&idf)
            .arg(h.vault().join("blobs").join(file))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
    }
}

#[test]
fn umask_does_not_loosen_modes() {
    let h = Home::new();
    let pw = h.pw_file("pw", "pass");
    let bin = assert_cmd::cargo::cargo_bin("clawvault");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"umask 000 && "$0" init --backend age --force-weak --kdf-memory-mib 1 --kdf-iterations 1 --passphrase-file "$1" && printf k | "$0" models auth paste-api-key --provider openai"#)
        .arg(&bin)
        .arg(&pw)
        .env("OPENCLAW_STATE_DIR", h.state())
        .status()
        .unwrap();
    assert!(status.success());
    assert_private_tree(&h.vault());
    assert_eq!(common::mode(&h.profiles()), 0o600);
}

#[test]
fn loose_passphrase_file_is_refused() {
    let h = Home::new();
    let pw = h.pw_file("pw", "pass");
    std::fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    h.cmd()
        .args(["init", "--backend", "age", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("chmod 600"));
    assert!(!h.vault().exists());
}

#[test]
fn no_unlock_source_lists_what_was_tried() {
    let h = Home::new();
    h.init_age();
    h.cmd()
        .args(["identity", "export"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("prompt: no terminal attached"));
}

#[test]
fn legacy_state_dir_is_used_and_announced() {
    let h = Home::new();
    std::fs::create_dir_all(h.tmp.path().join(".moltbot")).unwrap();
    let mut c = assert_cmd::Command::cargo_bin("clawvault").unwrap();
    c.env_clear()
        .env("HOME", h.tmp.path())
        .args(["models", "auth", "list"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "legacy state directory ~/.moltbot",
        ));
}

#[test]
fn resolve_rejects_bad_requests_with_one_line_and_no_echo() {
    let h = Home::new();
    let pw = h.init_age();
    for req in [
        "{\"protocolVersion\":1,\"ids\":[\"sk-live-SECRET-in-request\"",
        "{\"protocolVersion\":2,\"ids\":[]}",
        "not json sk-live-SECRET-in-request",
        "",
    ] {
        let out = h
            .cmd()
            .arg("resolve")
            .arg("--passphrase-file")
            .arg(&pw)
            .write_stdin(req)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{req}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("SECRET"), "{err}");
        assert!(out.stdout.is_empty());
    }
    // A locked vault (no unlock source) fails the batch, without a prompt.
    h.cmd()
        .arg("resolve")
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/a:b"]}"#)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("could not unlock"));
}

fn which(bin: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(bin))
            .find(|p| p.is_file())
    })
}

/// `resolve` with only `--vault` (no state dir, no HOME, OpenClaw's bare env).
#[test]
fn resolve_needs_only_the_vault_under_a_bare_environment() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste(
        "paste-api-key",
        "openai",
        None,
        "sk-proj-BARE-ENV-0123456789",
    );
    let bin = assert_cmd::cargo::cargo_bin("clawvault");
    let out = assert_cmd::Command::new(&bin)
        .env_clear()
        .current_dir(bin.parent().unwrap())
        .arg("resolve")
        .arg("--vault")
        .arg(h.vault())
        .arg("--passphrase-file")
        .arg(&pw)
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/openai:default"]}"#)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["values"]["main/openai:default"],
        "sk-proj-BARE-ENV-0123456789"
    );
}
