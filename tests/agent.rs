//! The clawvault agent over a real Unix socket, driving the real binary.
// Unix only: the agent (Unix socket, peer uid, signals); not built on Windows yet.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clawvault::agent::client::Client;
use common::*;

const KEY: &str = "sk-or-v1-TESTONLY-agent-0123456789";

fn setup() -> (Home, PathBuf) {
    Home::age_with_key("openrouter", KEY)
}

fn socket_of(h: &Home) -> PathBuf {
    let (code, s) = h.agent_status();
    assert_eq!(code, 0, "{s}");
    PathBuf::from(s["socket"].as_str().unwrap())
}

#[test]
fn resolve_is_served_by_the_agent_without_a_passphrase() {
    let (h, pw) = setup();
    // Without the agent and without a source, resolve fails: the test below can fail.
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("agent: not running"));

    let pw_s = pw.to_str().unwrap().to_string();
    let _a = h.agent_run(&["--idle", "0", "--passphrase-file", &pw_s], |_| {});
    let o = h.resolve(&["main/openrouter:default", "main/nope:x"], |c| {
        c.current_dir("/");
    });
    let v = stdout_json(&o);
    assert_eq!(v["values"]["main/openrouter:default"], KEY);
    assert_eq!(v["errors"]["main/nope:x"]["code"], "NOT_FOUND");
    assert!(String::from_utf8_lossy(&o.stderr).contains("served by the agent"));
    let sock = socket_of(&h);
    assert_eq!(mode(&sock), 0o600);
    assert_eq!(mode(sock.parent().unwrap()), 0o700);
    let (_, s) = h.agent_status();
    assert_eq!(s["unlocked"], true);
    assert_eq!(
        s["unlockedBy"].as_str().unwrap(),
        format!("--passphrase-file {pw_s}")
    );
}

