//! The fix hints on `.env` findings, and which files are listed for `import-env`.

use std::fs;
use std::path::Path;

use clawvault::doctor::{self, AuditInput, DoctorArgs};

use crate::audit::show_all;
use crate::host::write_lines;
use crate::secrets::{ALNUM, URLSAFE};
use crate::seeded::r;

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
