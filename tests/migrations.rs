//! Replays every folder of `migrations/`: lays `before/` into a state directory, runs
//! the folder's command, and checks the files against `after/` (key order included)
//! and the vault against `secrets.json` through the real resolver. A folder with a
//! `passphrase` file brings its own vault in `before/` (unlocked with it) instead of
//! a fresh one; a `stdout.json` pins the command's output (the state dir written `$STATE`).
// Unix only: file modes and symlinks.
#![cfg(unix)]

mod common;

use std::path::Path;

use common::{files, Home};

fn canonical(p: &Path, bytes: &[u8]) -> String {
    if p.extension().map(|e| e == "json").unwrap_or(false) {
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        serde_json::to_string_pretty(&v).unwrap()
    } else {
        String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| format!("{:?}", e.into_bytes()))
    }
}

#[test]
fn every_migration_fixture_replays() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut ran = vec![];
    for dir in std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
    {
        let Ok(command) = std::fs::read_to_string(dir.join("command")) else {
            continue;
        };
        let h = Home::new();
        let before = dir.join("before");
        for f in files(&before) {
            let dest = h.state().join(f.strip_prefix(&before).unwrap());
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&f, &dest).unwrap();
        }
        // Laid out private, the way clawvault and OpenClaw write them.
        for p in common::walk(&h.state()) {
            let m = if p.is_dir() { 0o700 } else { 0o600 };
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(m)).unwrap();
        }
        let pw = match std::fs::read_to_string(dir.join("passphrase")) {
            Ok(pass) => h.pw_file("pw", pass.trim_end_matches('\n')),
            Err(_) => h.init_age(),
        };
        let mut c = h.cmd();
        c.current_dir(h.state())
            .args(command.split_whitespace())
            .arg("--passphrase-file")
            .arg(&pw);
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        if let Ok(want) = std::fs::read(dir.join("stdout.json")) {
            // Paths under the temporary state dir are pinned as `$STATE`.
            let got = String::from_utf8_lossy(&out.stdout)
                .replace(&h.state().display().to_string(), "$STATE");
            assert_eq!(
                canonical(Path::new("stdout.json"), got.as_bytes()),
                canonical(Path::new("stdout.json"), &want),
                "{}: stdout",
                dir.display()
            );
        }
        let after = dir.join("after");
        for f in files(&after) {
            let rel = f.strip_prefix(&after).unwrap();
            let got = std::fs::read(h.state().join(rel))
                .unwrap_or_else(|_| panic!("{}: {} missing", dir.display(), rel.display()));
            assert_eq!(
                canonical(&f, &got),
                canonical(&f, &std::fs::read(&f).unwrap()),
                "{}: {}",
                dir.display(),
                rel.display()
            );
        }
        for f in files(&before) {
            let rel = f.strip_prefix(&before).unwrap();
            if !after.join(rel).exists() {
                assert!(
                    !h.state().join(rel).exists(),
                    "{}: {} should be gone",
                    dir.display(),
                    rel.display()
                );
            }
        }
        let secrets: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&std::fs::read(dir.join("secrets.json")).unwrap()).unwrap();
        if !secrets.is_empty() {
            let req =
                serde_json::json!({"protocolVersion":1,"ids": secrets.keys().collect::<Vec<_>>()});
            let out = h
                .cmd()
                .arg("resolve")
                .arg("--passphrase-file")
                .arg(&pw)
                .write_stdin(req.to_string())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: resolve: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            for (id, want) in &secrets {
                assert_eq!(&v["values"][id], want, "{}: {id}", dir.display());
            }
        }
        // No plaintext copy anywhere in the state dir outside the after/ files.
        for f in files(&h.state()) {
            if f.starts_with(h.vault()) {
                continue;
            }
            let body = std::fs::read(&f).unwrap();
            for want in secrets.values() {
                let s = want.as_str().unwrap();
                assert!(
                    !body.windows(s.len()).any(|w| w == s.as_bytes()),
                    "{}: plaintext left in {}",
                    dir.display(),
                    f.display()
                );
            }
        }
        // Rollback restores every original byte for byte.
        let out = h
            .cmd()
            .args(["migrate", "--rollback", "--passphrase-file"])
            .arg(&pw)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for f in files(&before) {
            let rel = f.strip_prefix(&before).unwrap();
            assert_eq!(
                std::fs::read(h.state().join(rel)).unwrap(),
                std::fs::read(&f).unwrap(),
                "{}: rollback of {}",
                dir.display(),
                rel.display()
            );
        }
        ran.push(dir.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert!(ran.len() >= 6, "only {ran:?} ran");
    assert!(ran.iter().any(|d| d == "vault-format-1"), "{ran:?}");
}
