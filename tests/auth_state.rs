//! Later OpenClaw releases keep `order`, `lastGood` and `usageStats` in a sibling
//! `auth-state.json`. When it exists, `models auth order`, `logout` and `exec` use it
//! (losslessly); when it does not, nothing changes.
// Unix only: file modes and symlinks.
#![cfg(unix)]

mod common;

use std::path::PathBuf;

use common::*;
use predicates::prelude::*;
use serde_json::{json, Value};

const KEY: &str = "sk-ant-api03-TESTONLY-state-0123456789abcdef";
const TOKEN: &str = "sk-ant-oat01-TESTONLY-state-token-zyxwvuts";

/// Unknown fields, an odd key order, numbers that must keep their spelling.
const STATE: &str = r#"{
  "futureTop": {"z": 1, "a": [1.50, 1e400]},
  "version": 1,
  "usageStats": {"anthropic:manual": {"lastUsed": 1736160000000, "errorCount": 0, "cooldownUntil": 1736160000001}},
  "order": {"openai": ["openai:default"], "anthropic": ["anthropic:manual", "anthropic:default"]},
  "lastGood": {"anthropic": "anthropic:manual", "openai": "openai:default"},
  "zzz": null
}
"#;

/// The planted auth-state.json's top-level keys, in their order.
const STATE_KEYS: [&str; 6] = [
    "futureTop",
    "version",
    "usageStats",
    "order",
    "lastGood",
    "zzz",
];

fn state_path(h: &Home) -> PathBuf {
    h.profiles().with_file_name("auth-state.json")
}

fn read_state(h: &Home) -> Value {
    serde_json::from_slice(&std::fs::read(state_path(h)).unwrap()).unwrap()
}

fn top_keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Two anthropic profiles in the vault, then `STATE` beside them (0600).
fn setup(h: &Home) -> PathBuf {
    let pw = h.init_age();
    h.paste("paste-api-key", "anthropic", None, KEY);
    h.paste("paste-token", "anthropic", None, TOKEN);
    write_state(h, STATE);
    pw
}

fn write_state(h: &Home, body: &str) {
    std::fs::write(state_path(h), body).unwrap();
    std::fs::set_permissions(
        state_path(h),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
}

fn order(h: &Home, args: &[&str]) -> assert_cmd::assert::Assert {
    h.cmd()
        .args(["models", "auth", "order"])
        .args(args)
        .assert()
}

fn order_json(h: &Home, provider: &str) -> Value {
    let out = h
        .cmd()
        .args(["models", "auth", "order", "get", "--provider", provider])
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v = serde_json::from_slice::<Value>(&out.stdout).unwrap();
    // OpenClaw's `order get --json` keys, none renamed.
    assert_eq!(v["agentId"], "main", "{v}");
    assert_eq!(v["provider"], provider, "{v}");
    assert!(
        v["agentDir"]
            .as_str()
            .unwrap()
            .ends_with("agents/main/agent"),
        "{v}"
    );
    assert!(
        v["authStatePath"].as_str().unwrap().ends_with(".json"),
        "{v}"
    );
    v["order"].clone()
}

fn no_locks(h: &Home) {
    for p in files(h.profiles().parent().unwrap()) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".lock") && !name.contains(".tmp-"),
            "left behind: {}",
            p.display()
        );
    }
}

#[test]
fn order_set_get_clear_go_to_auth_state_and_keep_everything_else() {
    let h = Home::new();
    setup(&h);
    let profiles_before = std::fs::read(h.profiles()).unwrap();
    assert!(h.read_profiles().get("order").is_none());

    // get reads auth-state.json
    assert_eq!(
        order_json(&h, "anthropic"),
        json!(["anthropic:manual", "anthropic:default"])
    );

    // set writes auth-state.json, losslessly
    order(
        &h,
        &[
            "set",
            "--provider",
            "anthropic",
            "anthropic:default",
            "anthropic:manual",
        ],
    )
    .success()
    .stdout(predicate::str::contains(
        "anthropic:default anthropic:manual",
    ));
    assert_eq!(std::fs::read(h.profiles()).unwrap(), profiles_before);
    let st = read_state(&h);
    assert_eq!(
        st["order"],
        json!({"openai": ["openai:default"], "anthropic": ["anthropic:default", "anthropic:manual"]})
    );
    assert_eq!(top_keys(&st), STATE_KEYS);
    let text = std::fs::read_to_string(state_path(&h)).unwrap();
    assert!(text.contains("1.50") && text.contains("1e+400"), "{text}");
    assert!(text.contains("\"cooldownUntil\": 1736160000001"), "{text}");
    assert_eq!(
        st["lastGood"],
        json!({"anthropic": "anthropic:manual", "openai": "openai:default"})
    );
    assert_eq!(st["zzz"], Value::Null);
    assert_eq!(mode(&state_path(&h)), 0o600);
    assert_eq!(
        order_json(&h, "anthropic"),
        json!(["anthropic:default", "anthropic:manual"])
    );

    // an id that is not a profile of the provider is refused; nothing changes
    let state_before = std::fs::read(state_path(&h)).unwrap();
    order(&h, &["set", "--provider", "anthropic", "anthropic:nope"])
        .code(1)
        .stderr(predicate::str::contains("anthropic:nope"));
    assert_eq!(std::fs::read(state_path(&h)).unwrap(), state_before);

    // clear removes it from auth-state.json only
    order(&h, &["clear", "--provider", "anthropic"]).success();
    let st = read_state(&h);
    assert_eq!(st["order"], json!({"openai": ["openai:default"]}));
    assert_eq!(top_keys(&st), STATE_KEYS);
    assert_eq!(order_json(&h, "anthropic"), Value::Null);
    assert_eq!(std::fs::read(h.profiles()).unwrap(), profiles_before);
    no_locks(&h);
}

