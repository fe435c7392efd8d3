//! The commands tests/no_leaks.rs does not run: init, passwd, unlock (and
//! `--remember keyutils` where the kernel keyring is usable), lock, agent
//! start/status/stop and the agent's log, doctor and doctor --json, openclaw
//! register/plan/scrub, exec, and a panic. A known API key, a key planted in
//! OpenClaw's SQLite store, and both passphrases must never appear in
//! stdout/stderr (except resolve's response and the env `exec` hands its child),
//! in JSON output, in the agent log, in the argv or environment of the processes
//! clawvault starts, or in any file at rest under the test home.
// Unix only: file modes, /proc and the agent.
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{files, keyutils_usable, Home};
use serde_json::Value;

const KEY: &str = "sk-ant-api03-LEAKMORE-1a2b3c4d5e6f7a8b9c0d";
const SQL_KEY: &str = "sk-proj-LEAKMORE-SQLITE-0f1e2d3c4b5a6978";
const PASS: &str = "LEAKMORE-pass-correct-horse-5e4d3c2b";
const NEWPASS: &str = "LEAKMORE-newpass-battery-staple-9a8b7c";
const ALL: [&str; 4] = [KEY, SQL_KEY, PASS, NEWPASS];

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Neither a secret nor its last 16 characters.
fn holds(hay: &[u8]) -> Option<&'static str> {
    ALL.into_iter()
        .find(|s| contains(hay, s) || contains(hay, &s[s.len() - 16..]))
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// stdout (unless it is the intended channel for a secret) and stderr are clean.
fn clean(what: &str, o: &Output, check_stdout: bool) {
    if check_stdout {
        if let Some(s) = holds(&o.stdout) {
            panic!("{what}: {s:?} in stdout\n{}", show(o));
        }
    }
    if let Some(s) = holds(&o.stderr) {
        panic!("{what}: {s:?} in stderr\n{}", show(o));
    }
}

fn ok(what: &str, o: &Output) {
    assert!(o.status.success(), "{what}: {}", show(o));
}

fn proc_clean(what: &str, pid: u32) {
    for f in ["cmdline", "environ"] {
        let b = std::fs::read(format!("/proc/{pid}/{f}"))
            .unwrap_or_else(|e| panic!("{what}: /proc/{pid}/{f}: {e}"));
        assert!(!b.is_empty() || f == "environ", "{what}: empty {f}");
        if let Some(s) = holds(&b) {
            panic!(
                "{what}: {s:?} in /proc/{pid}/{f}: {}",
                String::from_utf8_lossy(&b)
            );
        }
    }
}

/// OpenClaw's shared SQLite auth store holding one plaintext API key.
fn sqlite_store(h: &Home) -> PathBuf {
    let dir = h.state().join("state");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("openclaw.sqlite");
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA user_version=23;
         CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;",
    )
    .unwrap();
    let json = format!(
        r#"{{"version":1,"profiles":{{"openai:manual":{{"type":"api_key","provider":"openai","key":"{SQL_KEY}"}}}}}}"#
    );
    c.execute(
        "INSERT INTO config_machine_state VALUES ('authProfiles.store', ?1, 1)",
        [json],
    )
    .unwrap();
    p
}

struct T {
    h: Home,
    run: PathBuf,
}

/// A daemonized agent outlives a failed test: stop it.
impl Drop for T {
    fn drop(&mut self) {
        let _ = self.cmd().args(["agent", "stop"]).output();
    }
}

impl T {
    /// The binary with the test home and a private XDG_RUNTIME_DIR, so the agent's
    /// socket, pid file and log land under the test home.
    fn cmd(&self) -> assert_cmd::Command {
        let mut c = self.h.cmd();
        c.env("XDG_RUNTIME_DIR", &self.run);
        c
    }

    fn go(&self, what: &str, args: &[&str], stdin: &str, check_stdout: bool) -> Output {
        let o = self.cmd().args(args).write_stdin(stdin).output().unwrap();
        clean(what, &o, check_stdout);
        o
    }
}

