//! Service definitions: after `clawvault migrate`, a systemd user unit or a launchd
//! plist that starts OpenClaw no longer carries a copy of a secret the vault now
//! holds. Everything else in the file stays byte for byte, a unit that starts another
//! program is left alone and reported, the original is kept encrypted (the stock
//! `age` CLI opens it with the exported identity), and the reload step is printed.
// Unix only: systemd units and launchd agents.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;

fn key(prefix: &str) -> String {
    format!(
        "{prefix}{}{}{}AA",
        random_suffix(),
        random_suffix(),
        random_suffix()
    )
}

fn write(p: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

struct Host {
    h: Home,
    pw: PathBuf,
    anthropic: String,
    brave: String,
    gateway: PathBuf,
    other: PathBuf,
    plist: PathBuf,
}

fn gateway_unit(k: &str, brave: &str) -> String {
    format!(
        "[Unit]\nDescription=OpenClaw Gateway\nAfter=network-online.target\n\n[Service]\n\
         ExecStart=/usr/bin/node /home/u/.npm-global/lib/node_modules/openclaw/dist/index.js gateway --port 18789\n\
         Environment=\"ANTHROPIC_API_KEY={k}\" OPENCLAW_GATEWAY_PORT=18789\n\
         Environment=BRAVE_API_KEY={brave}\n\
         Restart=always\n\n[Install]\nWantedBy=default.target\n"
    )
}

fn plist(k: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>ai.openclaw.gateway</string>
  <key>ProgramArguments</key>
  <array>
    <string>/opt/homebrew/bin/openclaw</string>
    <string>gateway</string>
  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>ANTHROPIC_API_KEY</key>
    <string>{k}</string>
    <key>OPENCLAW_GATEWAY_PORT</key>
    <string>18789</string>
  </dict>
</dict>
</plist>
"#
    )
}

/// A JSON-era home whose auth store, gateway unit, plist and an unrelated unit all
/// hold the same key; the gateway unit also holds another tool's key.
fn host() -> Host {
    let h = Home::new();
    let pw = h.init_age();
    let anthropic = key("sk-ant-api03-");
    let brave = key("BSA");
    write(
        &h.profiles(),
        &format!(
            r#"{{"version":1,"profiles":{{"anthropic:default":{{"type":"api_key","provider":"anthropic","key":"{anthropic}"}}}}}}"#
        ),
        0o600,
    );
    let units = h.tmp.path().join(".config/systemd/user");
    let gateway = units.join("openclaw-gateway.service");
    write(&gateway, &gateway_unit(&anthropic, &brave), 0o644);
    let other = units.join("nightly-report.service");
    write(
        &other,
        &format!(
            "[Service]\nExecStart=/usr/local/bin/report --daily\nEnvironment=ANTHROPIC_API_KEY={anthropic}\n"
        ),
        0o600,
    );
    let plist_path = h
        .tmp
        .path()
        .join("Library/LaunchAgents/ai.openclaw.gateway.plist");
    write(&plist_path, &plist(&anthropic), 0o644);
    for d in [h.tmp.path().to_path_buf(), h.state()] {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    Host {
        h,
        pw,
        anthropic,
        brave,
        gateway,
        other,
        plist: plist_path,
    }
}

fn migrate(x: &Host) -> (std::process::Output, String) {
    let out =
        x.h.cmd()
            .args(["migrate", "--no-openclaw", "--passphrase-file"])
            .arg(&x.pw)
            .output()
            .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, all)
}

