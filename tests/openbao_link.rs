//! `models auth link`: a profile served from an existing KV v2 field (the layout
//! OpenClaw's Vault plugin reads: `secret/providers/openrouter`, field `apiKey`),
//! through the real `clawvault` binary and a real `bao server -dev`, with the
//! gateway holding only the reader policy.
// Unix only: the real OpenBao dev server (Linux binary).
#![cfg(unix)]

#[path = "common/openbao.rs"]
mod bao;
mod common;

use common::Home;
use serde_json::{json, Value};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn linked_profile_resolves_an_existing_kv_field_under_the_reader_policy() {
    let Some(s) = bao::DevServer::start("linked_profile_resolves_an_existing_kv_field") else {
        return;
    };
    let key = format!("sk-or-v1-existing-{}", common::random_suffix());
    let other = format!("other-field-{}", common::random_suffix());
    s.ok(
        "POST",
        "secret/data/providers/openrouter",
        Some(json!({"data": {"apiKey": key, "region": other}})),
    );
    let prefix = "clawvault/linktest";
    let h = Home::new();
    let token_file = s.private_file("gateway-token", &s.root_token);
    let pw = h.pw_file("pw", "correct horse battery");
    let o = h
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
        ])
        .args(["--addr", &s.addr, "--prefix", prefix])
        .arg("--token-file")
        .arg(&token_file)
        .arg("--passphrase-file")
        .arg(&pw)
        .output()
        .unwrap();
    assert!(o.status.success(), "init: {}", text(&o.stderr));

    // From here on the gateway holds a reader token: the reader policy for its
    // prefix, plus read on the existing path (what OpenClaw's plugin needs too).
    let reader = include_str!("../docs/openbao-reader-policy.hcl")
        .replace("MOUNT", "secret")
        .replace("PREFIX", prefix)
        + "path \"secret/data/providers/*\" { capabilities = [\"read\"] }\n\
           path \"secret/metadata/providers/*\" { capabilities = [\"read\"] }\n";
    s.policy("gateway", &reader);
    let tok = s.create_token(json!({"policies": ["default", "gateway"], "ttl": "1h"}));
    std::fs::write(&token_file, &tok).unwrap();

    // A field that does not exist is refused and nothing is saved.
    let manifest = h.vault().join("vault.json");
    let before = std::fs::read(&manifest).unwrap();
    let o = h
        .cmd()
        .args(["models", "auth", "link", "--provider", "openrouter"])
        .args(["--kv", "secret/providers/openrouter#apiKye"])
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no field \"apiKye\"") && err.contains("apiKey"),
        "{err}"
    );
    assert!(!err.contains(&key) && !err.contains(&other), "{err}");
    assert_eq!(std::fs::read(&manifest).unwrap(), before);

    let o = h
        .cmd()
        .args(["models", "auth", "link", "--provider", "openrouter"])
        .args(["--kv", "secret/providers/openrouter#apiKey"])
        .output()
        .unwrap();
    assert!(o.status.success(), "link: {}", text(&o.stderr));
    let m: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(
        m["backend"]["links"]["main/openrouter:default"], "secret/providers/openrouter#apiKey",
        "{m}"
    );
    let profiles = std::fs::read_to_string(h.profiles()).unwrap();
    assert!(!profiles.contains(&key), "{profiles}");

    // resolve, the way OpenClaw runs it, serves the field's current value.
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    let out = text(&o.stdout);
    assert!(o.status.success(), "resolve: {}", text(&o.stderr));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["values"]["main/openrouter:default"], key.as_str(), "{v}");
    assert!(
        !out.contains(&other),
        "only the linked field is served: {out}"
    );
    // The team rotates the key where it lives; clawvault serves the new one.
    let rotated = format!("{key}-rotated");
    s.ok(
        "POST",
        "secret/data/providers/openrouter",
        Some(json!({"data": {"apiKey": rotated, "region": other}})),
    );
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["values"]["main/openrouter:default"],
        rotated.as_str(),
        "{v}"
    );

    // A linked profile is read-only in clawvault: pasting over it is refused.
    let o = h
        .cmd()
        .args([
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "openrouter",
            "--profile-id",
            "openrouter:default",
        ])
        .write_stdin("sk-overwrite\n")
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("read-only") && err.contains("bao kv patch"),
        "{err}"
    );
    let (_, v) = s.api("GET", "secret/data/providers/openrouter", None);
    assert_eq!(v["data"]["data"]["apiKey"], rotated.as_str());
}

#[test]
fn rollback_restores_an_earlier_kv_version_and_status_shows_versions() {
    let Some(s) = bao::DevServer::start("rollback_restores_an_earlier_kv_version") else {
        return;
    };
    let h = Home::new();
    let token_file = s.private_file("writer-token", &s.root_token);
    let pw = h.pw_file("pw", "correct horse battery");
    let o = h
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
        ])
        .args(["--addr", &s.addr, "--prefix", "clawvault/rb"])
        .arg("--token-file")
        .arg(&token_file)
        .arg("--passphrase-file")
        .arg(&pw)
        .output()
        .unwrap();
    assert!(o.status.success(), "init: {}", text(&o.stderr));
    let keys: Vec<String> = (1..=3)
        .map(|i| format!("sk-ant-v{i}-{}", common::random_suffix()))
        .collect();
    for k in &keys {
        let o = h
            .cmd()
            .args([
                "models",
                "auth",
                "paste-api-key",
                "--provider",
                "anthropic",
                "--profile-id",
                "anthropic:default",
            ])
            .write_stdin(format!("{k}\n"))
            .output()
            .unwrap();
        assert!(o.status.success(), "paste: {}", text(&o.stderr));
    }
    let resolved = |h: &Home| -> String {
        let o = h.resolve(&["main/anthropic:default"], |_| {});
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["values"]["main/anthropic:default"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(resolved(&h), keys[2]);
    let status = |h: &Home| -> Value {
        let o = h
            .cmd()
            .args(["models", "status", "--json"])
            .output()
            .unwrap();
        assert!(o.status.success(), "status: {}", text(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["openbaoVersions"]["anthropic:default"].clone()
    };
    let st = status(&h);
    assert_eq!(st["current"], 3, "{st}");
    assert_eq!(st["live"], json!([1, 2, 3]), "{st}");
    assert!(st["updated"].as_str().unwrap().starts_with("20"), "{st}");

    // Default: the version before the current one, written again as version 4.
    let o = h
        .cmd()
        .args(["models", "auth", "rollback", "anthropic:default"])
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert!(o.status.success(), "rollback: {err}");
    assert!(
        err.contains("restored version 2") && err.contains("version 4"),
        "{err}"
    );
    assert!(!err.contains(&keys[1]), "{err}");
    assert_eq!(resolved(&h), keys[1]);
    let o = h
        .cmd()
        .args([
            "models",
            "auth",
            "rollback",
            "anthropic:default",
            "--version",
            "1",
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "rollback --version 1: {}",
        text(&o.stderr)
    );
    assert_eq!(resolved(&h), keys[0]);
    assert_eq!(status(&h)["current"], 5);
    let o = h
        .cmd()
        .args([
            "models",
            "auth",
            "rollback",
            "anthropic:default",
            "--version",
            "9",
        ])
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("version 9") && err.contains("readable versions"),
        "{err}"
    );
    let table = h.cmd().args(["models", "status"]).output().unwrap();
    let t = text(&table.stdout);
    assert!(
        t.contains("OpenBao KV v2 versions") && t.contains("version 5"),
        "{t}"
    );
    for k in &keys {
        assert!(!t.contains(k.as_str()), "{t}");
    }
}
