//! `doctor` on a generated OpenClaw home: every planted credential kind is found at
//! the right file and line, no decoy is reported, and no output holds a secret.
//!
//! Secrets are built at run time from a prefix and random characters, so this file
//! holds nothing that looks like a real key.
// Unix only: file modes, symlinks and Unix host files.
#![cfg(unix)]

#[path = "../src/seeded.rs"]
mod seeded;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use clawvault::doctor::{self, AuditInput, DoctorArgs, FailOn, Severity};
use clawvault::secret::{secret_bytes, SecretString};
use clawvault::vault::{keywrap::KdfParams, BackendChoice, Vault};
use seeded::{digits, r};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const URLSAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &[u8] = b"0123456789abcdef";
const UPPER32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn b64url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// One of each kind, freshly random.
struct Secrets {
    anthropic: String,
    anthropic_oat: String,
    openai_proj: String,
    openai_legacy: String,
    openrouter: String,
    google: String,
    groq: String,
    xai: String,
    hf: String,
    ghp: String,
    github_pat: String,
    slack_bot: String,
    slack_app: String,
    telegram: String,
    discord: String,
    aws_id: String,
    aws_secret: String,
    jwt: String,
    oauth_refresh: String,
    google_refresh: String,
    gateway: String,
    db_password: String,
    flag_token: String,
    bearer: String,
    url_password: String,
    escaped_key: String,
    vault_copy: String,
}