#[test]
fn start_daemonizes_is_single_instance_and_stop_removes_the_socket() {
    let (h, pw) = setup();
    h.agent_start_unlocked(&pw);
    let sock = socket_of(&h);
    let v = stdout_json(&h.resolve(&["main/openrouter:default"], |_| {}));
    assert_eq!(v["values"]["main/openrouter:default"], KEY);
    // A second start finds it; a second `agent run` is refused by the pid lock.
    let out = h.cmd().args(["agent", "start"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("already running"));
    let out = h.cmd().args(["agent", "run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("another clawvault agent already serves this vault"));
    assert!(
        sock.exists(),
        "a refused second instance must not remove the first one's socket"
    );
    h.cmd().args(["agent", "stop"]).assert().success();
    assert!(!sock.exists());
    let (code, s) = h.agent_status();
    assert_eq!(code, 3);
    assert_eq!(s["running"], false);
}

#[test]
fn idle_timeout_locks_the_agent() {
    let (h, pw) = setup();
    let a = h.agent_run(
        &["--idle", "1s", "--passphrase-file", pw.to_str().unwrap()],
        |_| {},
    );
    let v = stdout_json(&h.resolve(&["main/openrouter:default"], |_| {}));
    assert_eq!(v["values"]["main/openrouter:default"], KEY);
    std::thread::sleep(Duration::from_millis(2500));
    let (_, s) = h.agent_status();
    assert_eq!(s["unlocked"], false, "{s}");
    assert!(a.log_text().contains("locked (the identity was zeroized)"));
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("agent: running at") && err.contains("but locked"),
        "{err}"
    );
    // `clawvault unlock` hands it a passphrase again.
    h.cmd()
        .arg("unlock")
        .arg("--passphrase-file")
        .arg(&pw)
        .assert()
        .success();
    let v = stdout_json(&h.resolve(&["main/openrouter:default"], |_| {}));
    assert_eq!(v["values"]["main/openrouter:default"], KEY);
}

#[test]
fn two_hundred_concurrent_clients_get_correct_answers() {
    let (h, pw) = setup();
    for i in 0..8 {
        h.paste(
            "paste-api-key",
            &format!("p{i}"),
            None,
            &format!("secret-value-{i}"),
        );
    }
    let _a = h.agent_run(
        &["--idle", "0", "--passphrase-file", pw.to_str().unwrap()],
        |_| {},
    );
    let dir = h.vault();
    let id = h.vault_id();
    let threads: Vec<_> = (0..200)
        .map(|n| {
            let dir = dir.clone();
            let id = id.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(&dir, &id).expect("connect");
                let ids: Vec<String> = (0..8)
                    .filter(|i| (n + i) % 3 != 0)
                    .map(|i| format!("main/p{i}:default"))
                    .collect();
                let body = c.resolve(&ids).expect("resolve");
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                for i in 0..8 {
                    let k = format!("main/p{i}:default");
                    if (n + i) % 3 != 0 {
                        assert_eq!(v["values"][&k], format!("secret-value-{i}"), "client {n}");
                    } else {
                        assert!(v["values"].get(&k).is_none());
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn sigkill_leaves_resolve_falling_through_and_a_new_agent_replaces_the_stale_socket() {
    let (h, pw) = setup();
    let a = h.agent_run(
        &["--idle", "0", "--passphrase-file", pw.to_str().unwrap()],
        |_| {},
    );
    let sock = socket_of(&h);
    a.signal(libc::SIGKILL);
    drop(a);
    assert!(sock.exists(), "SIGKILL leaves the socket behind");
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        err.lines().count(),
        1,
        "exactly one line, as the exec protocol asks: {err}"
    );
    assert!(
        err.contains("agent: not running (socket") && err.contains("refused the connection"),
        "{err}"
    );
    // The next source serves it, and says so.
    let o = h.resolve(&["main/openrouter:default"], |c| {
        c.arg("--passphrase-file").arg(&pw);
    });
    let v = stdout_json(&o);
    assert_eq!(v["values"]["main/openrouter:default"], KEY);
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("served locally, unlocked from --passphrase-file"));
    let b = h.agent_run(
        &["--idle", "0", "--passphrase-file", pw.to_str().unwrap()],
        |_| {},
    );
    assert!(b.log_text().contains("replacing a stale socket"));
    let v = stdout_json(&h.resolve(&["main/openrouter:default"], |_| {}));
    assert_eq!(v["values"]["main/openrouter:default"], KEY);
}

#[test]
fn sigterm_exits_cleanly_and_removes_the_socket() {
    let (h, pw) = setup();
    let mut a = h.agent_run(&["--passphrase-file", pw.to_str().unwrap()], |_| {});
    let sock = socket_of(&h);
    a.signal(libc::SIGTERM);
    let st = a.child.wait().unwrap();
    assert!(st.success(), "{st}");
    assert!(!sock.exists());
    assert!(a.log_text().contains("SIGTERM"));
}

fn raw(sock: &PathBuf, line: &[u8]) -> serde_json::Value {
    let mut s = UnixStream::connect(sock).unwrap();
    let _ = s.write_all(line); // a refusing agent may close before reading it
    let mut r = BufReader::new(s);
    let mut out = String::new();
    r.read_line(&mut out).unwrap();
    serde_json::from_str(&out).unwrap()
}

#[test]
fn malformed_and_oversized_requests_get_errors_that_never_echo_them() {
    let (h, pw) = setup();
    let a = h.agent_run(
        &["--idle", "0", "--passphrase-file", pw.to_str().unwrap()],
        |_| {},
    );
    let sock = socket_of(&h);
    let secret = "sk-ant-api03-PASTED-BY-MISTAKE";
    for bad in [
        format!("{secret}\n"),
        format!("{{\"v\":\"{secret}\",\"op\":\"status\"}}\n"),
        format!("{{\"v\":1,\"op\":\"{secret}\"}}\n"),
        format!("{{\"v\":1,\"op\":\"resolve\",\"ids\":\"{secret}\"}}\n"),
        format!("{{\"v\":1,\"op\":\"unlock\",\"passphrase\":[\"{secret}\"]}}\n"),
    ] {
        let v = raw(&sock, bad.as_bytes());
        assert_eq!(v["ok"], false, "{v}");
        assert_eq!(v["v"], 1);
        assert!(!v.to_string().contains(secret), "{v}");
    }
    let v = raw(&sock, b"{\"v\":2,\"op\":\"status\"}\n");
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("unsupported protocol version 2"));
    let mut big = vec![b'x'; (1 << 20) + 10];
    big.push(b'\n');
    let v = raw(&sock, &big);
    assert_eq!(v["code"], "too_large");
    // A wrong passphrase is refused and the held identity stays.
    let v = raw(
        &sock,
        b"{\"v\":1,\"op\":\"unlock\",\"passphrase\":\"wrong one\"}\n",
    );
    assert_eq!(v["code"], "wrong_passphrase");
    let v = raw(&sock, b"{\"v\":1,\"op\":\"status\"}\n");
    assert_eq!(v["status"]["unlocked"], true);
    // Several requests on one connection.
    let mut s = UnixStream::connect(&sock).unwrap();
    s.write_all(b"{\"v\":1,\"op\":\"status\"}\n{\"v\":1,\"op\":\"resolve\",\"ids\":[\"main/openrouter:default\"]}\n").unwrap();
    let mut r = BufReader::new(s);
    let (mut l1, mut l2) = (String::new(), String::new());
    r.read_line(&mut l1).unwrap();
    r.read_line(&mut l2).unwrap();
    let v: serde_json::Value = serde_json::from_str(&l2).unwrap();
    assert_eq!(v["response"]["values"]["main/openrouter:default"], KEY);
    assert!(!a.log_text().contains(secret));
    assert!(!a.log_text().contains(KEY));
}

#[test]
fn sd_notify_ready_is_sent_when_notify_socket_is_set() {
    let (h, pw) = setup();
    let ns = h.tmp.path().join("notify.sock");
    let d = std::os::unix::net::UnixDatagram::bind(&ns).unwrap();
    d.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _a = h.agent_run(&["--passphrase-file", pw.to_str().unwrap()], |c| {
        c.env("NOTIFY_SOCKET", &ns);
    });
    let mut buf = [0u8; 256];
    let n = d.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]);
    assert!(msg.contains("READY=1"), "{msg}");
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn a_client_with_another_uid_is_refused_and_logged_without_its_payload() {
    if !is_root() {
        eprintln!("SKIPPED: needs root to run the agent as another uid (CI runs as root)");
        return;
    }
    if std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("setpriv (util-linux) is needed for this test");
    }
    let (h, pw) = setup();
    // The agent runs as uid 65534 over a vault it owns; root connects (root passes
    // the 0700/0600 file modes, so only the SO_PEERCRED check can refuse it).
    let st = std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(h.tmp.path())
        .status()
        .unwrap();
    assert!(st.success());
    let bin = assert_cmd::cargo::cargo_bin("clawvault");
    let log = h.tmp.path().join("nobody-agent.log");
    let child = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--",
        ])
        .arg(&bin)
        .args(["agent", "run", "--idle", "0", "--passphrase-file"])
        .arg(&pw)
        .env_clear()
        .env("HOME", h.tmp.path())
        .env("OPENCLAW_STATE_DIR", h.state())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut agent = AgentProc {
        child,
        log: log.clone(),
    };
    let child = &mut agent.child;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("serving vault")
    {
        if let Some(st) = child.try_wait().unwrap() {
            panic!(
                "agent as uid 65534 exited ({st}): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let sock = h.vault().join("agent.sock");
    // Root's client: refused before its request is read.
    let payload = "{\"v\":1,\"op\":\"unlock\",\"passphrase\":\"sk-PAYLOAD-MUST-NOT-BE-LOGGED\"}\n";
    let v = raw(&sock, payload.as_bytes());
    assert_eq!(v["ok"], false);
    assert_eq!(v["code"], "denied");
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("serves uid 65534 only"));
    let out = h
        .cmd()
        .args(["agent", "status", "--json"])
        .output()
        .unwrap();
    // root's CLI does not even trust a vault another uid owns (StrictModes), so it
    // never reaches that agent; the raw connection above proves the agent's own check.
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("owned by uid 65534"));
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("owned by uid 65534"));
    drop(agent);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("refused a connection from uid 0"), "{text}");
    assert!(!text.contains("PAYLOAD"), "{text}");
}