#[test]
fn a_panic_prints_its_location_and_never_its_payload() {
    let h = Home::new();
    for (args, bt) in [(&["--help"][..], "0"), (&["resolve"][..], "full")] {
        let payload = format!("{KEY}-in-a-panic-payload");
        let o = h
            .cmd()
            .env("CLAWVAULT_TEST_PANIC", &payload)
            .env("RUST_BACKTRACE", bt)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(101), "{}", show(&o));
        clean("panic", &o, true);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panic-payload"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(o.stdout.is_empty(), "{}", show(&o));
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{err}");
        let l = lines[0];
        assert!(
            l.starts_with("clawvault: internal error at src/main.rs:")
                && l.ends_with(" (this is a bug; please report it)"),
            "{l}"
        );
    }
}

#[test]
fn the_remaining_commands_never_leak_a_known_secret_or_passphrase() {
    let h = Home::new();
    let run = h.tmp.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let t = T { h, run };
    let h = &t.h;
    let pw = h.pw_file("pw", PASS);
    let pw2 = h.pw_file("pw2", NEWPASS);
    let (pws, pw2s) = (pw.to_str().unwrap(), pw2.to_str().unwrap());
    let cheap = [
        "--force-weak",
        "--kdf-memory-mib",
        "1",
        "--kdf-iterations",
        "1",
    ];

    // init, paste, passwd.
    let mut a = vec!["init", "--backend", "age", "--passphrase-file", pws];
    a.extend(cheap);
    ok("init", &t.go("init", &a, "", true));
    ok(
        "paste",
        &t.go(
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
            true,
        ),
    );
    let mut a = vec![
        "passwd",
        "--passphrase-file",
        pws,
        "--new-passphrase-file",
        pw2s,
    ];
    a.extend(cheap);
    ok("passwd", &t.go("passwd", &a, "", true));
    // The old passphrase fails without echoing either.
    let o = t.go(
        "identity export (old passphrase)",
        &["identity", "export", "--passphrase-file", pws],
        "",
        true,
    );
    assert!(!o.status.success(), "{}", show(&o));
    let pw = pw2.clone();
    let pws = pw2s;

    let req = r#"{"protocolVersion":1,"ids":["main/anthropic:default"]}"#;
    let served = |o: &Output| {
        ok("resolve", o);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["values"]["main/anthropic:default"], KEY, "{}", show(o));
    };

    // unlock --remember keyutils, resolve from the cache, lock.
    if keyutils_usable() {
        let o = t.go(
            "unlock --remember keyutils",
            &[
                "unlock",
                "--remember",
                "keyutils",
                "--ttl",
                "10m",
                "--passphrase-file",
                pws,
            ],
            "",
            true,
        );
        ok("unlock --remember keyutils", &o);
        let o = t.go(
            "unlock --status --json",
            &["unlock", "--status", "--json"],
            "",
            true,
        );
        serde_json::from_slice::<Value>(&o.stdout).unwrap();
        let o = t.go("resolve (keyutils)", &["resolve"], req, false);
        served(&o);
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("keyutils"),
            "{}",
            show(&o)
        );
        ok("lock", &t.go("lock", &["lock"], "", true));
        let o = t.go("resolve (locked)", &["resolve"], req, true);
        assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    }

    // agent start (unlocked with the passphrase file), its argv/environ, status,
    // resolve through it, lock + unlock over the socket, stop, and its log.
    let o = t.go(
        "agent start",
        &["agent", "start", "--idle", "0", "--passphrase-file", pws],
        "",
        true,
    );
    ok("agent start", &o);
    let o = t.go(
        "agent status --json",
        &["agent", "status", "--json"],
        "",
        true,
    );
    ok("agent status", &o);
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(st["unlocked"], true, "{st}");
    let pid = st["pid"].as_u64().unwrap() as u32;
    let sock = PathBuf::from(st["socket"].as_str().unwrap());
    assert!(sock.starts_with(&t.run), "{}", sock.display());
    proc_clean("agent child", pid);
    let o = t.go("resolve (agent)", &["resolve"], req, false);
    served(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("served by the agent"));
    ok("lock (agent)", &t.go("lock", &["lock"], "", true));
    let o = t.go(
        "agent status --json",
        &["agent", "status", "--json"],
        "",
        true,
    );
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(st["unlocked"], false, "{st}");
    ok(
        "unlock (agent)",
        &t.go("unlock", &["unlock", "--passphrase-file", pws], "", true),
    );
    proc_clean("agent child (unlocked again)", pid);
    // exec through the agent: the child's argv, and its parent's (clawvault exec)
    // argv and environment hold no secret; the child does get it in its env.
    let script = r#"printf 'len=%s\n' "${#ANTHROPIC_API_KEY}"; cat /proc/$$/cmdline; echo; cat /proc/$PPID/cmdline; echo; cat /proc/$PPID/environ; echo; echo done"#;
    let o = t
        .cmd()
        .args(["exec", "--", "sh", "-c", script])
        .output()
        .unwrap();
    clean("exec", &o, true);
    ok("exec", &o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("len={}", KEY.len())) && out.contains("exec") && out.contains("done"),
        "the child did not get the key in its environment: {}",
        show(&o)
    );
    ok(
        "agent stop",
        &t.go("agent stop", &["agent", "stop"], "", true),
    );
    assert!(!sock.exists());
    let logs: Vec<PathBuf> = files(&t.run)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    assert!(!logs.is_empty(), "no agent log under {}", t.run.display());
    for l in &logs {
        let b = std::fs::read(l).unwrap();
        assert!(!b.is_empty(), "{} is empty", l.display());
        if let Some(s) = holds(&b) {
            panic!("{s:?} in the agent log {}", l.display());
        }
    }

    // doctor, plain and --json, with exact matching of the vault's secrets.
    let proj = h.tmp.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    for json in [false, true] {
        let mut c = t.cmd();
        c.current_dir(&proj)
            .env("CLAWVAULT_PASSPHRASE_FILE", &pw)
            .args(["doctor", "--no-progress", "--threads", "2"]);
        if json {
            c.arg("--json");
        }
        let o = c.output().unwrap();
        clean("doctor", &o, true);
        assert!(matches!(o.status.code(), Some(0..=2)), "{}", show(&o));
        if json {
            serde_json::from_slice::<Value>(&o.stdout)
                .unwrap_or_else(|e| panic!("doctor --json: {e}: {}", show(&o)));
        }
    }

    // openclaw register / plan (stdout and --out) / scrub.
    let cfg = h.state().join("openclaw.json");
    std::fs::write(&cfg, "{\"gateway\":{\"mode\":\"local\"}}\n").unwrap();
    let o = t.go(
        "openclaw register",
        &["--passphrase-file", pws, "openclaw", "register"],
        "",
        true,
    );
    ok("openclaw register", &o);
    let db = sqlite_store(h);
    let o = t.go(
        "openclaw plan",
        &["--passphrase-file", pws, "openclaw", "plan"],
        "",
        true,
    );
    ok("openclaw plan", &o);
    let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        plan["targets"][0]["ref"]["id"], "main/openai:manual",
        "{plan}"
    );
    let out = h.tmp.path().join("plan.json");
    let o = t.go(
        "openclaw plan --out",
        &[
            "--passphrase-file",
            pws,
            "openclaw",
            "plan",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
        true,
    );
    ok("openclaw plan --out", &o);
    for args in [&["--dry-run"][..], &[][..]] {
        let mut a = vec!["--passphrase-file", pws, "openclaw", "scrub"];
        a.extend(args);
        let o = t.go("openclaw scrub", &a, "", true);
        ok(&format!("openclaw scrub {args:?}"), &o);
    }
    // The vault serves the key plan moved; stderr stays clean.
    let o = t.go(
        "resolve (sqlite key)",
        &["resolve", "--passphrase-file", pws],
        r#"{"protocolVersion":1,"ids":["main/openai:manual"]}"#,
        false,
    );
    ok("resolve", &o);
    assert!(contains(&o.stdout, SQL_KEY), "{}", show(&o));

    // Nothing at rest: every file under the home (vault, blobs, backups, journal,
    // OpenClaw's config and SQLite store with its -wal/-shm, the plan, the agent's
    // runtime dir) except the two passphrase files, which hold passphrases by design.
    assert!(db.exists());
    let mut seen = vec![];
    for f in files(h.tmp.path()) {
        if f == pw || f == h.tmp.path().join("pw") {
            continue;
        }
        seen.push(rel(h.tmp.path(), &f));
        let b = std::fs::read(&f).unwrap();
        if let Some(s) = holds(&b) {
            panic!("{s:?} at rest in {}", rel(h.tmp.path(), &f));
        }
    }
    eprintln!("checked {} files at rest: {seen:?}", seen.len());
}

fn rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}
