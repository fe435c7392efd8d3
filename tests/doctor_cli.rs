//! `clawvault doctor` through the real binary: exit codes, the JSON shape, `--fix`
//! moving plaintext into the vault (and changing nothing without consent), and
//! exact matching of the vault's own secrets when the vault can be unlocked.
//!
//! Secrets are built at run time from a prefix and random characters, so this file
//! holds nothing that looks like a real key.
// Unix only: file modes.
#![cfg(unix)]

#[path = "../src/seeded.rs"]
mod seeded;

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use seeded::r;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const URLSAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Plaintext planted on the host: an inline key in auth-profiles.json, an
/// OPENAI_API_KEY in `<state>/.env`, a token in shell history.
struct Planted {
    anthropic: String,
    openai: String,
    groq: String,
    env: PathBuf,
    hist: PathBuf,
}

impl Planted {
    fn secrets(&self) -> [&str; 3] {
        [&self.anthropic, &self.openai, &self.groq]
    }
}

fn set_mode(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn plant(h: &Home) -> Planted {
    let p = Planted {
        anthropic: format!("sk-ant-api03-{}AA", r(URLSAFE, 93)),
        openai: format!("sk-proj-{}", r(URLSAFE, 120)),
        groq: format!("gsk_{}", r(ALNUM, 52)),
        env: h.state().join(".env"),
        hist: h.tmp.path().join(".bash_history"),
    };
    let ap = h.profiles();
    fs::create_dir_all(ap.parent().unwrap()).unwrap();
    fs::write(
        &ap,
        format!(
            "{{\n  \"version\": 1,\n  \"profiles\": {{\n    \"anthropic:default\": {{ \"type\": \"api_key\", \"provider\": \"anthropic\", \"key\": \"{}\" }}\n  }}\n}}\n",
            p.anthropic
        ),
    )
    .unwrap();
    set_mode(&ap, 0o600);
    for d in ["", "agents", "agents/main", "agents/main/agent"] {
        set_mode(&h.state().join(d), 0o700);
    }
    fs::write(
        &p.env,
        format!(
            "# local settings\nNODE_ENV=production\nOPENAI_API_KEY={}\nLOG_LEVEL=debug\n",
            p.openai
        ),
    )
    .unwrap();
    set_mode(&p.env, 0o600);
    fs::write(
        &p.hist,
        format!("ls -la\nexport GROQ_API_KEY={}\ngit status\n", p.groq),
    )
    .unwrap();
    set_mode(&p.hist, 0o600);
    p
}

/// `clawvault doctor ARGS` from an empty project directory (so the crate's own
/// working directory is never scanned), without a progress bar.
fn doctor(h: &Home, args: &[&str], tweak: impl FnOnce(&mut assert_cmd::Command)) -> Output {
    let proj = h.tmp.path().join("proj");
    fs::create_dir_all(&proj).unwrap();
    let mut c = h.cmd();
    c.current_dir(&proj)
        .args(["doctor", "--no-progress", "--threads", "2"])
        .args(args);
    tweak(&mut c);
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_no_secret(o: &Output, secrets: &[&str]) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for s in secrets {
        assert!(!all.contains(s), "output holds a secret: {}", text(o));
        // Not even a long fragment of it.
        assert!(!all.contains(&s[s.len() - 16..]), "{}", text(o));
    }
}

/// The findings of a `--json` run, each checked against the documented shape.
fn findings(o: &Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(o)));
    let list = v["findings"].as_array().expect("findings array").clone();
    for f in &list {
        let obj = f.as_object().unwrap();
        for k in ["checkId", "severity", "message", "path", "fixHint"] {
            assert!(obj[k].is_string(), "{k} in {f}");
        }
        assert!(obj["line"].is_u64() || obj["line"].is_null(), "{f}");
        // A column is given only with its line.
        assert!(
            obj.get("column").is_none() || (obj["column"].is_u64() && obj["line"].is_u64()),
            "{f}"
        );
        assert!(
            ["info", "warning", "error"].contains(&obj["severity"].as_str().unwrap()),
            "{f}"
        );
        for k in obj.keys() {
            assert!(
                [
                    "checkId",
                    "severity",
                    "message",
                    "path",
                    "line",
                    "column",
                    "fixHint",
                    "fingerprint"
                ]
                .contains(&k.as_str()),
                "unexpected key {k} in {f}"
            );
        }
    }
    assert_eq!(v["ok"], list.is_empty(), "{v}");
    list
}

