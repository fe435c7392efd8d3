//! Fault injection at every write step of init, paste, logout, passwd, import-env and
//! migrate. Each command first runs with CLAWVAULT_TEST_CRASH_TRACE to list the steps
//! it passes (`step#n`); then, for each step, a fresh home runs it with
//! CLAWVAULT_TEST_CRASH_AT=step#n (the process aborts there), and the test checks:
//! every secret readable from exactly one authoritative place, no plaintext anywhere
//! new, a re-run converges, and no temp file or lock is left behind.
// Unix only: crash points checked through Unix signals (SIGABRT).
#![cfg(unix)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use common::{files, Home};
use serde_json::{json, Value};

const K: &str = "sk-ant-api03-CRASHTEST-0a1b2c3d4e5f";
const E: &str = "gsk_CRASHTEST_ENV_99887766";
/// A value with no pattern a detector would call an example (doctor matches the
/// vault's copy of it byte for byte).
const U: &str = "sk-proj-Uq7Zt2Lx9Pw4Rk8Nm3Vb6Hc1Jd5Fg0YsQe";

fn unit_path(h: &Home) -> PathBuf {
    h.tmp
        .path()
        .join(".config/systemd/user/openclaw-gateway.service")
}

fn unit_text(with_key: bool) -> String {
    format!(
        "[Service]\nExecStart=/usr/bin/openclaw gateway run\n{}Environment=NODE_ENV=production\n",
        if with_key {
            format!("Environment=OPENAI_API_KEY={U}\n")
        } else {
            String::new()
        }
    )
}

