//! Parity with `openclaw models auth` where a script would notice: which agent a
//! command acts on without `--agent` (OpenClaw refuses when several are configured),
//! and `models status` telling the truth about a ref OpenClaw cannot resolve right now
//! (a locked vault), with `--check` exiting 1 as OpenClaw's set says.
// Unix only: the real OpenClaw (Linux npm install) and file modes.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::openclaw::*;
use common::*;

fn two_agents(h: &Home, extra: &str) {
    std::fs::create_dir_all(h.state()).unwrap();
    std::fs::set_permissions(h.state(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(
        h.state().join("openclaw.json"),
        // OpenClaw 2026.9.6's own shape for a fleet: keyed entries, explicit ownership.
        format!(
            r#"{{"agents": {{ {extra} "ownership": "explicit", "entries": {{"main": {{}}, "work": {{}}}}}}}}"#
        ),
    )
    .unwrap();
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn several_agents_without_agent_refuse_a_change_and_nothing_is_written() {
    let h = Home::new();
    two_agents(&h, "");
    h.init_age();
    let out = h
        .cmd()
        .args(["models", "auth", "paste-api-key", "--provider", "groq"])
        .write_stdin("gsk_parity_test_value_0123456789\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("Multiple agents are configured") && e.contains("--agent"),
        "{e}"
    );
    assert!(
        e.contains("openclaw.json"),
        "the error names the config: {e}"
    );
    assert!(!e.contains("gsk_parity"), "{e}");
    for agent in ["main", "work"] {
        assert!(
            !h.state()
                .join(format!("agents/{agent}/agent/auth-profiles.json"))
                .exists(),
            "{agent}: nothing may be written when the command is refused"
        );
    }
    // With --agent it goes where it is told.
    h.cmd()
        .args([
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "groq",
            "--agent",
            "work",
        ])
        .write_stdin("gsk_parity_test_value_0123456789\n")
        .assert()
        .success();
    assert!(h
        .state()
        .join("agents/work/agent/auth-profiles.json")
        .exists());
    assert!(!h
        .state()
        .join("agents/main/agent/auth-profiles.json")
        .exists());
}

#[test]
fn reads_follow_the_system_agent_and_refuse_without_one() {
    let h = Home::new();
    two_agents(&h, "");
    h.init_age();
    let out = h
        .cmd()
        .args(["models", "status", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("agents.defaults.systemAgent.agentId"),
        "{}",
        stderr(&out)
    );

    let h = Home::new();
    two_agents(&h, r#""defaults": {"systemAgent": {"agentId": "work"}},"#);
    h.init_age();
    let out = h
        .cmd()
        .args(["models", "status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["agent"], "work");
    // A change still needs --agent: OpenClaw's mutations ignore the system agent.
    let out = h
        .cmd()
        .args(["models", "auth", "logout", "groq:manual", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn a_single_configured_agent_is_chosen() {
    let h = Home::new();
    std::fs::create_dir_all(h.state()).unwrap();
    std::fs::set_permissions(h.state(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(
        h.state().join("openclaw.json"),
        r#"{ agents: { list: [ { id: "ops" } ] } } // JSON5, as OpenClaw allows"#,
    )
    .unwrap();
    h.init_age();
    h.paste(
        "paste-api-key",
        "groq",
        Some("groq:default"),
        "gsk_single_agent_0123456789",
    );
    assert!(h
        .state()
        .join("agents/ops/agent/auth-profiles.json")
        .exists());
}

/// The same refusal from the real OpenClaw, so the two cannot drift apart.
#[test]
fn openclaw_refuses_the_same_way() {
    let Some(oc) = openclaw_or_skip("openclaw_refuses_the_same_way") else {
        return;
    };
    let h = setup_home();
    two_agents(&h, "");
    let theirs = oc.run(
        &h,
        &["models", "auth", "paste-api-key", "--provider", "groq"],
        Some("gsk_parity_test_value_0123456789\n"),
    );
    assert!(!theirs.status.success());
    let t = format!(
        "{}{}",
        stderr(&theirs),
        String::from_utf8_lossy(&theirs.stdout)
    );
    assert!(
        t.contains("Multiple agents are configured"),
        "OpenClaw said: {t}"
    );
    h.init_age();
    let ours = h
        .cmd()
        .args(["models", "auth", "paste-api-key", "--provider", "groq"])
        .write_stdin("gsk_parity_test_value_0123456789\n")
        .output()
        .unwrap();
    assert!(!ours.status.success());
    assert!(stderr(&ours).contains("Multiple agents are configured"));
}

#[test]
fn status_shows_a_ref_openclaw_cannot_resolve_now_and_check_fails() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste(
        "paste-api-key",
        "groq",
        Some("groq:default"),
        "gsk_locked_vault_0123456789",
    );
    h.cmd()
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "register"])
        .assert()
        .success();
    // Registered and unlockable: resolvable, --check passes (a static key).
    let out = h
        .cmd()
        .args(["models", "status", "--json", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["profiles"][0]["status"], "static", "{v}");

    // The passphrase file the provider was registered with is gone: OpenClaw's run
    // of the resolver cannot unlock. status says so per ref, and --check fails.
    let moved = h.tmp.path().join("pw.away");
    std::fs::rename(&pw, &moved).unwrap();
    let out = h
        .cmd()
        .args(["models", "status", "--json", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains("gsk_locked"), "{text}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &v["profiles"][0];
    assert_eq!(p["status"], "unavailable", "{v}");
    assert!(p["unavailable"].as_str().unwrap().contains("exited"), "{v}");
    let out = h.cmd().args(["models", "status"]).output().unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("OpenClaw cannot resolve it now"), "{t}");

    std::fs::rename(&moved, &pw).unwrap();
    h.cmd()
        .args(["models", "status", "--check"])
        .assert()
        .code(0);
}

/// `login`, `activate`, `add`, `login-github-copilot` and `status --probe|--plain` stay
/// OpenClaw's: handed to the `openclaw` binary with the same arguments and exit code.
#[test]
fn openclaw_only_subcommands_are_handed_to_openclaw() {
    let h = Home::new();
    std::fs::create_dir_all(h.state()).unwrap();
    std::fs::set_permissions(h.state(), std::fs::Permissions::from_mode(0o700)).unwrap();
    // No openclaw binary: a one-line usage error that names the command.
    let out = h
        .cmd()
        .env("PATH", "/usr/bin:/bin")
        .args(["models", "auth", "login", "--provider", "openai"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("openclaw models auth login --provider openai"),
        "{}",
        stderr(&out)
    );

    let Some(oc) = openclaw_or_skip("openclaw_only_subcommands_are_handed_to_openclaw") else {
        return;
    };
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", oc.node_dir.display());
    for sub in ["login", "activate", "add", "login-github-copilot"] {
        let out = h
            .cmd()
            .env("PATH", &path)
            .env("CLAWVAULT_OPENCLAW_BIN", &oc.bin)
            .env("HOME", h.tmp.path())
            .args(["models", "auth", sub, "--help"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{sub}: {}", stderr(&out));
        assert!(
            text.contains(&format!("models auth {sub}")),
            "{sub}: OpenClaw's own help expected, got: {text}"
        );
    }
}

/// A usage error exits 1, as OpenClaw's does: under `models status --check`, 2 means
/// "expiring", and a typo must not read as that.
#[test]
fn a_usage_error_exits_1_never_2() {
    let h = Home::new();
    for args in [
        &["models", "status", "--chek"][..],
        &["models", "auth", "paste-api-key"][..],
        &["models", "auth", "bogus"][..],
    ] {
        let out = h.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("Usage"), "{args:?}: {}", stderr(&out));
    }
    h.cmd()
        .args(["models", "status", "--help"])
        .assert()
        .code(0);
    h.cmd().arg("--version").assert().code(0);
}

/// `models status` runs the command `openclaw.json` registers; a config another user
/// can write must not get a command run: it is refused with the path and the fix.
#[test]
fn status_never_runs_a_command_from_a_config_others_can_write() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste(
        "paste-api-key",
        "groq",
        Some("groq:default"),
        "gsk_trust_check_0123456789",
    );
    let marker = h.tmp.path().join("ran");
    let evil = h.tmp.path().join("evil.sh");
    std::fs::write(&evil, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = h.state().join("openclaw.json");
    std::fs::write(
        &cfg,
        format!(
            r#"{{"secrets":{{"providers":{{"clawvault":{{"source":"exec","command":"{}","args":[]}}}}}}}}"#,
            evil.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = h.cmd().args(["models", "status"]).output().unwrap();
    assert!(
        !marker.exists(),
        "a command from a world-writable config was run"
    );
    let e = stderr(&out);
    assert!(e.contains("openclaw.json") && e.contains("chmod"), "{e}");
    // The same config made private: the command is run (it is the user's own choice).
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let _ = h.cmd().args(["models", "status"]).output().unwrap();
    assert!(marker.exists(), "the check must run the registered command");
    drop(pw);
}