#[test]
fn migrate_removes_vault_copies_from_openclaw_units_and_keeps_everything_else() {
    let x = host();
    let other_before = std::fs::read(&x.other).unwrap();
    let (_, all) = migrate(&x);
    assert!(
        !all.contains(&x.anthropic) && !all.contains(&x.brave),
        "{all}"
    );

    // The gateway unit: the vault copy is gone, the rest of its line and file stay.
    let unit = std::fs::read_to_string(&x.gateway).unwrap();
    let want = gateway_unit(&x.anthropic, &x.brave).replace(
        &format!("Environment=\"ANTHROPIC_API_KEY={}\" ", x.anthropic),
        "Environment=",
    );
    assert_eq!(unit, want, "{all}");
    assert_eq!(mode(&x.gateway), 0o644, "the unit keeps its mode");
    assert!(
        all.contains(
            "systemctl --user daemon-reload && systemctl --user restart openclaw-gateway.service"
        ),
        "the reload step is named: {all}"
    );
    // Another tool's key stays (the vault does not hold it) and is reported.
    assert!(all.contains("BRAVE_API_KEY"), "{all}");

    // The plist: the pair is gone, the other variable stays, it is still a plist.
    let p = std::fs::read_to_string(&x.plist).unwrap();
    assert!(!p.contains(&x.anthropic), "{p}");
    assert!(!p.contains("ANTHROPIC_API_KEY"), "{p}");
    assert!(
        p.contains("<key>OPENCLAW_GATEWAY_PORT</key>\n    <string>18789</string>"),
        "{p}"
    );
    assert_eq!(
        p,
        plist(&x.anthropic).replace(
            &format!(
                "    <key>ANTHROPIC_API_KEY</key>\n    <string>{}</string>\n",
                x.anthropic
            ),
            ""
        )
    );
    assert!(all.contains("launchctl bootout"), "{all}");

    // A unit that does not start OpenClaw is not ours to edit: untouched, reported.
    assert_eq!(std::fs::read(&x.other).unwrap(), other_before);
    assert!(
        all.contains("nightly-report.service") && all.contains("does not start OpenClaw"),
        "{all}"
    );
}

#[test]
fn the_unit_backup_is_a_standard_age_file() {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("age").is_file()));
    if !on_path {
        assert!(
            std::env::var("CLAWVAULT_REQUIRE_AGE").is_err(),
            "the stock age CLI is required in CI"
        );
        eprintln!("SKIPPED: the stock `age` CLI is not installed");
        return;
    }
    let x = host();
    let before = std::fs::read(&x.gateway).unwrap();
    let (out, all) = migrate(&x);
    assert!(out.status.code().is_some(), "{all}");
    let id =
        x.h.cmd()
            .args(["identity", "export", "--passphrase-file"])
            .arg(&x.pw)
            .output()
            .unwrap();
    assert!(id.status.success());
    let idf = x.h.pw_file(
        "identity.txt",
        std::str::from_utf8(&id.stdout).unwrap().trim_end(),
    );
    let backups: Vec<PathBuf> = std::fs::read_dir(x.h.vault().join("backups"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("unit-") && n.contains("openclaw-gateway.service")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(mode(&backups[0]), 0o600);
    let dec = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&idf)
        .arg(&backups[0])
        .output()
        .unwrap();
    assert!(
        dec.status.success(),
        "{}",
        String::from_utf8_lossy(&dec.stderr)
    );
    assert_eq!(dec.stdout, before);
}

/// Without `--yes`, `doctor --fix` changes no unit; with it, a second run finds
/// nothing more to remove (idempotent).
#[test]
fn doctor_fix_asks_first_and_is_idempotent() {
    let x = host();
    // Put the key in the vault by migrating the store only.
    let out =
        x.h.cmd()
            .args([
                "migrate",
                "--no-openclaw",
                "--no-host-pass",
                "--passphrase-file",
            ])
            .arg(&x.pw)
            .output()
            .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = std::fs::read(&x.gateway).unwrap();
    let doctor = |yes: bool| {
        let mut c = x.h.cmd();
        c.args(["doctor", "--fix", "--no-progress", "--passphrase-file"])
            .arg(&x.pw);
        if yes {
            c.arg("--yes");
        }
        c.write_stdin("").output().unwrap()
    };
    let out = doctor(false);
    assert_eq!(std::fs::read(&x.gateway).unwrap(), before, "{out:?}");
    doctor(true);
    assert!(!std::fs::read_to_string(&x.gateway)
        .unwrap()
        .contains(&x.anthropic));
    let after = std::fs::read(&x.gateway).unwrap();
    let out = doctor(true);
    assert_eq!(std::fs::read(&x.gateway).unwrap(), after);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("removed ANTHROPIC_API_KEY"));
}
