//! Each unlock source, in its order, on the real components: the Secret Service
//! (gnome-keyring), the kernel keyutils keyring, a systemd credential directory,
//! a passphrase file and a file descriptor.
// Unix only: file modes, keyutils and the agent.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

const KEY: &str = "sk-ant-api03-TESTONLY-unlock-abcdef";

fn setup() -> (Home, std::path::PathBuf) {
    let h = Home::new();
    let pw = h.init_age();
    h.paste("paste-api-key", "anthropic", None, KEY);
    (h, pw)
}

fn served_by(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["values"]["main/anthropic:default"], KEY);
    String::from_utf8_lossy(&o.stderr).to_string()
}

const ID: &[&str] = &["main/anthropic:default"];

#[test]
fn when_nothing_unlocks_one_line_lists_every_source_in_order() {
    let (h, _) = setup();
    let o = h.resolve(ID, |_| {});
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let first = err.lines().next().unwrap();
    let mut at = 0;
    for name in [
        "agent: ",
        "keychain: ",
        "keyutils: ",
        "systemd credential: ",
        "passphrase file/fd: ",
        "prompt: ",
    ] {
        let i = first[at..]
            .find(name)
            .unwrap_or_else(|| panic!("{name} missing or out of order in: {first}"));
        at += i + name.len();
    }
    // OpenClaw's exec protocol: exactly one line on stderr when the batch fails.
    assert_eq!(err.lines().count(), 1, "{err}");
    // The reason also reaches a log in the vault (ids, never values; 0600), which
    // `models status` points to.
    let log = h.vault().join("resolve-errors.log");
    let body = std::fs::read_to_string(&log).unwrap();
    assert!(
        body.contains("main/anthropic:default") && body.contains("agent: "),
        "{body}"
    );
    assert!(!body.contains(KEY));
    assert_eq!(mode(&log), 0o600);
    h.cmd()
        .args(["models", "status"])
        .assert()
        .stdout(predicates::str::contains("resolve-errors.log"));
    // So does doctor: a recent failure is a warning at the log's last line.
    let o = h
        .cmd()
        .args(["doctor", "--json", "--no-progress", "--no-history"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["checkId"] == "vault.resolve-failures")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(f["path"], log.display().to_string().as_str());
    assert_eq!(f["severity"], "warning");
    assert!(f["message"].as_str().unwrap().contains("agent: "), "{f}");
    // Other commands add the hint line.
    let o = h
        .cmd()
        .args(["identity", "export", "--yes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines()
            .nth(1)
            .unwrap_or("")
            .starts_with("clawvault: hint:"),
        "{err}"
    );
    // --status shows the same order, without unlocking.
    let out = h
        .cmd()
        .args(["unlock", "--status", "--json"])
        .output()
        .unwrap();
    // Nothing can unlock: `--status` says so and exits 1, so health checks notice.
    assert_eq!(out.status.code(), Some(1), "unlock --status with no source");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["next"], serde_json::Value::Null);
    let names: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "agent",
            "keychain",
            "keyutils",
            "systemd credential",
            "passphrase file/fd",
            "prompt"
        ]
    );
    assert!(
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "unavailable"),
        "{v}"
    );
    assert_eq!(v["next"], serde_json::Value::Null);
}

