//! The Windows trust checks attacked for real: files and directories are created
//! through `fsutil`, their owner and DACL are then replaced with
//! `SetNamedSecurityInfoW` (as a careless `icacls /grant` or another program
//! would), and `check`, `check_parents` and `check_private` must see it. Runs
//! under Wine in CI (`scripts/windows-test.sh`). Wine 8 does not store the
//! descriptor: it maps the DACL onto Unix mode bits and rebuilds one from them
//! (SYSTEM, the user, Everyone read or read/write), so only Everyone's read and
//! write can be set up on disk there; the rules for other principals, NULL DACLs
//! and deny entries are judged on descriptors built in memory (the last test).

use std::fs;
use std::path::{Path, PathBuf};

use super::sys::CONTENT_RIGHTS;
use super::*;
use crate::fsutil;
use crate::winsec;

const EVERYONE: &str = "S-1-1-0";

fn me() -> String {
    winsec::current_user().unwrap().string()
}

/// Replace the DACL of `path` with the one in `sddl` (protected from
/// inheritance), as `icacls` or another program would.
fn set_sd(path: &Path, sddl: &str) {
    let sd = winsec::LocalSd::from_sddl(sddl).unwrap_or_else(|e| panic!("bad SDDL {sddl}: {e}"));
    winsec::set_dacl(path, &sd)
        .unwrap_or_else(|e| panic!("SetNamedSecurityInfoW({}, {sddl}): {e}", path.display()));
}

/// A private file made the way clawvault makes them.
fn private_file(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    drop(fsutil::create_new_private(&p).unwrap());
    p
}

/// A private directory made the way clawvault makes them.
fn private_dir(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    fsutil::ensure_private_dir(&p).unwrap();
    p
}

/// A directory of our own to work in: the temporary directory Wine gives is
/// readable by Everyone, and Wine (unlike Windows) folds a parent's inheritable
/// entries into a DACL set on a child even when it is protected.
fn workdir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let w = private_dir(t.path(), "w");
    (t, w)
}

fn everyone_reads(me: &str) -> String {
    format!("D:P(A;;FA;;;{me})(A;;FR;;;WD)")
}

fn everyone_writes(me: &str) -> String {
    format!("D:P(A;;FA;;;{me})(A;;FRFW;;;WD)")
}

fn assert_one_line_naming(e: &Untrusted, path: &Path) {
    let s = e.to_string();
    assert!(!s.contains('\n'), "{s}");
    assert!(s.starts_with(&path.display().to_string()), "{s}");
    assert!(
        e.fix.contains(&format!("icacls \"{}\"", path.display())),
        "{s}"
    );
}

#[test]
fn a_new_private_file_is_private_and_trusted() {
    let (_t, w) = workdir();
    let f = private_file(&w, "secret");
    assert!(check_private(&f).unwrap().is_none());
    assert!(check_private(&w).unwrap().is_none());
    check(&f, Kind::File).unwrap();
    check(&w, Kind::Dir).unwrap();
    // The kind is checked too.
    let e = check(&f, Kind::Dir).unwrap_err();
    assert!(e.reason.contains("is not a directory"), "{e}");
    let e = check(&w, Kind::File).unwrap_err();
    assert!(e.reason.contains("is not a file"), "{e}");
}

#[test]
fn a_file_everyone_may_read_is_exposed_but_not_untrusted_until_made_private() {
    let (_t, w) = workdir();
    let f = private_file(&w, "secret");
    set_sd(&f, &everyone_reads(&me()));
    let x = check_private(&f).unwrap().expect("Everyone may read it");
    assert_eq!(x.who, ["Everyone (S-1-1-0)"]);
    assert!(x.world);
    assert!(!x.writable);
    assert!(x.foreign_owner.is_none());
    assert_eq!(x.describe(), "its DACL lets Everyone (S-1-1-0) read it");
    assert_eq!(
        x.fix,
        format!(
            "icacls \"{}\" /inheritance:r /grant:r *{}:F /remove:g *{EVERYONE}",
            f.display(),
            me()
        )
    );
    // Reading is not changing: the trust check (who can replace it) still passes.
    check(&f, Kind::File).unwrap();
    // What the doctor's fix does on Windows.
    fsutil::make_private(&f).unwrap();
    assert!(check_private(&f).unwrap().is_none());
}

