//! OpenClaw's caches of its own web assets and generated code: minified
//! JavaScript is full of `token`/`secretKey` identifiers and never holds a
//! user's credential, so doctor does not scan it unless `--include-caches`.

use std::path::{Path, PathBuf};

/// Directories under a state root that hold OpenClaw-generated content:
/// `cache/` (control-ui-assets and other downloaded/generated files) and
/// every `node_modules/` (installed plugin code).
pub fn cache_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let cache = root.join("cache");
    if std::fs::symlink_metadata(&cache).is_ok_and(|m| m.is_dir()) {
        out.push(cache);
    }
    let it = walkdir::WalkDir::new(root)
        .follow_links(false)
        .max_depth(6)
        .into_iter()
        .filter_entry(|e| e.file_type().is_dir() && !out_contains(e.path(), root));
    for e in it.flatten() {
        if e.file_name() == "node_modules" {
            out.push(e.path().to_path_buf());
        }
    }
    out.sort();
    out.dedup();
    // Keep only the outermost ones.
    let mut kept: Vec<PathBuf> = Vec::new();
    for p in out {
        if !kept.iter().any(|k| p.starts_with(k)) {
            kept.push(p);
        }
    }
    kept
}

/// Stop descending at `cache/` and inside `node_modules/` (its nested
/// `node_modules` are covered by the outer one).
fn out_contains(p: &Path, root: &Path) -> bool {
    p == root.join("cache")
        || p.parent()
            .is_some_and(|q| q.components().any(|c| c.as_os_str() == "node_modules"))
}
