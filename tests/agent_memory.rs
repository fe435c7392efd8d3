//! Memory hygiene of the clawvault agent (issue 7): after `clawvault lock` or the
//! idle timeout, a dump of the agent's whole address space (every readable mapping
//! in /proc/<pid>/maps, read through /proc/<pid>/mem) holds neither the identity (as
//! text or as its raw 32-byte key) nor any secret it resolved, nor the passphrase an
//! `unlock` request carried; and the agent has core dumps off and is not dumpable
//! (so same-uid processes cannot ptrace it or read its memory).
//!
//! A positive control comes first each time: while unlocked, the scan must find the
//! held identity, or a clean dump after locking would prove nothing.
//!
//! Reading a non-dumpable process's memory needs CAP_SYS_PTRACE: the dump tests run
//! as root (CI does) and are skipped loudly otherwise.
// Unix only: the agent (mlock, PR_SET_DUMPABLE, /proc); not built on Windows yet.
#![cfg(unix)]

mod common;

use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn skip_unless_root(what: &str) -> bool {
    if is_root() {
        return false;
    }
    eprintln!("SKIPPED: {what} reads the memory of a non-dumpable process and needs root (CI runs as root)");
    true
}

/// One readable mapping of the agent and what it held.
struct Region {
    start: u64,
    end: u64,
    perms: String,
    name: String,
    bytes: Vec<u8>,
}

/// Every readable mapping of a process.
struct Dump {
    regions: Vec<Region>,
    took: Duration,
}

impl Dump {
    /// Read every readable mapping listed in /proc/<pid>/maps through /proc/<pid>/mem.
    /// Only the kernel's special mappings ([vvar], [vsyscall]...) may fail to read;
    /// anything else failing means the scan would be blind, so it panics.
    fn take(pid: u32) -> Dump {
        let t = Instant::now();
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
        let mem = std::fs::File::open(format!("/proc/{pid}/mem"))
            .unwrap_or_else(|e| panic!("cannot open /proc/{pid}/mem: {e}"));
        let mut regions = vec![];
        for line in maps.lines() {
            let mut f = line.split_whitespace();
            let (range, perms) = (f.next().unwrap(), f.next().unwrap());
            let name = f.nth(3).unwrap_or("").to_string();
            if !perms.starts_with('r') {
                continue;
            }
            let (s, e) = range.split_once('-').unwrap();
            let start = u64::from_str_radix(s, 16).unwrap();
            let end = u64::from_str_radix(e, 16).unwrap();
            let mut bytes = vec![0u8; (end - start) as usize];
            let mut done = 0;
            let mut err = None;
            while done < bytes.len() {
                let chunk = (bytes.len() - done).min(1 << 20);
                match mem.read_at(&mut bytes[done..done + chunk], start + done as u64) {
                    Ok(0) => {
                        err = Some("short read".to_string());
                        break;
                    }
                    Ok(n) => done += n,
                    Err(e) => {
                        err = Some(e.to_string());
                        break;
                    }
                }
            }
            if let Some(e) = err {
                assert!(
                    name.starts_with("[v"),
                    "cannot read {range} {perms} {name} of pid {pid} at +{done:#x}: {e}"
                );
                continue;
            }
            regions.push(Region {
                start,
                end,
                perms: perms.to_string(),
                name,
                bytes,
            });
        }
        Dump {
            regions,
            took: t.elapsed(),
        }
    }

    fn total(&self) -> usize {
        self.regions.iter().map(|r| r.bytes.len()).sum()
    }

    /// Where `needle` occurs: one line per hit, naming the mapping and showing context.
    fn find(&self, needle: &[u8]) -> Vec<String> {
        let mut hits = vec![];
        for r in &self.regions {
            for off in memchr::memmem::find_iter(&r.bytes, needle) {
                let a = off.saturating_sub(24);
                let b = (off + needle.len() + 24).min(r.bytes.len());
                let ctx: String = r.bytes[a..b]
                    .iter()
                    .map(|&c| {
                        if c.is_ascii_graphic() || c == b' ' {
                            c as char
                        } else {
                            '.'
                        }
                    })
                    .collect();
                hits.push(format!(
                    "{:#x} in {:x}-{:x} {} {} (+{:#x}): {ctx:?}",
                    r.start + off as u64,
                    r.start,
                    r.end,
                    r.perms,
                    if r.name.is_empty() { "[anon]" } else { &r.name },
                    off
                ));
            }
        }
        hits
    }

    fn summary(&self) -> String {
        format!(
            "{} readable mappings, {} KiB, read in {} ms",
            self.regions.len(),
            self.total() / 1024,
            self.took.as_millis()
        )
    }
}

