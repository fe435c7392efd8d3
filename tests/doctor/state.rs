//! Where the state directory lives and what it holds: a git work tree or cloud
//! folder, SQLite databases, a legacy state directory beside the current one.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use clawvault::doctor::{self, AuditInput, DoctorArgs};

use crate::audit::{audit_state, show_all};
use crate::host::write_lines;
use crate::secrets::{ALNUM, URLSAFE};
use crate::seeded::r;

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
