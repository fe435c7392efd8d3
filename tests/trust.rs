//! Trust boundaries (issue 14): every place clawvault trusts is checked the way
//! OpenSSH's StrictModes checks `~/.ssh`, and each finding of the attacker review has a
//! regression test named for it that attacks it for real.
//!
//! Tests that need another uid run as root (as CI does) and use uid 54321 through
//! `setpriv`; they print SKIPPED when not root.
// Unix only: uids, modes, sticky directories and Unix sockets (StrictModes).
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clawvault::backend::EntryName;
use common::Home;

const OTHER_UID: u32 = 54321;
const KEY: &str = "sk-proj-TRUSTtestKEY0123456789abcdefABCDEF";

fn is_root() -> bool {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() == 0 }
}

fn chmod(p: &Path, m: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
}

fn chown(p: &Path, uid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A home with an age vault holding one pasted key.
fn home_with_key() -> (Home, PathBuf) {
    let h = Home::new();
    let pw = h.init_age();
    h.paste("paste-api-key", "openai", None, KEY);
    (h, pw)
}

/// Every file below `dir` with its bytes and mtime: "nothing was written here".
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, i64)> {
    common::walk(dir)
        .into_iter()
        .filter_map(|p| {
            let m = fs::symlink_metadata(&p).ok()?;
            let bytes = if m.is_file() {
                fs::read(&p).unwrap_or_default()
            } else {
                vec![]
            };
            Some((p, bytes, m.mtime_nsec() + m.mtime() * 1_000_000_000))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Finding 1: agent socket spoofing.

/// A listener run as another uid: logs every line it is sent and answers every
/// request with a value it chose.
const HOSTILE_LISTENER: &str = r#"
use IO::Socket::UNIX;
my ($path, $log) = @ARGV;
unlink $path;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $path, Listen => 8) or die "bind: $!";
open(my $r, '>', "$path.ready"); close $r;
while (my $c = $s->accept) {
  my $l = <$c>;
  if (defined $l) { open(my $f, '>>', $log); print $f $l; close $f; }
  print $c '{"v":1,"ok":true,"status":{"pid":1,"vaultId":"x","backend":"age","unlocked":true,"needsIdentity":true,"idleSecs":0,"socket":"x"},"response":{"protocolVersion":1,"values":{"main/openai:default":"attacker-chosen"}}}' . "\n";
  close $c;
}
"#;

#[test]
fn agent_socket_spoofing_refused() {
    if !is_root() {
        eprintln!("SKIPPED agent_socket_spoofing_refused: needs root to act as another uid");
        return;
    }
    let (h, pw) = home_with_key();
    let id = h.vault_id();
    // A shared runtime directory (root-owned, sticky, world-writable, like /tmp)
    // where the other user got there first.
    chmod(h.tmp.path(), 0o755);
    let run = h.tmp.path().join("run");
    fs::create_dir(&run).unwrap();
    chmod(&run, 0o1777);
    let theirs = run.join("clawvault");
    fs::create_dir(&theirs).unwrap();
    chmod(&theirs, 0o700);
    chown(&theirs, OTHER_UID);
    let log = theirs.join("received.log");
    let sock = theirs.join(format!("{id}.sock"));
    let mut listener = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            &OTHER_UID.to_string(),
            "--regid",
            &OTHER_UID.to_string(),
            "--clear-groups",
            "/usr/bin/perl",
            "-e",
            HOSTILE_LISTENER,
        ])
        .arg(&sock)
        .arg(&log)
        .spawn()
        .expect("setpriv (util-linux) and perl are needed");
    let ready = PathBuf::from(format!("{}.ready", sock.display()));
    let t0 = Instant::now();
    while !ready.exists() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ready.exists(), "the hostile listener did not start");

    // `unlock` would hand the agent the passphrase: it must refuse the socket.
    let out = h
        .cmd()
        .env("XDG_RUNTIME_DIR", &run)
        .args(["unlock", "--passphrase-file"])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&theirs.display().to_string()), "{err}");
    // resolve must not serve the attacker's values, and still serves ours.
    let out = h.resolve(&["main/openai:default"], |c| {
        c.env("XDG_RUNTIME_DIR", &run)
            .arg("--passphrase-file")
            .arg(&pw);
    });
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(!body.contains("attacker-chosen"), "{body}");
    assert!(body.contains(KEY), "{body} / {}", stderr(&out));
    let _ = listener.kill();
    let _ = listener.wait();
    let got = fs::read_to_string(&log).unwrap_or_default();
    assert!(got.is_empty(), "the hostile listener received: {got}");
}

