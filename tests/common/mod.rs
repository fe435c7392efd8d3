//! Shared helpers for integration tests: a temp OpenClaw home per test, the real
//! binary, and fast KDF parameters where the test is not about the KDF.
#![allow(dead_code)]

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub mod openclaw;

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
        #[cfg(unix)]
        {
            std::fs::write(&p, format!("{pass}\n")).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        #[cfg(windows)]
        {
            let _ = std::fs::remove_file(&p);
            let mut f = clawvault::fsutil::create_new_private(&p).unwrap();
            std::io::Write::write_all(&mut f, format!("{pass}\n").as_bytes()).unwrap();
        }
        p
    }

    /// The binary with a clean environment and this home's state dir.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("clawvault").unwrap();
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.tmp.path())
            .env("OPENCLAW_STATE_DIR", self.state());
        // Windows processes need SystemRoot (Winsock, the crypto providers).
        #[cfg(windows)]
        if let Some(r) = std::env::var_os("SystemRoot") {
            c.env("SystemRoot", r);
        }
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
                "--force-weak",
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
        // Tests written before paste-api-key's default became OpenClaw's
        // (`<provider>:manual` on a fresh provider) name the profile they expect.
        let fallback = format!("{provider}:default");
        let id = id.or((kind == "paste-api-key").then_some(fallback.as_str()));
        if let Some(id) = id {
            c.args(["--profile-id", id]);
        }
        c.write_stdin(format!("{secret}\n")).assert().success();
    }

    /// An age vault (see [`Home::init_age`]) holding one pasted API key as
    /// `<provider>:default`; returns the home and the passphrase file.
    pub fn age_with_key(provider: &str, key: &str) -> (Home, PathBuf) {
        let h = Home::new();
        let pw = h.init_age();
        h.paste("paste-api-key", provider, None, key);
        (h, pw)
    }

    pub fn read_profiles(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.profiles()).unwrap()).unwrap()
    }
}

/// A successful command's stdout as JSON (its stderr in the failure message).
pub fn stdout_json(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Run `c`, which must succeed (its stderr in the failure message); its stdout.
pub fn stdout_ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn random_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(unix)]
pub fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Every file and directory under `dir` is the user's alone (owner-only DACL).
#[cfg(windows)]
pub fn assert_private_tree(dir: &Path) {
    for e in walk(dir) {
        let x = clawvault::trust::check_private(&e).unwrap();
        assert!(x.is_none(), "{}: {:?}", e.display(), x);
    }
}

/// Every file under `dir` is 0600 and every directory 0700.
#[cfg(unix)]
pub fn assert_private_tree(dir: &Path) {
    for e in walk(dir) {
        let m = std::fs::symlink_metadata(&e).unwrap();
        let want = if m.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(m.permissions().mode() & 0o777, want, "{}", e.display());
    }
}

/// Every file (and directory) below `dir`, depth first.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
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

/// A foreground `clawvault agent run`, killed when dropped.
pub struct AgentProc {
    pub child: std::process::Child,
    pub log: PathBuf,
}

impl AgentProc {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    #[cfg(unix)]
    pub fn signal(&self, sig: i32) {
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Home {
    /// The binary as a std Command (for children that outlive one call).
    pub fn cmd_std(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("clawvault"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.tmp.path())
            .env("OPENCLAW_STATE_DIR", self.state());
        // Windows processes need SystemRoot (Winsock, the crypto providers).
        #[cfg(windows)]
        if let Some(r) = std::env::var_os("SystemRoot") {
            c.env("SystemRoot", r);
        }
        c
    }

    /// Start `agent run ARGS` in the foreground and wait until it answers.
    pub fn agent_run(
        &self,
        args: &[&str],
        tweak: impl FnOnce(&mut std::process::Command),
    ) -> AgentProc {
        let log = self
            .tmp
            .path()
            .join(format!("agent-{}.log", random_suffix()));
        let mut c = self.cmd_std();
        c.args(["agent", "run"]).args(args);
        c.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        tweak(&mut c);
        let mut child = c.spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                panic!(
                    "agent exited early ({st}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("serving vault")
            {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "agent did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        AgentProc { child, log }
    }

    /// `agent start --idle 0 --passphrase-file PW`, which must say it started the
    /// agent unlocked with that file.
    pub fn agent_start_unlocked(&self, pw: &Path) {
        let said = stdout_ok(
            self.cmd()
                .args(["agent", "start", "--idle", "0", "--passphrase-file"])
                .arg(pw),
        );
        assert!(
            said.contains("started the clawvault agent")
                && said.contains("unlocked with --passphrase-file"),
            "{said}"
        );
    }

    /// `agent status --json`
    pub fn agent_status(&self) -> (i32, serde_json::Value) {
        let out = self
            .cmd()
            .args(["agent", "status", "--json"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Run `resolve` the way OpenClaw does (no TTY, bare env plus what `tweak` adds).
    pub fn resolve(&self, ids: &[&str], tweak: impl FnOnce(&mut Command)) -> std::process::Output {
        let req = serde_json::json!({"protocolVersion": 1, "provider": "clawvault", "ids": ids});
        let mut c = self.cmd();
        c.arg("resolve").write_stdin(req.to_string());
        tweak(&mut c);
        c.output().unwrap()
    }

    pub fn vault_id(&self) -> String {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.vault().join("vault.json")).unwrap())
                .unwrap();
        v["vaultId"].as_str().unwrap().to_string()
    }
}

/// The real Secret Service, or a loud skip (a failure when CI requires it).
pub fn secret_service_usable() -> bool {
    use clawvault::backend::keychain;
    let required = std::env::var("CLAWVAULT_REQUIRE_SECRET_SERVICE").as_deref() == Ok("1");
    match keychain::platform_store()
        .map_err(|e| e.to_string())
        .and_then(|(s, n)| keychain::probe(&s, &n))
    {
        Ok(()) => true,
        Err(why) if required => panic!("the Secret Service is required but unusable: {why}"),
        Err(why) => {
            eprintln!("SKIPPED: Secret Service unusable: {why}");
            false
        }
    }
}

/// Pass the D-Bus session (and runtime dirs) through to a command.
pub fn pass_dbus(c: &mut Command) {
    for var in [
        "DBUS_SESSION_BUS_ADDRESS",
        "XDG_RUNTIME_DIR",
        "XDG_DATA_HOME",
    ] {
        if let Some(v) = std::env::var_os(var) {
            c.env(var, v);
        }
    }
}

/// Every regular file below `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walk(dir).into_iter().filter(|p| p.is_file()).collect();
    v.sort();
    v
}

/// The kernel keyutils user keyring, or a loud skip (a failure when CI requires it).
pub fn keyutils_usable() -> bool {
    let required = std::env::var("CLAWVAULT_REQUIRE_SECRET_SERVICE").as_deref() == Ok("1");
    let probe = format!("probe{}", random_suffix());
    let id = clawvault::secret::SecretString::from("x".to_string());
    match clawvault::unlock::keyutils::store(&probe, &id, std::time::Duration::from_secs(5)) {
        Ok(()) => {
            let _ = clawvault::unlock::keyutils::forget(&probe);
            true
        }
        Err(e) if required => panic!("keyutils is required but unusable: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: keyutils unusable: {e}");
            false
        }
    }
}
