//! `doctor --format sarif` and columns: every finding points at the secret itself
//! (path, line, column in code points) in text, `--json` and a SARIF 2.1.0 log whose
//! rule ids are the finding codes, and no output carries secret material.
// Unix only: file modes.
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

fn write(p: &Path, text: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o600)).unwrap();
}

struct Host {
    h: Home,
    openai: String,
    groq: String,
}

fn host() -> Host {
    let h = Home::new();
    let openai = format!(
        "sk-proj-{}{}{}{}",
        random_suffix(),
        random_suffix(),
        random_suffix(),
        random_suffix()
    );
    let groq = format!(
        "gsk_{}{}{}",
        random_suffix(),
        random_suffix(),
        random_suffix()
    );
    // Line 3, after 15 characters.
    write(
        &h.state().join(".env"),
        &format!("# keys\nLOG_LEVEL=debug\nOPENAI_API_KEY={openai}\n"),
    );
    // Line 2; two-byte characters before the key count as one column each.
    write(
        &h.state().join("agents/main/sessions/s1.jsonl"),
        &format!("{{\"type\":\"session\"}}\n{{\"text\":\"clé été: {groq}\"}}\n"),
    );
    for d in [h.tmp.path().to_path_buf(), h.state()] {
        fs::create_dir_all(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
    }
    Host { h, openai, groq }
}

fn doctor(x: &Host, extra: &[&str]) -> (i32, String) {
    let out =
        x.h.cmd()
            .args(["doctor", "--no-progress", "--no-history"])
            .args(extra)
            .output()
            .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for s in [&x.openai, &x.groq] {
        assert!(!stdout.contains(s.as_str()) && !stderr.contains(s.as_str()));
        // Not even the middle of it.
        assert!(!stdout.contains(&s[8..s.len() - 8]));
    }
    (out.status.code().unwrap(), stdout)
}

/// The (line, column) where `needle` starts in `file`, in code points.
fn position(file: &Path, needle: &str) -> (i64, i64) {
    let text = fs::read_to_string(file).unwrap();
    for (i, line) in text.lines().enumerate() {
        if let Some(b) = line.find(needle) {
            return (i as i64 + 1, line[..b].chars().count() as i64 + 1);
        }
    }
    panic!("{needle} not in {}", file.display());
}

#[test]
fn sarif_points_at_each_secret_and_holds_no_secret() {
    let x = host();
    let (code, stdout) = doctor(&x, &["--format", "sarif"]);
    assert_eq!(code, 1, "{stdout}");
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // It is a SARIF 2.1.0 log the typed model reads back.
    serde_json::from_str::<serde_sarif::sarif::Sarif>(&stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif"));
    let run = &log["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i], id, "ruleIndex points at its rule");
        assert!(r["partialFingerprints"]["clawvault/v1"].is_string());
    }
    for (file, secret) in [
        (x.h.state().join(".env"), &x.openai),
        (x.h.state().join("agents/main/sessions/s1.jsonl"), &x.groq),
    ] {
        let (line, col) = position(&file, secret);
        let uri = format!("file://{}", file.display());
        let hit = results
            .iter()
            .find(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri.as_str()
            })
            .unwrap_or_else(|| panic!("no result for {uri}: {log:#}"));
        let region = &hit["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], line, "{hit:#}");
        assert_eq!(region["startColumn"], col, "{hit:#}");
        assert_eq!(hit["level"], "error");
    }
}

#[test]
fn json_and_text_carry_the_column_too() {
    let x = host();
    let (_, stdout) = doctor(&x, &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let env = x.h.state().join(".env");
    let (line, col) = position(&env, &x.openai);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == env.display().to_string().as_str())
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(
        (f["line"].as_i64(), f["column"].as_i64()),
        (Some(line), Some(col))
    );
    let (_, text) = doctor(&x, &[]);
    assert!(text.contains(&format!("line {line}:{col}: ")), "{text}");
    // --json and --format conflict rather than guess.
    let out =
        x.h.cmd()
            .args(["doctor", "--json", "--format", "sarif"])
            .output()
            .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
