//! Under umask 000, every command that writes leaves every file it touched 0600
//! and every directory 0700: the vault directory, the agent's runtime directory,
//! the state directory's agent directories, and the files clawvault creates
//! elsewhere (openclaw.json, a plan written with --out). The tree is walked after
//! EVERY command, so a command that loosens a mode is named.
//!
//! Files the test plants the way OpenClaw or the user would (auth-profiles.json
//! with inline material, `.env`, the SQLite auth store) are created 0600 in 0700
//! directories first, so a command that rewrites one must keep it private too.
//! Exceptions, each with its reason, are listed in `EXCEPTIONS`.
// Unix only: file modes (the Windows DACL checks are unit tests in src/fsutil and src/trust).
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{keyutils_usable, Home};
use serde_json::json;

/// Paths (relative to the test home) not held to 0600/0700, and why. The walk
/// covers the state dir (vault, agents, .env, openclaw.json, OpenClaw's SQLite
/// store), `$XDG_RUNTIME_DIR` and the `--out` directory; the passphrase files and
/// the test home itself are outside it (the user's, only read by clawvault).
const EXCEPTIONS: &[(&str, &str)] = &[
    // Stands in for $XDG_RUNTIME_DIR, which systemd-logind creates, not clawvault
    // (the test creates it 0700, so today it would pass anyway).
    (
        "run",
        "the session manager's runtime directory, created here by the test",
    ),
];

const KEY: &str = "sk-ant-api03-PERMS-0123456789abcdef";

fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct T {
    h: Home,
    run: PathBuf,
    /// Files clawvault created outside the walked directories.
    extra: Vec<PathBuf>,
    commands: usize,
}

/// A daemonized agent outlives a failed test: stop it.
impl Drop for T {
    fn drop(&mut self) {
        let _ = self.cmd(&["agent", "stop"]).output();
    }
}

impl T {
    /// `clawvault ARGS` under umask 000, with a clean environment and this home.
    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new("sh");
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.h.tmp.path())
            .env("OPENCLAW_STATE_DIR", self.h.state())
            .env("XDG_RUNTIME_DIR", &self.run)
            .arg("-c")
            .arg(r#"umask 000 && exec "$0" "$@""#)
            .arg(assert_cmd::cargo::cargo_bin("clawvault"))
            .args(args);
        c
    }

    /// Run one command (it must succeed), then walk everything.
    fn step(&mut self, label: &str, args: &[&str], stdin: &str) -> Output {
        self.step_with(label, args, stdin, |_| {})
    }

    fn step_with(
        &mut self,
        label: &str,
        args: &[&str],
        stdin: &str,
        tweak: impl FnOnce(&mut assert_cmd::Command),
    ) -> Output {
        let mut c = self.cmd(args);
        c.write_stdin(stdin);
        tweak(&mut c);
        let o = c.output().unwrap();
        assert!(o.status.success(), "{label}: {}", show(&o));
        self.commands += 1;
        self.walk(label);
        o
    }

    fn walk(&self, label: &str) {
        let home = self.h.tmp.path();
        let mut roots = vec![self.h.state(), self.run.clone()];
        roots.extend(self.extra.iter().cloned());
        let mut bad = vec![];
        for root in roots {
            if !root.exists() {
                continue;
            }
            // The directories leading to the root, up to the test home, too.
            let mut up = root.parent().map(Path::to_path_buf);
            while let Some(d) = up.filter(|d| d.starts_with(home) && d != home) {
                check(home, &d, &mut bad);
                up = d.parent().map(Path::to_path_buf);
            }
            for p in common::walk(&root) {
                check(home, &p, &mut bad);
            }
        }
        bad.sort();
        bad.dedup();
        assert!(
            bad.is_empty(),
            "after `{label}` (umask 000), not private:\n  {}",
            bad.join("\n  ")
        );
    }
}

fn check(home: &Path, p: &Path, bad: &mut Vec<String>) {
    let rel = p
        .strip_prefix(home)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned();
    if EXCEPTIONS.iter().any(|(e, _)| *e == rel) {
        return;
    }
    let m = match std::fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(_) => return, // removed meanwhile
    };
    let mode = m.permissions().mode() & 0o7777;
    let want = if m.is_dir() {
        0o700
    } else if m.file_type().is_symlink() {
        bad.push(format!("{rel}: a symlink"));
        return;
    } else if m.file_type().is_file() {
        0o600
    } else {
        // The agent's socket: srw------- is what we want for it too.
        0o600
    };
    if mode != want {
        bad.push(format!("{rel}: {mode:04o}, want {want:04o}"));
    }
}

