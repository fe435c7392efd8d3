//! `doctor --fix --redact`: overwrite every credential found in a session
//! transcript (`.jsonl`) or a log with a marker, in place.
//!
//! Why in place: OpenClaw appends to these files while a gateway runs. A
//! rename-based rewrite would lose lines appended between the read and the rename
//! (or send them to an unlinked inode). Overwriting each secret with a marker of
//! the *same length* at the same offset never moves a byte, so concurrent appends
//! (O_APPEND, at the end) are untouched, and the file is valid at every instant.
//!
//! The marker follows OpenClaw's `docs/reference/secret-placeholder-conventions.md`:
//! readable, obviously not real, no live-credential prefix (`clawvault-redacted`,
//! padded with `-`). Bytes a JSON string needs to stay valid are kept: `"`, `\`,
//! the byte after a `\`, and non-ASCII bytes. Each line that parsed as JSON before
//! is parsed again before anything is written; a line that would break is left
//! unchanged and reported.
//!
//! Only complete lines (up to the last newline: a stable length) are touched; after
//! writing, the file is re-checked, and any bytes appended meanwhile go through the
//! same steps. Before each write the original bytes of everything up to the stable
//! length are kept encrypted to the vault's age recipient.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::super::detect::{Detector, Hit, Kind};
use super::super::DoctorError;
use crate::fsutil;

/// The marker's fixed text; bytes past it are `-`.
pub const MARKER: &str = "clawvault-redacted";
/// Files larger than this are not redacted (reported instead).
const MAX_FILE: u64 = 1 << 30;
/// Rounds of "someone appended meanwhile" before giving up (the file stays valid).
const MAX_ROUNDS: usize = 32;

/// What redacting one file did.
#[derive(Debug)]
pub struct Redacted {
    pub path: PathBuf,
    /// The encrypted original (every byte up to the last redacted line).
    pub backup: PathBuf,
    /// Distinct credentials overwritten.
    pub hits: Vec<Hit>,
    /// Occurrences overwritten.
    pub occurrences: usize,
    /// Lines left as they were because redacting them would have broken their JSON.
    pub kept_lines: Vec<u64>,
    /// Bytes appended by another writer while redacting (they were checked too).
    pub appended: u64,
}

/// A credential a transcript or log exposed: it must be rotated.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotateNow {
    pub kind: String,
    /// Redacted preview (first and last characters).
    pub preview: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    pub files: Vec<PathBuf>,
    /// What to do: the `clawvault models auth paste-api-key` command for a model
    /// provider key, otherwise where to rotate it.
    pub command: String,
}

/// The model provider a key kind belongs to, as OpenClaw names it.
pub fn provider_of(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::AnthropicApiKey | Kind::AnthropicOauthToken | Kind::AnthropicRefreshToken => {
            "anthropic"
        }
        Kind::OpenAiProjectKey | Kind::OpenAiLegacyKey => "openai",
        Kind::OpenRouterKey => "openrouter",
        Kind::GoogleApiKey => "google",
        Kind::GroqKey => "groq",
        Kind::XaiKey => "xai",
        Kind::HuggingFaceToken => "huggingface",
        Kind::NvidiaKey => "nvidia",
        Kind::CerebrasKey => "cerebras",
        Kind::FireworksKey => "fireworks",
        Kind::TogetherKey => "together",
        _ => return None,
    })
}

/// The rotation advice for one exposed credential. `profiles` maps a provider to
/// the auth profile ids the host has for it (from its auth stores).
pub fn rotate_entry(
    hit: &Hit,
    files: Vec<PathBuf>,
    profiles: &BTreeMap<String, Vec<String>>,
) -> RotateNow {
    let provider = provider_of(hit.kind);
    let oauth = matches!(
        hit.kind,
        Kind::AnthropicOauthToken
            | Kind::AnthropicRefreshToken
            | Kind::GoogleRefreshToken
            | Kind::GoogleAccessToken
            | Kind::OauthRefreshToken
    );
    let profile_id = provider.map(|p| {
        profiles
            .get(p)
            .and_then(|v| v.first().cloned())
            .unwrap_or_else(|| format!("{p}:default"))
    });
    let command = match (provider, &profile_id) {
        (Some(_), _) if oauth => {
            "revoke the session at the provider, then `openclaw models auth login` again".into()
        }
        (Some(p), Some(id)) => format!(
            "create a new key at {p}, revoke this one, then `clawvault models auth paste-api-key --provider {p} --profile-id {id}`"
        ),
        _ => match hit.kind {
            Kind::TelegramBotToken => "revoke it with @BotFather (/revoke), then store the new token in the vault".into(),
            Kind::DiscordBotToken => "reset the bot token in the Discord developer portal, then store the new one in the vault".into(),
            Kind::SlackToken => "rotate it in the Slack app settings, then store the new one in the vault".into(),
            Kind::GithubToken => "revoke it in GitHub settings (tokens), then store the new one in the vault".into(),
            Kind::GatewayToken => "set a new gateway token (`openclaw doctor --generate-gateway-token`) kept in the vault".into(),
            Kind::AwsAccessKeyId | Kind::AwsSecretKey => "deactivate the access key in AWS IAM and create a new one".into(),
            Kind::VaultSecret => "this value is in the vault: rotate it at its issuer, then store the new one with `clawvault models auth paste-api-key|paste-token --provider P --profile-id ID` (a config value: edit it back into openclaw.json, then `clawvault migrate`)".into(),
            _ => "rotate it where it was issued, then keep the new value only in the vault".into(),
        },
    };
    RotateNow {
        kind: hit.kind.label().into(),
        preview: hit.redacted.clone(),
        provider: provider.map(str::to_string),
        profile_id,
        files,
        command,
    }
}

