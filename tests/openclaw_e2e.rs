//! End to end against the real OpenClaw (npm `openclaw@2026.9.6` on Node 24):
//! OpenClaw itself runs `clawvault resolve` and audits the result.
//!
//! Install it with `scripts/install-openclaw.sh` (`.ci/run` does). Without it these
//! tests skip loudly, unless CLAWVAULT_REQUIRE_OPENCLAW=1, where they fail.

mod common;

use std::path::{Path, PathBuf};

use common::openclaw::*;
use common::*;
use serde_json::{json, Value};

/// `clawvault migrate --json` (or `--dry-run`) with the passphrase file, parsed.
fn migrate_json(h: &Home, pw: &Path, dry_run: bool) -> Value {
    let mut c = h.cmd();
    c.args(["migrate", "--json", "--passphrase-file"]).arg(pw);
    if dry_run {
        c.arg("--dry-run");
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "clawvault migrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The profile ids of a migrate report's rows with this action, sorted.
fn moves(report: &Value, action: &str) -> Vec<String> {
    let mut v: Vec<String> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == action)
        .map(|r| r["profileId"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// JSON era: plaintext auth-profiles.json -> `clawvault migrate` moves both secrets
/// into the vault -> `clawvault openclaw register` -> `openclaw doctor --fix` imports
/// the refs into SQLite -> OpenClaw's audit resolves every ref through
/// `clawvault resolve`.
#[test]
fn json_era_register_then_doctor_import_resolves_through_clawvault() {
    let Some(oc) = openclaw_or_skip("json_era") else {
        return;
    };
    clawvault_bin_is_real();
    let h = setup_home();
    let key = format!("sk-ant-api03-{}{}", random_suffix(), random_suffix());
    let token = format!(
        "sk-ant-oat01-{}",
        (0..6).map(|_| random_suffix()).collect::<String>()
    );
    let profiles = h.profiles();
    std::fs::create_dir_all(profiles.parent().unwrap()).unwrap();
    std::fs::write(
        &profiles,
        serde_json::to_vec_pretty(&json!({"version":1,"profiles":{
            "anthropic:default":{"type":"api_key","provider":"anthropic","key":key},
            "anthropic:manual":{"type":"token","provider":"anthropic","token":token}},
            "order":{"anthropic":["anthropic:default","anthropic:manual"]}}))
        .unwrap(),
    )
    .unwrap();
    let pw = h.init_age();
    // A dry run plans both moves and touches nothing.
    let original = std::fs::read(&profiles).unwrap();
    let plan = migrate_json(&h, &pw, true);
    assert_eq!(
        moves(&plan, "would-move"),
        ["anthropic:default", "anthropic:manual"],
        "{plan:#}"
    );
    assert_eq!(std::fs::read(&profiles).unwrap(), original);
    // `clawvault migrate` moves both into the vault and leaves references.
    let report = migrate_json(&h, &pw, false);
    assert_eq!(
        moves(&report, "moved"),
        ["anthropic:default", "anthropic:manual"],
        "{report:#}"
    );
    let doc = h.read_profiles();
    for (id, field, kind) in [
        ("anthropic:default", "keyRef", "key"),
        ("anthropic:manual", "tokenRef", "token"),
    ] {
        let p = &doc["profiles"][id];
        assert_eq!(
            p[field],
            json!({"source":"exec","provider":"clawvault","id":format!("main/{id}")}),
            "{doc:#}"
        );
        assert!(p.get(kind).is_none(), "{id} still inline: {doc:#}");
    }
    assert_eq!(
        doc["order"]["anthropic"],
        json!(["anthropic:default", "anthropic:manual"])
    );
    // Nothing outside the vault holds either secret any more (the original file is
    // kept only as an encrypted backup inside it).
    let files = files_outside_vault(&h);
    for s in [&key, &token] {
        let left = files_holding(&files, s);
        assert!(left.is_empty(), "plaintext left after migrate in {left:?}");
    }
    assert_private_tree(&h.vault());
    // A second run finds nothing left to move.
    let again = migrate_json(&h, &pw, false);
    assert!(moves(&again, "moved").is_empty(), "{again:#}");

    h.cmd()
        .env("OPENCLAW_CONFIG_PATH", config_path(&h))
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "register"])
        .assert()
        .success();
    let cfg: Value = serde_json::from_slice(&std::fs::read(config_path(&h)).unwrap()).unwrap();
    let p = &cfg["secrets"]["providers"]["clawvault"];
    assert_eq!(p["source"], "exec");
    assert_eq!(
        p["command"].as_str().unwrap(),
        std::fs::canonicalize(assert_cmd::cargo::cargo_bin("clawvault"))
            .unwrap()
            .to_str()
            .unwrap()
    );

    oc.ok(&h, &["doctor", "--fix", "--non-interactive"], None);
    // doctor imported the document into SQLite and kept the provider declaration.
    assert!(
        !profiles.exists(),
        "doctor should have archived auth-profiles.json"
    );
    let cfg: Value = serde_json::from_slice(&std::fs::read(config_path(&h)).unwrap()).unwrap();
    assert_eq!(cfg["secrets"]["providers"]["clawvault"]["source"], "exec");

    let audit = oc.audit(&h);
    eprintln!("audit: {audit:#}");
    assert_audit_clean_for(&audit, &["anthropic:default", "anthropic:manual"], 2);
    assert_eq!(
        audit["resolution"]["resolvabilityComplete"], true,
        "{audit:#}"
    );

    let files = files_outside_vault(&h);
    for s in [&key, &token] {
        let left = files_holding(&files, s);
        assert!(left.is_empty(), "plaintext left in {left:?}");
    }

    // `migrate --rollback` after OpenClaw's import refuses, with the reason, to put
    // the plaintext file back beside the SQLite store, and keeps the vault entries
    // the store references (the audit stays clean).
    let out = h
        .cmd()
        .args(["migrate", "--rollback", "--json", "--passphrase-file"])
        .arg(&pw)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("refused") && text.contains("OpenClaw"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !profiles.exists(),
        "rollback recreated {}",
        profiles.display()
    );
    let files = files_outside_vault(&h);
    for s in [&key, &token] {
        let left = files_holding(&files, s);
        assert!(
            left.is_empty(),
            "plaintext restored by rollback in {left:?}"
        );
    }
    let audit = oc.audit(&h);
    assert_audit_clean_for(&audit, &["anthropic:default", "anthropic:manual"], 2);
}

/// SQLite era: OpenClaw stores a pasted key and token as plaintext in SQLite ->
/// `clawvault openclaw plan` -> `openclaw secrets apply` -> `clawvault openclaw
/// scrub` (OpenClaw 2026.9.6 #143262 leaves the shared store's plaintext) -> the
/// audit is clean and no byte of either secret is left in any file.
#[test]
fn sqlite_era_plan_apply_scrub_leaves_no_plaintext_openclaw_143262() {
    let Some(oc) = openclaw_or_skip("sqlite_era") else {
        return;
    };
    clawvault_bin_is_real();
    let h = setup_home();
    let key = format!("sk-ant-api03-{}{}", random_suffix(), random_suffix());
    let token = format!(
        "sk-ant-oat01-{}",
        (0..6).map(|_| random_suffix()).collect::<String>()
    );
    oc.ok(
        &h,
        &["models", "auth", "paste-api-key", "--provider", "anthropic"],
        Some(&format!("{key}\n")),
    );
    oc.ok(
        &h,
        &[
            "models",
            "auth",
            "paste-token",
            "--provider",
            "anthropic",
            "--profile-id",
            "anthropic:setup",
        ],
        Some(&format!("{token}\n")),
    );
    let shared = h.state().join("state/openclaw.sqlite");
    let before = files_outside_vault(&h);
    assert!(
        !files_holding(&before, &key).is_empty() && !files_holding(&before, &token).is_empty(),
        "OpenClaw should have stored both as plaintext in SQLite"
    );

    let pw = h.init_age();
    let plan_path = h.tmp.path().join("plan.json");
    h.cmd()
        .env("OPENCLAW_CONFIG_PATH", config_path(&h))
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "plan", "--out"])
        .arg(&plan_path)
        .assert()
        .success();
    let plan: Value = serde_json::from_slice(&std::fs::read(&plan_path).unwrap()).unwrap();
    let plan_text = plan.to_string();
    assert!(!plan_text.contains(&key) && !plan_text.contains(&token));
    let targets = plan["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2, "{plan:#}");
    let types: Vec<&str> = targets
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"auth-profiles.api_key.key"), "{plan:#}");
    assert!(types.contains(&"auth-profiles.token.token"), "{plan:#}");

    oc.ok(
        &h,
        &[
            "secrets",
            "apply",
            "--from",
            plan_path.to_str().unwrap(),
            "--allow-exec",
        ],
        None,
    );
    let after_apply = files_holding(&files_outside_vault(&h), &key);
    if after_apply.contains(&shared) {
        eprintln!(
            "OpenClaw #143262 reproduced: plaintext still in {}",
            shared.display()
        );
    }

    h.cmd()
        .env("OPENCLAW_CONFIG_PATH", config_path(&h))
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "scrub"])
        .assert()
        .success();

    let audit = oc.audit(&h);
    eprintln!("audit: {audit:#}");
    let ids: Vec<String> = targets
        .iter()
        .map(|t| t["pathSegments"][1].as_str().unwrap().to_string())
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_audit_clean_for(&audit, &ids, 2);

    // Raw bytes: no sqlite file, WAL or anything else outside the vault holds either.
    let files = files_outside_vault(&h);
    assert!(files
        .iter()
        .any(|f| f.to_string_lossy().ends_with(".sqlite")));
    for s in [&key, &token] {
        let left = files_holding(&files, s);
        assert!(left.is_empty(), "plaintext left in {left:?}");
    }
    // The backup of the shared store row is encrypted, and decrypts to the old row.
    let backups: Vec<PathBuf> = std::fs::read_dir(h.vault().join("backups/openclaw"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!backups.is_empty());
    assert_private_tree(&h.vault());
}
