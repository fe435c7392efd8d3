//! Every planted credential kind is found at its file and line, and no decoy is.

use std::collections::BTreeSet;

use clawvault::doctor::{self, AuditInput};

use crate::host::{args_for, build_host, vault_copy_secret};

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
