//! The generated OpenClaw host: a home and state directory with every credential
//! kind planted at a known file and line, decoys beside them, and the helpers the
//! tests use on it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use clawvault::doctor::DoctorArgs;
use clawvault::secret::secret_bytes;

use crate::secrets::{Secrets, HEX, URLSAFE};
use crate::seeded::r;

/// (file, 1-based line or None for binary, check id, the secret)
pub(crate) type Expect = (PathBuf, Option<u64>, &'static str, String);

pub(crate) struct Host {
    _tmp: tempfile::TempDir,
    pub(crate) home: PathBuf,
    pub(crate) state: PathBuf,
    pub(crate) cwd: PathBuf,
    pub(crate) expect: Vec<Expect>,
    pub(crate) decoys: Vec<(PathBuf, u64)>,
    pub(crate) secrets: Vec<String>,
}

pub(crate) fn write_lines(path: &Path, lines: &[String]) {
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

pub(crate) fn build_host() -> Host {
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

pub(crate) fn args_for(h: &Host) -> DoctorArgs {
    DoctorArgs {
        home: Some(h.home.clone()),
        cwd: Some(h.cwd.clone()),
        no_progress: true,
        ..DoctorArgs::default()
    }
}

pub(crate) fn vault_copy_secret(h: &Host) -> clawvault::secret::SecretBytes {
    secret_bytes(h.secrets.last().unwrap().as_bytes().to_vec())
}
