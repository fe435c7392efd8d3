//! What to scan and how: the walk (it does not honour `.gitignore`: `.env` files
//! are ignored by git on purpose), the categories of files an OpenClaw host has,
//! and a streaming scanner that reads fixed-size chunks with overlap, so memory
//! stays flat whatever the file size. Large files are cut into segments that the
//! worker threads scan in parallel; line numbers are stitched back afterwards.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::detect::{Detector, Hit, MAX_LOOKAHEAD, MAX_LOOKBEHIND};

/// What a file is, which decides the finding's check id and advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    AuthProfiles,
    AuthArchive,
    LegacyAuth,
    OAuthStore,
    Config,
    ModelsJson,
    EnvFile,
    Sqlite,
    Transcript,
    Log,
    ShellHistory,
    ServiceUnit,
    StateFile,
    Given,
    /// Any other file below the home directory ([`super::home`]): reported, never fixed.
    HomeFile,
}

impl Category {
    /// JSON files of OpenClaw's whose structure tells where a hit sits (a profile,
    /// a config path): read whole and parsed, when not too large.
    pub fn is_structured(self) -> bool {
        matches!(
            self,
            Category::AuthProfiles
                | Category::AuthArchive
                | Category::LegacyAuth
                | Category::OAuthStore
                | Category::Config
                | Category::ModelsJson
        )
    }

    /// Files that hold credentials by design: their permissions are checked too.
    pub fn is_credential_store(self) -> bool {
        self.is_structured()
            || matches!(
                self,
                Category::EnvFile | Category::Sqlite | Category::ShellHistory
            )
    }

    /// Binary files whose line numbers mean nothing.
    pub fn has_lines(self) -> bool {
        self != Category::Sqlite
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub path: PathBuf,
    pub category: Category,
    pub size: u64,
}

/// The category of a file found under an OpenClaw state directory (`rel` is the
/// path relative to it).
pub fn categorize_state(rel: &Path) -> Category {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let comps: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let in_dir = |d: &str| comps.iter().rev().skip(1).any(|c| c == d);
    if let Some(c) = categorize_name(&name) {
        if c == Category::StateFile && name == "models.json" && in_dir("agent") {
            return Category::ModelsJson;
        }
        if c == Category::LegacyAuth && !(in_dir("agent") || comps.len() == 1) {
            return Category::StateFile;
        }
        if c != Category::StateFile {
            return c;
        }
    }
    if name == "oauth.json" && in_dir("credentials") {
        return Category::OAuthStore;
    }
    if in_dir("sessions") || name.ends_with(".jsonl") {
        return Category::Transcript;
    }
    if in_dir("logs") || name.ends_with(".log") || name.contains(".log.") {
        return Category::Log;
    }
    Category::StateFile
}

/// The category a file name alone implies; `Some(StateFile)` when none.
pub fn categorize_name(name: &str) -> Option<Category> {
    let lower = name.to_ascii_lowercase();
    if name == "auth-profiles.json" {
        return Some(Category::AuthProfiles);
    }
    if name.starts_with("auth-profiles.") || name.starts_with("auth.json.") {
        return Some(Category::AuthArchive);
    }
    if name == "auth.json" {
        return Some(Category::LegacyAuth);
    }
    if name == "openclaw.json" || name.starts_with("openclaw.json.") {
        return Some(Category::Config);
    }
    if lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env") {
        return Some(Category::EnvFile);
    }
    for ext in [".sqlite", ".sqlite3", ".db"] {
        for suf in ["", "-wal", "-journal", "-shm"] {
            if lower.ends_with(&format!("{ext}{suf}")) {
                return Some(Category::Sqlite);
            }
        }
    }
    Some(Category::StateFile)
}