fn ids_at(list: &[serde_json::Value], path: &Path) -> Vec<(String, Option<u64>)> {
    let p = path.display().to_string();
    list.iter()
        .filter(|f| f["path"] == p.as_str())
        .map(|f| {
            (
                f["checkId"].as_str().unwrap().to_string(),
                f["line"].as_u64(),
            )
        })
        .collect()
}

/// Every file's bytes and mode, and every directory's mode, below `dir`.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, Option<Vec<u8>>)> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let m = fs::symlink_metadata(&p).unwrap();
            let bytes = m.is_file().then(|| fs::read(&p).unwrap());
            (p, (m.permissions().mode() & 0o7777, bytes))
        })
        .collect()
}

#[test]
fn exit_codes_json_shape_and_no_secret_in_output() {
    let h = Home::new();
    let pw = h.init_age();
    h.paste(
        "paste-api-key",
        "mistral",
        None,
        &format!("m{}", r(ALNUM, 31)),
    );

    // A clean host: a vault, a profile holding only a reference.
    let o = doctor(&h, &[], |_| {});
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("No problems found."));
    let o = doctor(&h, &["--json"], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    });
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(findings(&o).is_empty());

    // Planted plaintext: exit 1, each file reported, nothing echoed.
    let p = plant(&h);
    let o = doctor(&h, &[], |_| {});
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_no_secret(&o, &p.secrets());
    let human = String::from_utf8_lossy(&o.stdout);
    assert!(human.contains("[plaintext.auth-profile]"), "{}", text(&o));
    assert!(human.contains("NEEDS MIGRATION"), "{}", text(&o));
    assert!(human.contains("clawvault migrate --agent main"), "{human}");
    assert!(human.contains("clawvault import-env"), "{human}");

    let o = doctor(&h, &["--json"], |_| {});
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_no_secret(&o, &p.secrets());
    let list = findings(&o);
    assert_eq!(
        ids_at(&list, &h.profiles()),
        vec![("plaintext.auth-profile".to_string(), Some(4))],
        "{list:#?}"
    );
    assert_eq!(
        ids_at(&list, &p.env),
        vec![("plaintext.env-file".to_string(), Some(3))],
        "{list:#?}"
    );
    assert_eq!(
        ids_at(&list, &p.hist),
        vec![("plaintext.shell-history".to_string(), Some(2))],
        "{list:#?}"
    );
    for f in &list {
        assert_eq!(f["severity"], "error", "{f}");
        assert!(!f["fixHint"].as_str().unwrap().is_empty());
    }

    // --fail-on: errors are at the error threshold; `never` only fails the audit.
    let o = doctor(&h, &["--fail-on", "error"], |_| {});
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = doctor(&h, &["--fail-on", "never"], |_| {});
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // A baseline accepting every finding turns the same host clean.
    let base = h.tmp.path().join("baseline.json");
    let base_s = base.to_str().unwrap();
    let o = doctor(&h, &["--baseline", base_s, "--update-baseline"], |_| {});
    assert!(base.is_file(), "{}", text(&o));
    assert_no_secret(&o, &p.secrets());
    let o = doctor(&h, &["--json", "--baseline", base_s], |_| {});
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(findings(&o).is_empty());

    // An audit failure: a malformed baseline is exit 2, with the reason on stderr.
    fs::write(&base, "{ this is not a baseline").unwrap();
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["--baseline", base_s];
        args.extend_from_slice(extra);
        let o = doctor(&h, &args, |_| {});
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("clawvault: error: doctor:") && err.contains(base_s),
            "{}",
            text(&o)
        );
        assert!(err.contains("not a doctor baseline"), "{}", text(&o));
        assert!(o.stdout.is_empty(), "{}", text(&o));
    }
    // So is a baseline that does not exist.
    let o = doctor(
        &h,
        &[
            "--baseline",
            h.tmp.path().join("nope.json").to_str().unwrap(),
        ],
        |_| {},
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn fix_yes_moves_inline_key_and_env_variable_into_the_vault() {
    let h = Home::new();
    let pw = h.init_age();
    let p = plant(&h);

    let o = doctor(&h, &["--fix", "--yes"], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    });
    assert_no_secret(&o, &p.secrets());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("migrate moved 1 credential(s) into the vault"),
        "{}",
        text(&o)
    );
    assert!(
        err.contains("import-env moved 1 variable(s) into the vault"),
        "{}",
        text(&o)
    );
    assert_eq!(o.status.code(), Some(0), "nothing is left: {}", text(&o));

    // auth-profiles.json: references only.
    let raw = fs::read_to_string(h.profiles()).unwrap();
    assert!(
        !raw.contains(&p.anthropic) && !raw.contains(&p.openai),
        "{raw}"
    );
    let doc = h.read_profiles();
    assert_eq!(
        doc["profiles"]["anthropic:default"]["keyRef"],
        serde_json::json!({"source":"exec","provider":"clawvault","id":"main/anthropic:default"}),
        "{doc}"
    );
    assert!(doc["profiles"]["anthropic:default"].get("key").is_none());
    assert_eq!(
        doc["profiles"]["openai:default"]["keyRef"]["id"], "main/openai:default",
        "{doc}"
    );
    // .env: the variable is gone, every other line stays.
    let env = fs::read_to_string(&p.env).unwrap();
    assert!(!env.contains(&p.openai), "{env}");
    assert!(
        env.contains("NODE_ENV=production\n") && env.contains("LOG_LEVEL=debug\n"),
        "{env}"
    );
    assert!(
        !env.lines().any(|l| l.starts_with("OPENAI_API_KEY=")),
        "{env}"
    );
    // History: the line is scrubbed, the others stay.
    let hist = fs::read_to_string(&p.hist).unwrap();
    assert_eq!(hist, "ls -la\ngit status\n");
    // Nothing plaintext was left behind anywhere (backups are encrypted).
    for f in files(h.tmp.path()) {
        let b = fs::read(&f).unwrap();
        let s = String::from_utf8_lossy(&b);
        for sec in p.secrets() {
            assert!(!s.contains(sec), "{} still holds a secret", f.display());
        }
    }

    // The vault serves both values.
    let o = h.resolve(&["main/anthropic:default", "main/openai:default"], |c| {
        c.arg("--passphrase-file").arg(&pw);
    });
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["values"]["main/anthropic:default"], p.anthropic.as_str());
    assert_eq!(v["values"]["main/openai:default"], p.openai.as_str());

    // A second audit, with exact matching of the vault's secrets, is clean.
    let o = doctor(&h, &["--json"], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    });
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(findings(&o).is_empty(), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("pattern only"),
        "the vault was unlocked for exact matching: {}",
        text(&o)
    );
}