/// Provider -> auth profile ids, from every agent's `auth-profiles.json` under
/// `state_dir` (ids and providers are not secret). Best effort.
pub fn profile_ids(state_dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Ok(rd) = std::fs::read_dir(state_dir.join("agents")) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path().join("agent").join("auth-profiles.json");
        let Ok(b) = std::fs::read(&p) else { continue };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) else {
            continue;
        };
        if let Some(m) = v.get("profiles").and_then(|p| p.as_object()) {
            for (id, prof) in m {
                if let Some(pr) = prof.get("provider").and_then(|x| x.as_str()) {
                    let ids = out.entry(pr.to_string()).or_default();
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
            }
        }
    }
    out
}

fn io_fix(path: &Path) -> impl Fn(std::io::Error) -> DoctorError + '_ {
    move |e| DoctorError::Fix {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The bytes replacing `orig` (same length): the marker at every position a JSON
/// string does not need, `-` past its end.
fn marker_for(orig: &[u8]) -> Vec<u8> {
    let m = MARKER.as_bytes();
    let mut out = orig.to_vec();
    let mut k = 0usize;
    let mut after_escape = false;
    for b in out.iter_mut() {
        if after_escape {
            after_escape = false;
            continue;
        }
        if *b == b'\\' {
            after_escape = true;
            continue;
        }
        if *b == b'"' || *b >= 0x80 || *b < 0x20 {
            continue;
        }
        *b = if k < m.len() { m[k] } else { b'-' };
        k += 1;
    }
    out
}

fn is_json(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    !t.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(t).is_ok()
}

/// Encrypt `bytes` to `recipient` in a new file `<prefix>-<time>-<rand>-<name>.age`
/// under `backup_dir`.
pub(super) fn write_backup(
    prefix: &str,
    path: &Path,
    bytes: &[u8],
    recipient: &age::x25519::Recipient,
    backup_dir: &Path,
) -> Result<PathBuf, DoctorError> {
    fsutil::ensure_private_dir(backup_dir)?;
    let name: String = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let backup = backup_dir.join(format!(
        "{prefix}-{}-{:08x}-{name}.age",
        fsutil::now_ms(),
        rand::random::<u32>()
    ));
    let blob = crate::backend::age::AgeBackend::encrypt(recipient, bytes).map_err(|e| {
        DoctorError::Fix {
            path: backup.clone(),
            reason: format!("age encryption failed: {e}"),
        }
    })?;
    fsutil::write_atomic(&backup, &blob)?;
    Ok(backup)
}

/// The end of the last complete line in `buf[from..]`, or `None`.
fn stable_end(buf: &[u8], from: usize) -> Option<usize> {
    memchr::memrchr(b'\n', &buf[from..]).map(|i| from + i + 1)
}

/// Redact every credential `det` finds in `path`, in place. `Ok(None)` when it
/// holds none (nothing written, no backup).
pub fn redact_file(
    path: &Path,
    det: &Detector,
    recipient: &age::x25519::Recipient,
    backup_dir: &Path,
) -> Result<Option<Redacted>, DoctorError> {
    let f: File = fsutil::open_nofollow(OpenOptions::new().read(true).write(true), path)
        .map_err(io_fix(path))?;
    let meta = f.metadata().map_err(io_fix(path))?;
    if !meta.is_file() {
        return Err(DoctorError::Fix {
            path: path.into(),
            reason: "not a regular file; left unchanged".into(),
        });
    }
    if meta.len() > MAX_FILE {
        return Err(DoctorError::Fix {
            path: path.into(),
            reason: "larger than 1 GiB; redact it by hand or delete it".into(),
        });
    }
    let mut buf: Vec<u8> = Vec::with_capacity(meta.len() as usize);
    (&f).read_to_end(&mut buf).map_err(io_fix(path))?;
    let first_len = buf.len() as u64;

    let mut done = 0usize; // every byte before this is redacted
    let mut backup: Option<PathBuf> = None;
    let mut distinct: BTreeMap<[u8; 32], Hit> = BTreeMap::new();
    let mut occurrences = 0usize;
    let mut kept_lines = Vec::new();
    let mut line_no = 1u64; // the line number at `done`
    for round in 0..MAX_ROUNDS {
        // Only complete lines; a last line without a newline counts once the
        // file has stopped growing for a moment.
        let end = match stable_end(&buf, done) {
            Some(e) if e == buf.len() => e,
            other => {
                std::thread::sleep(Duration::from_millis(50));
                let now = f.metadata().map_err(io_fix(path))?.len();
                if now == buf.len() as u64 {
                    buf.len()
                } else {
                    other.unwrap_or(done)
                }
            }
        };
        if end > done {
            let mut hits = Vec::new();
            det.scan(&buf, done, end, &mut hits);
            hits.retain(|h| h.start >= done && h.end <= end);
            if !hits.is_empty() {
                // The new contents, line by line, only where a hit is.
                let mut patches: Vec<(usize, Vec<u8>)> = Vec::new();
                let mut i = 0;
                let mut pos = done;
                let mut ln = line_no;
                while i < hits.len() {
                    let h_start = hits[i].start;
                    // Advance to the line holding this hit.
                    while let Some(nl) = memchr::memchr(b'\n', &buf[pos..end]) {
                        if pos + nl >= h_start {
                            break;
                        }
                        pos += nl + 1;
                        ln += 1;
                    }
                    let line_end = memchr::memchr(b'\n', &buf[pos..end])
                        .map(|n| pos + n)
                        .unwrap_or(end);
                    let mut new = buf[pos..line_end].to_vec();
                    let mut n = 0;
                    while i < hits.len() && hits[i].start < line_end {
                        let h = &hits[i];
                        let (a, b) = (h.start - pos, h.end.min(line_end) - pos);
                        let m = marker_for(&new[a..b]);
                        new[a..b].copy_from_slice(&m);
                        n += 1;
                        i += 1;
                    }
                    if is_json(&buf[pos..line_end]) && !is_json(&new) {
                        kept_lines.push(ln);
                    } else {
                        occurrences += n;
                        patches.push((pos, new));
                    }
                }
                for h in hits {
                    distinct.entry(h.hash).or_insert(h);
                }
                if !patches.is_empty() {
                    // The original of everything up to `end`, encrypted, before any write.
                    let b = write_backup("redact", path, &buf[..end], recipient, backup_dir)?;
                    fsutil::crash_point("doctor.redact.backup-written");
                    if let Some(old) = backup.replace(b) {
                        let _ = std::fs::remove_file(old);
                    }
                    for (k, (at, bytes)) in patches.iter().enumerate() {
                        fsutil::write_all_at(&f, bytes, *at as u64).map_err(io_fix(path))?;
                        if k == 0 {
                            fsutil::crash_point("doctor.redact.first-line-written");
                        }
                        buf[*at..*at + bytes.len()].copy_from_slice(bytes);
                    }
                    f.sync_data().map_err(io_fix(path))?;
                    fsutil::crash_point("doctor.redact.synced");
                }
            }
            line_no += memchr::memchr_iter(b'\n', &buf[done..end]).count() as u64;
            done = end;
        }
        // Re-check: did someone append (or truncate) meanwhile?
        let now = f.metadata().map_err(io_fix(path))?.len();
        if now < buf.len() as u64 {
            return Err(DoctorError::Fix {
                path: path.into(),
                reason: format!(
                    "the file shrank while being redacted (rotated?); run `clawvault doctor --fix --redact` again{}",
                    backup
                        .as_ref()
                        .map(|b| format!("; the original is in {}", b.display()))
                        .unwrap_or_default()
                ),
            });
        }
        if now > buf.len() as u64 {
            let old = buf.len();
            buf.resize(now as usize, 0);
            fsutil::read_exact_at(&f, &mut buf[old..], old as u64).map_err(io_fix(path))?;
            continue;
        }
        if done == buf.len() || round + 1 == MAX_ROUNDS {
            break;
        }
    }
    let Some(backup) = backup else {
        if !kept_lines.is_empty() {
            return Err(DoctorError::Fix {
                path: path.into(),
                reason: format!(
                    "line(s) {kept_lines:?} hold credentials that cannot be overwritten without breaking their JSON; delete the file after rotating them"
                ),
            });
        }
        return Ok(None);
    };
    Ok(Some(Redacted {
        path: path.into(),
        backup,
        hits: distinct.into_values().collect(),
        occurrences,
        kept_lines,
        appended: buf.len() as u64 - first_len,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_keeps_length_and_json_escapes() {
        let m = marker_for(b"sk-abc\\\"def\\n0123456789abcdef");
        assert_eq!(m.len(), 29);
        assert_eq!(&m[..6], b"clawva");
        assert_eq!(m[6], b'\\');
        assert_eq!(m[7], b'"');
        assert_eq!(m[11], b'\\');
        assert_eq!(m[12], b'n');
        let line = [b"{\"a\":\"".as_slice(), &m, b"\"}"].concat();
        assert!(is_json(&line));
    }

    #[test]
    fn marker_is_not_secret_shaped() {
        let det = Detector::new(&[]);
        let m = marker_for(b"sk-proj-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        let line = [b"{\"apiKey\":\"".as_slice(), &m, b"\"} OPENAI_API_KEY=", &m].concat();
        let mut hits = Vec::new();
        det.scan(&line, 0, line.len(), &mut hits);
        assert!(hits.is_empty(), "{hits:?}");
    }
}