#[test]
fn auth_state_wins_over_a_leftover_order_in_auth_profiles() {
    let h = Home::new();
    h.init_age();
    h.paste("paste-api-key", "anthropic", None, KEY);
    h.paste("paste-token", "anthropic", None, TOKEN);
    // Before auth-state.json exists, the order goes to auth-profiles.json.
    order(&h, &["set", "--provider", "anthropic", "anthropic:default"]).success();
    assert_eq!(
        h.read_profiles()["order"]["anthropic"],
        json!(["anthropic:default"])
    );
    write_state(&h, "{\"version\": 1}\n");
    assert_eq!(order_json(&h, "anthropic"), Value::Null);
    order(&h, &["set", "--provider", "anthropic", "anthropic:manual"]).success();
    assert_eq!(
        std::fs::read_to_string(state_path(&h)).unwrap(),
        "{\n  \"version\": 1,\n  \"order\": {\n    \"anthropic\": [\n      \"anthropic:manual\"\n    ]\n  }\n}\n"
    );
    assert_eq!(
        h.read_profiles()["order"]["anthropic"],
        json!(["anthropic:default"]),
        "auth-profiles.json is left as it was"
    );
}

#[test]
fn logout_removes_the_id_from_auth_state_order_and_last_good() {
    let h = Home::new();
    setup(&h);
    let blob = h.vault().join("blobs/main%2Fanthropic%3Amanual.age");
    assert!(blob.exists());
    h.cmd()
        .args(["models", "auth", "logout", "anthropic:manual", "--yes"])
        .assert()
        .success();
    assert!(!blob.exists());
    assert!(h.read_profiles()["profiles"]
        .get("anthropic:manual")
        .is_none());
    let st = read_state(&h);
    assert_eq!(
        st["order"],
        json!({"openai": ["openai:default"], "anthropic": ["anthropic:default"]})
    );
    assert_eq!(st["lastGood"], json!({"openai": "openai:default"}));
    // usageStats and unknown fields are not ours to touch.
    assert_eq!(
        st["usageStats"]["anthropic:manual"]["cooldownUntil"],
        json!(1736160000001i64)
    );
    assert_eq!(top_keys(&st), STATE_KEYS);
    assert_eq!(mode(&state_path(&h)), 0o600);

    // Logging out the last ordered profile drops the list (OpenClaw reads an empty
    // list as "use no profile").
    h.cmd()
        .args(["models", "auth", "logout", "anthropic:default", "--yes"])
        .assert()
        .success();
    assert_eq!(
        read_state(&h)["order"],
        json!({"openai": ["openai:default"]})
    );

    // An id only auth-state.json still names (a logout interrupted after the state
    // was written, or a stale entry) is cleaned up, not reported missing.
    h.cmd()
        .args(["models", "auth", "logout", "openai:default", "--yes"])
        .assert()
        .success();
    let st = read_state(&h);
    assert_eq!(st["order"], json!({}));
    assert_eq!(st["lastGood"], json!({}));
    h.cmd()
        .args(["models", "auth", "logout", "openai:default", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no profile \"openai:default\""));
    no_locks(&h);
}