#[test]
fn fix_without_yes_and_without_a_terminal_changes_nothing() {
    let h = Home::new();
    let pw = h.init_age();
    let p = plant(&h);
    // A loose mode, so there is a chmod to decline as well.
    set_mode(&p.env, 0o644);
    fs::create_dir_all(h.tmp.path().join("proj")).unwrap();
    let before = snapshot(h.tmp.path());
    for args in [&["--fix"][..], &["--fix", "--json"][..]] {
        let o = doctor(&h, args, |c| {
            c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
        });
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert_no_secret(&o, &p.secrets());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("changes nothing unless --yes is given"),
            "{}",
            text(&o)
        );
        assert!(
            err.contains("skipped: clawvault migrate") && err.contains("clawvault import-env"),
            "{}",
            text(&o)
        );
        assert_eq!(
            snapshot(h.tmp.path()),
            before,
            "doctor --fix {args:?} changed a file"
        );
    }
    // The findings are still all there.
    let o = doctor(&h, &["--json"], |_| {});
    let list = findings(&o);
    assert_eq!(ids_at(&list, &h.profiles()).len(), 1, "{list:#?}");
    assert!(ids_at(&list, &p.env)
        .iter()
        .any(|(id, _)| id == "plaintext.env-file"));
    assert_eq!(ids_at(&list, &p.hist).len(), 1, "{list:#?}");
}