#[test]
fn keychain_vault_is_served_by_the_agent_with_no_identity() {
    if !secret_service_usable() {
        return;
    }
    let h = Home::new();
    let pw = h.pw_file("pw", "recovery passphrase");
    let mut c = h.cmd();
    pass_dbus(&mut c);
    c.args([
        "init",
        "--backend",
        "keychain",
        "--force-weak",
        "--kdf-memory-mib",
        "1",
        "--kdf-iterations",
        "1",
        "--passphrase-file",
    ])
    .arg(&pw)
    .assert()
    .success();
    let mut c = h.cmd();
    pass_dbus(&mut c);
    c.args([
        "models",
        "auth",
        "paste-api-key",
        "--provider",
        "openrouter",
        "--profile-id",
        "openrouter:default",
    ])
    .write_stdin(format!("{KEY}\n"))
    .assert()
    .success();
    let _a = h.agent_run(&["--idle", "0"], |c| {
        for var in ["DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME"] {
            if let Some(v) = std::env::var_os(var) {
                c.env(var, v);
            }
        }
    });
    // The resolver has no D-Bus address at all: only the agent can serve it.
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    let v = stdout_json(&o);
    assert_eq!(v["values"]["main/openrouter:default"], KEY);
    assert!(String::from_utf8_lossy(&o.stderr).contains("served by the agent"));
    let mut c = h.cmd();
    pass_dbus(&mut c);
    c.args(["models", "auth", "logout", "openrouter:default", "--yes"])
        .assert()
        .success();
}

