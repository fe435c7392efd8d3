//! OpenClaw's shared secret store (`secret_store_entries` in `state/openclaw.sqlite`,
//! unencrypted at rest by OpenClaw's own docs). One `clawvault migrate` moves every
//! `secret` entry a SecretRef uses (in `openclaw.json` or an auth profile) into the
//! vault, has OpenClaw switch the refs, and deletes the row (OpenClaw's `store rm`
//! would keep the value for 30 days); the pages are vacuumed. Entries that must stay
//! are kept and reported with the reason: an agent-readable `env` entry, a secret the
//! egress proxy substitutes, a secret no ref uses. Against the real OpenClaw.
// Unix only: the real OpenClaw (Linux npm install).
#![cfg(unix)]

mod common;

use std::path::Path;

use common::openclaw::*;
use common::*;

fn write_private(p: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
    std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

fn store_ref(name: &str) -> serde_json::Value {
    serde_json::json!({"source": "store", "provider": "default", "id": name})
}

#[test]
fn migrate_moves_store_secrets_refs_use_and_keeps_the_rest_with_reasons() {
    let Some(oc) = openclaw_or_skip("openclaw_store") else {
        return;
    };
    clawvault_bin_is_real();
    let h = setup_home();
    let r = || random_suffix();
    let openai = format!("sk-proj-{}{}{}", r(), r(), r());
    let groq = format!("gsk_{}{}{}", r(), r(), r());
    let mistral = format!("{}{}{}", r(), r(), r());
    let stale = format!("sk-proj-{}{}{}", r(), r(), r());
    let brave = format!("BSA{}{}", r(), r());
    oc.ok(
        &h,
        &["secrets", "store", "import", "--kind", "secret", "--yes"],
        Some(&format!(
            "OPENAI_API_KEY={openai}\nGROQ_API_KEY={groq}\nMISTRAL_API_KEY={mistral}\nSTALE_API_KEY={stale}\n"
        )),
    );
    oc.ok(
        &h,
        &["secrets", "store", "import", "--kind", "env", "--yes"],
        Some(&format!("BRAVE_API_KEY={brave}\n")),
    );
    oc.ok(
        &h,
        &[
            "secrets",
            "store",
            "set",
            "MISTRAL_API_KEY",
            "--allow-host",
            "api.mistral.ai",
        ],
        None,
    );
    // The config reads two entries; an auth profile (written by OpenClaw's own apply)
    // reads a third.
    let cfg = config_path(&h);
    let mut config: serde_json::Value = std::fs::read(&cfg)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    config["models"] = serde_json::json!({"providers": {
        "openai": {"baseUrl": "https://api.openai.com/v1", "apiKey": store_ref("OPENAI_API_KEY"), "models": []},
        "mistral": {"baseUrl": "https://api.mistral.ai/v1", "apiKey": store_ref("MISTRAL_API_KEY"), "models": []}
    }});
    write_private(&cfg, &serde_json::to_vec_pretty(&config).unwrap());
    let plan = h.tmp.path().join("profile-plan.json");
    write_private(
        &plan,
        serde_json::json!({"version": 1, "protocolVersion": 1, "targets": [{
            "type": "auth-profiles.api_key.key", "path": "profiles.groq:default.key",
            "pathSegments": ["profiles", "groq:default", "key"], "agentId": "main",
            "authProfileProvider": "groq", "ref": store_ref("GROQ_API_KEY")}]})
        .to_string()
        .as_bytes(),
    );
    oc.ok(
        &h,
        &["secrets", "apply", "--from", plan.to_str().unwrap()],
        None,
    );

    let pw = h.init_age();
    let out = oc.clawvault_migrate(&h, &pw);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "migrate failed: {stdout}\n{stderr}");
    for s in [&openai, &groq, &mistral, &stale, &brave] {
        assert!(
            !stdout.contains(s.as_str()) && !stderr.contains(s.as_str()),
            "the report shows a secret"
        );
    }
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let row = |name: &str| {
        let key = format!("secret_store_entries.{name}");
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["profileId"] == key.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no row for {key}: {report:#}"))
    };
    assert_eq!(row("OPENAI_API_KEY")["action"], "removed", "{report:#}");
    assert_eq!(row("GROQ_API_KEY")["action"], "removed", "{report:#}");
    assert_eq!(row("MISTRAL_API_KEY")["action"], "kept", "{report:#}");
    assert!(row("MISTRAL_API_KEY")["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("egress proxy"));
    assert_eq!(row("STALE_API_KEY")["action"], "kept", "{report:#}");
    assert_eq!(row("BRAVE_API_KEY")["action"], "kept", "{report:#}");

    // The refs: the moved ones are clawvault's, the egress-bound one is untouched.
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    assert_eq!(
        config["models"]["providers"]["openai"]["apiKey"],
        serde_json::json!({"source": "exec", "provider": "clawvault", "id": "store/OPENAI_API_KEY"})
    );
    assert_eq!(
        config["models"]["providers"]["mistral"]["apiKey"],
        store_ref("MISTRAL_API_KEY")
    );
    // OpenClaw's store lists what stays, and nothing else.
    let list = oc.ok(&h, &["secrets", "store", "list", "--json"], None);
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let mut names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["BRAVE_API_KEY", "MISTRAL_API_KEY", "STALE_API_KEY"],
        "{listed:#}"
    );
    // OpenClaw resolves every ref, and the moved values are nowhere in plaintext
    // (not in the database, its WAL or free pages).
    let audit = oc.audit(&h);
    assert_eq!(audit["summary"]["unresolvedRefCount"], 0, "{audit:#}");
    assert_eq!(audit["summary"]["plaintextCount"], 0, "{audit:#}");
    let files = files_outside_vault(&h);
    for s in [&openai, &groq] {
        let left = files_holding(&files, s);
        assert!(left.is_empty(), "plaintext left in {left:?}");
    }
    // What stays, stays: nothing lost.
    for s in [&mistral, &stale, &brave] {
        assert!(
            !files_holding(&files, s).is_empty(),
            "a kept entry vanished from OpenClaw's store"
        );
    }
    // The deleted rows are kept as a standard age file in the vault.
    let backups: Vec<_> = std::fs::read_dir(h.vault().join("backups/openclaw"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains("openclaw-secret-store")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
}
