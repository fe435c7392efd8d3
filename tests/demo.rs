//! The README's first command stays true: `scripts/demo.sh` runs the main job on
//! the embedded default and fails if any planted credential is left in plaintext
//! outside the vault (here with the binary under test instead of a release build).

use std::process::Command;

#[test]
fn readme_demo_runs_the_main_job_and_leaves_no_plaintext() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{root}/scripts/demo.sh"))
        .env("CLAWVAULT_DEMO_BIN", env!("CARGO_BIN_EXE_clawvault"))
        .env_remove("OPENCLAW_STATE_DIR")
        .env_remove("CLAWVAULT_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left = stdout
        .split("== what is left in plaintext outside the vault (state dir and home)\n")
        .nth(1)
        .unwrap_or_default();
    assert!(left.starts_with("nothing\n"), "{stdout}");
    assert!(stdout.contains("moved       GROQ_API_KEY"), "{stdout}");
    // The exec answer carries the migrated values (the demo's fake ones).
    assert!(stdout.contains("\"main/groq:default\":\"gsk_Rt5Yw8Ln2Qz6Kp9Xv3"));
}