/// Compressed or media files: scanning their bytes finds nothing.
pub fn skip_by_extension(path: &Path) -> bool {
    const SKIP: &[&str] = &[
        "png", "jpg", "jpeg", "gif", "webp", "ico", "mp3", "mp4", "m4a", "wav", "ogg", "opus",
        "webm", "pdf", "zip", "gz", "tgz", "xz", "zst", "bz2", "7z", "woff", "woff2", "ttf", "otf",
        "age", "lock",
    ];
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| SKIP.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

/// Something the walk could not read; becomes an `audit.unreadable` finding.
#[derive(Debug, Clone)]
pub struct WalkProblem {
    pub path: PathBuf,
    pub reason: String,
}

/// Every regular file under `root` with its category; symlinks are not followed
/// but listed in `symlinks`.
/// Directories in `skip` are not entered.
pub fn walk(
    root: &Path,
    skip: &[PathBuf],
    categorize: &dyn Fn(&Path) -> Category,
    out: &mut Vec<Target>,
    symlinks: &mut Vec<PathBuf>,
    problems: &mut Vec<WalkProblem>,
) {
    let it = walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| !skip.iter().any(|s| e.path() == s));
    for entry in it {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(root).to_path_buf();
                problems.push(WalkProblem {
                    path,
                    reason: e
                        .io_error()
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "cannot be walked".into()),
                });
                continue;
            }
        };
        if entry.file_type().is_symlink() {
            symlinks.push(entry.path().to_path_buf());
            continue;
        }
        if !entry.file_type().is_file() || skip_by_extension(entry.path()) {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        out.push(Target {
            path: entry.path().to_path_buf(),
            category: categorize(rel),
            size,
        });
    }
}

/// A hit in a file: offsets are absolute, `line` is 1-based (0 when unknown).
#[derive(Debug, Clone)]
pub struct FileHit {
    pub hit: Hit,
    pub line: u64,
    /// 1-based column of the secret's first character (Unicode code points when
    /// its line is in the scan window, else bytes).
    pub column: u64,
}

/// The column of `start` on a line that starts at `line_start` (both relative
/// to `buf`): code points, counting UTF-8 lead bytes.
fn column_in(buf: &[u8], line_start: usize, start: usize) -> u64 {
    buf[line_start..start]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count() as u64
        + 1
}

#[derive(Debug, Default)]
pub struct FileResult {
    pub hits: Vec<FileHit>,
    pub error: Option<String>,
    /// More hits than [`MAX_HITS_PER_FILE`]: the rest were dropped.
    pub truncated: bool,
}

/// Shared counters for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes_done: AtomicU64,
    pub files_done: AtomicU64,
    pub total_bytes: AtomicU64,
    pub total_files: AtomicU64,
    pub finished: AtomicBool,
}

pub const CHUNK: usize = 1 << 20;
const OVERLAP: usize = MAX_LOOKAHEAD + 512;
const LOOKBEHIND: usize = MAX_LOOKBEHIND;
/// Files larger than this are cut into segments scanned in parallel.
pub const SEGMENT: u64 = 64 << 20;
pub const MAX_HITS_PER_FILE: usize = 2000;

struct SegOut {
    /// Each hit, the newlines before it in the segment, and its 1-based column when
    /// its line starts inside the segment.
    hits: Vec<(Hit, u64, Option<u64>)>,
    newlines: u64,
    /// Absolute offset of the segment's last newline.
    last_nl: Option<u64>,
    truncated: bool,
}

