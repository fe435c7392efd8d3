//! A known secret goes through every command; it must never appear in argv or the
//! environment of clawvault, in stdout/stderr (except the resolver's response and a
//! child that `exec` asked to print it), in JSON output, in the journal, or in any
//! vault file in plaintext.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{files, Home};
use serde_json::json;

const S: &str = "sk-ant-api03-LEAKCHECK-7f3e9a1b2c4d5e6f";
const S2: &str = "gsk_LEAKCHECK_ENV_00112233445566";
const S3: &str = "sk-proj-LEAKCHECK-INLINE-8899aabbcc";

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn assert_clean(what: &str, out: &std::process::Output) {
    for s in [S, S2, S3] {
        assert!(!contains(&out.stdout, s), "{what}: secret in stdout");
        assert!(!contains(&out.stderr, s), "{what}: secret in stderr");
    }
}

#[test]
fn a_known_secret_never_leaks() {
    let h = Home::new();
    let pw = h.init_age();
    let bad = h.pw_file("bad", "wrong");

    // argv and environ of a clawvault process waiting for the secret on stdin.
    let mut child = h.cmd_std();
    child.args([
        "models",
        "auth",
        "paste-api-key",
        "--provider",
        "anthropic",
        "--profile-id",
        "anthropic:default",
    ]);
    let mut child = child
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(S.as_bytes())
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let pid = child.id();
    for f in ["cmdline", "environ"] {
        if let Ok(b) = std::fs::read(format!("/proc/{pid}/{f}")) {
            assert!(!contains(&b, S), "secret in /proc/{pid}/{f}");
        }
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_clean("paste-api-key", &out);

    // Inline material for migrate, and a .env for import-env.
    let mut doc = h.read_profiles();
    doc["profiles"]["openai:default"] = json!({"type":"api_key","provider":"openai","key":S3});
    std::fs::write(h.profiles(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let env = h.state().join(".env");
    std::fs::write(&env, format!("GROQ_API_KEY={S2}\nBROKEN_TOKEN=\"{S2}\n")).unwrap();

    let pwa = pw.to_str().unwrap();
    let runs: Vec<(Vec<&str>, &str)> = vec![
        (vec!["models", "auth", "list"], ""),
        (vec!["models", "auth", "list", "--json"], ""),
        (vec!["models", "status"], ""),
        (vec!["models", "status", "--json", "--check"], ""),
        (
            vec![
                "models",
                "auth",
                "order",
                "set",
                "--provider",
                "anthropic",
                "anthropic:default",
            ],
            "",
        ),
        (
            vec![
                "models",
                "auth",
                "order",
                "get",
                "--provider",
                "anthropic",
                "--json",
            ],
            "",
        ),
        (
            vec![
                "models",
                "auth",
                "paste-token",
                "--provider",
                "anthropic",
                "--expires-in",
                "1d",
            ],
            S,
        ),
        (
            vec!["models", "auth", "paste-api-key", "--provider", "x y"],
            S,
        ),
        (vec!["migrate", "--dry-run"], ""),
        (vec!["migrate", "--dry-run", "--json"], ""),
        (vec!["migrate", "--passphrase-file", pwa], ""),
        (vec!["import-env", "--passphrase-file", pwa], ""),
        (
            vec![
                "import-env",
                "--dry-run",
                "--json",
                "--passphrase-file",
                pwa,
            ],
            "",
        ),
        (
            vec![
                "identity",
                "export",
                "--passphrase-file",
                bad.to_str().unwrap(),
            ],
            "",
        ),
        (
            vec!["resolve"],
            "{\"protocolVersion\":1,\"ids\":[\"sk-ant-api03-LEAKCHECK-7f3e9a1b2c4d5e6f\"",
        ),
        (
            vec!["resolve", "--passphrase-file", pwa],
            "{\"protocolVersion\":3,\"ids\":[\"sk-ant-api03-LEAKCHECK-7f3e9a1b2c4d5e6f\"]}",
        ),
        (vec!["exec", "--passphrase-file", pwa, "--", "true"], ""),
        (
            vec!["exec", "--passphrase-file", pwa, "--", "/nonexistent/tool"],
            "",
        ),
        (
            vec!["models", "auth", "logout", "anthropic:manual", "--yes"],
            "",
        ),
    ];
    for (args, stdin) in &runs {
        let out = h.cmd().args(args).write_stdin(*stdin).output().unwrap();
        assert_clean(&args.join(" "), &out);
    }
    // The .env had a broken line: the import failed without echoing it; fix and retry.
    std::fs::write(&env, format!("GROQ_API_KEY={S2}\n")).unwrap();
    let out = h
        .cmd()
        .args(["import-env", "--passphrase-file", pwa])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_clean("import-env", &out);

    // The resolver's response is the one place a secret is printed.
    let out = h.cmd().args(["resolve", "--passphrase-file", pwa])
        .write_stdin(r#"{"protocolVersion":1,"ids":["main/anthropic:default","main/openai:default","main/groq:default"]}"#)
        .output().unwrap();
    for s in [S, S3, S2] {
        assert!(
            contains(&out.stdout, s),
            "resolve must serve every migrated secret"
        );
        assert!(!contains(&out.stderr, s));
    }
    // Nothing in plaintext at rest: profiles, .env, journal, vault files, backups.
    for f in files(h.tmp.path()) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name == "pw" || name == "bad" {
            continue;
        }
        let body = std::fs::read(&f).unwrap();
        for s in [S, S2, S3] {
            assert!(
                !contains(&body, s),
                "plaintext secret at rest in {}",
                f.display()
            );
        }
    }
}