/// Decode the 32 raw key bytes of an `AGE-SECRET-KEY-1...` (Bech32) string.
fn identity_bytes(id: &str) -> Vec<u8> {
    const CHARSET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let lower = id.to_ascii_lowercase();
    let (_, data) = lower.rsplit_once('1').unwrap();
    let data = &data[..data.len() - 6]; // the checksum
    let (mut acc, mut bits, mut out) = (0u32, 0u32, vec![]);
    for c in data.chars() {
        acc = (acc << 5) | CHARSET.find(c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    assert_eq!(out.len(), 32, "an X25519 identity is 32 bytes");
    out
}

/// Each needle, and for the longer ones also their last 16 bytes: freeing a small
/// heap chunk overwrites its first 16 bytes with allocator metadata, which would
/// hide a freed copy from a whole-needle search.
fn with_tails(v: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    for (what, n) in v {
        if n.len() >= 32 {
            out.push((
                format!("{what} (its last 16 bytes)"),
                n[n.len() - 16..].to_vec(),
            ));
        }
        out.push((what, n));
    }
    out
}

/// A vault with several distinctive secrets, and the identity that opens it.
struct Fixture {
    h: Home,
    pw: PathBuf,
    /// The passphrase: a random core, and a quote and a backslash so the agent's
    /// JSON request parsing has to unescape it.
    passphrase: String,
    passphrase_core: String,
    /// (exec id, secret value)
    secrets: Vec<(String, String)>,
    identity: String,
}

fn fixture(n: usize) -> Fixture {
    let h = Home::new();
    let passphrase_core = format!("pwcore{}{}", random_suffix(), random_suffix());
    let passphrase = format!("my \"{passphrase_core}\" \\ é");
    let pw = h.pw_file("pw", &passphrase);
    h.cmd()
        .args(["init", "--backend", "age"])
        .args([
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
    let secrets: Vec<(String, String)> = (0..n)
        .map(|i| {
            let value = format!(
                "sk-cvmem{i}-{}{}{}",
                random_suffix(),
                random_suffix(),
                random_suffix()
            );
            let provider = format!("memprov{i}");
            h.paste("paste-api-key", &provider, None, &value);
            (format!("main/{provider}:default"), value)
        })
        .collect();
    let out = h
        .cmd()
        .args(["identity", "export", "--yes", "--passphrase-file"])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let identity = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("identity export prints the identity")
        .to_string();
    Fixture {
        h,
        pw,
        passphrase,
        passphrase_core,
        secrets,
        identity,
    }
}

impl Fixture {
    fn ids(&self) -> Vec<&str> {
        self.secrets.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// Resolve every secret through the agent (a few batches, with a missing id),
    /// checking the values.
    fn resolve_all(&self) {
        let ids = self.ids();
        let batches: Vec<Vec<&str>> = vec![
            ids.clone(),
            ids[..ids.len() / 2]
                .iter()
                .copied()
                .chain(["main/nothere:x"])
                .collect(),
            ids.iter().rev().copied().collect(),
        ];
        for batch in batches {
            let o = self.h.resolve(&batch, |_| {});
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("served by the agent"),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            for (id, value) in &self.secrets {
                if batch.contains(&id.as_str()) {
                    assert_eq!(v["values"][id], value.as_str());
                }
            }
        }
    }

    /// The needles that must be gone once the agent is locked: the identity (as
    /// printed, lowercased, its Bech32 data part, its raw 32 bytes), every value,
    /// the passphrase; each also by its last 16 bytes.
    fn needles(&self) -> Vec<(String, Vec<u8>)> {
        let data = self.identity.strip_prefix("AGE-SECRET-KEY-1").unwrap();
        let mut v = vec![
            (
                "the identity".to_string(),
                self.identity.as_bytes().to_vec(),
            ),
            (
                "the identity, lowercased".to_string(),
                self.identity.to_ascii_lowercase().into_bytes(),
            ),
            (
                "the identity's Bech32 data part".to_string(),
                data.as_bytes().to_vec(),
            ),
            (
                "the identity's Bech32 data part, lowercased".to_string(),
                data.to_ascii_lowercase().into_bytes(),
            ),
            (
                "the identity's raw 32 bytes".to_string(),
                identity_bytes(&self.identity),
            ),
        ];
        for (id, value) in &self.secrets {
            v.push((format!("the value of {id}"), value.as_bytes().to_vec()));
        }
        v.extend(self.passphrase_needles());
        with_tails(v)
    }

    /// The passphrase as typed, as sent over the socket (JSON-escaped), and its
    /// random core.
    fn passphrase_needles(&self) -> Vec<(String, Vec<u8>)> {
        with_tails(vec![
            (
                "the passphrase".to_string(),
                self.passphrase.as_bytes().to_vec(),
            ),
            (
                "the passphrase, JSON-escaped".to_string(),
                serde_json::to_string(&self.passphrase)
                    .unwrap()
                    .into_bytes(),
            ),
            (
                "the passphrase's random core".to_string(),
                self.passphrase_core.as_bytes().to_vec(),
            ),
        ])
    }

    fn status(&self) -> serde_json::Value {
        let (code, s) = self.h.agent_status();
        assert_eq!(code, 0, "{s}");
        s
    }

    /// While unlocked: the scanner must see the held identity (else a clean dump
    /// after locking proves nothing). Resolved values may or may not be left; that
    /// is only reported.
    fn positive_control(&self, pid: u32, when: &str) {
        let d = Dump::take(pid);
        eprintln!("{when}: unlocked dump: {}", d.summary());
        let hits = d.find(self.identity.as_bytes());
        assert!(
            !hits.is_empty(),
            "{when}: the unlocked agent's dump does not contain the identity: the scanner is blind ({})",
            d.summary()
        );
        eprintln!(
            "{when}: the identity is visible while unlocked ({} hit(s)): {}",
            hits.len(),
            hits.join("; ")
        );
        for (what, needle) in self.needles().iter().skip(1) {
            let hits = d.find(needle);
            eprintln!("{when}: while unlocked, {what}: {} hit(s)", hits.len());
            for h in hits {
                eprintln!("    {h}");
            }
        }
        assert_eq!(
            self.status()["unlocked"],
            true,
            "{when}: the agent locked itself during the positive control"
        );
    }

    /// Once locked: no needle anywhere.
    fn assert_clean(&self, pid: u32, when: &str) {
        let d = Dump::take(pid);
        eprintln!("{when}: locked dump: {}", d.summary());
        let mut leaks = vec![];
        for (what, needle) in self.needles() {
            for hit in d.find(&needle) {
                leaks.push(format!("{what} at {hit}"));
            }
        }
        assert!(
            leaks.is_empty(),
            "{when}: the locked agent's memory still holds secrets:\n  {}",
            leaks.join("\n  ")
        );
        eprintln!(
            "{when}: clean: none of {} needles in the dump",
            self.needles().len()
        );
    }
}

/// Wait for the idle lock by watching the log, not by asking the agent: requests
/// would run on its threads and could overwrite residue in their stacks.
fn wait_idle_locked(a: &AgentProc, within: Duration) {
    let deadline = Instant::now() + within;
    while !a.log_text().contains("locked (the identity was zeroized)") {
        assert!(
            Instant::now() < deadline,
            "the agent did not lock itself: {}",
            a.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn lock_leaves_neither_identity_nor_resolved_secrets_in_agent_memory() {
    if skip_unless_root("the memory dump test") {
        return;
    }
    let f = fixture(40);
    let a = f.h.agent_run(
        &["--idle", "0", "--passphrase-file", f.pw.to_str().unwrap()],
        |_| {},
    );
    let pid = a.child.id();

    // 1. Unlocked at start (--passphrase-file), a few resolve batches, `clawvault lock`.
    f.resolve_all();
    f.positive_control(pid, "start unlock");
    let out = f.h.cmd().arg("lock").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("agent: locked"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Dump first: every later request runs on the agent's threads and could
    // overwrite residue in their stacks, hiding it.
    f.assert_clean(pid, "after lock");
    assert_eq!(f.status()["unlocked"], false);
    let o = f.h.resolve(&f.ids(), |_| {});
    assert_eq!(o.status.code(), Some(1), "a locked agent serves nothing");

    // 2. Unlocked by a request (`clawvault unlock` sends the passphrase over the
    //    socket), resolve again, lock again.
    f.h.cmd()
        .arg("unlock")
        .arg("--passphrase-file")
        .arg(&f.pw)
        .assert()
        .success();
    // Before anything else runs in the agent (a later request could reuse and
    // overwrite freed buffers), the passphrase must already be gone.
    let d = Dump::take(pid);
    let mut leaks = vec![];
    for (what, needle) in f.passphrase_needles() {
        for hit in d.find(&needle) {
            leaks.push(format!("{what} at {hit}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "right after an unlock request, the agent's memory holds its passphrase:\n  {}",
        leaks.join("\n  ")
    );
    f.resolve_all();
    f.positive_control(pid, "unlock request");
    let out = f.h.cmd().arg("lock").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("agent: locked"));
    f.assert_clean(pid, "after the second lock");
    assert!(a.log_text().contains("locked on request"));
}

#[test]
fn idle_timeout_leaves_neither_identity_nor_resolved_secrets_in_agent_memory() {
    if skip_unless_root("the memory dump test") {
        return;
    }
    let f = fixture(5);
    let a = f.h.agent_run(
        &["--idle", "8s", "--passphrase-file", f.pw.to_str().unwrap()],
        |_| {},
    );
    let pid = a.child.id();
    f.resolve_all();
    f.positive_control(pid, "idle");
    wait_idle_locked(&a, Duration::from_secs(40));
    f.assert_clean(pid, "after the idle timeout");
    assert_eq!(f.status()["unlocked"], false);
    let o = f.h.resolve(&f.ids(), |_| {});
    assert_eq!(o.status.code(), Some(1), "a locked agent serves nothing");
}

/// Run as `uid` (via setpriv when we are root and `uid` is not).
fn as_uid(uid: u32, prog: &Path) -> std::process::Command {
    if uid == 0 || !is_root() {
        return std::process::Command::new(prog);
    }
    let mut c = std::process::Command::new("setpriv");
    c.arg("--reuid")
        .arg(uid.to_string())
        .arg("--regid")
        .arg(uid.to_string())
        .args(["--clear-groups", "--"])
        .arg(prog);
    c
}

#[test]
fn agent_has_core_dumps_off_and_is_not_dumpable() {
    let f = fixture(1);
    // As root, run the agent as another uid: root may read anything, so only an
    // unprivileged prober shows what ptrace protection does.
    // SAFETY: geteuid cannot fail.
    let uid = if is_root() {
        65534
    } else {
        unsafe { libc::geteuid() }
    };
    if is_root() {
        let st = std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(f.h.tmp.path())
            .status()
            .expect("chown");
        assert!(st.success());
    }
    let log = f.h.tmp.path().join("hardening-agent.log");
    let child = as_uid(uid, &assert_cmd::cargo::cargo_bin("clawvault"))
        .args(["agent", "run", "--idle", "0", "--passphrase-file"])
        .arg(&f.pw)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", f.h.tmp.path())
        .env("OPENCLAW_STATE_DIR", f.h.state())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut agent = AgentProc {
        child,
        log: log.clone(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !agent.log_text().contains("serving vault") {
        if let Some(st) = agent.child.try_wait().unwrap() {
            panic!("agent exited ({st}): {}", agent.log_text());
        }
        assert!(Instant::now() < deadline, "{}", agent.log_text());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !agent.log_text().contains("cannot harden"),
        "{}",
        agent.log_text()
    );
    let pid = agent.child.id();
    assert_eq!(
        std::fs::metadata(format!("/proc/{pid}")).unwrap().uid(),
        uid,
        "the agent runs as uid {uid}"
    );

    // RLIMIT_CORE 0, soft and hard: no core file, and it cannot be raised again.
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core limit line");
    let v: Vec<&str> = core["Max core file size".len()..]
        .split_whitespace()
        .collect();
    assert_eq!(&v[..2], &["0", "0"], "{core}");

    // PR_SET_DUMPABLE 0: the kernel makes the /proc/<pid> files of a non-dumpable
    // process owned by root (the files of a dumpable one belong to its uid).
    for file in ["mem", "environ", "maps"] {
        let owner = std::fs::metadata(format!("/proc/{pid}/{file}"))
            .unwrap()
            .uid();
        assert_eq!(
            owner, 0,
            "/proc/{pid}/{file} belongs to uid {owner}: the agent is dumpable"
        );
    }

    // And a process of the agent's own uid cannot open its memory, while it can
    // open the memory of its own dumpable child (the control: the refusal is the
    // agent's doing, not the prober's lack of rights). The child is the prober's
    // own, so Yama's ptrace_scope 1 allows it.
    let script = r#"
        sleep 30 & s=$!
        echo "control_owner=$(stat -c %u /proc/$s/mem)"
        if ( exec 3< /proc/$s/mem ) 2>/dev/null; then echo control=open; else echo control=refused; fi
        kill $s
        if ( exec 3< /proc/$1/mem ) 2>/dev/null; then echo agent=open; else echo agent=refused; fi
        if ( exec 3< /proc/$1/environ ) 2>/dev/null; then echo agent_environ=open; else echo agent_environ=refused; fi
    "#;
    let out = as_uid(uid, Path::new("/bin/sh"))
        .args(["-c", script, "sh"])
        .arg(pid.to_string())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    eprintln!("prober (uid {uid}): {}", said.replace('\n', " "));
    assert!(said.contains(&format!("control_owner={uid}")), "{said}");
    let yama = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .map(|s| s.trim().parse::<u32>().unwrap_or(0))
        .unwrap_or(0);
    if yama <= 1 {
        assert!(
            said.contains("control=open"),
            "a same-uid dumpable child should be readable: {said}"
        );
    } else {
        eprintln!("NOTE: Yama ptrace_scope {yama} refuses the control too; only the agent's refusal is checked");
    }
    assert!(said.contains("agent=refused"), "{said}");
    assert!(said.contains("agent_environ=refused"), "{said}");

    agent.signal(libc::SIGTERM);
    let _ = agent.child.wait();
}