fn fill(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn count_newlines(s: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', s).count() as u64
}

/// Scan anchors in `seg_start..seg_end` of `path` (`seg_end` `None` = to EOF).
/// Hit offsets are absolute; the `u64` is the number of newlines between
/// `seg_start` and the hit.
fn scan_segment(
    det: &Detector,
    path: &Path,
    seg_start: u64,
    seg_end: Option<u64>,
    packed: bool,
    progress: &Progress,
) -> io::Result<SegOut> {
    let mut f =
        crate::fsutil::open_nofollow_nonblock(std::fs::OpenOptions::new().read(true), path)?;
    let lb = seg_start.min(LOOKBEHIND as u64);
    let mut base = seg_start - lb; // absolute offset of buf[0]
    if base > 0 {
        f.seek(SeekFrom::Start(base))?;
    }
    let mut buf = vec![0u8; CHUNK + OVERLAP + LOOKBEHIND];
    let mut len = fill(&mut f, &mut buf)?;
    let mut from = lb as usize;
    let mut out = SegOut {
        hits: Vec::new(),
        newlines: 0,
        last_nl: None,
        truncated: false,
    };
    let mut local: Vec<Hit> = Vec::new();
    loop {
        let eof = len < buf.len();
        let mut to = if eof { len } else { len - OVERLAP };
        let mut last = false;
        if let Some(end) = seg_end {
            let end_rel = end.saturating_sub(base) as usize;
            if end_rel <= to {
                to = end_rel.max(from);
                last = true;
            }
        }
        if eof {
            last = true;
        }
        local.clear();
        if packed {
            det.scan_packed(&buf[..len], from, to, &mut local);
        } else {
            det.scan(&buf[..len], from, to, &mut local);
        }
        let mut counted = from;
        for h in local.drain(..) {
            let at = h.start.max(from).min(to);
            out.newlines += count_newlines(&buf[counted..at]);
            if let Some(i) = memchr::memrchr(b'\n', &buf[counted..at]) {
                out.last_nl = Some(base + (counted + i) as u64);
            }
            counted = at;
            if out.hits.len() >= MAX_HITS_PER_FILE {
                out.truncated = true;
                continue;
            }
            let line = out.newlines;
            let column = out.last_nl.map(|nl| {
                let ls = nl + 1;
                if ls >= base && (ls - base) as usize <= h.start {
                    column_in(&buf[..len], (ls - base) as usize, h.start)
                } else {
                    (base + h.start as u64).saturating_sub(ls) + 1
                }
            });
            let mut h = h;
            h.start += base as usize;
            h.end += base as usize;
            out.hits.push((h, line, column));
        }
        out.newlines += count_newlines(&buf[counted..to]);
        if let Some(i) = memchr::memrchr(b'\n', &buf[counted..to]) {
            out.last_nl = Some(base + (counted + i) as u64);
        }
        progress
            .bytes_done
            .fetch_add((to - from) as u64, Ordering::Relaxed);
        if last {
            break;
        }
        let keep_from = to - to.min(LOOKBEHIND);
        buf.copy_within(keep_from..len, 0);
        len -= keep_from;
        base += keep_from as u64;
        from = to - keep_from;
        len += fill(&mut f, &mut buf[len..])?;
    }
    Ok(out)
}

struct Job {
    target: usize,
    seg: usize,
    start: u64,
    end: Option<u64>,
}

/// Scan every target with `threads` workers. Results are in target order.
pub fn scan_targets(
    det: &Detector,
    targets: &[Target],
    threads: usize,
    segment: u64,
    progress: &Progress,
) -> Vec<FileResult> {
    let segment = segment.max(CHUNK as u64);
    let mut jobs = Vec::new();
    let mut segs_per = vec![0usize; targets.len()];
    for (i, t) in targets.iter().enumerate() {
        let n = t.size.div_ceil(segment).max(1) as usize;
        segs_per[i] = n;
        for s in 0..n {
            let start = s as u64 * segment;
            let end = if s + 1 == n {
                None
            } else {
                Some(start + segment)
            };
            jobs.push(Job {
                target: i,
                seg: s,
                start,
                end,
            });
        }
    }
    // Biggest first, so the last job to finish is a small one.
    jobs.sort_by_key(|j| {
        std::cmp::Reverse(match j.end {
            Some(e) => e - j.start,
            None => targets[j.target].size - j.start,
        })
    });
    progress
        .total_bytes
        .store(targets.iter().map(|t| t.size).sum(), Ordering::Relaxed);
    progress
        .total_files
        .store(targets.len() as u64, Ordering::Relaxed);

    let seg_results: Vec<Mutex<Vec<Option<io::Result<SegOut>>>>> = segs_per
        .iter()
        .map(|&n| Mutex::new((0..n).map(|_| None).collect()))
        .collect();
    let next = AtomicUsize::new(0);
    let threads = threads.max(1).min(jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let t = &targets[job.target];
                let packed = t.category == Category::Sqlite;
                let r = scan_segment(det, &t.path, job.start, job.end, packed, progress);
                let mut slot = seg_results[job.target]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                slot[job.seg] = Some(r);
                if slot.iter().all(|x| x.is_some()) {
                    progress.files_done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    progress.finished.store(true, Ordering::Relaxed);

    seg_results
        .into_iter()
        .map(|m| {
            let segs = m.into_inner().unwrap_or_else(|e| e.into_inner());
            let mut fr = FileResult::default();
            let mut base_lines = 0u64;
            let mut line_start = 0u64;
            for seg in segs.into_iter().flatten() {
                match seg {
                    Ok(so) => {
                        for (h, nl, column) in so.hits {
                            if fr.hits.last().is_some_and(|l| h.start < l.hit.end) {
                                continue;
                            }
                            if fr.hits.len() >= MAX_HITS_PER_FILE {
                                fr.truncated = true;
                                break;
                            }
                            let column = column
                                .unwrap_or_else(|| (h.start as u64).saturating_sub(line_start) + 1);
                            fr.hits.push(FileHit {
                                hit: h,
                                line: base_lines + nl + 1,
                                column,
                            });
                        }
                        fr.truncated |= so.truncated;
                        base_lines += so.newlines;
                        if let Some(nl) = so.last_nl {
                            line_start = nl + 1;
                        }
                    }
                    Err(e) => {
                        fr.error.get_or_insert(e.to_string());
                    }
                }
            }
            fr
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert_eq!(
            categorize_state(Path::new("agents/main/agent/auth-profiles.json")),
            Category::AuthProfiles
        );
        assert_eq!(
            categorize_state(Path::new(
                "agents/main/agent/auth-profiles.json.migrated-2026-01-01-abc"
            )),
            Category::AuthArchive
        );
        assert_eq!(
            categorize_state(Path::new("agents/main/agent/models.json")),
            Category::ModelsJson
        );
        assert_eq!(
            categorize_state(Path::new("credentials/oauth.json")),
            Category::OAuthStore
        );
        assert_eq!(
            categorize_state(Path::new("agents/main/sessions/abc.jsonl")),
            Category::Transcript
        );
        assert_eq!(
            categorize_state(Path::new("state/openclaw.sqlite-wal")),
            Category::Sqlite
        );
        assert_eq!(categorize_state(Path::new(".env")), Category::EnvFile);
        assert_eq!(categorize_state(Path::new("logs/gw.log")), Category::Log);
    }

    /// Secrets straddling or starting at chunk and segment boundaries are found
    /// once each, at the right line, whether the file is one segment or many.
    #[test]
    fn chunk_and_segment_boundaries_keep_hits_and_lines() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big.log");
        let key = "ghp_Zq8Lm3Pw9Rt2vK7nB4xJ1cYh6Qa5Ws0EuTiF".to_string();
        let mut positions = Vec::new();
        for k in 1..=3 {
            let c = k * CHUNK;
            positions.extend([c - 2, c + LOOKBEHIND - 3, c + LOOKBEHIND + 60, c + 400]);
        }
        let mut body = Vec::new();
        let mut expected = Vec::new();
        let mut columns = Vec::new();
        let mut line = 1u64;
        for &pos in &positions {
            while body.len() + 40 < pos {
                body.extend_from_slice(b"just some log text, nothing in it\n");
                line += 1;
            }
            let line_start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            while body.len() < pos {
                body.push(b' ');
            }
            columns.push((pos - line_start) as u64 + 1);
            body.extend_from_slice(key.as_bytes());
            body.push(b'\n');
            expected.push(line);
            line += 1;
        }
        body.extend_from_slice(b"tail\n");
        std::fs::write(&p, &body).unwrap();
        let det = Detector::new(&[]);
        let t = Target {
            path: p.clone(),
            category: Category::Log,
            size: body.len() as u64,
        };
        for segment in [SEGMENT, CHUNK as u64] {
            let r = scan_targets(
                &det,
                std::slice::from_ref(&t),
                2,
                segment,
                &Progress::default(),
            );
            let lines: Vec<u64> = r[0].hits.iter().map(|h| h.line).collect();
            assert_eq!(lines, expected, "segment size {segment}");
            let cols: Vec<u64> = r[0].hits.iter().map(|h| h.column).collect();
            assert_eq!(cols, columns, "segment size {segment}");
            let starts: Vec<usize> = r[0].hits.iter().map(|h| h.hit.start).collect();
            assert_eq!(starts, positions, "segment size {segment}");
        }
    }
}