struct Scenario {
    name: &'static str,
    setup: fn(&Home) -> PathBuf,
    args: fn(&Home, &Path) -> Vec<String>,
    stdin: &'static str,
    /// Checks that hold right after a crash and after the re-run.
    check: fn(&Home, &Path, bool),
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn resolve(h: &Home, pw: &Path, id: &str) -> Option<String> {
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(pw)
        .write_stdin(json!({"protocolVersion":1,"ids":[id]}).to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "resolve: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["values"][id].as_str().map(str::to_string)
}

fn profiles(h: &Home) -> Value {
    std::fs::read(h.profiles())
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(json!({}))
}

fn plaintext_files(h: &Home, secret: &str) -> Vec<PathBuf> {
    files(h.tmp.path())
        .into_iter()
        .filter(|f| {
            std::fs::read(f)
                .map(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

fn init_only(h: &Home) -> PathBuf {
    h.init_age()
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "init",
            setup: |h| h.pw_file("pw", "crash passphrase"),
            args: |_, pw| {
                vec![
                    "init".into(),
                    "--backend".into(),
                    "age".into(),
                    "--force-weak".into(),
                    "--kdf-memory-mib".into(),
                    "1".into(),
                    "--kdf-iterations".into(),
                    "1".into(),
                    "--passphrase-file".into(),
                    pw.display().to_string(),
                ]
            },
            stdin: "",
            check: |h, pw, done| {
                let exists = h.vault().join("vault.json").exists();
                if done || exists {
                    h.cmd()
                        .args(["identity", "export", "--passphrase-file"])
                        .arg(pw)
                        .assert()
                        .success();
                }
            },
        },
        Scenario {
            name: "paste-api-key",
            setup: init_only,
            args: |_, _| {
                s(&[
                    "models",
                    "auth",
                    "paste-api-key",
                    "--provider",
                    "anthropic",
                    "--profile-id",
                    "anthropic:default",
                ])
            },
            stdin: K,
            check: |h, pw, done| {
                let p = profiles(h);
                let has_ref = p["profiles"]["anthropic:default"]["keyRef"].is_object();
                if has_ref || done {
                    assert_eq!(
                        resolve(h, pw, "main/anthropic:default").as_deref(),
                        Some(K),
                        "a reference must never point at nothing"
                    );
                }
                assert!(
                    plaintext_files(h, K).is_empty(),
                    "plaintext written: {:?}",
                    plaintext_files(h, K)
                );
            },
        },
        Scenario {
            name: "logout",
            setup: |h| {
                let pw = h.init_age();
                h.paste("paste-api-key", "anthropic", None, K);
                pw
            },
            args: |_, _| s(&["models", "auth", "logout", "anthropic:default", "--yes"]),
            stdin: "",
            check: |h, pw, done| {
                let present = profiles(h)["profiles"].get("anthropic:default").is_some();
                if present {
                    assert_eq!(resolve(h, pw, "main/anthropic:default").as_deref(), Some(K));
                }
                if done {
                    assert!(!present);
                    assert_eq!(
                        resolve(h, pw, "main/anthropic:default"),
                        None,
                        "the secret must be gone after logout"
                    );
                }
            },
        },
        Scenario {
            name: "passwd",
            setup: |h| {
                let pw = h.init_age();
                h.paste("paste-api-key", "anthropic", None, K);
                h.pw_file("new", "the new passphrase");
                pw
            },
            args: |h, pw| {
                vec![
                    "passwd".into(),
                    "--force-weak".into(),
                    "--kdf-memory-mib".into(),
                    "1".into(),
                    "--kdf-iterations".into(),
                    "1".into(),
                    "--passphrase-file".into(),
                    pw.display().to_string(),
                    "--new-passphrase-file".into(),
                    h.tmp.path().join("new").display().to_string(),
                ]
            },
            stdin: "",
            check: |h, pw, done| {
                let new = h.tmp.path().join("new");
                let old_ok = h
                    .cmd()
                    .args(["identity", "export", "--passphrase-file"])
                    .arg(pw)
                    .output()
                    .unwrap()
                    .status
                    .success();
                let new_ok = h
                    .cmd()
                    .args(["identity", "export", "--passphrase-file"])
                    .arg(&new)
                    .output()
                    .unwrap()
                    .status
                    .success();
                assert!(
                    old_ok ^ new_ok,
                    "exactly one passphrase must work (old {old_ok}, new {new_ok})"
                );
                if done {
                    assert!(new_ok);
                }
                let working = if new_ok { &new } else { pw };
                assert_eq!(
                    resolve(h, working, "main/anthropic:default").as_deref(),
                    Some(K)
                );
            },
        },
        Scenario {
            name: "import-env",
            setup: |h| {
                let pw = h.init_age();
                std::fs::write(
                    h.state().join(".env"),
                    format!("PORT=1\nGROQ_API_KEY={E}\n"),
                )
                .unwrap();
                pw
            },
            args: |_, pw| {
                vec![
                    "import-env".into(),
                    "--passphrase-file".into(),
                    pw.display().to_string(),
                ]
            },
            stdin: "",
            check: |h, pw, done| {
                let env = std::fs::read_to_string(h.state().join(".env")).unwrap();
                let inline = env.contains(E);
                let has_ref = profiles(h)["profiles"]["groq:default"]["keyRef"].is_object();
                if has_ref || !inline {
                    assert_eq!(resolve(h, pw, "main/groq:default").as_deref(), Some(E));
                }
                assert!(env.contains("PORT=1"));
                if done {
                    assert!(!inline && has_ref);
                }
                let stray: Vec<_> = plaintext_files(h, E)
                    .into_iter()
                    .filter(|f| !f.ends_with(".env"))
                    .collect();
                assert!(stray.is_empty(), "plaintext written: {stray:?}");
            },
        },
        Scenario {
            name: "migrate",
            setup: |h| {
                let pw = h.init_age();
                std::fs::create_dir_all(h.profiles().parent().unwrap()).unwrap();
                std::fs::write(h.profiles(), json!({"version":1,"profiles":{"anthropic:default":{"type":"api_key","provider":"anthropic","key":K}},"x":1}).to_string()).unwrap();
                pw
            },
            args: |_, pw| {
                vec![
                    "migrate".into(),
                    "--passphrase-file".into(),
                    pw.display().to_string(),
                ]
            },
            stdin: "",
            check: |h, pw, done| {
                let p = profiles(h);
                assert_eq!(p["x"], 1);
                let prof = &p["profiles"]["anthropic:default"];
                match (prof.get("key"), prof.get("keyRef")) {
                    (Some(k), None) => {
                        assert_eq!(k, K);
                        assert!(!done);
                    }
                    (None, Some(_)) => {
                        assert_eq!(resolve(h, pw, "main/anthropic:default").as_deref(), Some(K))
                    }
                    other => panic!("profile in a mixed state: {other:?}"),
                }
                let stray: Vec<_> = plaintext_files(h, K)
                    .into_iter()
                    .filter(|f| f != &h.profiles())
                    .collect();
                assert!(stray.is_empty(), "plaintext written: {stray:?}");
            },
        },
        Scenario {
            name: "doctor-fix-unit",
            setup: |h| {
                let pw = h.init_age();
                h.paste("paste-api-key", "openai", Some("openai:default"), U);
                let u = unit_path(h);
                std::fs::create_dir_all(u.parent().unwrap()).unwrap();
                std::fs::write(&u, unit_text(true)).unwrap();
                pw
            },
            args: |_, pw| {
                vec![
                    "doctor".into(),
                    "--fix".into(),
                    "--yes".into(),
                    "--no-progress".into(),
                    "--passphrase-file".into(),
                    pw.display().to_string(),
                ]
            },
            stdin: "",
            check: |h, pw, done| {
                // The unit is whole: the original or the fixed file, never a part.
                let text = std::fs::read_to_string(unit_path(h)).unwrap();
                if text == unit_text(true) {
                    assert!(!done, "the re-run did not fix the unit");
                } else {
                    assert_eq!(text, unit_text(false));
                }
                assert_eq!(resolve(h, pw, "main/openai:default").as_deref(), Some(U));
                let stray: Vec<_> = plaintext_files(h, U)
                    .into_iter()
                    .filter(|f| f != &unit_path(h))
                    .collect();
                assert!(stray.is_empty(), "plaintext written: {stray:?}");
            },
        },
    ]
}

fn no_leftovers(h: &Home) {
    for f in files(h.tmp.path()) {
        let n = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !n.contains(".tmp-") && !n.ends_with(".lock"),
            "left behind: {}",
            f.display()
        );
    }
}

#[test]
fn crash_at_every_write_step_converges() {
    let mut total = 0;
    for sc in scenarios() {
        // 1. Enumerate the steps.
        let h = Home::new();
        let pw = (sc.setup)(&h);
        let trace = h.tmp.path().join("trace");
        h.cmd()
            .args((sc.args)(&h, &pw))
            .env("CLAWVAULT_TEST_CRASH_TRACE", &trace)
            .write_stdin(sc.stdin)
            .assert()
            .success();
        let steps: Vec<String> = std::fs::read_to_string(&trace)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        assert!(!steps.is_empty(), "{}: no crash point reached", sc.name);
        // 2. Crash at each one.
        for step in &steps {
            let h = Home::new();
            let pw = (sc.setup)(&h);
            let out = h
                .cmd()
                .args((sc.args)(&h, &pw))
                .env("CLAWVAULT_TEST_CRASH_AT", step)
                .write_stdin(sc.stdin)
                .output()
                .unwrap();
            assert_eq!(
                out.status.signal(),
                Some(libc_sigabrt()),
                "{} at {step}: did not crash there",
                sc.name
            );
            (sc.check)(&h, &pw, false);
            let rerun = h
                .cmd()
                .args((sc.args)(&h, &pw))
                .write_stdin(sc.stdin)
                .output()
                .unwrap();
            let already = String::from_utf8_lossy(&rerun.stderr).contains("already exists");
            let passwd_done = sc.name == "passwd"
                && String::from_utf8_lossy(&rerun.stderr).contains("does not unlock");
            assert!(
                rerun.status.success() || already || passwd_done,
                "{} at {step}: re-run failed: {}",
                sc.name,
                String::from_utf8_lossy(&rerun.stderr)
            );
            (sc.check)(&h, &pw, true);
            no_leftovers(&h);
            total += 1;
        }
        eprintln!(
            "{}: {} crash points: {}",
            sc.name,
            steps.len(),
            steps.join(" ")
        );
    }
    eprintln!("{total} crash points enumerated and converged");
}

fn libc_sigabrt() -> i32 {
    6
}
