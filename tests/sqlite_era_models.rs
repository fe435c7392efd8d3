//! `clawvault models auth` / `models status` on a stock SQLite-era install made by
//! the real OpenClaw 2026.9.6: clawvault reads and writes the store OpenClaw reads,
//! never creates `auth-profiles.json`, and OpenClaw's own commands keep working and
//! agree. Without OpenClaw these tests skip loudly, unless
//! CLAWVAULT_REQUIRE_OPENCLAW=1, where they fail.
// Unix only: the real OpenClaw (Linux npm install) and symlinks.
#![cfg(unix)]

mod common;

use std::process::Output;

use common::openclaw::*;
use common::*;
use serde_json::Value;

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn no_json_document(h: &Home) {
    let made: Vec<_> = files(h.tmp.path())
        .into_iter()
        .filter(|f| {
            f.file_name()
                .map(|n| n == "auth-profiles.json")
                .unwrap_or(false)
        })
        .collect();
    assert!(
        made.is_empty(),
        "auth-profiles.json created on a SQLite-era install: {made:?}"
    );
}

#[test]
fn sqlite_era_models_auth_reads_and_writes_the_store_openclaw_reads() {
    let Some(o) = openclaw_or_skip("sqlite_era_models") else {
        return;
    };
    let h = Home::new();
    for d in [h.tmp.path().join("home"), h.state()] {
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    }
    let key = format!("sk-ant-api03-{}{}", random_suffix(), random_suffix());
    let token = format!(
        "sk-ant-oat01-{}",
        (0..8).map(|_| random_suffix()).collect::<String>()
    );
    o.ok(
        &h,
        &["models", "auth", "paste-api-key", "--provider", "anthropic"],
        Some(format!("{key}\n").as_str()),
    );
    o.ok(
        &h,
        &[
            "models",
            "auth",
            "paste-token",
            "--provider",
            "anthropic",
            "--profile-id",
            "anthropic:tok",
            "--expires-in",
            "2h",
        ],
        Some(format!("{token}\n").as_str()),
    );
    let pw = h.init_age();

    // list: the same profiles OpenClaw lists, in OpenClaw's JSON shape.
    let theirs = json_of(&o.ok(&h, &["models", "auth", "list", "--json"], None));
    let ours = json_of(
        &h.cmd()
            .args(["models", "auth", "list", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(ids(&ours), ids(&theirs), "ours {ours:#}\ntheirs {theirs:#}");
    assert_eq!(ids(&ours), ["anthropic:manual", "anthropic:tok"]);
    for k in ["agentId", "agentDir", "authStatePath", "provider"] {
        assert_eq!(ours[k], theirs[k], "{k}: ours {ours:#}\ntheirs {theirs:#}");
    }
    for (a, b) in ours["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .zip(theirs["profiles"].as_array().unwrap())
    {
        for k in ["id", "provider", "type", "label"] {
            assert_eq!(a[k], b[k], "{k}");
        }
    }

    // status: the token OpenClaw stored with `expires` is expiring; --check says 2.
    let st = h
        .cmd()
        .args(["models", "status", "--json", "--check"])
        .output()
        .unwrap();
    assert_eq!(
        st.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&st.stdout)
    );
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    let tok = st["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profileId"] == "anthropic:tok")
        .unwrap();
    assert_eq!(tok["status"], "expiring", "{st:#}");
    // The same rows where OpenClaw's `models status --json` keeps them.
    let theirs = json_of(&o.ok(&h, &["models", "status", "--json"], None));
    let rows = |v: &Value| -> Vec<Vec<Value>> {
        let mut r: Vec<Vec<Value>> = v["auth"]["oauth"]["profiles"]
            .as_array()
            .unwrap_or_else(|| panic!("no auth.oauth.profiles: {v:#}"))
            .iter()
            .map(|p| {
                ["profileId", "provider", "type", "status"]
                    .iter()
                    .map(|k| p[*k].clone())
                    .collect()
            })
            .collect();
        r.sort_by_key(|x| x[0].to_string());
        r
    };
    assert_eq!(rows(&st), rows(&theirs), "ours {st:#}\ntheirs {theirs:#}");
    for k in ["agentDir", "configPath"] {
        assert_eq!(st[k], theirs[k], "{k}");
    }

    // paste through clawvault: into the vault and OpenClaw's store, no JSON file.
    h.cmd()
        .args(["models", "auth", "paste-api-key", "--provider", "groq"])
        // No --profile-id: a fresh provider gets OpenClaw's default, `groq:manual`.
        .write_stdin("gsk_SQLITE_ERA_TEST_0123456789abcdef\n")
        .assert()
        .success();
    no_json_document(&h);
    let theirs = json_of(&o.ok(&h, &["models", "auth", "list", "--json"], None));
    assert!(
        ids(&theirs).contains(&"groq:manual".to_string()),
        "{theirs:#}"
    );
    let ours = json_of(
        &h.cmd()
            .args(["models", "auth", "list", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(ids(&ours), ids(&theirs));
    let status = json_of(&o.ok(&h, &["models", "status", "--json"], None));
    let text = status.to_string();
    assert!(
        !text.contains("gsk_SQLITE_ERA_TEST"),
        "OpenClaw shows the value: {text}"
    );
    // The reference resolves through clawvault.
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(&pw)
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/groq:manual"]}"#)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("gsk_SQLITE_ERA_TEST_0123456789abcdef"));

    // logout through clawvault: gone from OpenClaw's list too, secret deleted.
    h.cmd()
        .args(["models", "auth", "logout", "groq:manual", "--yes"])
        .assert()
        .success();
    no_json_document(&h);
    let theirs = json_of(&o.ok(&h, &["models", "auth", "list", "--json"], None));
    assert_eq!(ids(&theirs), ["anthropic:manual", "anthropic:tok"]);
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(&pw)
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/groq:manual"]}"#)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("gsk_SQLITE_ERA_TEST"));

    // A new key for a provider that has an API-key profile replaces that profile's
    // key, as OpenClaw's paste-api-key does: no second profile appears.
    h.cmd()
        .args(["models", "auth", "paste-api-key", "--provider", "anthropic"])
        .write_stdin("sk-ant-api03-REPLACED-0123456789abcdef\n")
        .assert()
        .success();
    no_json_document(&h);
    let theirs = json_of(&o.ok(&h, &["models", "auth", "list", "--json"], None));
    assert_eq!(ids(&theirs), ["anthropic:manual", "anthropic:tok"]);
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(&pw)
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/anthropic:manual"]}"#)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("sk-ant-api03-REPLACED-0123456789abcdef"));
}