impl Secrets {
    fn new() -> Secrets {
        Secrets {
            anthropic: format!("sk-ant-api03-{}AA", r(URLSAFE, 93)),
            anthropic_oat: format!("sk-ant-oat01-{}AA", r(URLSAFE, 93)),
            openai_proj: format!("sk-proj-{}", r(URLSAFE, 120)),
            openai_legacy: format!("sk-{}T3BlbkFJ{}", r(ALNUM, 20), r(ALNUM, 20)),
            openrouter: format!("sk-or-v1-{}", r(HEX, 64)),
            google: format!("AIza{}", r(URLSAFE, 35)),
            groq: format!("gsk_{}", r(ALNUM, 52)),
            xai: format!("xai-{}", r(ALNUM, 80)),
            hf: format!("hf_{}", r(ALNUM, 34)),
            ghp: format!("ghp_{}", r(ALNUM, 36)),
            github_pat: format!("github_pat_{}_{}", r(ALNUM, 22), r(ALNUM, 59)),
            slack_bot: format!("xoxb-{}-{}-{}", digits(12), digits(13), r(ALNUM, 24)),
            slack_app: format!(
                "xapp-1-A{}-{}-{}",
                r(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10),
                digits(13),
                r(HEX, 64)
            ),
            telegram: format!("{}:AA{}", digits(10), r(URLSAFE, 33)),
            discord: format!(
                "{}.{}.{}",
                b64url(&digits(19)),
                r(URLSAFE, 6),
                r(URLSAFE, 38)
            ),
            aws_id: format!("AKIA{}", r(UPPER32, 16)),
            aws_secret: r(ALNUM, 40),
            jwt: format!(
                "{}.{}.{}",
                b64url(r#"{"alg":"HS256","typ":"JWT"}"#),
                b64url(&format!(r#"{{"sub":"{}","exp":1900000000}}"#, r(ALNUM, 12))),
                r(URLSAFE, 43)
            ),
            oauth_refresh: r(URLSAFE, 64),
            google_refresh: format!("1//0{}", r(URLSAFE, 60)),
            gateway: r(HEX, 48),
            db_password: format!("Pw{}", r(ALNUM, 22)),
            flag_token: r(HEX, 48),
            bearer: r(ALNUM, 40),
            url_password: format!("Q{}", r(ALNUM, 19)),
            escaped_key: format!("sk-proj-{}", r(URLSAFE, 100)),
            vault_copy: format!("cv{}", r(ALNUM, 30)),
        }
    }
}

/// (file, 1-based line or None for binary, check id, the secret)
type Expect = (PathBuf, Option<u64>, &'static str, String);

struct Host {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    state: PathBuf,
    cwd: PathBuf,
    expect: Vec<Expect>,
    decoys: Vec<(PathBuf, u64)>,
    secrets: Vec<String>,
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// The 1-based line of the first line containing `needle`.
fn line_of(lines: &[String], needle: &str) -> u64 {
    1 + lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("fixture has no line with {needle:.12}")) as u64
}

fn exp(expect: &mut Vec<Expect>, p: &Path, lines: &[String], secret: &str, check: &'static str) {
    expect.push((
        p.to_path_buf(),
        Some(line_of(lines, secret)),
        check,
        secret.to_string(),
    ));
}

fn build_host() -> Host {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    let cwd = tmp.path().join("project");
    fs::create_dir_all(&cwd).unwrap();
    let s = Secrets::new();
    let mut expect: Vec<Expect> = Vec::new();
    let mut decoys: Vec<(PathBuf, u64)> = Vec::new();

    // auth-profiles.json (main): inline api_key and token, a SecretRef, an OAuth profile.
    let ap = state.join("agents/main/agent/auth-profiles.json");
    let ap_lines: Vec<String> = vec![
        "{".into(),
        r#"  "version": 1,"#.into(),
        r#"  "profiles": {"#.into(),
        format!(r#"    "anthropic:default": {{ "type": "api_key", "provider": "anthropic", "key": "{}" }},"#, s.anthropic),
        format!(r#"    "anthropic:manual": {{ "type": "token", "provider": "anthropic", "token": "{}", "expires": 1798761600000 }},"#, s.anthropic_oat),
        r#"    "openrouter:default": { "type": "api_key", "provider": "openrouter","#.into(),
        r#"      "keyRef": { "source": "exec", "provider": "clawvault", "id": "main/openrouter:default" } },"#.into(),
        r#"    "openai:me@example.com": { "type": "oauth", "provider": "openai","#.into(),
        format!(r#"      "access": "{}","#, s.jwt),
        format!(r#"      "refresh": "{}","#, s.oauth_refresh),
        r#"      "expires": 1751234567890, "email": "me@example.com", "accountId": "acct_123" }"#.into(),
        "  },".into(),
        r#"  "usageStats": { "anthropic:default": { "lastUsed": 1736160000000, "errorCount": 0 } }"#.into(),
        "}".into(),
    ];
    write_lines(&ap, &ap_lines);
    exp(
        &mut expect,
        &ap,
        &ap_lines,
        &s.anthropic,
        "plaintext.auth-profile",
    );
    exp(
        &mut expect,
        &ap,
        &ap_lines,
        &s.anthropic_oat,
        "plaintext.auth-profile",
    );
    // OAuth tokens are reported at the line where each value sits (issue 15).
    expect.push((ap.clone(), Some(9), "oauth.profile", String::new()));
    expect.push((ap.clone(), Some(10), "oauth.profile", String::new()));
    decoys.push((ap.clone(), 7));
    // Lines 9 and 10 carry only the oauth.profile findings expected above: every
    // other secret finding there would be unexpected (checked below).

    // An archive left by `openclaw doctor --fix`, in another agent.
    let arch = state.join(
        "agents/work/agent/auth-profiles.json.migrated-20260101T000000Z-3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
    );
    let arch_lines = vec![
        r#"{"version":1,"profiles":{"#.into(),
        format!(
            r#""openai:default":{{"type":"api_key","provider":"openai","key":"{}"}}"#,
            s.openai_proj
        ),
        "}}".into(),
    ];
    write_lines(&arch, &arch_lines);
    exp(
        &mut expect,
        &arch,
        &arch_lines,
        &s.openai_proj,
        "plaintext.auth-archive",
    );

    // Legacy single-agent auth.json and the OAuth store.
    let legacy = state.join("agent/auth.json");
    let legacy_lines = vec![
        "{".into(),
        format!(
            r#"  "groq": {{ "type": "api_key", "apiKey": "{}" }}"#,
            s.groq
        ),
        "}".into(),
    ];
    write_lines(&legacy, &legacy_lines);
    exp(
        &mut expect,
        &legacy,
        &legacy_lines,
        &s.groq,
        "plaintext.legacy-auth",
    );
    let oauth = state.join("credentials/oauth.json");
    let oauth_lines = vec![
        "{".into(),
        r#"  "google-gemini-cli": {"#.into(),
        format!(
            r#"    "access": "ya29.{}", "refresh": "{}", "expires": 1751234567890 }}"#,
            r(URLSAFE, 40),
            s.google_refresh
        ),
        "}".into(),
    ];
    write_lines(&oauth, &oauth_lines);
    expect.push((oauth.clone(), Some(3), "oauth.profile", String::new()));
    expect.push((oauth.clone(), Some(3), "oauth.profile", String::new()));

    // openclaw.json: provider key, gateway token, channel tokens; decoys: env template, SecretRef.
    let cfg = state.join("openclaw.json");
    let cfg_lines: Vec<String> = vec![
        "{".into(),
        r#"  "models": { "providers": {"#.into(),
        format!(r#"    "openrouter": {{ "baseUrl": "https://openrouter.ai/api/v1", "apiKey": "{}" }},"#, s.openrouter),
        r#"    "openai": { "apiKey": "${OPENAI_API_KEY}" },"#.into(),
        r#"    "anthropic": { "apiKey": { "source": "exec", "provider": "clawvault", "id": "main/anthropic:default" } }"#.into(),
        "  } },".into(),
        format!(r#"  "gateway": {{ "auth": {{ "mode": "token", "token": "{}" }} }},"#, s.gateway),
        r#"  "channels": {"#.into(),
        format!(r#"    "telegram": {{ "botToken": "{}" }},"#, s.telegram),
        format!(r#"    "discord": {{ "token": "{}" }},"#, s.discord),
        format!(r#"    "slack": {{ "botToken": "{}", "appToken": "{}" }}"#, s.slack_bot, s.slack_app),
        "  }".into(),
        "}".into(),
    ];
    write_lines(&cfg, &cfg_lines);
    exp(
        &mut expect,
        &cfg,
        &cfg_lines,
        &s.openrouter,
        "plaintext.config",
    );
    exp(
        &mut expect,
        &cfg,
        &cfg_lines,
        &s.gateway,
        "plaintext.config",
    );
    exp(
        &mut expect,
        &cfg,
        &cfg_lines,
        &s.telegram,
        "plaintext.config",
    );
    exp(
        &mut expect,
        &cfg,
        &cfg_lines,
        &s.discord,
        "plaintext.config",
    );
    exp(
        &mut expect,
        &cfg,
        &cfg_lines,
        &s.slack_bot,
        "plaintext.config",
    );
    expect.push((
        cfg.clone(),
        Some(11),
        "plaintext.config",
        s.slack_app.clone(),
    ));
    decoys.push((cfg.clone(), 4));
    decoys.push((cfg.clone(), 5));

    // Generated models.json.
    let models = state.join("agents/main/agent/models.json");
    let models_lines = vec![
        "{".into(),
        format!(
            r#"  "providers": {{ "xai": {{ "apiKey": "{}", "api": "openai-completions" }} }}"#,
            s.xai
        ),
        "}".into(),
    ];
    write_lines(&models, &models_lines);
    exp(
        &mut expect,
        &models,
        &models_lines,
        &s.xai,
        "plaintext.models-json",
    );

    // <state>/.env, world-readable; decoys between.
    let env = state.join(".env");
    let env_lines = vec![
        "# OpenClaw daemon env".into(),
        format!("HF_TOKEN={}", s.hf),
        "OPENAI_API_KEY=YOUR_API_KEY".into(),
        format!("export GITHUB_TOKEN={}", s.ghp),
        "ANTHROPIC_API_KEY=sk-ant-...".into(),
        format!("AWS_ACCESS_KEY_ID={}", s.aws_id),
        format!("AWS_SECRET_ACCESS_KEY={}", s.aws_secret),
        "GROQ_API_KEY=<your-key>".into(),
        format!("DB_PASSWORD=\"{}\"", s.db_password),
        "XAI_API_KEY=${XAI_API_KEY}".into(),
    ];
    write_lines(&env, &env_lines);
    fs::set_permissions(&env, fs::Permissions::from_mode(0o644)).unwrap();
    for sec in [&s.hf, &s.ghp, &s.aws_id, &s.aws_secret, &s.db_password] {
        exp(&mut expect, &env, &env_lines, sec, "plaintext.env-file");
    }
    for l in [1, 3, 5, 8, 10] {
        decoys.push((env.clone(), l));
    }

    // A session transcript: JSONL, secrets inside escaped JSON and prose.
    let tr = state.join("agents/main/sessions/3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b.jsonl");
    let mut tr_lines: Vec<String> = Vec::new();
    for i in 0..40 {
        tr_lines.push(format!(
            r#"{{"type":"message","id":"{}","message":{{"role":"assistant","content":[{{"type":"text","text":"step {i}: reading the key file and counting tokens"}}],"usage":{{"input_tokens":{},"output_tokens":12}}}}}}"#,
            uuid(),
            1000 + i
        ));
    }
    let tr_secret_lines = vec![
        format!(
            r#"{{"type":"toolResult","content":"{{\"apiKey\": \"{}\", \"note\": \"ok\"}}"}}"#,
            s.escaped_key
        ),
        format!(
            r#"{{"type":"message","text":"use this one:\n{}\nthanks"}}"#,
            s.openai_legacy
        ),
        format!(
            r#"{{"type":"message","text":"my Gemini key is {} ok"}}"#,
            s.google
        ),
        format!(
            r#"{{"type":"toolCall","args":{{"command":"git clone https://x:{}@github.com/acme/app"}}}}"#,
            s.github_pat
        ),
        format!(
            r#"{{"type":"toolCall","args":{{"command":"psql postgres://app:{}@db.internal:5432/app"}}}}"#,
            s.url_password
        ),
        format!(
            r#"{{"type":"toolCall","args":{{"command":"curl -H 'Authorization: Bearer {}' https://api.example.com"}}}}"#,
            s.jwt
        ),
    ];
    tr_lines.extend(tr_secret_lines);
    let tr_decoys = [
        r#"{"type":"message","text":"set ANTHROPIC_API_KEY=sk-ant-api03-... in your env"}"#.to_string(),
        r#"{"type":"message","text":"the key looks like sk-ab…yz or ****"}"#.to_string(),
        format!(r#"{{"type":"message","sha256":"{}","token":"{}"}}"#, r(HEX, 64), uuid()),
        format!(r#"{{"type":"message","checksum":"{}","text":"commit {}"}}"#, r(HEX, 40), r(HEX, 40)),
        r#"{"type":"message","apiKey":{"source":"env","provider":"default","id":"OPENAI_API_KEY"}}"#.to_string(),
        r#"{"type":"message","text":"export OPENAI_API_KEY=\"<your-key>\" and AUTH_TOKEN=changeme-please-1234"}"#.to_string(),
    ];
    let first_decoy = tr_lines.len() as u64 + 1;
    tr_lines.extend(tr_decoys.iter().cloned());
    write_lines(&tr, &tr_lines);
    for (sec, check) in [
        (&s.escaped_key, "plaintext.transcript"),
        (&s.openai_legacy, "plaintext.transcript"),
        (&s.google, "plaintext.transcript"),
        (&s.github_pat, "plaintext.transcript"),
        (&s.url_password, "plaintext.transcript"),
    ] {
        exp(&mut expect, &tr, &tr_lines, sec, check);
    }
    // The JWT here is a bearer token; the same JWT in the OAuth profile is not reported.
    exp(&mut expect, &tr, &tr_lines, &s.jwt, "plaintext.transcript");
    for i in 0..tr_decoys.len() as u64 {
        decoys.push((tr.clone(), first_decoy + i));
    }
    for i in 1..=40 {
        decoys.push((tr.clone(), i));
    }

    // A gateway log: Bearer header, --token flag, a copy of a vault secret.
    let log = state.join("logs/gateway.log");
    let log_lines = vec![
        "2026-01-01T00:00:00Z gateway starting".into(),
        format!(
            "2026-01-01T00:00:01Z upstream request Authorization: Bearer {}",
            s.bearer
        ),
        format!(
            "2026-01-01T00:00:02Z spawned: openclaw gateway --port 18789 --token {}",
            s.flag_token
        ),
        format!("2026-01-01T00:00:03Z resolved secret {}", s.vault_copy),
        "2026-01-01T00:00:04Z sessionId=3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b".into(),
    ];
    write_lines(&log, &log_lines);
    exp(&mut expect, &log, &log_lines, &s.bearer, "plaintext.log");
    exp(
        &mut expect,
        &log,
        &log_lines,
        &s.flag_token,
        "plaintext.log",
    );
    exp(
        &mut expect,
        &log,
        &log_lines,
        &s.vault_copy,
        "vault.secret-copy",
    );
    decoys.push((log.clone(), 1));
    decoys.push((log.clone(), 5));

    // SQLite store and its -wal: raw bytes, no line numbers.
    let db = state.join("state/openclaw.sqlite");
    fs::create_dir_all(db.parent().unwrap()).unwrap();
    let mut page = b"SQLite format 3\0".to_vec();
    page.extend(vec![0u8; 4000]);
    page.extend(
        format!(
            r#"{{"version":1,"profiles":{{"anthropic:default":{{"type":"api_key","key":"{}"}}}}}}"#,
            s.anthropic
        )
        .as_bytes(),
    );
    page.extend(vec![0u8; 3000]);
    fs::write(&db, &page).unwrap();
    let mut wal = vec![0x37u8, 0x7f, 0x06, 0x82];
    wal.extend(vec![0u8; 500]);
    wal.extend(format!("\x01\x02\"token\":\"{}\"\0", s.anthropic_oat).as_bytes());
    fs::write(state.join("state/openclaw.sqlite-wal"), &wal).unwrap();
    expect.push((db.clone(), None, "plaintext.sqlite", s.anthropic.clone()));
    expect.push((
        state.join("state/openclaw.sqlite-wal"),
        None,
        "plaintext.sqlite",
        s.anthropic_oat.clone(),
    ));

    // Shell history.
    let hist = home.join(".bash_history");
    let hist_lines = vec![
        "ls -la".into(),
        format!("export OPENROUTER_API_KEY={}", s.openrouter),
        "cd ~/.openclaw".into(),
        format!("openclaw gateway --token {}", s.gateway),
        format!(
            "curl -H \"Authorization: Bearer {}\" https://api.x.ai/v1/models",
            s.xai
        ),
        "git status".into(),
    ];
    write_lines(&hist, &hist_lines);
    fs::set_permissions(&hist, fs::Permissions::from_mode(0o600)).unwrap();
    for sec in [&s.openrouter, &s.gateway, &s.xai] {
        exp(
            &mut expect,
            &hist,
            &hist_lines,
            sec,
            "plaintext.shell-history",
        );
    }

    // systemd user unit, drop-in, launchd plist.
    let unit = home.join(".config/systemd/user/openclaw-gateway.service");
    let unit_lines = vec![
        "[Service]".into(),
        "ExecStart=/usr/bin/openclaw gateway".into(),
        format!("Environment=\"ANTHROPIC_API_KEY={}\"", s.anthropic),
        "Environment=OPENAI_API_KEY=${OPENAI_API_KEY}".into(),
    ];
    write_lines(&unit, &unit_lines);
    exp(
        &mut expect,
        &unit,
        &unit_lines,
        &s.anthropic,
        "plaintext.service-unit",
    );
    decoys.push((unit.clone(), 4));
    let dropin = home.join(".config/systemd/user/openclaw-gateway.service.d/override.conf");
    let dropin_lines = vec![
        "[Service]".into(),
        format!("Environment=OPENCLAW_GATEWAY_TOKEN={}", s.flag_token),
    ];
    write_lines(&dropin, &dropin_lines);
    exp(
        &mut expect,
        &dropin,
        &dropin_lines,
        &s.flag_token,
        "plaintext.service-unit",
    );
    let plist = home.join("Library/LaunchAgents/ai.openclaw.gateway.plist");
    let plist_lines = vec![
        "<dict>".into(),
        "  <key>EnvironmentVariables</key>".into(),
        "  <dict>".into(),
        "    <key>TELEGRAM_BOT_TOKEN</key>".into(),
        format!("    <string>{}</string>", s.telegram),
        "    <key>SLACK_SIGNING_SECRET</key>".into(),
        format!("    <string>{}</string>", s.db_password),
        "  </dict>".into(),
        "</dict>".into(),
    ];
    write_lines(&plist, &plist_lines);
    exp(
        &mut expect,
        &plist,
        &plist_lines,
        &s.telegram,
        "plaintext.service-unit",
    );
    exp(
        &mut expect,
        &plist,
        &plist_lines,
        &s.db_password,
        "plaintext.service-unit",
    );

    // .env in the working directory.
    let cwd_env = cwd.join(".env.local");
    let cwd_env_lines = vec![
        "NODE_ENV=development".into(),
        format!("SLACK_BOT_TOKEN={}", s.slack_bot),
    ];
    write_lines(&cwd_env, &cwd_env_lines);
    exp(
        &mut expect,
        &cwd_env,
        &cwd_env_lines,
        &s.slack_bot,
        "plaintext.env-file",
    );
    decoys.push((cwd_env.clone(), 1));

    for d in [&state, &state.join("agents"), &state.join("credentials")] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o700)).unwrap();
    }
    fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();

    let secrets = vec![
        s.anthropic,
        s.anthropic_oat,
        s.openai_proj,
        s.openai_legacy,
        s.openrouter,
        s.google,
        s.groq,
        s.xai,
        s.hf,
        s.ghp,
        s.github_pat,
        s.slack_bot,
        s.slack_app,
        s.telegram,
        s.discord,
        s.aws_id,
        s.aws_secret,
        s.jwt,
        s.oauth_refresh,
        s.google_refresh,
        s.gateway,
        s.db_password,
        s.flag_token,
        s.bearer,
        s.url_password,
        s.escaped_key,
        s.vault_copy,
    ];
    Host {
        _tmp: tmp,
        home,
        state,
        cwd,
        expect,
        decoys,
        secrets,
    }
}

fn uuid() -> String {
    format!(
        "{}-{}-4{}-8{}-{}",
        r(HEX, 8),
        r(HEX, 4),
        r(HEX, 3),
        r(HEX, 3),
        r(HEX, 12)
    )
}

fn args_for(h: &Host) -> DoctorArgs {
    DoctorArgs {
        home: Some(h.home.clone()),
        cwd: Some(h.cwd.clone()),
        no_progress: true,
        ..DoctorArgs::default()
    }
}

fn vault_copy_secret(h: &Host) -> clawvault::secret::SecretBytes {
    secret_bytes(h.secrets.last().unwrap().as_bytes().to_vec())
}

#[test]
fn every_planted_kind_found_at_its_line_and_no_decoy() {
    let h = build_host();
    let args = args_for(&h);
    let secrets = [vault_copy_secret(&h)];
    let input = AuditInput {
        args: &args,
        state_dir: &h.state,
        vault_dir: None,
        vault_secrets: &secrets,
    };
    let report = doctor::audit(&input, &Default::default()).unwrap();
    let show =
        |f: &doctor::Finding| format!("{}:{:?} {} {}", f.path, f.line, f.check_id, f.message);

    let mut matched = BTreeSet::new();
    for (path, line, check, _secret) in &h.expect {
        let preview = doctor::detect::redact(_secret.as_bytes());
        let i = (0..report.findings.len())
            .find(|&i| {
                let f = &report.findings[i];
                f.abs_path == *path
                    && f.line == *line
                    && f.check_id == *check
                    && (_secret.is_empty() || f.message.contains(&preview))
                    && !matched.contains(&i)
            })
            .unwrap_or_else(|| {
                panic!(
                    "no {check} at {}:{line:?}; findings:\n{}",
                    path.display(),
                    report
                        .findings
                        .iter()
                        .map(show)
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            });
        matched.insert(i);
    }
    // Every secret finding is one of the planted ones: no decoy, no duplicate.
    for (i, f) in report.findings.iter().enumerate() {
        let secretish = f.check_id.starts_with("plaintext.")
            || f.check_id.starts_with("vault.")
            || f.check_id == "oauth.profile";
        if secretish {
            assert!(matched.contains(&i), "unexpected finding {}", show(f));
        }
        for (p, l) in &h.decoys {
            assert!(
                !(f.abs_path == *p && f.line == Some(*l) && secretish),
                "decoy reported: {}",
                show(f)
            );
        }
    }
    // OAuth profiles are their own kind, and not errors when the file is private.
    let oauth: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "oauth.profile")
        .collect();
    assert_eq!(oauth.len(), 4);
    // Loose permissions: the state dir (0755) and the .env (0644).
    for p in [h.state.clone(), h.state.join(".env")] {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.abs_path == p && f.check_id == "perm.loose-permissions"),
            "no permission finding for {}",
            p.display()
        );
    }
    // What needs `clawvault migrate` / `import-env`.
    let kinds: BTreeSet<String> = report
        .needs_migration
        .iter()
        .map(|m| {
            format!(
                "{:?}:{}",
                m.kind,
                m.path.file_name().unwrap().to_string_lossy()
            )
        })
        .collect();
    assert!(
        kinds.contains("AuthProfiles:auth-profiles.json"),
        "{kinds:?}"
    );
    assert!(kinds.contains("EnvFile:.env"), "{kinds:?}");
    assert!(kinds.contains("EnvFile:.env.local"), "{kinds:?}");
}

#[test]
fn no_output_holds_a_secret_and_exit_codes() {
    let h = build_host();
    for json in [false, true] {
        let mut args = args_for(&h);
        args.json = json;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let secrets = [vault_copy_secret(&h)];
        let code = doctor::run_with(
            &args,
            &h.state,
            None,
            &secrets,
            &mut |_| false,
            &mut out,
            &mut err,
        )
        .unwrap();
        assert_eq!(code, 1);
        let text = String::from_utf8(out).unwrap() + &String::from_utf8(err).unwrap();
        for s in &h.secrets {
            assert!(!text.contains(s.as_str()), "output holds a secret ({json})");
            // Not even a long piece of it.
            let mid = &s[s.len() / 2 - 5..s.len() / 2 + 5];
            assert!(
                !text.contains(mid),
                "output holds part of a secret ({json})"
            );
        }
        if json {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let f = &v["findings"][0];
            for k in ["checkId", "severity", "message", "path", "line", "fixHint"] {
                assert!(f.get(k).is_some(), "finding lacks {k}");
            }
        } else {
            assert!(text.contains("ERROR ("));
            assert!(text.contains("fix: "));
            // Redacted previews: first and last few characters.
            let a = &h.secrets[0];
            assert!(text.contains(&format!("{}…{}", &a[..6], &a[a.len() - 4..])));
        }
    }
    // --fail-on error with only warnings/info left is clean; never is always 0.
    let mut args = args_for(&h);
    args.fail_on = FailOn::Never;
    let code = doctor::run(&args, &h.state, None, &mut Vec::new(), &mut Vec::new()).unwrap();
    assert_eq!(code, 0);

    // A clean host exits 0.
    let clean = tempfile::tempdir().unwrap();
    let st = clean.path().join(".openclaw");
    fs::create_dir_all(&st).unwrap();
    fs::set_permissions(&st, fs::Permissions::from_mode(0o700)).unwrap();
    let args = DoctorArgs {
        home: Some(clean.path().to_path_buf()),
        cwd: Some(clean.path().to_path_buf()),
        no_progress: true,
        ..DoctorArgs::default()
    };
    let mut out = Vec::new();
    assert_eq!(
        doctor::run(&args, &st, None, &mut out, &mut Vec::new()).unwrap(),
        0
    );
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("No problems found."));

    // A broken baseline makes the audit fail (exit 2 in the CLI).
    let bad = clean.path().join("baseline.json");
    fs::write(&bad, "not json").unwrap();
    let args = DoctorArgs {
        baseline: Some(bad),
        ..args
    };
    assert!(doctor::run(&args, &st, None, &mut Vec::new(), &mut Vec::new()).is_err());
}

#[test]
fn baseline_accepts_findings_by_fingerprint() {
    let h = build_host();
    let base = h.home.join("doctor-baseline.json");
    let mut args = args_for(&h);
    args.baseline = Some(base.clone());
    args.update_baseline = true;
    doctor::run(&args, &h.state, None, &mut Vec::new(), &mut Vec::new()).unwrap();
    let text = fs::read_to_string(&base).unwrap();
    for s in &h.secrets {
        assert!(!text.contains(s.as_str()), "baseline holds a secret");
    }
    args.update_baseline = false;
    let mut out = Vec::new();
    let code = doctor::run(&args, &h.state, None, &mut out, &mut Vec::new()).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("accepted by the baseline"));

    // A new secret is still reported.
    let extra = format!("gsk_{}", r(ALNUM, 52));
    fs::write(
        h.state.join("logs/new.log"),
        format!("GROQ_API_KEY={extra}\n"),
    )
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(
        doctor::run(&args, &h.state, None, &mut out, &mut Vec::new()).unwrap(),
        1
    );
    assert!(String::from_utf8(out).unwrap().contains("new.log"));
}

#[test]
fn fix_tightens_permissions_and_scrubs_history_with_encrypted_backup() {
    let h = build_host();
    let hist = h.home.join(".bash_history");
    let original = fs::read(&hist).unwrap();
    let mut args = args_for(&h);
    args.fix = true;

    // Without --yes nothing changes.
    let mut out = Vec::new();
    doctor::run(&args, &h.state, None, &mut out, &mut Vec::new()).unwrap();
    let env_mode = fs::metadata(h.state.join(".env"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(env_mode, 0o644);
    assert!(String::from_utf8(out).unwrap().contains("pass --yes"));

    // With --yes but no vault: permissions fixed, history scrub refused.
    args.yes = true;
    let mut out = Vec::new();
    doctor::run(&args, &h.state, None, &mut out, &mut Vec::new()).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        fs::metadata(h.state.join(".env"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(&h.state).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(out.contains("no vault"), "{out}");
    assert_eq!(fs::read(&hist).unwrap(), original);
    for s in &h.secrets {
        assert!(
            !out.contains(s.as_str()),
            "the history preview shows a secret"
        );
    }

    // With a vault: the lines go, the original is kept encrypted to the vault.
    let vdir = h.state.join("vault");
    let pass = SecretString::from("test passphrase".to_string());
    let (vault, _) = Vault::init(
        &vdir,
        BackendChoice::Age,
        &pass,
        KdfParams::new_random(256, 1, 1),
    )
    .unwrap();
    let mut asked = Vec::new();
    let mut out = Vec::new();
    doctor::run_with(
        &args,
        &h.state,
        Some(&vdir),
        &[],
        &mut |p| {
            asked.push(p.summary.clone());
            true
        },
        &mut out,
        &mut Vec::new(),
    )
    .unwrap();
    assert!(
        asked.iter().any(|a| a.contains(".bash_history")),
        "{asked:?}"
    );
    let scrubbed = fs::read_to_string(&hist).unwrap();
    assert_eq!(scrubbed, "ls -la\ncd ~/.openclaw\ngit status\n");
    let backups: Vec<PathBuf> = fs::read_dir(vdir.join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // One backup of the history (the others are of transcripts and logs the same
    // --fix redacted, since every question was answered yes).
    let id = vault.identity().unwrap();
    let of_history: Vec<&PathBuf> = backups
        .iter()
        .filter(|b| age::decrypt(id.as_ref(), &fs::read(b).unwrap()).unwrap() == original)
        .collect();
    assert_eq!(of_history.len(), 1, "{backups:?}");
    for b in &backups {
        assert_eq!(fs::metadata(b).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(
        backups.iter().all(|b| b == of_history[0]
            || b.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("redact-")),
        "{backups:?}"
    );

    // Afterwards the history is clean.
    let args = DoctorArgs { fix: false, ..args };
    let report = doctor::audit(
        &AuditInput {
            args: &args,
            state_dir: &h.state,
            vault_dir: Some(&vdir),
            vault_secrets: &[],
        },
        &Default::default(),
    )
    .unwrap();
    assert!(!report.findings.iter().any(|f| f.abs_path == hist));
    assert!(report
        .findings
        .iter()
        .all(|f| f.severity != Severity::Error || f.check_id != "perm.loose-permissions"));
}

#[test]
fn dangling_vault_reference_and_loose_vault_files() {
    let h = build_host();
    let vdir = h.state.join("vault");
    let pass = SecretString::from("test passphrase".to_string());
    Vault::init(
        &vdir,
        BackendChoice::Age,
        &pass,
        KdfParams::new_random(256, 1, 1),
    )
    .unwrap();
    fs::set_permissions(
        Vault::manifest_path(&vdir),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    // Exposure is judged by reachability: open the directories above it too.
    for d in [&vdir, &h.state, h.state.parent().unwrap()] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let args = args_for(&h);
    let report = doctor::audit(
        &AuditInput {
            args: &args,
            state_dir: &h.state,
            vault_dir: Some(&vdir),
            vault_secrets: &[],
        },
        &Default::default(),
    )
    .unwrap();
    let ids: Vec<(&str, Option<u64>)> = report
        .findings
        .iter()
        .map(|f| (f.check_id.as_str(), f.line))
        .collect();
    // openrouter:default's keyRef (line 7) points at an entry the vault lacks.
    assert!(ids.contains(&("vault.dangling-ref", Some(7))), "{ids:?}");
    assert!(report
        .findings
        .iter()
        .any(|f| f.check_id == "vault.loose-permissions"
            && f.abs_path == Vault::manifest_path(&vdir)));
}

#[test]
fn git_work_tree_and_cloud_folder_are_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("Dropbox/work");
    let st = repo.join("openclaw-state");
    fs::create_dir_all(repo.join(".git")).unwrap();
    fs::create_dir_all(&st).unwrap();
    fs::set_permissions(&st, fs::Permissions::from_mode(0o700)).unwrap();
    let args = DoctorArgs {
        home: Some(tmp.path().join("nohome")),
        cwd: Some(tmp.path().to_path_buf()),
        no_progress: true,
        ..DoctorArgs::default()
    };
    let report = doctor::audit(
        &AuditInput {
            args: &args,
            state_dir: &st,
            vault_dir: None,
            vault_secrets: &[],
        },
        &Default::default(),
    )
    .unwrap();
    let ids: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.check_id.as_str())
        .collect();
    assert!(ids.contains(&"perm.git-work-tree"), "{ids:?}");
    assert!(ids.contains(&"perm.cloud-synced"), "{ids:?}");
}

/// An audit of `state` alone: an empty home and working directory.
fn audit_state(
    state: &Path,
    home: &Path,
    vault_secrets: &[clawvault::secret::SecretBytes],
) -> doctor::Report {
    let cwd = home.join("project");
    fs::create_dir_all(&cwd).unwrap();
    let args = DoctorArgs {
        home: Some(home.to_path_buf()),
        cwd: Some(cwd),
        no_progress: true,
        no_history: true,
        ..DoctorArgs::default()
    };
    doctor::audit(
        &AuditInput {
            args: &args,
            state_dir: state,
            vault_dir: None,
            vault_secrets,
        },
        &Default::default(),
    )
    .unwrap()
}

fn show_all(report: &doctor::Report) -> String {
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{:?} {} {} | {}",
                f.path, f.line, f.check_id, f.message, f.fix_hint
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// SQLite packs a row's columns with no separator (`anthropicsk-ant-api03-…`) and a
/// lone TEXT column's length byte can be a letter: keys in a real database (and in
/// its -wal) are found all the same.
#[test]
fn sqlite_rows_with_packed_plaintext_keys_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    let dir = state.join("state");
    fs::create_dir_all(&dir).unwrap();
    // 108 bytes: the record header's serial type is 13 + 2 * 108 = 229, the varint
    // 0x81 0x65, so the byte before the value is 'e'.
    let anthropic = format!("sk-ant-api03-{}AA", r(URLSAFE, 93));
    let openai = format!("sk-proj-{}", r(URLSAFE, 120));
    let lone = format!("sk-ant-api03-{}AA", r(URLSAFE, 93));
    assert_eq!(lone.len(), 108);
    let db = dir.join("openclaw.sqlite");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE auth_profiles (profile_id TEXT PRIMARY KEY, provider TEXT, key TEXT);
             CREATE TABLE kv (v TEXT);",
        )
        .unwrap();
        c.execute(
            "INSERT INTO auth_profiles VALUES (?1, ?2, ?3), (?4, ?5, ?6)",
            [
                "anthropic:default",
                "anthropic",
                anthropic.as_str(),
                "openai:default",
                "openai",
                openai.as_str(),
            ],
        )
        .unwrap();
        c.execute("INSERT INTO kv VALUES (?1)", [lone.as_str()])
            .unwrap();
    }
    let bytes = fs::read(&db).unwrap();
    // The fixture is what the auditor saw: letters right before the keys.
    for (k, before) in [
        (&anthropic, &b"anthropic"[..]),
        (&openai, b"openai"),
        (&lone, b"e"),
    ] {
        let at = bytes
            .windows(k.len())
            .position(|w| w == k.as_bytes())
            .expect("key stored inline");
        assert_eq!(&bytes[at - before.len()..at], before, "byte before {k:.12}");
    }
    // And a database in WAL mode whose rows are still only in the -wal.
    let wdb = dir.join("sessions.sqlite");
    let wal_key = format!("sk-proj-{}", r(URLSAFE, 120));
    let c = rusqlite::Connection::open(&wdb).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
         CREATE TABLE creds (provider TEXT, token TEXT);",
    )
    .unwrap();
    c.execute(
        "INSERT INTO creds VALUES ('openai', ?1)",
        [wal_key.as_str()],
    )
    .unwrap();
    let wal = dir.join("sessions.sqlite-wal");
    assert!(fs::read(&wal)
        .unwrap()
        .windows(wal_key.len())
        .any(|w| w == wal_key.as_bytes()));

    let report = audit_state(&state, &home, &[]);
    for (path, k) in [
        (&db, &anthropic),
        (&db, &openai),
        (&db, &lone),
        (&wal, &wal_key),
    ] {
        let preview = doctor::detect::redact(k.as_bytes());
        assert!(
            report.findings.iter().any(|f| f.abs_path == *path
                && f.check_id == "plaintext.sqlite"
                && f.message.contains(&preview)),
            "no plaintext.sqlite for {preview} in {}:\n{}",
            path.display(),
            show_all(&report)
        );
    }
    drop(c);
}

/// A placeholder that `migrate` moved into the vault is not a secret: copies of
/// it are not reported as vault copies, while a real vault secret still is.
#[test]
fn placeholder_held_in_the_vault_is_not_matched_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    let real = format!("q{}", r(ALNUM, 39));
    let arch = state.join("agents/main/agent/auth-profiles.json.migrated-20260101T000000Z");
    write_lines(
        &arch,
        &[
            r#"{"version":1,"profiles":{"#.into(),
            r#""openai:default":{"type":"api_key","provider":"openai","key":"YOUR_API_KEY"},"#
                .into(),
            r#""groq:default":{"type":"api_key","provider":"groq","key":"xxxxxxxxxxxxxxxx"},"#
                .into(),
            r#""mistral:default":{"type":"api_key","provider":"mistral","key":"changeme"}"#.into(),
            "}}".into(),
        ],
    );
    let log = state.join("logs/gateway.log");
    write_lines(
        &log,
        &[
            "set OPENAI_API_KEY to YOUR_API_KEY first".into(),
            format!("upstream said {real} then closed"),
        ],
    );
    let vault: Vec<_> = [
        "YOUR_API_KEY",
        "xxxxxxxxxxxxxxxx",
        "changeme",
        real.as_str(),
    ]
    .iter()
    .map(|s| secret_bytes(s.as_bytes().to_vec()))
    .collect();
    let report = audit_state(&state, &home, &vault);
    let copies: Vec<(PathBuf, Option<u64>)> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "vault.secret-copy")
        .map(|f| (f.abs_path.clone(), f.line))
        .collect();
    assert_eq!(
        copies,
        vec![(log.clone(), Some(2))],
        "{}",
        show_all(&report)
    );
    assert!(
        !report.findings.iter().any(|f| f.abs_path == arch
            && (f.check_id.starts_with("plaintext.") || f.check_id.starts_with("vault."))),
        "{}",
        show_all(&report)
    );
}

/// `.env` lines that `import-env` would leave alone get an honest hint and do not
/// put the file under needsMigration; the ones it moves keep the import-env hint.
#[test]
fn env_hints_only_promise_import_env_for_variables_it_moves() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    fs::create_dir_all(&state).unwrap();
    let cwd = home.join("project");
    fs::create_dir_all(&cwd).unwrap();
    let aws = r(ALNUM, 40);
    let db_pw = format!("{}9x", r(ALNUM, 18));
    let jwt = format!(
        "eyJ{}.eyJ{}.{}",
        r(URLSAFE, 20),
        r(URLSAFE, 40),
        r(URLSAFE, 43)
    );
    let refresh = format!("1//0{}", r(URLSAFE, 60));
    let only = cwd.join(".env");
    write_lines(
        &only,
        &[
            format!("AWS_SECRET_ACCESS_KEY={aws}"),
            format!("DB_URL=postgres://app:{db_pw}@db.internal:5432/app"),
            format!("SESSION={jwt}"),
            format!("GOOGLE_REFRESH={refresh}"),
        ],
    );
    let openai = format!("sk-proj-{}", r(URLSAFE, 120));
    let gh = format!("ghp_{}", r(ALNUM, 36));
    let mixed = cwd.join(".env.local");
    write_lines(
        &mixed,
        &[
            format!("OPENAI_API_KEY={openai}"),
            format!("export GITHUB_TOKEN={gh}"),
            format!("AWS_SECRET_ACCESS_KEY={}", r(ALNUM, 40)),
        ],
    );
    let args = DoctorArgs {
        home: Some(home.clone()),
        cwd: Some(cwd.clone()),
        no_progress: true,
        no_history: true,
        ..DoctorArgs::default()
    };
    let report = doctor::audit(
        &AuditInput {
            args: &args,
            state_dir: &state,
            vault_dir: None,
            vault_secrets: &[],
        },
        &Default::default(),
    )
    .unwrap();
    let all = show_all(&report);
    let at = |p: &Path, line: u64| {
        report
            .findings
            .iter()
            .find(|f| f.abs_path == p && f.line == Some(line) && f.check_id == "plaintext.env-file")
            .unwrap_or_else(|| panic!("no finding at {}:{line}:\n{all}", p.display()))
    };
    for line in 1..=4 {
        let f = at(&only, line);
        assert!(
            !f.fix_hint.contains("run `clawvault import-env"),
            "line {line} promises import-env: {}",
            f.fix_hint
        );
        assert!(f.fix_hint.contains("rotate"), "{}", f.fix_hint);
    }
    assert!(at(&only, 1).fix_hint.contains("AWS_SECRET_ACCESS_KEY"));
    for line in [1, 2] {
        assert!(
            at(&mixed, line)
                .fix_hint
                .contains("run `clawvault import-env"),
            "{}",
            at(&mixed, line).fix_hint
        );
    }
    assert!(!at(&mixed, 3).fix_hint.contains("run `clawvault import-env"));
    let listed: Vec<&Path> = report
        .needs_migration
        .iter()
        .map(|m| m.path.as_path())
        .collect();
    assert_eq!(listed, vec![mixed.as_path()], "{all}");
}

/// A legacy state directory next to the current one: `migrate` must be pointed
/// at it with --state-dir, or it never touches those files.
#[test]
fn legacy_state_dir_hint_names_that_state_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    fs::create_dir_all(&state).unwrap();
    let legacy = home.join(".clawdbot");
    let auth = legacy.join("agent/auth.json");
    let key = format!("gsk_{}", r(ALNUM, 52));
    write_lines(
        &auth,
        &[format!(
            r#"{{ "groq": {{ "type": "api_key", "apiKey": "{key}" }} }}"#
        )],
    );
    let report = audit_state(&state, &home, &[]);
    let f = report
        .findings
        .iter()
        .find(|f| f.abs_path == auth && f.check_id == "plaintext.legacy-auth")
        .unwrap_or_else(|| panic!("{}", show_all(&report)));
    let want = [
        format!("clawvault --state-dir {} migrate", legacy.display()),
        "clawvault --state-dir ~/.clawdbot migrate".to_string(),
    ];
    assert!(
        want.iter().any(|w| f.fix_hint.contains(w)),
        "{}",
        f.fix_hint
    );
    let m = report
        .needs_migration
        .iter()
        .find(|m| m.path == auth)
        .expect("listed");
    assert!(
        want.iter().any(|w| m.command().contains(w)),
        "{}",
        m.command()
    );
    // The current state directory's own stores keep the plain command.
    let cur = state.join("agents/main/agent/auth-profiles.json");
    write_lines(
        &cur,
        &[format!(
            r#"{{"version":1,"profiles":{{"groq:default":{{"type":"api_key","provider":"groq","key":"gsk_{}"}}}}}}"#,
            r(ALNUM, 52)
        )],
    );
    let report = audit_state(&state, &home, &[]);
    let f = report
        .findings
        .iter()
        .find(|f| f.abs_path == cur && f.check_id == "plaintext.auth-profile")
        .unwrap_or_else(|| panic!("{}", show_all(&report)));
    assert!(
        f.fix_hint.contains("`clawvault migrate --agent main`"),
        "{}",
        f.fix_hint
    );
}

/// A vault with a profile reference to `id`, whose manifest is rewritten to use
/// `backend` (no unlock needed to ask whether an entry exists).
fn vault_with_backend(
    backend: serde_json::Value,
) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    let ap = state.join("agents/main/agent/auth-profiles.json");
    write_lines(
        &ap,
        &[
            "{".into(),
            r#"  "version": 1,"#.into(),
            r#"  "profiles": {"#.into(),
            r#"    "openrouter:default": { "type": "api_key", "provider": "openrouter","#.into(),
            format!(
                r#"      "keyRef": {{ "source": "exec", "provider": "clawvault", "id": "main/openrouter:missing-{}" }} }}"#,
                r(HEX, 12)
            ),
            "  }".into(),
            "}".into(),
        ],
    );
    let vdir = state.join("vault");
    Vault::init(
        &vdir,
        BackendChoice::Age,
        &SecretString::from("test passphrase".to_string()),
        KdfParams::new_random(256, 1, 1),
    )
    .unwrap();
    let mp = Vault::manifest_path(&vdir);
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&mp).unwrap()).unwrap();
    m["backend"] = backend;
    fs::write(&mp, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    fs::set_permissions(&mp, fs::Permissions::from_mode(0o600)).unwrap();
    (tmp, home, state, vdir)
}

fn audit_vault(home: &Path, state: &Path, vdir: &Path) -> doctor::Report {
    let cwd = home.join("project");
    fs::create_dir_all(&cwd).unwrap();
    let args = DoctorArgs {
        home: Some(home.to_path_buf()),
        cwd: Some(cwd),
        no_progress: true,
        no_history: true,
        ..DoctorArgs::default()
    };
    doctor::audit(
        &AuditInput {
            args: &args,
            state_dir: state,
            vault_dir: Some(vdir),
            vault_secrets: &[],
        },
        &Default::default(),
    )
    .unwrap()
}

/// References are checked on every backend: an OpenBao server that cannot be
/// reached (and a keychain, reachable or not) leaves a trace instead of silence.
#[test]
fn dangling_refs_are_checked_or_reported_unchecked_on_every_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let tok = tmp.path().join("token");
    fs::write(&tok, "s.not-a-real-token\n").unwrap();
    fs::set_permissions(&tok, fs::Permissions::from_mode(0o600)).unwrap();
    let bao = serde_json::json!({
        "kind": "openbao",
        "addr": "http://127.0.0.1:1",
        "mount": "secret",
        "prefix": "clawvault/doctor-test",
        "auth": { "method": "token", "tokenFile": tok },
    });
    let (_t, home, state, vdir) = vault_with_backend(bao);
    let report = audit_vault(&home, &state, &vdir);
    let f = report
        .findings
        .iter()
        .find(|f| f.check_id == "vault.refs-unchecked")
        .unwrap_or_else(|| panic!("{}", show_all(&report)));
    assert_eq!(f.severity, Severity::Info);
    assert!(f.message.contains("openbao"), "{}", f.message);

    let kc = serde_json::json!({ "kind": "keychain", "service": format!("clawvault-doctor-{}", r(HEX, 8)) });
    let (_t, home, state, vdir) = vault_with_backend(kc);
    let report = audit_vault(&home, &state, &vdir);
    let ids: Vec<(&str, Option<u64>)> = report
        .findings
        .iter()
        .map(|f| (f.check_id.as_str(), f.line))
        .collect();
    assert!(
        ids.contains(&("vault.dangling-ref", Some(5)))
            || ids.contains(&("vault.refs-unchecked", None)),
        "{ids:?}"
    );
}

/// The passphrase file `openclaw register` recorded for the resolver is checked
/// for loose permissions wherever it lives.
#[test]
fn registered_passphrase_file_with_loose_permissions_is_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let state = home.join(".openclaw");
    fs::create_dir_all(&state).unwrap();
    let pw = tmp.path().join("secrets/clawvault.pass.txt");
    fs::create_dir_all(pw.parent().unwrap()).unwrap();
    fs::write(&pw, "correct horse battery staple\n").unwrap();
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = serde_json::json!({
        "secrets": { "providers": { "clawvault": {
            "source": "exec",
            "command": "/usr/local/bin/clawvault",
            "args": ["resolve", "--passphrase-file", pw],
            "jsonOnly": true,
        } } }
    });
    fs::write(
        state.join("openclaw.json"),
        serde_json::to_vec_pretty(&cfg).unwrap(),
    )
    .unwrap();
    let report = audit_state(&state, &home, &[]);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.abs_path == pw && f.check_id == "vault.passphrase-file.loose-permissions"),
        "{}",
        show_all(&report)
    );
}