#[test]
fn exec_is_served_by_the_agent_without_a_passphrase_and_fails_clearly_without_it() {
    let (h, pw) = setup();
    let exec = || {
        h.cmd()
            .current_dir(h.tmp.path())
            .args([
                "exec",
                "--",
                "sh",
                "-c",
                r#"echo RAN; printf %s "$OPENROUTER_API_KEY""#,
            ])
            .output()
            .unwrap()
    };
    let show = |o: &std::process::Output| {
        format!(
            "status {:?}\nstdout {}\nstderr {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    // No agent and no passphrase source: refused before the command runs.
    let o = exec();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        o.stdout.is_empty(),
        "the command must not run: {}",
        show(&o)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("could not unlock the vault") && err.contains("agent: not running"),
        "{}",
        show(&o)
    );

    // An unlocked agent serves the variable; nothing else unlocks the vault.
    let a = h.agent_run(
        &["--idle", "0", "--passphrase-file", pw.to_str().unwrap()],
        |_| {},
    );
    let o = exec();
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("RAN\n{KEY}"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("clawvault: exec: 1 entries served by the agent at")
            && err.contains(socket_of(&h).to_str().unwrap()),
        "{}",
        show(&o)
    );
    assert!(!err.contains(KEY), "{}", show(&o));

    // Locked: the error says the agent runs but is locked, and nothing runs.
    h.cmd().arg("lock").assert().success();
    let o = exec();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(o.stdout.is_empty(), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("agent: running at") && err.contains("but locked"),
        "{}",
        show(&o)
    );
    assert!(!err.contains(KEY), "{}", show(&o));

    // Stopped: back to "not running".
    drop(a);
    let o = exec();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(o.stdout.is_empty(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("agent: not running"),
        "{}",
        show(&o)
    );
}