#[test]
fn a_file_everyone_may_write_is_refused_with_the_fix() {
    let (_t, w) = workdir();
    let f = private_file(&w, "secret");
    set_sd(&f, &everyone_writes(&me()));
    let x = check_private(&f).unwrap().expect("Everyone may write it");
    assert_eq!(x.who, ["Everyone (S-1-1-0)"]);
    assert!(x.world && x.writable);
    assert_eq!(
        x.describe(),
        "its DACL lets Everyone (S-1-1-0) read or write it"
    );
    assert!(
        x.fix.contains(&format!("/remove:g *{EVERYONE}")),
        "{}",
        x.fix
    );

    let e = check(&f, Kind::File).unwrap_err();
    assert_eq!(e.path, f);
    assert_eq!(e.reason, "is writable by Everyone (S-1-1-0) (its DACL)");
    assert_one_line_naming(&e, &f);
    assert!(e.fix.contains(&format!(":F /remove:g *{EVERYONE}`")), "{e}");
    // The same through an open handle's metadata.
    let meta = fs::metadata(&f).unwrap();
    assert!(check_open(&f, &meta).is_err());

    winsec::set_owner_only(&f, false).unwrap();
    assert!(check_private(&f).unwrap().is_none());
    check(&f, Kind::File).unwrap();
}

#[test]
fn a_directory_everyone_may_write_is_refused_as_itself_and_as_a_parent() {
    let (_t, w) = workdir();
    let shared = private_dir(&w, "shared");
    // Made before the DACL changes: the vault directory itself stays private.
    let vault = private_dir(&shared, "vault");
    set_sd(&shared, &everyone_writes(&me()));
    assert!(check_private(&vault).unwrap().is_none());

    let e = check(&shared, Kind::Dir).unwrap_err();
    assert_eq!(e.path, shared);
    assert!(e.reason.contains("writable by Everyone (S-1-1-0)"), "{e}");
    assert_one_line_naming(&e, &shared);
    assert!(e.fix.contains("(OI)(CI)F"), "{e}");

    // Everyone could rename `vault` away and put their own in its place.
    let canon = fs::canonicalize(&shared).unwrap();
    for below in [vault.clone(), vault.join("vault.json"), vault.join("a/b")] {
        let e = check_parents(&below).unwrap_err();
        assert_eq!(e.path, canon, "{below:?}");
        assert!(
            e.reason.contains("so they can replace anything below it"),
            "{e}"
        );
        assert_one_line_naming(&e, &canon);
    }
    let e = check(&vault, Kind::Dir).unwrap_err();
    assert_eq!(e.path, canon);
    assert!(check_if_exists(&vault.join("missing"), Kind::File).is_err());

    // `ensure_private_dir` on it takes Everyone out again.
    fsutil::ensure_private_dir(&shared).unwrap();
    check(&vault, Kind::Dir).unwrap();
    assert!(!check_if_exists(&vault.join("missing"), Kind::File).unwrap());
}

#[test]
fn a_parent_everyone_may_only_read_is_accepted() {
    let (_t, w) = workdir();
    let vault = private_dir(&w, "vault");
    let f = private_file(&vault, "vault.json");
    set_sd(&w, &everyone_reads(&me()));
    assert!(check_private(&w).unwrap().is_some());
    check(&vault, Kind::Dir).unwrap();
    check(&f, Kind::File).unwrap();
}

