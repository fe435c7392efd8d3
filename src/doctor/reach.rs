//! Effective exposure: a file whose own mode lets others read it is still
//! private when some directory above it does not let them through. Only the
//! permission bits of the classes (group, other) that can actually reach the
//! path count.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The bits of `mode` that matter given the directories above `path`: the
/// "other" bits are dropped when some ancestor lacks `o+x`, the group bits
/// when some ancestor lacks both `g+x` and `o+x` (a group member who is not in
/// that directory's group still passes with `o+x`).
pub fn effective_mode(path: &Path, mode: u32) -> u32 {
    let (group, other) = reachable_by(path);
    let mut m = mode;
    if !other {
        m &= !0o007;
    }
    if !group {
        m &= !0o070;
    }
    m
}

/// (group can reach, others can reach) `path` through its ancestors.
pub fn reachable_by(path: &Path) -> (bool, bool) {
    let abs = match fs::canonicalize(path) {
        Ok(p) => p,
        Err(_) => return (true, true),
    };
    let mut group = true;
    let mut other = true;
    for dir in abs.ancestors().skip(1) {
        let Ok(m) = fs::metadata(dir) else {
            return (true, true);
        };
        let mode = m.mode();
        if mode & 0o001 == 0 {
            other = false;
        }
        if mode & 0o011 == 0 {
            group = false;
        }
        if !group && !other {
            break;
        }
    }
    (group, other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_world_readable_file_inside_a_private_dir_is_not_exposed() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("state");
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
        let f = d.join("lock");
        fs::write(&f, b"").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(effective_mode(&f, 0o644), 0o600);
        fs::set_permissions(&d, fs::Permissions::from_mode(0o711)).unwrap();
        // Whether `t` itself is reachable depends on the temp dir; at least the
        // result never exceeds the file's own mode.
        assert_eq!(effective_mode(&f, 0o644) & !0o644, 0);
    }
}