#[test]
fn exec_picks_the_profile_ordered_first_in_auth_state() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste("paste-api-key", "anthropic", None, KEY);
    h.paste("paste-token", "anthropic", None, TOKEN);
    order(&h, &["set", "--provider", "anthropic", "anthropic:default"]).success();
    let exec = |h: &Home| {
        let out = h
            .cmd()
            .args(["exec", "--passphrase-file"])
            .arg(&pw)
            .args([
                "--",
                "sh",
                "-c",
                "printf '%s|%s' \"$ANTHROPIC_API_KEY\" \"$ANTHROPIC_OAUTH_TOKEN\"",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    // Without auth-state.json: auth-profiles.json's order.
    assert_eq!(exec(&h), format!("{KEY}|"));
    // With it: its order wins over the leftover one in auth-profiles.json.
    write_state(
        &h,
        r#"{"version": 1, "order": {"anthropic": ["anthropic:manual", "anthropic:default"]}}"#,
    );
    assert_eq!(exec(&h), format!("|{TOKEN}"));
    order(
        &h,
        &[
            "set",
            "--provider",
            "anthropic",
            "anthropic:default",
            "anthropic:manual",
        ],
    )
    .success();
    assert_eq!(exec(&h), format!("{KEY}|"));
}

#[test]
fn without_auth_state_nothing_changes() {
    let h = Home::new();
    h.init_age();
    h.paste("paste-api-key", "anthropic", None, KEY);
    h.paste("paste-token", "anthropic", None, TOKEN);
    order(
        &h,
        &[
            "set",
            "--provider",
            "anthropic",
            "anthropic:manual",
            "anthropic:default",
        ],
    )
    .success();
    assert_eq!(
        h.read_profiles()["order"]["anthropic"],
        json!(["anthropic:manual", "anthropic:default"])
    );
    assert_eq!(
        order_json(&h, "anthropic"),
        json!(["anthropic:manual", "anthropic:default"])
    );
    h.cmd()
        .args(["models", "auth", "logout", "anthropic:manual", "--yes"])
        .assert()
        .success();
    // auth-profiles.json keeps its old behaviour: the id leaves the list.
    assert_eq!(
        h.read_profiles()["order"]["anthropic"],
        json!(["anthropic:default"])
    );
    order(&h, &["clear", "--provider", "anthropic"]).success();
    assert!(h.read_profiles()["order"].get("anthropic").is_none());
    assert!(!state_path(&h).exists(), "auth-state.json is never created");
    no_locks(&h);
}

#[test]
fn a_bad_auth_state_is_named_and_left_untouched() {
    let h = Home::new();
    h.init_age();
    h.paste("paste-api-key", "anthropic", None, KEY);
    let profiles_before = std::fs::read(h.profiles()).unwrap();
    // Malformed (a duplicate key): every command names the file and the line.
    let bad = "{\n  \"order\": {},\n  \"order\": {}\n}\n";
    write_state(&h, bad);
    let logout = ["models", "auth", "logout", "anthropic:default", "--yes"];
    for args in [
        &["models", "auth", "order", "get", "--provider", "anthropic"][..],
        &[
            "models",
            "auth",
            "order",
            "set",
            "--provider",
            "anthropic",
            "anthropic:default",
        ],
        &[
            "models",
            "auth",
            "order",
            "clear",
            "--provider",
            "anthropic",
        ],
        &logout,
    ] {
        h.cmd()
            .args(args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                state_path(&h).display().to_string(),
            ))
            .stderr(predicate::str::contains("line 3"));
    }
    assert_eq!(std::fs::read_to_string(state_path(&h)).unwrap(), bad);
    assert_eq!(std::fs::read(h.profiles()).unwrap(), profiles_before);
    assert!(h
        .vault()
        .join("blobs/main%2Fanthropic%3Adefault.age")
        .exists());

    // A symlink is refused, and what it points at is not written.
    std::fs::remove_file(state_path(&h)).unwrap();
    let elsewhere = h.tmp.path().join("elsewhere.json");
    std::fs::write(&elsewhere, "{}").unwrap();
    std::os::unix::fs::symlink(&elsewhere, state_path(&h)).unwrap();
    for args in [
        &[
            "models",
            "auth",
            "order",
            "set",
            "--provider",
            "anthropic",
            "anthropic:default",
        ][..],
        &logout,
    ] {
        h.cmd()
            .args(args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("symlink"));
    }
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "{}");
    assert_eq!(std::fs::read(h.profiles()).unwrap(), profiles_before);
    no_locks(&h);
}

/// Without auth-state.json: a logout that empties a provider's `order` removes the
/// list (OpenClaw reads an explicit empty list as "use no profile of this provider")
/// and drops a `lastGood` naming the profile.
#[test]
fn logout_never_leaves_an_empty_order_list_behind() {
    let h = Home::new();
    h.init_age();
    h.paste(
        "paste-api-key",
        "anthropic",
        Some("anthropic:work"),
        "sk-ant-api03-ORDER-ONE",
    );
    h.paste(
        "paste-api-key",
        "anthropic",
        Some("anthropic:home"),
        "sk-ant-api03-ORDER-TWO",
    );
    h.cmd()
        .args([
            "models",
            "auth",
            "order",
            "set",
            "--provider",
            "anthropic",
            "anthropic:work",
        ])
        .assert()
        .success();
    let mut doc = h.read_profiles();
    doc["lastGood"] = json!({"anthropic": "anthropic:work"});
    doc["usageStats"] =
        json!({"anthropic:work": {"errorCount": 2}, "anthropic:home": {"errorCount": 1}});
    std::fs::write(h.profiles(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    h.cmd()
        .args(["models", "auth", "logout", "anthropic:work", "--yes"])
        .assert()
        .success();
    let doc = h.read_profiles();
    assert!(doc["order"].get("anthropic").is_none(), "{doc}");
    assert!(doc["lastGood"].get("anthropic").is_none(), "{doc}");
    assert!(doc["usageStats"].get("anthropic:work").is_none(), "{doc}");
    assert_eq!(
        doc["usageStats"]["anthropic:home"]["errorCount"], 1,
        "{doc}"
    );
    assert!(doc["profiles"].get("anthropic:home").is_some());
}
