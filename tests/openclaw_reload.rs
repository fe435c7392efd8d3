//! A key pasted into the vault reaches a running OpenClaw gateway without a restart:
//! after the change clawvault runs `openclaw secrets reload`, and the gateway
//! re-resolves its refs through clawvault at once - seen in clawvault's own access
//! log as a `resolve` whose parent is the gateway. `--no-reload` leaves it alone;
//! with no gateway running, clawvault says nothing needs doing. Real OpenClaw 2026.9.6,
//! gateway bound to loopback.
// Unix only: the real OpenClaw gateway (Linux npm install), process groups and signals.
#![cfg(unix)]

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::openclaw::*;
use common::*;

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        // The gateway spawns helpers: stop its whole process group.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `resolve` lines of the access log that the gateway (a node process) ran and
/// that asked for `id`.
fn gateway_reads(h: &Home, id: &str) -> usize {
    std::fs::read_to_string(h.vault().join("access.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["cmd"] == "resolve" && l["outcome"] == "ok")
        .filter(|l| {
            l["ids"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i == id))
        })
        .filter(|l| {
            l["parent"]["exe"]
                .as_str()
                .is_some_and(|e| e.ends_with("/node") || e.contains("node"))
        })
        .count()
}

fn paste(h: &Home, pw: &std::path::Path, oc: &OpenClaw, key: &str, extra: &[&str]) -> String {
    let out = h
        .cmd()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", oc.node_dir.display()),
        )
        .env("CLAWVAULT_OPENCLAW_BIN", &oc.bin)
        .env("OPENCLAW_CONFIG_PATH", config_path(h))
        .args([
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "groq",
            "--profile-id",
            "groq:default",
            "--passphrase-file",
        ])
        .arg(pw)
        .args(extra)
        .write_stdin(format!("{key}\n"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    assert!(!err.contains(key));
    err
}

#[test]
fn a_pasted_key_reaches_the_running_gateway_without_a_restart() {
    let Some(oc) = openclaw_or_skip("openclaw_reload") else {
        return;
    };
    clawvault_bin_is_real();
    let h = setup_home();
    let pw = h.init_age();
    let r = || random_suffix();
    let port = free_port();
    let cfg = config_path(&h);
    std::fs::write(
        &cfg,
        serde_json::json!({"gateway": {"mode": "local", "bind": "loopback", "port": port,
            "auth": {"mode": "token", "token": format!("gw-test-{}{}", r(), r())}}})
        .to_string(),
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // OpenClaw resolves clawvault refs with the passphrase file, unattended.
    h.cmd()
        .env("OPENCLAW_CONFIG_PATH", &cfg)
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["openclaw", "register"])
        .assert()
        .success();

    // A SQLite-era state (OpenClaw creates its database), so the paste goes where
    // the gateway reads.
    oc.ok(
        &h,
        &["secrets", "store", "import", "--kind", "env", "--yes"],
        Some("LOG_LEVEL=info\n"),
    );
    assert!(h.state().join("state/openclaw.sqlite").is_file());
    // No gateway yet: nothing to reload, and clawvault says so.
    let first = format!("gsk_{}{}{}", r(), r(), r());
    let err = paste(&h, &pw, &oc, &first, &[]);
    assert!(err.contains("no OpenClaw gateway is running"), "{err}");

    let log = h.tmp.path().join("gateway.log");
    let child = Command::new(&oc.bin)
        .args([
            "gateway",
            "run",
            "--port",
            &port.to_string(),
            "--bind",
            "loopback",
        ])
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", oc.node_dir.display()),
        )
        .env("HOME", h.tmp.path().join("home"))
        .env("OPENCLAW_STATE_DIR", h.state())
        .env("OPENCLAW_CONFIG_PATH", &cfg)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let gw = Gateway(child);
    let deadline = Instant::now() + Duration::from_secs(180);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("[gateway] ready")
    {
        assert!(
            Instant::now() < deadline,
            "gateway did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let id = "main/groq:default";
    let at_start = gateway_reads(&h, id);

    // Rotate with --no-reload: the gateway is not asked.
    let second = format!("gsk_{}{}{}", r(), r(), r());
    let err = paste(&h, &pw, &oc, &second, &["--no-reload"]);
    assert!(!err.contains("reload"), "{err}");
    assert_eq!(gateway_reads(&h, id), at_start);

    // Rotate: the gateway reloads and resolves the new value through clawvault.
    let third = format!("gsk_{}{}{}", r(), r(), r());
    let err = paste(&h, &pw, &oc, &third, &[]);
    assert!(
        err.contains("reloaded its secrets and resolved every ref"),
        "{err}\ngateway log: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(
        gateway_reads(&h, id) > at_start,
        "the gateway did not re-resolve {id}: {}",
        std::fs::read_to_string(h.vault().join("access.log")).unwrap_or_default()
    );
    for s in [&first, &second, &third] {
        assert!(
            !std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains(s.as_str()),
            "the gateway log shows a key"
        );
    }

    // After the gateway has run (its caches, locks, logs and sessions exist), one
    // `clawvault migrate` takes the config's gateway token too, and the install
    // audits clean: exit 0, no finding above info.
    drop(gw);
    let out = oc.clawvault_migrate(&h, &pw);
    assert!(
        out.status.success(),
        "migrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = h
        .cmd()
        .env("OPENCLAW_CONFIG_PATH", &cfg)
        .arg("--passphrase-file")
        .arg(&pw)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let loud: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(
        out.status.success() && loud.is_empty(),
        "a real install after its gateway ran does not audit clean (exit {:?}): {loud:#?}",
        out.status.code()
    );
    for s in [&first, &second, &third] {
        assert!(!String::from_utf8_lossy(&out.stdout).contains(s.as_str()));
    }
}