#[test]
fn systemd_credential_unlocks_and_its_name_can_be_overridden() {
    let (h, _) = setup();
    let creds = h.tmp.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    let f = creds.join("clawvault.passphrase");
    std::fs::write(&f, "correct horse battery").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o400)).unwrap();
    let err = served_by(&h.resolve(ID, |c| {
        c.env("CREDENTIALS_DIRECTORY", &creds);
    }));
    assert!(err.contains("unlocked from systemd credential"), "{err}");
    let out = h
        .cmd()
        .env("CREDENTIALS_DIRECTORY", &creds)
        .args(["unlock", "--status", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sources"][3]["state"], "available");
    assert_eq!(v["next"], "systemd credential");
    assert!(out.status.success(), "a source can unlock: exit 0");
    // Another name, given by --credential.
    std::fs::rename(&f, creds.join("gateway-vault")).unwrap();
    let o = h.resolve(ID, |c| {
        c.env("CREDENTIALS_DIRECTORY", &creds);
    });
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such credential"));
    let err = served_by(&h.resolve(ID, |c| {
        c.env("CREDENTIALS_DIRECTORY", &creds)
            .args(["--credential", "gateway-vault"]);
    }));
    assert!(err.contains("gateway-vault"), "{err}");
    // A wrong credential is reported and the next source still gets its turn.
    std::fs::set_permissions(
        creds.join("gateway-vault"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(creds.join("gateway-vault"), "wrong").unwrap();
    let pw = h.pw_file("pw2", "correct horse battery");
    let err = served_by(&h.resolve(ID, |c| {
        c.env("CREDENTIALS_DIRECTORY", &creds)
            .args(["--credential", "gateway-vault", "--passphrase-file"])
            .arg(&pw);
    }));
    assert!(err.contains("unlocked from --passphrase-file"), "{err}");
}

#[test]
fn passphrase_file_env_and_fd_sources() {
    let (h, pw) = setup();
    let err = served_by(&h.resolve(ID, |c| {
        c.arg("--passphrase-file").arg(&pw);
    }));
    assert!(err.contains("unlocked from --passphrase-file"));
    let err = served_by(&h.resolve(ID, |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    }));
    assert!(err.contains("unlocked from CLAWVAULT_PASSPHRASE_FILE="));
    // A loose passphrase file is refused.
    let loose = h.pw_file("loose", "correct horse battery");
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = h.resolve(ID, |c| {
        c.arg("--passphrase-file").arg(&loose);
    });
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("chmod 600"));
    // An inherited descriptor.
    let req = r#"{"protocolVersion":1,"ids":["main/anthropic:default"]}"#;
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"printf '%s' "$REQ" | "$BIN" resolve --passphrase-fd 3 3<"$PW""#)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("REQ", req)
        .env("BIN", assert_cmd::cargo::cargo_bin("clawvault"))
        .env("PW", &pw)
        .env("OPENCLAW_STATE_DIR", h.state())
        .output()
        .unwrap();
    let err = served_by(&o);
    assert!(err.contains("unlocked from --passphrase-fd 3"), "{err}");
}

#[test]
fn keyutils_cache_unlocks_expires_and_is_forgotten_by_lock() {
    if !keyutils_usable() {
        return;
    }
    let (h, pw) = setup();
    let out = h
        .cmd()
        .args([
            "unlock",
            "--remember",
            "keyutils",
            "--ttl",
            "1h",
            "--passphrase-file",
        ])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("kernel user keyring"));
    // A process in a fresh session keyring still finds it (it lives in @u).
    let err = served_by(&h.resolve(ID, |_| {}));
    assert!(err.contains("unlocked from keyutils"), "{err}");
    let out = h
        .cmd()
        .args(["unlock", "--status", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sources"][2]["state"], "would-unlock");
    let out = h.cmd().arg("lock").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("keyutils: removed the cached identity"));
    let o = h.resolve(ID, |_| {});
    assert_eq!(o.status.code(), Some(1));
    // `lock` invalidates the key; until the kernel's key garbage collector has
    // unlinked it, a search finds it and gets EKEYREVOKED instead of ENOKEY (a CI
    // run saw that). Either way the cached identity is unusable.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("keyutils: no identity is cached")
            || err.contains("keyutils: the cached identity was revoked"),
        "{err}"
    );
    // The TTL is honoured.
    h.cmd()
        .args([
            "unlock",
            "--remember",
            "keyutils",
            "--ttl",
            "1s",
            "--passphrase-file",
        ])
        .arg(&pw)
        .assert()
        .success();
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let o = h.resolve(ID, |_| {});
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn remember_dpapi_is_a_one_line_usage_error_off_windows() {
    let (h, pw) = setup();
    for extra in [&[][..], &["--ttl", "1h"][..]] {
        let o = h
            .cmd()
            .args(["unlock", "--remember", "dpapi"])
            .args(extra)
            .arg("--passphrase-file")
            .arg(&pw)
            .output()
            .unwrap();
        // Usage errors exit 1 (src/main.rs), with no hint line.
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        assert!(o.stdout.is_empty(), "{o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("clawvault: error: --remember dpapi: DPAPI exists on Windows only; "),
            "{err}"
        );
        for alt in [
            "--remember keychain",
            "--remember keyutils",
            "systemd credential",
        ] {
            assert!(err.contains(alt), "{alt} missing: {err}");
        }
        assert!(!h.vault().join("identity.dpapi").exists());
    }
    // The source is absent here: `lock` and `--status` say nothing about it.
    let o = h.cmd().arg("lock").output().unwrap();
    assert!(o.status.success(), "{o:?}");
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("dpapi"),
        "{o:?}"
    );
    let o = h.cmd().args(["unlock", "--status"]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("dpapi"),
        "{o:?}"
    );
}