#[test]
fn fix_yes_without_a_vault_says_so_and_loses_nothing() {
    let h = Home::new();
    let p = plant(&h);
    let ap_before = fs::read(h.profiles()).unwrap();
    let env_before = fs::read(&p.env).unwrap();
    let hist_before = fs::read(&p.hist).unwrap();
    let o = doctor(&h, &["--fix", "--yes"], |_| {});
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_no_secret(&o, &p.secrets());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("there is no vault at") && err.contains("run `clawvault init`"),
        "{}",
        text(&o)
    );
    assert!(!h.vault().exists(), "doctor must not create a vault");
    assert_eq!(fs::read(h.profiles()).unwrap(), ap_before);
    assert_eq!(fs::read(&p.env).unwrap(), env_before);
    // The history scrub needs the vault for its encrypted backup: refused.
    assert_eq!(fs::read(&p.hist).unwrap(), hist_before);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("refused:") && out.contains("no vault"),
        "{out}"
    );
    // Nothing new appeared next to the planted files (no plaintext backup).
    let mut names: Vec<String> = files(h.tmp.path())
        .iter()
        .map(|f| f.strip_prefix(h.tmp.path()).unwrap().display().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".bash_history",
            "state/.env",
            "state/agents/main/agent/auth-profiles.json"
        ],
        "{}",
        text(&o)
    );
}