// ---------------------------------------------------------------------------
// Finding 2: vault.json (and the vault directory) of another user or writable by
// others is refused before it is read.

#[test]
fn vault_json_not_trusted_without_owner_and_mode_checks() {
    let (h, pw) = home_with_key();
    let manifest = h.vault().join("vault.json");
    // Group-writable vault directory: another member could have swapped the manifest.
    chmod(&h.vault(), 0o770);
    let out = h.resolve(&["main/openai:default"], |c| {
        c.arg("--passphrase-file").arg(&pw);
    });
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
    let err = stderr(&out);
    assert!(
        err.contains(&h.vault().display().to_string()) && err.contains("chmod go-w"),
        "{err}"
    );
    chmod(&h.vault(), 0o700);
    // A manifest writable by others.
    chmod(&manifest, 0o666);
    let out = h
        .cmd()
        .args(["models", "auth", "paste-api-key", "--provider", "groq"])
        .write_stdin("gsk_x\n")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("vault.json"), "{}", stderr(&out));
    chmod(&manifest, 0o600);
    if is_root() {
        // A manifest owned by another uid.
        chown(&manifest, OTHER_UID);
        let out = h.cmd().args(["models", "status"]).output().unwrap();
        let out2 = h.resolve(&["main/openai:default"], |c| {
            c.arg("--passphrase-file").arg(&pw);
        });
        assert!(!out2.status.success());
        assert!(
            stderr(&out2).contains("owned by uid 54321"),
            "{}",
            stderr(&out2)
        );
        let _ = out;
    }
}

// ---------------------------------------------------------------------------
// Finding 3: the migrate journal is not a guessing oracle.