#[test]
fn ensure_private_dir_and_write_atomic_make_owner_only_files() {
    let (_t, w) = workdir();
    let dir = w.join("a").join("b");
    fsutil::ensure_private_dir(&dir).unwrap();
    assert!(check_private(&w.join("a")).unwrap().is_none());
    assert!(check_private(&dir).unwrap().is_none());
    let f = dir.join("vault.json");
    fsutil::write_atomic(&f, b"one").unwrap();
    assert!(check_private(&f).unwrap().is_none());
    check(&f, Kind::File).unwrap();

    // A file Everyone may write is replaced by a private one, not written into.
    set_sd(&f, &everyone_writes(&me()));
    assert!(check(&f, Kind::File).is_err());
    fsutil::write_atomic(&f, b"two").unwrap();
    assert!(check_private(&f).unwrap().is_none());
    check(&f, Kind::File).unwrap();
    assert_eq!(
        fsutil::read_private(&f).unwrap().as_deref(),
        Some(&b"two"[..])
    );
    // Nothing else was left in the directory (no temp file Everyone could read).
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn read_private_refuses_what_it_documents() {
    let (_t, w) = workdir();
    assert!(fsutil::read_private(&w.join("missing")).unwrap().is_none());
    // A directory is not a regular file.
    assert!(fsutil::read_private(&w).is_err());
    let f = w.join("big");
    fsutil::write_atomic(&f, &[7u8; 100]).unwrap();
    assert!(matches!(
        fsutil::read_capped(&f, 99),
        Err(fsutil::FsError::TooLarge { cap: 99, .. })
    ));
    assert_eq!(fsutil::read_capped(&f, 100).unwrap().unwrap().len(), 100);
}

/// What Wine cannot store (it maps a DACL onto Unix modes: only the user and
/// Everyone survive), checked on descriptors built in memory: a NULL DACL
/// grants everyone everything; deny entries, SYSTEM and the user grant no one
/// else anything; an entry clawvault cannot read counts as someone else.
#[test]
fn null_dacls_and_entries_wine_cannot_store_are_judged_right() {
    let (_t, w) = workdir();
    let f = private_file(&w, "f");
    set_sd(&f, &everyone_writes(&me()));
    let sec = winsec::read_path(&f).unwrap();
    let me = winsec::current_user().unwrap();
    let sid_of = |s: &str| {
        sec.dacl
            .iter()
            .flatten()
            .find_map(|a| a.sid.clone().filter(|x| x.string() == s))
            .unwrap_or_else(|| panic!("no {s} in {sec:?}"))
    };
    let (everyone, system) = (sid_of(EVERYONE), sid_of("S-1-5-18"));
    let ace = |allow: bool, sid: Option<&winsec::Sid>, mask: u32, kind: u8| winsec::Ace {
        allow,
        sid: sid.cloned(),
        mask,
        kind,
    };
    let null = winsec::Security {
        owner: Some(me.clone()),
        dacl: None,
    };
    assert_eq!(
        null.others_with(&me, winsec::WRITE_RIGHTS),
        ["Everyone (a NULL DACL)"]
    );
    assert_eq!(
        null.others_with(&me, CONTENT_RIGHTS),
        ["Everyone (a NULL DACL)"]
    );
    let quiet = winsec::Security {
        owner: Some(me.clone()),
        dacl: Some(vec![
            ace(false, Some(&everyone), u32::MAX, 1),
            ace(true, Some(&system), u32::MAX, 0),
            ace(true, Some(&me), u32::MAX, 0),
            // Everyone may read the attributes and the DACL: not the content.
            ace(true, Some(&everyone), 0x0002_0080, 0),
        ]),
    };
    assert!(quiet.others_with(&me, CONTENT_RIGHTS).is_empty());
    assert!(quiet.others_with(&me, winsec::WRITE_RIGHTS).is_empty());
    let odd = winsec::Security {
        owner: Some(me.clone()),
        dacl: Some(vec![ace(true, None, u32::MAX, 5)]),
    };
    assert_eq!(
        odd.others_with(&me, winsec::WRITE_RIGHTS),
        ["an entry of type 5"]
    );
}