#[test]
fn a_vault_secret_with_no_pattern_is_found_only_when_the_vault_unlocks() {
    let h = Home::new();
    let pw = h.init_age();
    // No prefix, no keyword nearby: only exact matching can find it.
    let secret = format!("q{}", r(ALNUM, 39));
    h.paste("paste-api-key", "mistral", None, &secret);
    let log = h.state().join("logs/gateway.log");
    fs::create_dir_all(log.parent().unwrap()).unwrap();
    fs::write(
        &log,
        format!("2026-01-01T00:00:00Z starting\n2026-01-01T00:00:01Z upstream said {secret} then closed\n"),
    )
    .unwrap();
    let tr = h.state().join("agents/main/sessions/3f2a1b4c.jsonl");
    fs::create_dir_all(tr.parent().unwrap()).unwrap();
    fs::write(
        &tr,
        format!(
            "{{\"type\":\"message\",\"text\":\"hello\"}}\n{{\"type\":\"message\",\"text\":\"here you go: {secret} ok\"}}\n"
        ),
    )
    .unwrap();
    for f in [&log, &tr] {
        set_mode(f, 0o600);
    }
    for d in ["logs", "agents/main/sessions"] {
        set_mode(&h.state().join(d), 0o700);
    }
    let want = |list: &[serde_json::Value]| {
        assert_eq!(
            ids_at(list, &log),
            vec![("vault.secret-copy".to_string(), Some(2))],
            "{list:#?}"
        );
        assert_eq!(
            ids_at(list, &tr),
            vec![("vault.secret-copy".to_string(), Some(2))],
            "{list:#?}"
        );
        assert_eq!(list.len(), 2, "{list:#?}");
    };

    // Locked, no unattended source: patterns alone do not know this secret.
    let o = doctor(&h, &["--json"], |_| {});
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(findings(&o).is_empty(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("found by pattern only"),
        "{}",
        text(&o)
    );
    assert_no_secret(&o, &[&secret]);
    // A wrong passphrase file is no better, and the note names the source tried.
    let wrong = h.pw_file("wrong", "not the passphrase");
    let o = doctor(&h, &["--json"], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &wrong);
    });
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(findings(&o).is_empty(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("found by pattern only") && err.contains("CLAWVAULT_PASSPHRASE_FILE="),
        "{}",
        text(&o)
    );

    // CLAWVAULT_PASSPHRASE_FILE: unlocked unattended, both copies found.
    let o = doctor(&h, &["--json"], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    });
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    want(&findings(&o));
    assert_no_secret(&o, &[&secret]);
    // The human report too, and it never prints the value.
    let o = doctor(&h, &[], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    });
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("[vault.secret-copy]"),
        "{}",
        text(&o)
    );
    assert_no_secret(&o, &[&secret]);

    // A systemd credential (CREDENTIALS_DIRECTORY) works the same way.
    let creds = h.tmp.path().join("creds");
    fs::create_dir_all(&creds).unwrap();
    set_mode(&creds, 0o700);
    fs::copy(&pw, creds.join("clawvault.passphrase")).unwrap();
    set_mode(&creds.join("clawvault.passphrase"), 0o600);
    let o = doctor(&h, &["--json"], |c| {
        c.env("CREDENTIALS_DIRECTORY", &creds);
    });
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    want(&findings(&o));

    // An unlocked agent serves them with no passphrase source at all.
    let _a = h.agent_run(
        &["--idle", "0", "--passphrase-file", pw.to_str().unwrap()],
        |_| {},
    );
    let o = doctor(&h, &["--json"], |_| {});
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    want(&findings(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("clawvault: doctor:") && err.contains("served by the agent"),
        "{}",
        text(&o)
    );
    assert_no_secret(&o, &[&secret]);
}

/// `--fix --yes` runs `migrate`, which moves a placeholder like any other value;
/// the audit after it must not call every copy of that placeholder a vault secret.
#[test]
fn placeholder_moved_by_fix_is_not_reported_as_a_vault_copy() {
    let h = Home::new();
    let pw = h.init_age();
    let p = plant(&h);
    let ap = h.profiles();
    fs::write(
        &ap,
        format!(
            "{{\n  \"version\": 1,\n  \"profiles\": {{\n    \"anthropic:default\": {{ \"type\": \"api_key\", \"provider\": \"anthropic\", \"key\": \"{}\" }},\n    \"openai:work\": {{ \"type\": \"api_key\", \"provider\": \"openai\", \"key\": \"YOUR_API_KEY\" }}\n  }}\n}}\n",
            p.anthropic
        ),
    )
    .unwrap();
    set_mode(&ap, 0o600);
    // An old copy of the profiles, as OpenClaw's own doctor leaves them.
    let arch = ap.with_file_name("auth-profiles.json.migrated-20260101T000000Z");
    fs::write(
        &arch,
        "{\"version\":1,\"profiles\":{\"openai:work\":{\"type\":\"api_key\",\"provider\":\"openai\",\"key\":\"YOUR_API_KEY\"}}}\n",
    )
    .unwrap();
    set_mode(&arch, 0o600);

    let o = doctor(&h, &["--fix", "--yes"], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    });
    assert_no_secret(&o, &p.secrets());
    let o = doctor(&h, &["--json"], |c| {
        c.env("CLAWVAULT_PASSPHRASE_FILE", &pw);
    });
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("pattern only"),
        "the vault was unlocked for exact matching: {}",
        text(&o)
    );
    let list = findings(&o);
    assert!(
        !list.iter().any(|f| f["checkId"] == "vault.secret-copy"),
        "{list:#?}"
    );
}
