//! One `clawvault migrate` on a realistic OpenClaw 2026.9.6 host leaves no movable
//! plaintext (issue 13): config secrets on OpenClaw's credential surface (JSON5, with
//! its `.bak` rotations), a SQLite-era auth store with a key and an expiring token, a
//! JSON-era auth store of a second agent, a generated `models.json`, the gateway's
//! systemd user unit and two session transcripts. OpenClaw's
//! own audit must then be clean and resolve every ref through clawvault, its config
//! must validate, and no byte of any moved credential may be left outside the vault.
// Unix only: the real OpenClaw (Linux npm install).
#![cfg(unix)]

mod common;

use std::path::Path;

use common::openclaw::*;
use common::*;
use serde_json::Value;

fn write_private(p: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
    std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

/// The profile JSON of `id` in an OpenClaw SQLite auth store, if present.
fn sqlite_profile(db: &Path, sql: &str, id: &str) -> Option<Value> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .ok()?;
    let text: String = c.query_row(sql, [], |r| r.get(0)).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["profiles"].get(id).cloned()
}

#[test]
fn one_migrate_leaves_no_movable_plaintext_on_a_mixed_host() {
    let Some(oc) = openclaw_or_skip("migrate_all") else {
        return;
    };
    clawvault_bin_is_real();
    let h = setup_home();
    let r = || random_suffix();
    let key = format!("sk-ant-api03-{}{}", r(), r());
    let token = format!("sk-ant-oat01-{}", (0..6).map(|_| r()).collect::<String>());
    // SQLite era: pasted through OpenClaw itself.
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
            "--expires-in",
            "365d",
        ],
        Some(&format!("{token}\n")),
    );
    // A second agent still on the JSON era.
    let work_key = format!("sk-proj-{}{}", r(), r());
    write_private(
        &h.state().join("agents/work/agent/auth-profiles.json"),
        format!(
            r#"{{"version":1,"profiles":{{"openai:default":{{"type":"api_key","provider":"openai","key":"{work_key}"}}}}}}"#
        )
        .as_bytes(),
    );
    // Config secrets on the credential surface, as JSON5 with a comment.
    let gw = format!("gw-{}{}", r(), r());
    let prov = format!("sk-proj-{}{}", r(), r());
    let tg = format!(
        "{}:AA{}{}",
        100000000 + rand::random::<u32>() % 800000000,
        r(),
        r()
    );
    let xai = format!("xai-{}{}", r(), r());
    let cfg_path = config_path(&h);
    let mut cfg: Value = std::fs::read(&cfg_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    cfg["gateway"]["mode"] = "local".into();
    cfg["gateway"]["auth"] = serde_json::json!({"mode": "token", "token": gw});
    cfg["models"]["providers"]["groq"] = serde_json::json!({"baseUrl": "https://api.groq.com/openai/v1", "apiKey": prov, "models": []});
    cfg["channels"]["telegram"]["botToken"] = tg.clone().into();
    cfg["plugins"]["entries"]["xai"]["config"]["webSearch"]["apiKey"] = xai.clone().into();
    let text = format!(
        "// written by hand: JSON5 comment\n{}",
        serde_json::to_string_pretty(&cfg).unwrap()
    );
    write_private(&cfg_path, text.as_bytes());
    // OpenClaw's own rotations of it, and a generated models.json with a resolved key.
    write_private(&h.state().join("openclaw.json.bak"), text.as_bytes());
    write_private(&h.state().join("openclaw.json.bak.1"), text.as_bytes());
    write_private(
        &h.state().join("agents/main/agent/models.json"),
        format!(r#"{{"providers":{{"groq":{{"baseUrl":"https://api.groq.com/openai/v1","apiKey":"{prov}","models":[]}}}}}}"#).as_bytes(),
    );
    // The gateway's user unit carries two of them; two transcripts show two more.
    write_private(
        &h.tmp.path().join(".config/systemd/user/openclaw-gateway.service"),
        format!(
            "[Unit]\nDescription=OpenClaw Gateway\n\n[Service]\nExecStart=/usr/bin/openclaw gateway --port 18789\nEnvironment=OPENCLAW_GATEWAY_TOKEN={gw}\nEnvironment=\"ANTHROPIC_API_KEY={key}\" NODE_ENV=production\n\n[Install]\nWantedBy=default.target\n"
        )
        .as_bytes(),
    );
    write_private(
        &h.state().join("agents/main/sessions/a.jsonl"),
        format!("{{\"type\":\"message\",\"role\":\"user\",\"text\":\"here is my key {key}\"}}\n")
            .as_bytes(),
    );
    write_private(
        &h.state().join("agents/work/sessions/b.jsonl"),
        format!("{{\"type\":\"toolResult\",\"content\":\"GET https://api.telegram.org/bot{tg}/getMe 200\"}}\n").as_bytes(),
    );
    let all = [&key, &token, &work_key, &gw, &prov, &tg, &xai];
    let before = files_outside_vault(&h);
    for s in all {
        assert!(
            !files_holding(&before, s).is_empty(),
            "setup: {s} not on disk"
        );
    }

    // The one command.
    let pw = h.init_age();
    let t = std::time::Instant::now();
    let out = oc.clawvault_migrate(&h, &pw);
    eprintln!("clawvault migrate took {:.1}s", t.elapsed().as_secs_f64());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "migrate failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in all {
        assert!(!stdout.contains(s.as_str()), "the report shows a secret");
    }

    // OpenClaw agrees: nothing in plaintext, every ref resolves through clawvault.
    let audit = oc.audit(&h);
    assert_eq!(audit["summary"]["plaintextCount"], 0, "{audit:#}");
    assert_eq!(audit["summary"]["unresolvedRefCount"], 0, "{audit:#}");
    assert!(
        audit["resolution"]["refsChecked"].as_u64().unwrap_or(0) >= 5,
        "{audit:#}"
    );
    // Only advice may remain: OpenClaw's doctor copies a provider's config key into
    // an auth profile, and then notes that the profile shadows the config ref.
    for f in audit["findings"].as_array().unwrap() {
        assert_eq!(
            f["code"], "REF_SHADOWED",
            "audit finding left: {f:#}\n{audit:#}"
        );
    }
    oc.ok(&h, &["config", "validate"], None);
    // No byte of any moved credential left anywhere outside the vault.
    let files = files_outside_vault(&h);
    for s in all {
        let left = files_holding(&files, s);
        assert!(left.is_empty(), "plaintext left in {left:?}");
    }
    // The token kept its expiry on every copy OpenClaw holds.
    let shared = h.state().join("state/openclaw.sqlite");
    let agent_db = h.state().join("agents/main/agent/openclaw-agent.sqlite");
    let copies = [
        sqlite_profile(
            &shared,
            "SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.store'",
            "anthropic:setup",
        ),
        sqlite_profile(
            &agent_db,
            "SELECT store_json FROM auth_profile_store WHERE store_key = 'primary'",
            "anthropic:setup",
        ),
    ];
    let mut seen = 0;
    for p in copies.iter().flatten() {
        seen += 1;
        assert!(p.get("tokenRef").is_some(), "{p:#}");
        assert!(
            p["expires"].as_u64().unwrap_or(0) > 0,
            "expires lost: {p:#}"
        );
    }
    assert!(seen > 0, "no SQLite copy of the token profile found");
    assert_private_tree(&h.vault());
}
