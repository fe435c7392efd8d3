//! Shared helpers for integration tests: a temp OpenClaw home per test, the real
//! binary, and fast KDF parameters where the test is not about the KDF.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub struct Home {
    pub tmp: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    pub fn state(&self) -> PathBuf {
        self.tmp.path().join("state")
    }

    pub fn vault(&self) -> PathBuf {
        self.state().join("vault")
    }

    pub fn profiles(&self) -> PathBuf {
        self.state().join("agents/main/agent/auth-profiles.json")
    }

    pub fn pw_file(&self, name: &str, pass: &str) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, format!("{pass}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// The binary with a clean environment and this home's state dir.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("clawvault").unwrap();
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.tmp.path())
            .env("OPENCLAW_STATE_DIR", self.state());
        c
    }

    /// `init --backend age` with small KDF parameters and passphrase "pw".
    pub fn init_age(&self) -> PathBuf {
        let pw = self.pw_file("pw", "correct horse battery");
        self.cmd()
            .args([
                "init",
                "--backend",
                "age",
                "--kdf-memory-mib",
                "1",
                "--kdf-iterations",
                "1",
            ])
            .arg("--passphrase-file")
            .arg(&pw)
            .assert()
            .success();
        pw
    }

    pub fn paste(&self, kind: &str, provider: &str, id: Option<&str>, secret: &str) {
        let mut c = self.cmd();
        c.args(["models", "auth", kind, "--provider", provider]);
        if let Some(id) = id {
            c.args(["--profile-id", id]);
        }
        c.write_stdin(format!("{secret}\n")).assert().success();
    }

    pub fn read_profiles(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.profiles()).unwrap()).unwrap()
    }
}

pub fn random_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

pub fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Every file under `dir` is 0600 and every directory 0700.
pub fn assert_private_tree(dir: &Path) {
    for e in walk(dir) {
        let m = std::fs::symlink_metadata(&e).unwrap();
        let want = if m.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(m.permissions().mode() & 0o777, want, "{}", e.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