#[test]
fn journal_is_not_a_guessing_oracle() {
    let h = Home::new();
    let pw = h.init_age();
    let env = h.state().join(".env");
    let original = "# daemon env\nADMIN_PASSWORD=letmein2024\nLOG_LEVEL=info\n";
    fs::write(&env, original).unwrap();
    chmod(&env, 0o600);
    h.cmd()
        .args(["import-env", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(original.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let raw = sha2::Sha256::digest(original.as_bytes());
    for f in common::files(h.tmp.path()) {
        let bytes = fs::read(&f).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&digest),
            "{} holds the SHA-256 of the original",
            f.display()
        );
        assert!(
            !bytes.windows(32).any(|w| w == raw.as_slice()),
            "{} holds the raw SHA-256 of the original",
            f.display()
        );
    }
    let journal = fs::read_to_string(h.vault().join("migrate-journal.json")).unwrap();
    // Keyed fingerprints only (`hmac-sha256:...`), never a plain digest field.
    assert!(!journal.contains("\"sha256\""), "{journal}");
    // And the journal still lets rollback restore the file byte for byte.
    h.cmd()
        .args(["migrate", "--rollback", "--passphrase-file"])
        .arg(&pw)
        .assert()
        .success();
    assert_eq!(fs::read_to_string(&env).unwrap(), original);
}

// ---------------------------------------------------------------------------
// Finding 4: exec injects only credential-named variables.

#[test]
fn exec_does_not_inject_loader_or_shell_variables() {
    let (h, pw) = home_with_key();
    let mut v = clawvault::vault::Vault::open(&h.vault()).unwrap();
    v.unlock_with_passphrase(&clawvault::secret::SecretString::from(
        "correct horse battery".to_string(),
    ))
    .unwrap();
    let b = v.backend().unwrap();
    for (name, val) in [
        ("env/BASH_ENV", "/tmp/pwned.sh"),
        ("env/LD_PRELOAD", "/tmp/evil.so"),
        ("env/NODE_OPTIONS", "--require /tmp/evil.js"),
        ("env/PYTHONSTARTUP", "/tmp/evil.py"),
        ("env/PATH", "/tmp/evil"),
        ("env/lower_case_token", "x"),
        ("env/FOO_API_KEY", "foo-value-123"),
    ] {
        b.set(&EntryName::new(name).unwrap(), val.as_bytes())
            .unwrap();
    }
    let out = h
        .cmd()
        .args(["exec", "--passphrase-file"])
        .arg(&pw)
        .args([
            "--",
            "/bin/sh",
            "-c",
            "echo \"B=${BASH_ENV-unset} L=${LD_PRELOAD-unset} N=${NODE_OPTIONS-unset} P=${PYTHONSTARTUP-unset} F=${FOO_API_KEY-unset} O=${OPENAI_API_KEY-unset}\"; case \"$PATH\" in /tmp/evil*) echo EVILPATH;; esac",
        ])
        .output()
        .unwrap();
    let o = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(o.contains("B=unset L=unset N=unset P=unset"), "{o}");
    assert!(o.contains("F=foo-value-123"), "{o}");
    assert!(o.contains(&format!("O={KEY}")), "{o}");
    assert!(!o.contains("EVILPATH"), "{o}");
}

// ---------------------------------------------------------------------------
// Finding 5: a swapped recipient is caught, not mistaken for a wrong passphrase.

#[test]
fn swapped_recipient_is_detected() {
    let (h, pw) = home_with_key();
    let manifest = h.vault().join("vault.json");
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    let attacker = age::x25519::Identity::generate().to_public().to_string();
    m["recipient"] = serde_json::Value::String(attacker);
    fs::write(&manifest, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    chmod(&manifest, 0o600);
    let out = h.resolve(&["main/openai:default"], |c| {
        c.arg("--passphrase-file").arg(&pw);
    });
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("recipient") && err.contains("altered"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Finding 6: blobs without the name stanza are not served.

#[test]
fn unnamed_blob_is_not_served() {
    let (h, pw) = home_with_key();
    let v = clawvault::vault::Vault::open(&h.vault()).unwrap();
    // A plain age file to the vault's recipient (what a backup is), copied in under
    // an entry's name.
    let blob = clawvault::backend::age::AgeBackend::encrypt(
        &v.recipient().unwrap(),
        b"WHOLE_DOT_ENV=1\nOTHER_SECRET=abc\n",
    )
    .unwrap();
    let name = EntryName::new("env/FOO_API_KEY").unwrap();
    let path = h
        .vault()
        .join("blobs")
        .join(clawvault::backend::age::blob_file_name(&name));
    fs::write(&path, blob).unwrap();
    chmod(&path, 0o600);
    let out = h.resolve(&["env/FOO_API_KEY"], |c| {
        c.arg("--passphrase-file").arg(&pw);
    });
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(!body.contains("WHOLE_DOT_ENV"), "{body}");
    assert!(body.contains("\"errors\""), "{body} {}", stderr(&out));
}

// ---------------------------------------------------------------------------
// Finding 7: exec children get no unlock material.

#[test]
fn exec_child_gets_no_unlock_material() {
    use std::os::unix::process::CommandExt;
    let (h, pw) = home_with_key();
    // The passphrase on fd 7, as a wrapper would pass it.
    let (r, w) = nix_pipe();
    fs::write(format!("/proc/self/fd/{w}"), b"correct horse battery\n").unwrap();
    // SAFETY: closing our copy of the write end.
    unsafe { libc::close(w) };
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("clawvault"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", h.tmp.path())
        .env("OPENCLAW_STATE_DIR", h.state())
        .env("BAO_TOKEN", "bao-token-value")
        .env("VAULT_TOKEN", "vault-token-value")
        .env("CLAWVAULT_PASSPHRASE_FILE", &pw)
        .args(["exec", "--passphrase-fd", "7", "--", "/bin/sh", "-c"])
        .arg("for f in 7; do [ -e /proc/$$/fd/$f ] && echo FD$f-OPEN; done; env");
    // SAFETY: dup2 in the child before exec.
    unsafe {
        c.pre_exec(move || {
            if libc::dup2(r, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = c.output().unwrap();
    // SAFETY: our read end.
    unsafe { libc::close(r) };
    let o = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!o.contains("FD7-OPEN"), "{o}");
    assert!(
        !o.contains("bao-token-value") && !o.contains("vault-token-value"),
        "{o}"
    );
    assert!(!o.contains("CLAWVAULT_PASSPHRASE_FILE"), "{o}");
    assert!(o.contains(KEY), "the child still gets the credential: {o}");
}

fn nix_pipe() -> (i32, i32) {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    (fds[0], fds[1])
}

// ---------------------------------------------------------------------------
// Finding 9: a hostile repo cannot hang or exhaust clawvault.

#[test]
fn hostile_repo_cannot_hang_or_exhaust_import_env() {
    let h = Home::new();
    let pw = h.init_age();
    let repo = h.tmp.path().join("repo");
    fs::create_dir(&repo).unwrap();
    // (a) .env.lock -> /dev/zero, a real .env.
    let env = repo.join(".env");
    fs::write(
        &env,
        "OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123\n",
    )
    .unwrap();
    chmod(&env, 0o600);
    std::os::unix::fs::symlink("/dev/zero", repo.join(".env.lock")).unwrap();
    let t0 = Instant::now();
    let out = h
        .cmd()
        .env("CLAWVAULT_LOCK_WAIT_MS", "500")
        .args(["import-env", "--passphrase-file"])
        .arg(&pw)
        .arg(&env)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "took {:?}",
        t0.elapsed()
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains(".env.lock"), "{}", stderr(&out));
    fs::remove_file(repo.join(".env.lock")).unwrap();
    // (b) .env is a FIFO nobody writes to.
    let fifo = repo.join("fifo.env");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = h
        .cmd()
        .args(["import-env", "--passphrase-file"])
        .arg(&pw)
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    // (c) a lock without createdAt that names a live pid (1) goes stale by its age.
    let lock = repo.join(".env.lock");
    fs::write(&lock, br#"{"pid":1}"#).unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(120);
    fs::File::options()
        .write(true)
        .open(&lock)
        .unwrap()
        .set_modified(old)
        .unwrap();
    h.cmd()
        .env("CLAWVAULT_LOCK_WAIT_MS", "500")
        .args(["import-env", "--passphrase-file"])
        .arg(&pw)
        .arg(&env)
        .timeout(Duration::from_secs(20))
        .assert()
        .success();
    assert!(!fs::read_to_string(&env).unwrap().contains("sk-proj-"));
}

// ---------------------------------------------------------------------------
// Finding 11: a hard-linked file is not "scrubbed" while its other name keeps the key.

#[test]
fn hard_linked_file_is_refused_before_a_scrub() {
    let h = Home::new();
    let pw = h.init_age();
    let dir = h.profiles().parent().unwrap().to_path_buf();
    fs::create_dir_all(&dir).unwrap();
    let doc = format!(
        r#"{{"version":1,"profiles":{{"openai:default":{{"type":"api_key","provider":"openai","key":"{KEY}"}}}}}}"#
    );
    fs::write(h.profiles(), &doc).unwrap();
    chmod(&h.profiles(), 0o600);
    let other = h.tmp.path().join("copy-of-profiles.json");
    fs::hard_link(h.profiles(), &other).unwrap();
    let out = h
        .cmd()
        .args(["migrate", "--passphrase-file"])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("hard links"), "{err}");
    assert!(!err.contains(KEY));
    assert_eq!(
        fs::read_to_string(h.profiles()).unwrap(),
        doc,
        "nothing half-done"
    );
}

// ---------------------------------------------------------------------------
// Finding 12: weak settings are refused unless forced.

#[test]
fn weak_kdf_and_short_passphrase_are_refused() {
    let h = Home::new();
    let weak = h.pw_file("weak", "a");
    let out = h
        .cmd()
        .args([
            "init",
            "--backend",
            "age",
            "--kdf-memory-mib",
            "1",
            "--kdf-iterations",
            "1",
            "--passphrase-file",
        ])
        .arg(&weak)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force-weak"), "{}", stderr(&out));
    assert!(!h.vault().join("vault.json").exists());
    // Strong KDF, short passphrase: still refused.
    let out = h
        .cmd()
        .args(["init", "--backend", "age", "--passphrase-file"])
        .arg(&weak)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("characters"), "{}", stderr(&out));
    // Forced: accepted, with a warning.
    let out = h
        .cmd()
        .args([
            "init",
            "--backend",
            "age",
            "--force-weak",
            "--kdf-memory-mib",
            "1",
            "--kdf-iterations",
            "1",
            "--passphrase-file",
        ])
        .arg(&weak)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------
// Finding 13: a request for another provider is not answered.

#[test]
fn request_for_another_provider_is_refused() {
    let (h, pw) = home_with_key();
    let out = h
        .cmd()
        .args(["resolve", "--passphrase-file"])
        .arg(&pw)
        .write_stdin(
            r#"{"protocolVersion":1,"provider":"evil-other-provider","ids":["main/openai:default"]}"#,
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
    assert!(
        stderr(&out).contains("evil-other-provider"),
        "{}",
        stderr(&out)
    );
    // The registered alias is answered.
    let out = h
        .cmd()
        .args(["resolve", "--passphrase-file"])
        .arg(&pw)
        .write_stdin(
            r#"{"protocolVersion":1,"provider":"clawvault","ids":["main/openai:default"]}"#,
        )
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(KEY));
}

// ---------------------------------------------------------------------------
// The general rule: every command against an untrusted state, vault or runtime dir.

#[derive(Clone, Copy, Debug)]
enum Attack {
    GroupWritable,
    OtherOwner,
    Symlinked,
}

#[derive(Clone, Copy, Debug)]
enum Place {
    State,
    Vault,
}

/// The commands a user or OpenClaw runs, each with its stdin.
fn commands(pw: &Path) -> Vec<(Vec<String>, &'static str)> {
    let pw = pw.display().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (s(&["models", "auth", "list"]), ""),
        (s(&["models", "status"]), ""),
        (
            s(&["models", "auth", "paste-api-key", "--provider", "groq"]),
            "gsk_trust_test_value\n",
        ),
        (
            s(&["models", "auth", "logout", "openai:default", "--yes"]),
            "",
        ),
        (
            s(&["resolve", "--passphrase-file", &pw]),
            r#"{"protocolVersion":1,"provider":"clawvault","ids":["main/openai:default"]}"#,
        ),
        (s(&["migrate", "--passphrase-file", &pw]), ""),
        (s(&["import-env", "--passphrase-file", &pw]), ""),
        (
            s(&["exec", "--passphrase-file", &pw, "--", "/bin/true"]),
            "",
        ),
        (s(&["unlock", "--passphrase-file", &pw]), ""),
        (s(&["identity", "recipient"]), ""),
        (
            s(&[
                "passwd",
                "--force-weak",
                "--passphrase-file",
                &pw,
                "--new-passphrase-file",
                &pw,
            ]),
            "",
        ),
    ]
}

#[test]
fn every_command_refuses_untrusted_state_and_vault_dirs() {
    let mut covered = 0;
    for place in [Place::State, Place::Vault] {
        for attack in [Attack::GroupWritable, Attack::OtherOwner, Attack::Symlinked] {
            if matches!(attack, Attack::OtherOwner) && !is_root() {
                eprintln!("SKIPPED {place:?}/{attack:?}: needs root");
                continue;
            }
            let (h, pw) = home_with_key();
            let target = match place {
                Place::State => h.state(),
                Place::Vault => h.vault(),
            };
            // What the command is pointed at, and the untrusted thing it must name.
            let (pointed, named) = match attack {
                Attack::GroupWritable => {
                    chmod(&target, 0o770);
                    (target.clone(), target.clone())
                }
                Attack::OtherOwner => {
                    chown(&target, OTHER_UID);
                    (target.clone(), target.clone())
                }
                Attack::Symlinked => {
                    let link = h.tmp.path().join(format!("{place:?}-link"));
                    std::os::unix::fs::symlink(&target, &link).unwrap();
                    (link.clone(), link)
                }
            };
            let before = snapshot(&target);
            for (args, stdin) in commands(&pw) {
                let mut c = h.cmd();
                match place {
                    Place::State => {
                        c.env("OPENCLAW_STATE_DIR", &pointed);
                        c.arg("--vault").arg(h.vault());
                    }
                    Place::Vault => {
                        c.arg("--vault").arg(&pointed);
                    }
                }
                let out = c.args(&args).write_stdin(stdin).output().unwrap();
                let err = stderr(&out);
                assert!(
                    !out.status.success(),
                    "{place:?}/{attack:?}: `{}` succeeded: {err}",
                    args.join(" ")
                );
                assert!(
                    err.contains(&named.display().to_string()),
                    "{place:?}/{attack:?}: `{}` did not name {}: {err}",
                    args.join(" "),
                    named.display()
                );
                assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
                covered += 1;
            }
            assert_eq!(
                before,
                snapshot(&target),
                "{place:?}/{attack:?}: something was written to the untrusted place"
            );
        }
    }
    eprintln!("trust suite: {covered} refused command runs");
}

#[test]
fn agent_refuses_an_untrusted_runtime_dir() {
    let (h, pw) = home_with_key();
    let mut covered = 0;
    for attack in [Attack::GroupWritable, Attack::OtherOwner, Attack::Symlinked] {
        if matches!(attack, Attack::OtherOwner) && !is_root() {
            eprintln!("SKIPPED runtime/{attack:?}: needs root");
            continue;
        }
        let real = h.tmp.path().join(format!("run-{attack:?}"));
        fs::create_dir(&real).unwrap();
        chmod(&real, 0o700);
        let pointed = match attack {
            Attack::GroupWritable => {
                chmod(&real, 0o770);
                real.clone()
            }
            Attack::OtherOwner => {
                chown(&real, OTHER_UID);
                real.clone()
            }
            Attack::Symlinked => {
                let link = h.tmp.path().join("run-link");
                std::os::unix::fs::symlink(&real, &link).unwrap();
                link
            }
        };
        let out = h
            .cmd()
            .env("XDG_RUNTIME_DIR", &pointed)
            .args(["agent", "run", "--passphrase-file"])
            .arg(&pw)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "runtime/{attack:?}: the agent started"
        );
        let err = stderr(&out);
        assert!(
            err.contains(&pointed.display().to_string()),
            "runtime/{attack:?}: {err}"
        );
        assert_eq!(
            fs::read_dir(&real).unwrap().count(),
            0,
            "runtime/{attack:?}: wrote there"
        );
        covered += 1;
    }
    eprintln!("trust suite: {covered} refused runtime dirs");
}

/// doctor is the one command that looks at an untrusted state dir: it reports it
/// (and --fix tightens it) instead of refusing, or nobody could repair it.
#[test]
fn doctor_reports_an_untrusted_state_dir_instead_of_refusing() {
    let h = Home::new();
    chmod(h.tmp.path(), 0o755);
    fs::create_dir_all(h.state()).unwrap();
    chmod(&h.state(), 0o770);
    let out = h.cmd().args(["doctor", "--no-progress"]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!text.contains("clawvault: error:"), "{text}");
    assert!(text.contains("perm.loose-permissions"), "{text}");
    // While every other command refuses it.
    let out = h.cmd().args(["models", "status"]).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("chmod go-w"), "{}", stderr(&out));
}
