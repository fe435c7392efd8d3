//! What `doctor` prints and exits with: no secret in any output, exit codes, and
//! a baseline that accepts findings by fingerprint.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use clawvault::doctor::{self, DoctorArgs, FailOn};

use crate::host::{args_for, build_host, vault_copy_secret};
use crate::secrets::ALNUM;
use crate::seeded::r;

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
