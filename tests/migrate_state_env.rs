//! `clawvault migrate` also takes the `.env` OpenClaw loads from its state
//! directory: a provider key there becomes a profile holding a clawvault ref in the
//! store OpenClaw reads (SQLite era: never a new `auth-profiles.json`), the line
//! leaves the file, and OpenClaw resolves the profile. A variable the config reads
//! from the environment, and a credential only other programs use, stay in the
//! file and are reported as kept, with the reason.
// Unix only: file modes and symlinks.
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

#[test]
fn migrate_moves_provider_keys_from_the_state_env_on_a_sqlite_era_install() {
    let Some(oc) = openclaw_or_skip("migrate_state_env") else {
        return;
    };
    clawvault_bin_is_real();
    let h = setup_home();
    let r = || random_suffix();
    let key = format!("sk-ant-api03-{}{}", r(), r());
    oc.ok(
        &h,
        &["models", "auth", "paste-api-key", "--provider", "anthropic"],
        Some(&format!("{key}\n")),
    );
    let groq = format!("gsk_{}{}{}", r(), r(), r());
    let brave = format!("BSA{}{}", r(), r());
    let mistral = format!("{}{}", r(), r());
    let env_path = h.state().join(".env");
    write_private(
        &env_path,
        format!("# mine\nGROQ_API_KEY={groq}\nBRAVE_API_KEY={brave}\nMISTRAL_API_KEY={mistral}\nLOG_LEVEL=debug\n")
            .as_bytes(),
    );
    let cfg = config_path(&h);
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cfg).unwrap_or_else(|_| b"{}".to_vec()))
            .unwrap_or_else(|_| serde_json::json!({}));
    config["models"] = serde_json::json!({"providers": {"mistral": {
        "baseUrl": "https://api.mistral.ai/v1", "apiKey": "${MISTRAL_API_KEY}", "models": []}}});
    write_private(&cfg, serde_json::to_vec_pretty(&config).unwrap().as_slice());

    let pw = h.init_age();
    let out = oc.clawvault_migrate(&h, &pw);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "migrate failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in [&key, &groq, &brave, &mistral] {
        assert!(!stdout.contains(s.as_str()), "the report shows a secret");
    }
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let row = |var: &str| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["profileId"] == var)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {var}: {report:#}"))
    };
    assert_eq!(row("GROQ_API_KEY")["action"], "moved", "{report:#}");
    assert_eq!(row("BRAVE_API_KEY")["action"], "kept", "{report:#}");
    assert_eq!(row("MISTRAL_API_KEY")["action"], "kept", "{report:#}");

    // The file: the provider key gone, everything else byte for byte.
    let env_now = std::fs::read_to_string(&env_path).unwrap();
    assert!(!env_now.contains(&groq), "{env_now}");
    assert!(env_now.contains(&format!("BRAVE_API_KEY={brave}\n")));
    assert!(env_now.contains(&format!("MISTRAL_API_KEY={mistral}\n")));
    assert!(env_now.starts_with("# mine\n") && env_now.contains("LOG_LEVEL=debug\n"));
    assert!(
        !h.state()
            .join("agents/main/agent/auth-profiles.json")
            .exists(),
        "auth-profiles.json created on a SQLite-era install"
    );

    // OpenClaw sees the new profile, and resolves it through clawvault.
    let list = oc.ok(&h, &["models", "auth", "list", "--json"], None);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("groq:default"), "{text}");
    let audit = oc.audit(&h);
    assert_eq!(audit["summary"]["unresolvedRefCount"], 0, "{audit:#}");
    assert!(
        audit["resolution"]["refsChecked"].as_u64().unwrap_or(0) >= 2,
        "{audit:#}"
    );
    let files = files_outside_vault(&h);
    for s in [&key, &groq] {
        let left = files_holding(&files, s);
        assert!(left.is_empty(), "plaintext left in {left:?}");
    }
}