fn private_file(p: &Path, body: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn private_dirs(home: &Path, p: &Path) {
    let mut d = p.parent();
    while let Some(x) = d.filter(|x| x.starts_with(home) && *x != home) {
        std::fs::set_permissions(x, std::fs::Permissions::from_mode(0o700)).unwrap();
        d = x.parent();
    }
}

/// Plant a plaintext profile (as OpenClaw writes it) into auth-profiles.json.
fn plant_inline(t: &T, id: &str, provider: &str, key: &str) {
    let path = t.h.profiles();
    let mut doc = t.h.read_profiles();
    doc["profiles"][id] = json!({"type":"api_key","provider":provider,"key":key});
    let mode = common::mode(&path);
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    assert_eq!(common::mode(&path), mode);
}

#[test]
fn every_writing_command_keeps_files_0600_and_dirs_0700_under_umask_000() {
    let started = std::time::Instant::now();
    let h = Home::new();
    let home = h.tmp.path().to_path_buf();
    let run = home.join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut t = T {
        h,
        run,
        extra: vec![],
        commands: 0,
    };
    // The wrapper really runs clawvault under umask 000.
    let o = std::process::Command::new("sh")
        .args(["-c", r#"umask 000 && exec sh -c umask"#])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0000");

    let pw = t.h.pw_file("pw", "perm pass one");
    let pw2 = t.h.pw_file("pw2", "perm pass two");
    let (pws, pw2s) = (
        pw.to_str().unwrap().to_string(),
        pw2.to_str().unwrap().to_string(),
    );
    let cheap = [
        "--force-weak",
        "--kdf-memory-mib",
        "1",
        "--kdf-iterations",
        "1",
    ];

    let mut a = vec!["init", "--backend", "age", "--passphrase-file", &pws];
    a.extend(cheap);
    t.step("init", &a, "");
    t.step(
        "paste-api-key",
        &[
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "anthropic",
            "--profile-id",
            "anthropic:default",
        ],
        &format!("{KEY}\n"),
    );
    // A second agent directory, created by a paste.
    t.step(
        "paste-api-key --agent",
        &[
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "openai",
            "--profile-id",
            "openai:default",
            "--agent",
            "work",
        ],
        "sk-proj-PERMS-work-agent-00112233\n",
    );
    t.step(
        "paste-token",
        &[
            "models",
            "auth",
            "paste-token",
            "--provider",
            "anthropic",
            "--profile-id",
            "anthropic:tok",
            "--expires-in",
            "1d",
        ],
        "sk-ant-oat01-PERMS-token-44556677\n",
    );
    t.step(
        "order set",
        &[
            "models",
            "auth",
            "order",
            "set",
            "--provider",
            "anthropic",
            "anthropic:tok",
            "anthropic:default",
        ],
        "",
    );
    t.step(
        "logout",
        &["models", "auth", "logout", "anthropic:tok", "--yes"],
        "",
    );
    let mut a = vec![
        "passwd",
        "--passphrase-file",
        &pws,
        "--new-passphrase-file",
        &pw2s,
    ];
    a.extend(cheap);
    t.step("passwd", &a, "");
    let pws = pw2s;

    plant_inline(
        &t,
        "groq:default",
        "groq",
        "gsk_PERMS_inline_8899aabbccddeeff",
    );
    t.step("migrate", &["migrate", "--passphrase-file", &pws], "");

    let env = t.h.state().join(".env");
    private_file(
        &env,
        b"NODE_ENV=production\nMISTRAL_API_KEY=PERMSmistral0123456789abcdefABCD\n",
    );
    t.step("import-env", &["import-env", "--passphrase-file", &pws], "");

    if keyutils_usable() {
        t.step(
            "unlock --remember keyutils",
            &[
                "unlock",
                "--remember",
                "keyutils",
                "--ttl",
                "5m",
                "--passphrase-file",
                &pws,
            ],
            "",
        );
        t.step("lock", &["lock"], "");
    }

    t.step(
        "agent start",
        &["agent", "start", "--idle", "0", "--passphrase-file", &pws],
        "",
    );
    assert!(
        t.run.join("clawvault").is_dir(),
        "the agent did not use $XDG_RUNTIME_DIR"
    );
    t.step("unlock (agent)", &["unlock", "--passphrase-file", &pws], "");
    t.step("agent stop", &["agent", "stop"], "");

    // doctor --fix --yes: an inline key and a .env variable to move.
    plant_inline(
        &t,
        "openrouter:default",
        "openrouter",
        "sk-or-v1-PRM7f3k9Qw2Lz8Xv5Nc1Bt6Hy4Dg0Js9Ke3Ra7Uo2Pm5Wi8Fq1Zx4Cv6Yb3Gn9Ts2Lh5Md8Ek0Aj",
    );
    private_file(
        &env,
        b"NODE_ENV=production\nOPENAI_API_KEY=sk-proj-PRMdoc4Hq8Zt2Wk6Xn9Lp3Vr7Bc1Ym5Fs0Jd8Ug2Ke6Ta4\n",
    );
    let proj = home.join("proj");
    std::fs::create_dir(&proj).unwrap();
    std::fs::set_permissions(&proj, std::fs::Permissions::from_mode(0o700)).unwrap();
    let pwpath = PathBuf::from(&pws);
    let o = t.step_with(
        "doctor --fix --yes",
        &[
            "doctor",
            "--no-progress",
            "--threads",
            "2",
            "--fix",
            "--yes",
        ],
        "",
        |c| {
            c.current_dir(&proj)
                .env("CLAWVAULT_PASSPHRASE_FILE", &pwpath);
        },
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("into the vault"),
        "doctor --fix moved nothing: {}",
        show(&o)
    );

    // openclaw register creates openclaw.json; plan --out creates the plan; scrub
    // rewrites OpenClaw's SQLite store.
    t.step(
        "openclaw register",
        &["--passphrase-file", &pws, "openclaw", "register"],
        "",
    );
    assert!(t.h.state().join("openclaw.json").is_file());
    let db = t.h.state().join("state").join("openclaw.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA user_version=23;
             CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;",
        )
        .unwrap();
        c.execute(
            "INSERT INTO config_machine_state VALUES ('authProfiles.store', ?1, 1)",
            [r#"{"version":1,"profiles":{"xai:manual":{"type":"api_key","provider":"xai","key":"xai-PERMSsqlite0123456789abcdefABCDEFGHIJKLMNOPQRSTUVWXYZ"}}}"#],
        )
        .unwrap();
    }
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    private_dirs(&home, &db);
    let plan = home.join("out").join("plan.json");
    std::fs::create_dir(plan.parent().unwrap()).unwrap();
    std::fs::set_permissions(
        plan.parent().unwrap(),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    t.extra.push(plan.parent().unwrap().to_path_buf());
    t.step(
        "openclaw plan --out",
        &[
            "--passphrase-file",
            &pws,
            "openclaw",
            "plan",
            "--out",
            plan.to_str().unwrap(),
        ],
        "",
    );
    assert!(plan.is_file());
    t.step(
        "openclaw scrub",
        &["--passphrase-file", &pws, "openclaw", "scrub"],
        "",
    );

    t.step(
        "identity export",
        &["identity", "export", "--passphrase-file", &pws],
        "",
    );
    // The walk does catch a loosened mode (so the passes above mean something).
    let vj = t.h.vault().join("vault.json");
    std::fs::set_permissions(&vj, std::fs::Permissions::from_mode(0o640)).unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.walk("self-check")));
    assert!(caught.is_err(), "the walk missed a 0640 vault.json");
    std::fs::set_permissions(&vj, std::fs::Permissions::from_mode(0o600)).unwrap();
    let walked: usize = [t.h.state(), t.run.clone()]
        .iter()
        .map(|r| common::walk(r).len())
        .sum();
    eprintln!(
        "{walked} paths in the final tree; {} commands under umask 000, tree walked after each, in {:.1} s",
        t.commands,
        started.elapsed().as_secs_f64()
    );
}
