//! Bad and hostile input: what the user sees, and that nothing is lost. The README's
//! troubleshooting table lists these cases.

mod common;

use common::Home;
use predicates::prelude::*;
use serde_json::json;

fn write_profiles(h: &Home, bytes: &[u8]) {
    std::fs::create_dir_all(h.profiles().parent().unwrap()).unwrap();
    std::fs::write(h.profiles(), bytes).unwrap();
}

/// Every mutating command refuses the document with `needle` in its one-line error and
/// leaves it byte for byte.
fn refused(h: &Home, bytes: &[u8], needle: &str) {
    write_profiles(h, bytes);
    for args in [
        vec!["models", "auth", "list"],
        vec!["models", "auth", "paste-api-key", "--provider", "openai"],
        vec!["models", "auth", "logout", "openai:default", "--yes"],
    ] {
        let out = h
            .cmd()
            .args(&args)
            .write_stdin("sk-proj-BADINPUT-1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(needle) && err.contains("auth-profiles.json"),
            "{args:?}: {err}"
        );
        assert_eq!(
            err.lines()
                .filter(|l| l.starts_with("clawvault: error:"))
                .count(),
            1
        );
    }
    assert_eq!(std::fs::read(h.profiles()).unwrap(), bytes);
}

#[test]
fn broken_profile_documents_are_refused_and_untouched() {
    let h = Home::new();
    h.init_age();
    refused(
        &h,
        br#"{"version":1,"profiles":{"a:b":{"type":"api_key","key":"sk-tr"#,
        "ends too early",
    );
    refused(
        &h,
        br#"{"version":1,"profiles":[]}"#,
        "\"profiles\" is not an object",
    );
    refused(
        &h,
        br#"{"version":"1","profiles":{}}"#,
        "\"version\" is not a number",
    );
    refused(
        &h,
        br#"{"version":1,"profiles":{"a:b":"sk-string-not-object"}}"#,
        "is not an object",
    );
    refused(
        &h,
        b"{\"version\":1,\"profiles\":{\"a:b\":{\"key\":\"k1\"},\n\"a:b\":{\"key\":\"k2\"}}}",
        "appears twice",
    );
    refused(
        &h,
        b"{\"version\":1,\"profiles\":{\"a:b\":{\"key\":\"\xff\xfe\"}}}",
        "line 1",
    );
    refused(&h, br#"{"version":7,"profiles":{}}"#, "newer than");
    refused(&h, b"", "ends too early");
}

#[test]
fn huge_documents_work() {
    let h = Home::new();
    h.init_age();
    let mut profiles = serde_json::Map::new();
    for i in 0..20_000 {
        profiles.insert(
            format!("p{i}:default"),
            json!({"type":"api_key","provider":format!("p{i}"),"key":format!("k{i}")}),
        );
    }
    let doc = json!({"version":1,"profiles":profiles,"blob":"x".repeat(4 << 20)});
    write_profiles(&h, &serde_json::to_vec(&doc).unwrap());
    let out = h
        .cmd()
        .args(["models", "status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["profiles"].as_array().unwrap().len(), 20_000);
    h.paste("paste-api-key", "openai", None, "sk-proj-BIG-DOC");
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(h.profiles()).unwrap()).unwrap();
    assert_eq!(after["blob"].as_str().unwrap().len(), 4 << 20);
    assert_eq!(after["profiles"].as_object().unwrap().len(), 20_001);
}

fn resolve_code(h: &Home, pw: &std::path::Path, id: &str) -> serde_json::Value {
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(pw)
        .write_stdin(json!({"protocolVersion":1,"ids":[id, "main/openai:default"]}).to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "one bad blob must not sink the batch");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["values"]["main/openai:default"], "sk-proj-GOOD");
    v["errors"][id]["code"].clone()
}

#[test]
fn corrupted_swapped_and_foreign_blobs_are_caught_and_named() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste("paste-api-key", "openai", None, "sk-proj-GOOD");
    h.paste("paste-api-key", "anthropic", None, "sk-ant-api03-VICTIM");
    let blobs = h.vault().join("blobs");
    let victim = blobs.join("main%2Fanthropic%3Adefault.age");
    let original = std::fs::read(&victim).unwrap();

    // One flipped byte in the payload.
    let mut bad = original.clone();
    let n = bad.len();
    bad[n - 5] ^= 0x40;
    std::fs::write(&victim, &bad).unwrap();
    assert_eq!(resolve_code(&h, &pw, "main/anthropic:default"), "CORRUPT");
    h.cmd()
        .args(["exec", "--passphrase-file"])
        .arg(&pw)
        .args(["--", "true"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("main/anthropic:default"));

    // Another profile's blob copied over it.
    std::fs::copy(blobs.join("main%2Fopenai%3Adefault.age"), &victim).unwrap();
    assert_eq!(resolve_code(&h, &pw, "main/anthropic:default"), "CORRUPT");
    h.cmd()
        .args(["exec", "--passphrase-file"])
        .arg(&pw)
        .args(["--", "true"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("swapped"));

    // A blob from another vault.
    let other = Home::new();
    let opw = other.init_age();
    other.paste("paste-api-key", "anthropic", None, "sk-ant-api03-OTHER");
    std::fs::copy(
        other.vault().join("blobs/main%2Fanthropic%3Adefault.age"),
        &victim,
    )
    .unwrap();
    assert_eq!(resolve_code(&h, &pw, "main/anthropic:default"), "CORRUPT");
    let _ = opw;

    // Truncated to nothing.
    std::fs::write(&victim, b"").unwrap();
    assert_eq!(resolve_code(&h, &pw, "main/anthropic:default"), "CORRUPT");
}

#[test]
fn broken_vault_manifests_are_refused() {
    let h = Home::new();
    let pw = h.init_age();
    let m = h.vault().join("vault.json");
    let good = std::fs::read(&m).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["format"] = json!(2);
    std::fs::write(&m, serde_json::to_vec(&v).unwrap()).unwrap();
    h.cmd()
        .args(["identity", "export", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("newer clawvault"));
    std::fs::write(&m, &good[..good.len() / 2]).unwrap();
    h.cmd()
        .args(["identity", "export", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "vault.json is not a valid vault manifest",
        ));
    std::fs::write(&m, b"{\"format\":1}").unwrap();
    h.cmd()
        .args(["models", "auth", "paste-api-key", "--provider", "openai"])
        .write_stdin("k")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("a field is missing"));
    assert!(
        !h.profiles().exists(),
        "nothing written against a broken vault"
    );
}

#[test]
fn full_and_read_only_disk_lose_nothing() {
    // A 64 KiB tmpfs as the state directory (needs root and mount rights).
    let h = Home::new();
    let mnt = h.state();
    std::fs::create_dir_all(&mnt).unwrap();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=96k,mode=0700", "tmpfs"])
        .arg(&mnt)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("CLAWVAULT_REQUIRE_MOUNT").is_err(),
            "mounting a tmpfs is required in CI"
        );
        eprintln!("SKIPPED: cannot mount a tmpfs here");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _u = Unmount(mnt.clone());
    let pw = h.init_age();
    h.paste("paste-api-key", "openai", None, "sk-proj-BEFORE-FULL");
    let before = std::fs::read(h.profiles()).unwrap();
    // Fill the disk.
    let filler = mnt.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 200 * 1024]);
    let big = "x".repeat(64 * 1024);
    let out = h
        .cmd()
        .args(["models", "auth", "paste-api-key", "--provider", "groq"])
        .write_stdin(big)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("No space left") || err.contains("space"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(h.profiles()).unwrap(),
        before,
        "the document is untouched"
    );
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(&pw)
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/openai:default"]}"#)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["values"]["main/openai:default"], "sk-proj-BEFORE-FULL");
    for e in std::fs::read_dir(h.vault().join("blobs"))
        .unwrap()
        .flatten()
    {
        assert!(
            !e.file_name().to_string_lossy().contains(".tmp-"),
            "temp file left on a full disk"
        );
    }
    // The same file system, read-only: a clear error, nothing changed, reads work.
    let _ = std::fs::remove_file(&filler);
    let ro = std::process::Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(ro.success(), "remount read-only");
    let out = h
        .cmd()
        .args(["models", "auth", "paste-api-key", "--provider", "groq"])
        .write_stdin("gsk-READ-ONLY-0123456789")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(!err.contains("gsk-READ-ONLY"), "{err}");
    assert_eq!(std::fs::read(h.profiles()).unwrap(), before);
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(&pw)
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/openai:default"]}"#)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["values"]["main/openai:default"], "sk-proj-BEFORE-FULL");
}
