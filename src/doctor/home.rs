//! The rest of the home directory: project `.env` files and configs, shell startup
//! files, scripts in `~/bin`, other tools' credential files, notes, source code.
//! Credentials OpenClaw uses end up there too (pasted into a bootstrap script, a
//! docker-compose file, a `.bashrc` export), so `doctor` reads them - and only reports:
//! these files belong to other programs, so `--fix` never rewrites or imports them.
//!
//! Skipped: the state directories and the vault (scanned on their own), directories
//! of package managers, toolchains, caches, browsers, media and trash (their bytes are
//! not the user's writing), any directory holding a `CACHEDIR.TAG`, files over
//! [`MAX_FILE`], and binary formats by extension.

use std::path::{Path, PathBuf};

use super::scan::{self, Category, Target};

/// Largest file read from the home walk: configs, scripts and notes are far smaller;
/// anything bigger is a data file or a build artifact.
pub const MAX_FILE: u64 = 8 << 20;

/// Directory names never entered below the home directory.
const SKIP_DIRS: &[&str] = &[
    ".cache",
    "node_modules",
    ".git",
    ".hg",
    ".svn",
    ".npm",
    ".pnpm-store",
    ".yarn",
    ".rustup",
    ".pyenv",
    ".nvm",
    ".rbenv",
    ".gradle",
    ".m2",
    ".ivy2",
    ".sbt",
    ".gem",
    "__pycache__",
    ".venv",
    "venv",
    "site-packages",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "Trash",
    ".Trash",
    "snap",
    "Library",
    ".mozilla",
    ".thunderbird",
    "google-chrome",
    "chromium",
    "BraveSoftware",
    ".vscode-server",
    ".cursor-server",
    ".vscode",
    ".steam",
    ".wine",
    "Pictures",
    "Music",
    "Videos",
    "Movies",
    "go",
];

/// Directories below the home that are skipped by path (relative to the home).
const SKIP_PATHS: &[&str] = &[".cargo/registry", ".cargo/git", ".local/share/Trash"];

/// Extensions of binary and database files (on top of [`scan::skip_by_extension`]).
const SKIP_EXT: &[&str] = &[
    "so",
    "dylib",
    "dll",
    "exe",
    "bin",
    "o",
    "a",
    "class",
    "jar",
    "pyc",
    "wasm",
    "db",
    "sqlite",
    "sqlite3",
    "iso",
    "img",
    "qcow2",
    "vmdk",
    "mov",
    "avi",
    "mkv",
    "flac",
    "heic",
    "tar",
    "rlib",
    "rmeta",
    "deb",
    "rpm",
    "dmg",
    "pkg",
    "parquet",
    "npy",
    "pt",
    "safetensors",
    "gguf",
];

fn skipped_dir(home: &Path, p: &Path, skip: &[PathBuf]) -> bool {
    if skip.iter().any(|s| p == s) {
        return true;
    }
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if SKIP_DIRS.contains(&name) || p.join("CACHEDIR.TAG").exists() {
        return true;
    }
    let rel = p.strip_prefix(home).unwrap_or(p);
    SKIP_PATHS.iter().any(|s| rel == Path::new(s))
}

fn skipped_file(p: &Path) -> bool {
    scan::skip_by_extension(p)
        || p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| SKIP_EXT.contains(&e.to_ascii_lowercase().as_str()))
}

/// Every file of the home walk, as [`Category::HomeFile`]. Files already taken by
/// the other walks keep their category (`dedup_targets` keeps the first). Symlinks
/// are not followed, and what cannot be read is passed over without a finding: a
/// home holds other programs' private trees (container volumes, root-owned build
/// output), and an audit of OpenClaw's leaks must not fail on them.
pub fn walk(home: &Path, skip: &[PathBuf], out: &mut Vec<Target>) {
    let it = walkdir::WalkDir::new(home)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            !(e.file_type().is_dir() && e.depth() > 0 && skipped_dir(home, e.path(), skip))
        });
    for entry in it.flatten() {
        if !entry.file_type().is_file() || skipped_file(entry.path()) {
            continue;
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if size == 0 || size > MAX_FILE {
            continue;
        }
        out.push(Target {
            path: entry.path().to_path_buf(),
            category: Category::HomeFile,
            size,
        });
    }
}
