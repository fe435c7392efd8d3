//! `models auth rotate`: the new value is served at once, the old one is kept as a
//! standard age file (the stock `age` CLI opens it with the exported identity) and
//! comes back with `--rollback` within the grace period, not after it.
// Unix only: file modes.
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};

use common::*;

const OLD: &str = "sk-proj-RotateOldValue0123456789abcdefABCDEFgh";
const NEW: &str = "sk-proj-RotateNewValue0123456789abcdefABCDEFgh";
const ID: &str = "main/openai:default";

fn rotate(h: &Home, pw: &Path, stdin: &str, extra: &[&str]) -> std::process::Output {
    h.cmd()
        .args([
            "models",
            "auth",
            "rotate",
            "openai:default",
            "--passphrase-file",
        ])
        .arg(pw)
        .args(extra)
        .write_stdin(stdin.to_string())
        .output()
        .unwrap()
}

fn served(h: &Home, pw: &Path) -> String {
    let out = h.resolve(&[ID], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", pw);
    });
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["values"][ID].as_str().unwrap_or_default().to_string()
}

fn kept(h: &Home) -> Vec<PathBuf> {
    std::fs::read_dir(h.vault().join("previous"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn rotate_keeps_the_old_value_recoverable_and_rollback_restores_it() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste("paste-api-key", "openai", Some("openai:default"), OLD);

    let out = rotate(&h, &pw, &format!("{NEW}\n"), &[]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    assert!(!err.contains(OLD) && !err.contains(NEW), "{err}");
    assert_eq!(served(&h, &pw), NEW);
    let files = kept(&h);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&files[0]), 0o600);
    assert_eq!(mode(&h.vault().join("previous")), 0o700);

    // A standard age file: the stock CLI opens it with the exported identity.
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("age").is_file()));
    if on_path {
        let id = h
            .cmd()
            .args(["identity", "export", "--passphrase-file"])
            .arg(&pw)
            .output()
            .unwrap();
        let idf = h.pw_file(
            "id.txt",
            std::str::from_utf8(&id.stdout).unwrap().trim_end(),
        );
        let dec = std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&idf)
            .arg(&files[0])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&dec.stdout), OLD);
    } else {
        assert!(
            std::env::var("CLAWVAULT_REQUIRE_AGE").is_err(),
            "the stock age CLI is required in CI"
        );
    }

    // The same value again changes nothing.
    let out = rotate(&h, &pw, &format!("{NEW}\n"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(kept(&h).len(), 1);

    // Past the grace period the old value is not put back (it stays for `age -d`).
    let out = rotate(&h, &pw, "", &["--rollback", "--grace", "0s"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("older than the grace period"));
    assert_eq!(served(&h, &pw), NEW);

    // Within it, rollback restores the old value and drops the kept copy.
    let out = rotate(&h, &pw, "", &["--rollback"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(served(&h, &pw), OLD);
    assert!(kept(&h).is_empty());
    let out = rotate(&h, &pw, "", &["--rollback"]);
    assert_eq!(out.status.code(), Some(1), "nothing left to roll back to");
}

#[test]
fn rotate_refuses_a_profile_that_is_not_in_the_vault() {
    let h = Home::new();
    let pw = h.init_age();
    let out = rotate(&h, &pw, &format!("{NEW}\n"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no profile openai:default"));
}