#[test]
fn keychain_remembered_identity_unlocks_on_the_real_secret_service() {
    if !secret_service_usable() {
        return;
    }
    let (h, pw) = setup();
    let mut c = h.cmd();
    pass_dbus(&mut c);
    let out = c
        .args(["unlock", "--remember", "keychain", "--passphrase-file"])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("clawvault-identity:"));
    let err = served_by(&h.resolve(ID, pass_dbus));
    assert!(err.contains("unlocked from keychain"), "{err}");
    // Without a D-Bus session the keychain source says why, in words.
    let o = h.resolve(ID, |_| {});
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("keychain: the Secret Service is not reachable: no D-Bus session bus"));
    // `lock` where the keychain cannot be reached must not claim it forgot everything.
    let out = h.cmd().arg("lock").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("keychain: not reachable"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = h.cmd();
    pass_dbus(&mut c);
    let out = c.arg("lock").output().unwrap();
    assert!(out.status.success());
    assert!(!h.vault().join("keychain-remembered").exists());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("keychain: removed the remembered identity"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let o = h.resolve(ID, pass_dbus);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("keychain: nothing remembered for this vault")
    );
}

/// A locked collection must read as "locked", never as "nothing there". Runs in its
/// own D-Bus session and gnome-keyring so locking cannot disturb other tests.
#[test]
fn a_locked_secret_service_collection_gives_a_clear_error() {
    let required = std::env::var("CLAWVAULT_REQUIRE_SECRET_SERVICE").as_deref() == Ok("1");
    let have = ["dbus-run-session", "gnome-keyring-daemon", "dbus-send"]
        .iter()
        .all(|b| {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {b}"))
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        });
    if !have {
        assert!(
            !required,
            "dbus-run-session, gnome-keyring-daemon and dbus-send are required"
        );
        eprintln!("SKIPPED: no dbus-run-session / gnome-keyring-daemon");
        return;
    }
    let (h, pw) = setup();
    std::fs::create_dir_all(h.tmp.path().join("data")).unwrap();
    std::fs::create_dir_all(h.tmp.path().join("run")).unwrap();
    std::fs::set_permissions(
        h.tmp.path().join("run"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let kv = h.tmp.path().join("kv");
    let script = r#"
set -u
out=$(printf %s test-only | gnome-keyring-daemon --unlock --components=secrets)
gk=$(printf '%s\n' "$out" | sed -n 's/^GNOME_KEYRING_PID=//p')
trap '[ -n "$gk" ] && kill "$gk" 2>/dev/null' EXIT
"$BIN" unlock --remember keychain --passphrase-file "$PW" >/dev/null || { echo "remember failed"; exit 1; }
"$BIN" --vault "$KV" init --backend keychain --force-weak --kdf-memory-mib 1 --kdf-iterations 1 --passphrase-file "$PW" >/dev/null || { echo "init failed"; exit 1; }
printf 'sk-test\n' | "$BIN" --vault "$KV" models auth paste-api-key --provider openai --profile-id openai:default >/dev/null 2>&1 || { echo "paste failed"; exit 1; }
col=$(dbus-send --session --dest=org.freedesktop.secrets --type=method_call --print-reply /org/freedesktop/secrets org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Service string:Collections | grep -o '/org/freedesktop/secrets/collection/[A-Za-z0-9_]*' | grep -v '/session$' | head -n1)
dbus-send --session --dest=org.freedesktop.secrets --type=method_call --print-reply /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:"$col" >/dev/null
echo "LOCKED $col"
echo "== identity"
printf '%s' '{"protocolVersion":1,"ids":["main/anthropic:default"]}' | "$BIN" resolve 2>&1
echo "== backend"
printf '%s' '{"protocolVersion":1,"ids":["main/openai:default"]}' | "$BIN" --vault "$KV" resolve 2>&1
echo "== end"
"#;
    let out = std::process::Command::new("dbus-run-session")
        .args(["--", "bash", "-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", h.tmp.path())
        .env("XDG_DATA_HOME", h.tmp.path().join("data"))
        .env("XDG_RUNTIME_DIR", h.tmp.path().join("run"))
        .env("OPENCLAW_STATE_DIR", h.state())
        .env("BIN", assert_cmd::cargo::cargo_bin("clawvault"))
        .env("PW", &pw)
        .env("KV", &kv)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("LOCKED /org/freedesktop/secrets/collection/"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ident = &text[text.find("== identity").unwrap()..text.find("== backend").unwrap()];
    assert!(
        ident.contains("keychain: ") && ident.contains("locked"),
        "{ident}"
    );
    assert!(!ident.contains("nothing remembered"), "{ident}");
    let backend = &text[text.find("== backend").unwrap()..text.find("== end").unwrap()];
    assert!(backend.contains("locked"), "{backend}");
    assert!(
        !backend.contains("NOT_FOUND"),
        "a locked collection must not read as a missing entry: {backend}"
    );
}

/// The last source, a no-echo prompt, on a real pseudo-terminal (util-linux
/// `script`): the passphrase typed there unlocks and is never echoed back.
#[test]
fn prompt_on_a_real_terminal_unlocks_without_echo() {
    let have_script = std::process::Command::new("sh")
        .args(["-c", "command -v script"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !have_script {
        assert!(
            std::env::var("CLAWVAULT_REQUIRE_SECRET_SERVICE").is_err(),
            "util-linux `script` is required in CI"
        );
        eprintln!("SKIPPED: no `script` (util-linux)");
        return;
    }
    let (h, _) = setup();
    let bin = assert_cmd::cargo::cargo_bin("clawvault");
    let run = |typed: &str| {
        let mut p = std::process::Command::new("script")
            .args(["-qec"])
            .arg(format!("{} identity export --yes", bin.display()))
            .arg("/dev/null")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", h.tmp.path())
            .env("OPENCLAW_STATE_DIR", h.state())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = p.stdin.take().unwrap();
            // Give the prompt a moment to switch the terminal to no-echo.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            stdin.write_all(typed.as_bytes()).unwrap();
        }
        p.wait_with_output().unwrap()
    };
    let o = run("correct horse battery\n");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("Passphrase"), "a prompt was shown: {out}");
    assert!(out.contains("AGE-SECRET-KEY-1"), "{out}");
    assert!(
        !out.contains("correct horse battery"),
        "the passphrase was echoed: {out}"
    );
    let o = run("wrong passphrase\n");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!o.status.success());
    assert!(
        out.contains("prompt: wrong passphrase") || out.contains("wrong passphrase"),
        "{out}"
    );
    assert!(!out.contains("AGE-SECRET-KEY-1"), "{out}");
}
