//! `clawvault completions SHELL` and `clawvault man`: every generated script must be
//! accepted by the shell's own parser, and the man page must render.
//!
//! zsh, fish and groff are optional locally (the test says what it skipped);
//! `CLAWVAULT_REQUIRE_SHELLS=1` (CI) makes a missing one fail instead.

use std::io::Write;
use std::process::{Command, Stdio};

fn clawvault(args: &[&str]) -> Vec<u8> {
    let out = assert_cmd::Command::cargo_bin("clawvault")
        .unwrap()
        .env_clear()
        .current_dir("/")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "clawvault {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "clawvault {args:?} wrote to stderr");
    out.stdout
}

fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var("CLAWVAULT_REQUIRE_SHELLS").as_deref() != Ok("1"),
            "CLAWVAULT_REQUIRE_SHELLS=1 but `{tool}` is not installed"
        );
        eprintln!("skipping the {tool} check: `{tool}` is not installed");
    }
    found
}

/// Feed `script` to `shell` with `check_args` (a parse-only flag); true if it parses.
fn parses(shell: &str, check_args: &[&str], script: &[u8]) -> (bool, String) {
    let mut child = Command::new(shell)
        .args(check_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success() && out.stderr.is_empty(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SUBCOMMANDS: &[&str] = &["init", "models", "resolve", "doctor", "completions", "man"];

#[test]
fn generated_completion_scripts_parse_in_their_shells() {
    // (shell name for clawvault, interpreter, parse-only flags)
    let shells: &[(&str, &str, &[&str])] = &[
        ("bash", "bash", &["-n"]),
        ("zsh", "zsh", &["-n"]),
        ("fish", "fish", &["--no-execute"]),
    ];
    let mut checked = 0;
    for (name, interp, flags) in shells {
        let script = clawvault(&["completions", name]);
        let text = String::from_utf8(script.clone()).unwrap();
        for sub in SUBCOMMANDS {
            assert!(text.contains(sub), "{name} completions miss `{sub}`");
        }
        if !have(interp) {
            continue;
        }
        // The check itself must be able to fail: the same script with an unclosed
        // `if` appended is rejected.
        let mut broken = script.clone();
        broken.extend_from_slice(b"\nif true; then\n");
        let (ok, _) = parses(interp, flags, &broken);
        assert!(
            !ok,
            "{interp} {flags:?} accepted an unclosed `if`: the check proves nothing"
        );
        let (ok, err) = parses(interp, flags, &script);
        assert!(ok, "{interp} rejects `clawvault completions {name}`: {err}");
        checked += 1;
    }
    assert!(checked >= 1, "bash must always be available");
}

#[test]
fn unknown_shell_is_a_usage_error() {
    assert_cmd::Command::cargo_bin("clawvault")
        .unwrap()
        .args(["completions", "tcsh"])
        .assert()
        .failure()
        .code(1);
}

#[test]
fn man_page_is_roff_naming_every_command_and_renders() {
    let page = clawvault(&["man"]);
    let text = String::from_utf8(page.clone()).unwrap();
    assert!(text.contains(".TH clawvault 1"), "missing the .TH header");
    for sub in SUBCOMMANDS {
        assert!(text.contains(sub), "man page misses `{sub}`");
    }
    if have("groff") {
        let mut child = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&page).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "groff failed on the man page");
        assert!(
            out.stderr.is_empty(),
            "groff warnings: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
