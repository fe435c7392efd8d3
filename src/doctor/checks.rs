//! Checks that are not pattern scans: permissions and ownership, symlinks, git
//! work trees and cloud-synced folders, the vault's own files, and the structure
//! of OpenClaw's JSON credential stores (inline profile material, OAuth profiles,
//! the `openclaw.json` credential surface).

use std::collections::HashSet;
use std::fs;
#[cfg(unix)]
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::detect::{credential_name, is_placeholder, redact, Detector, Kind};
use super::scan::Category;
use super::{Finding, FixAction, Severity};

/// What a permission check is about, for its wording and check id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    StateDir,
    AgentDir,
    CredentialFile,
    VaultDir,
    VaultFile,
    PassphraseFile,
}

impl Subject {
    fn check_prefix(self) -> &'static str {
        match self {
            Subject::VaultDir | Subject::VaultFile => "vault",
            Subject::PassphraseFile => "vault.passphrase-file",
            _ => "perm",
        }
    }
}

#[cfg(unix)]
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Mode and owner findings (Unix: the mode as others can reach it, and the uid).
#[cfg(unix)]
fn permission_findings(path: &Path, meta: &fs::Metadata, prefix: &str, out: &mut Vec<Finding>) {
    let dir = meta.is_dir();
    let mode = meta.mode() & 0o7777;
    let want = if dir { 0o700 } else { 0o600 };
    // Judge by who can reach it, not by its own mode alone (issue 15): a 0644
    // lock file inside a 0700 state dir is readable by nobody else.
    let mode = if mode & 0o077 != 0 {
        super::reach::effective_mode(path, mode)
    } else {
        mode
    };
    if mode & 0o077 != 0 {
        let world = mode & 0o007 != 0;
        let writable = mode & 0o022 != 0;
        let who = match (world, writable) {
            (true, true) => "every user can read and write it",
            (true, false) => "every user on this machine can read it",
            (false, true) => "its group can write it",
            (false, false) => "its group can read it",
        };
        let sev = if world || writable {
            Severity::Error
        } else {
            Severity::Warn
        };
        let mut f = Finding::new(
            format!("{prefix}.loose-permissions"),
            sev,
            format!("mode {mode:04o}: {who}"),
            path,
            None,
            format!("chmod {want:o} {}", shell_quote(path)),
        );
        f.action = Some(FixAction::Chmod {
            path: path.to_path_buf(),
            mode: want,
        });
        out.push(f);
    }
    let me = euid();
    if meta.uid() != me {
        out.push(Finding::new(
            format!("{prefix}.owner"),
            Severity::Error,
            format!(
                "owned by uid {}, not by you (uid {me}): that user can read and replace it",
                meta.uid()
            ),
            path,
            None,
            format!(
                "chown {me} {} (as root), or move it to a directory you own",
                shell_quote(path)
            ),
        ));
    }
}

/// DACL and owner findings (Windows): anyone besides the user and the system
/// principals who may read or write it, and an owner who is not the user. The fix
/// is the owner-only DACL (the same `Chmod` action the Unix check proposes).
#[cfg(windows)]
fn permission_findings(path: &Path, meta: &fs::Metadata, prefix: &str, out: &mut Vec<Finding>) {
    let want = if meta.is_dir() { 0o700 } else { 0o600 };
    let Ok(Some(x)) = crate::trust::check_private(path) else {
        return;
    };
    if !x.who.is_empty() {
        let sev = if x.world || x.writable {
            Severity::Error
        } else {
            Severity::Warn
        };
        let mut f = Finding::new(
            format!("{prefix}.loose-permissions"),
            sev,
            format!(
                "its DACL lets {} {}",
                x.who.join(", "),
                if x.writable {
                    "read or write it"
                } else {
                    "read it"
                }
            ),
            path,
            None,
            x.fix.clone(),
        );
        f.action = Some(FixAction::Chmod {
            path: path.to_path_buf(),
            mode: want,
        });
        out.push(f);
    }
    if let Some(owner) = &x.foreign_owner {
        let me = crate::winsec::current_user()
            .map(|s| s.string())
            .unwrap_or_default();
        out.push(Finding::new(
            format!("{prefix}.owner"),
            Severity::Error,
            format!("owned by {owner}, not by you ({me}): that user can read and replace it"),
            path,
            None,
            format!(
                "icacls {} /setowner *{me} (as an administrator), or move it to a directory you own",
                shell_quote(path)
            ),
        ));
    }
}

/// Mode, owner and symlink checks for one path.
pub fn check_path(path: &Path, subject: Subject, out: &mut Vec<Finding>) {
    let Ok(lmeta) = fs::symlink_metadata(path) else {
        return;
    };
    let prefix = subject.check_prefix();
    if lmeta.file_type().is_symlink() {
        out.push(Finding::new(
            format!("{prefix}.symlink"),
            Severity::Warn,
            "is a symlink: whoever controls the link target controls what OpenClaw reads and writes".into(),
            path,
            None,
            "replace the symlink with the real file or directory (mv the target into place)".into(),
        ));
    }
    let Ok(meta) = fs::metadata(path) else { return };
    permission_findings(path, &meta, prefix, out);
    if matches!(subject, Subject::StateDir | Subject::VaultDir) {
        if let Some(repo) = git_work_tree(path) {
            out.push(Finding::new(
                format!("{prefix}.git-work-tree"),
                Severity::Warn,
                format!("is inside the git work tree {}: one `git add -A` commits it", repo.display()),
                path,
                None,
                "move it out of the repository (OPENCLAW_STATE_DIR / --vault), or add it to .git/info/exclude".into(),
            ));
        }
        if let Some(service) = cloud_synced(path) {
            out.push(Finding::new(
                format!("{prefix}.cloud-synced"),
                Severity::Warn,
                format!("is inside a {service} folder: its contents are copied to the cloud and to every synced device"),
                path,
                None,
                "move it to a local, unsynced directory and point OPENCLAW_STATE_DIR / --vault at it".into(),
            ));
        }
    }
}

pub fn shell_quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-~+:@".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The work tree root when `path` or one of its parents holds a `.git`.
pub fn git_work_tree(path: &Path) -> Option<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    abs.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The sync service whose folder holds `path`, judged by well-known folder names.
pub fn cloud_synced(path: &Path) -> Option<&'static str> {
    let s = path.to_string_lossy();
    const MARKERS: &[(&str, &str)] = &[
        ("/Dropbox", "Dropbox"),
        ("/OneDrive", "OneDrive"),
        ("/Google Drive", "Google Drive"),
        ("/GoogleDrive", "Google Drive"),
        ("/My Drive/", "Google Drive"),
        ("/Library/Mobile Documents/", "iCloud Drive"),
        ("/iCloud Drive", "iCloud Drive"),
        ("/iCloudDrive", "iCloud Drive"),
        ("/Library/CloudStorage/", "cloud storage"),
        ("/pCloudDrive", "pCloud"),
        ("/Nextcloud", "Nextcloud"),
        ("/ownCloud", "ownCloud"),
        ("/Box Sync", "Box"),
        ("/MEGA", "MEGA"),
    ];
    MARKERS
        .iter()
        .find(|(m, _)| s.contains(m))
        .map(|(_, name)| *name)
}

/// The vault's own files: directory, manifest, blobs, a passphrase file.
pub fn check_vault(vault_dir: &Path, out: &mut Vec<Finding>) {
    if !vault_dir.exists() {
        return;
    }
    check_path(vault_dir, Subject::VaultDir, out);
    let manifest = crate::vault::Vault::manifest_path(vault_dir);
    check_path(&manifest, Subject::VaultFile, out);
    let blobs = vault_dir.join("blobs");
    if blobs.exists() {
        check_path(&blobs, Subject::VaultDir, out);
        for e in fs::read_dir(&blobs).into_iter().flatten().flatten() {
            check_path(&e.path(), Subject::VaultFile, out);
        }
    }
    let mut pass_files: Vec<PathBuf> = fs::read_dir(vault_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            n.contains("passphrase") || n.ends_with(".pass")
        })
        .collect();
    if let Some(p) = std::env::var_os("CLAWVAULT_PASSPHRASE_FILE").filter(|p| !p.is_empty()) {
        pass_files.push(PathBuf::from(p));
    }
    for p in pass_files {
        check_path(&p, Subject::PassphraseFile, out);
    }
}

/// A value found by looking at a JSON document's structure.
#[derive(Debug, Clone)]
pub struct StructItem {
    pub hash: [u8; 32],
    pub redacted: String,
    pub kind: Kind,
    /// Where it sits: `profile anthropic:default`, `gateway.auth.token`.
    pub place: String,
    /// The escaped JSON string, to find its line when no pattern hit did.
    pub needle: Vec<u8>,
}

/// What the structure of a JSON credential store says.
#[derive(Debug, Default)]
pub struct StructReport {
    /// Inline secrets that belong in the vault.
    pub inline: Vec<StructItem>,
    /// OAuth token values: (profile id and field, provider, needle for the value's line).
    pub oauth: Vec<(String, String, Vec<u8>)>,
    /// Hashes of OAuth material: pattern hits with these are part of an OAuth profile.
    pub oauth_hashes: HashSet<[u8; 32]>,
    /// SecretRefs found: (profile id, provider alias, id).
    pub refs: Vec<(String, String, String)>,
}

fn hash(v: &[u8]) -> [u8; 32] {
    Sha256::digest(v).into()
}

fn needle_for(key: &str) -> Vec<u8> {
    serde_json::to_string(key).unwrap_or_default().into_bytes()
}

fn is_secret_ref(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.contains_key("source") && o.contains_key("id"))
}

fn inline_item(det: &Detector, s: &str, place: String, kind: Option<Kind>) -> Option<StructItem> {
    let b = s.as_bytes();
    if b.len() < 8 || is_placeholder(b) {
        return None;
    }
    Some(StructItem {
        hash: hash(b),
        redacted: redact(b),
        kind: det.classify(b).or(kind).unwrap_or(Kind::NamedCredential),
        place,
        needle: serde_json::to_string(s).unwrap_or_default().into_bytes(),
    })
}

/// Parse a JSON credential store and report what it holds. `None` when it is not
/// JSON (OpenClaw accepts JSON5 for its config: the pattern scan still covers it).
pub fn structure(det: &Detector, category: Category, bytes: &[u8]) -> Option<StructReport> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let mut r = StructReport::default();
    match category {
        Category::AuthProfiles
        | Category::AuthArchive
        | Category::LegacyAuth
        | Category::OAuthStore => {
            let profiles = match v.get("profiles").and_then(Value::as_object) {
                Some(p) => p.clone(),
                None => v.as_object()?.clone(),
            };
            for (id, p) in &profiles {
                let Some(o) = p.as_object() else { continue };
                let ty = o
                    .get("type")
                    .or_else(|| o.get("mode"))
                    .and_then(Value::as_str)
                    .unwrap_or(if category == Category::OAuthStore {
                        "oauth"
                    } else {
                        ""
                    });
                let provider = o
                    .get("provider")
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| id.split(':').next().unwrap_or(id))
                    .to_string();
                if ty == "oauth" || (o.contains_key("refresh") && o.contains_key("access")) {
                    // One entry per token value, at the line where the value sits.
                    let before = r.oauth.len();
                    for (k, val) in o {
                        if let Some(s) = val.as_str() {
                            if credential_name(k.as_bytes())
                                || matches!(
                                    k.as_str(),
                                    "access" | "refresh" | "idToken" | "id_token"
                                )
                            {
                                r.oauth_hashes.insert(hash(s.as_bytes()));
                                if s.len() >= 8 && !is_placeholder(s.as_bytes()) {
                                    r.oauth.push((
                                        format!("{id} `{k}`"),
                                        provider.clone(),
                                        serde_json::to_string(s).unwrap_or_default().into_bytes(),
                                    ));
                                }
                            }
                        }
                    }
                    if r.oauth.len() == before {
                        r.oauth.push((id.clone(), provider, needle_for(id)));
                    }
                    continue;
                }
                for field in ["key", "apiKey", "token"] {
                    match o.get(field) {
                        Some(Value::String(s)) => {
                            if let Some(it) = inline_item(det, s, format!("profile {id}"), None) {
                                r.inline.push(it);
                            }
                        }
                        Some(x) if is_secret_ref(x) => push_ref(&mut r, id, x),
                        _ => {}
                    }
                }
                for field in ["keyRef", "tokenRef"] {
                    if let Some(x) = o.get(field).filter(|x| is_secret_ref(x)) {
                        push_ref(&mut r, id, x);
                    }
                }
            }
        }
        _ => walk_json(det, &v, &mut Vec::new(), &mut r),
    }
    Some(r)
}

fn push_ref(r: &mut StructReport, id: &str, x: &Value) {
    let get = |k: &str| x.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    if get("source") == "exec" {
        r.refs.push((id.to_string(), get("provider"), get("id")));
    }
}

/// Every credential-named string in a config-like document.
fn walk_json(det: &Detector, v: &Value, path: &mut Vec<String>, r: &mut StructReport) {
    match v {
        Value::Object(o) => {
            if is_secret_ref(v) {
                return;
            }
            for (k, val) in o {
                path.push(k.clone());
                if let Value::String(s) = val {
                    if credential_name(k.as_bytes()) {
                        let place = path.join(".");
                        let kind = if place == "gateway.auth.token" {
                            Some(Kind::GatewayToken)
                        } else if place == "gateway.auth.password" {
                            Some(Kind::Password)
                        } else {
                            None
                        };
                        if let Some(it) = inline_item(det, s, place, kind) {
                            r.inline.push(it);
                        }
                    }
                } else {
                    walk_json(det, val, path, r);
                }
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, val) in a.iter().enumerate() {
                path.push(i.to_string());
                walk_json(det, val, path, r);
                path.pop();
            }
        }
        _ => {}
    }
}

/// 1-based line of the first occurrence of `needle`, 0 when absent.
pub fn line_of(bytes: &[u8], needle: &[u8]) -> u64 {
    match memchr::memmem::find(bytes, needle) {
        Some(i) => 1 + memchr::memchr_iter(b'\n', &bytes[..i]).count() as u64,
        None => 0,
    }
}

/// One line on what a finding code means (SARIF `rules[].shortDescription`).
pub fn rule_description(check_id: &str) -> String {
    let (head, tail) = check_id.rsplit_once('.').unwrap_or((check_id, ""));
    let what = match check_id {
        "plaintext.auth-profile" => "A plaintext key or token in an OpenClaw auth store",
        "plaintext.auth-archive" => "A plaintext credential in an archived OpenClaw auth store",
        "plaintext.legacy-auth" => "A plaintext credential in a legacy auth.json",
        "plaintext.config" => "A plaintext credential in openclaw.json or one of its backups",
        "plaintext.models-json" => "A resolved key in a generated models.json",
        "plaintext.env-file" => "A plaintext credential in a .env file",
        "plaintext.sqlite" => "A plaintext credential in an OpenClaw SQLite database or its WAL",
        "plaintext.transcript" => {
            "A credential in a session transcript (it reached a model provider)"
        }
        "plaintext.log" => "A credential in a log file",
        "plaintext.shell-history" => "A credential in a shell history",
        "plaintext.service-unit" => "A credential in a systemd unit or launchd plist",
        "plaintext.file" => "A plaintext credential in a file",
        "plaintext.home-file" => "A credential in another program's file under the home directory",
        "plaintext.channel-session" => {
            "A channel's session key OpenClaw keeps itself (WhatsApp linked device)"
        }
        "vault.secret-copy" => "A byte-exact copy of a secret the vault holds",
        "vault.dangling-ref" => "An OpenClaw reference to a vault entry that does not exist",
        "vault.resolve-failures" => "OpenClaw's exec provider failed recently (see the log)",
        "vault.refs-unchecked" => "Vault references could not be checked (vault locked)",
        "oauth.profile" => "An OAuth profile OpenClaw keeps in plaintext by policy",
        "info.openclaw-device-token" => {
            "OpenClaw's own device pairing token (no command can move it)"
        }
        "audit.unreadable" => "A file the audit could not read",
        "audit.truncated" => "A file with more findings than the audit reports",
        _ => "",
    };
    if !what.is_empty() {
        return what.to_string();
    }
    let subject = match head {
        "vault" => "the vault",
        "vault.passphrase-file" => "a passphrase file",
        _ => "a credential file or directory",
    };
    match tail {
        "loose-permissions" => format!("Other users can reach {subject}"),
        "owner" => format!("{subject} is owned by another user"),
        "symlink" => format!("{subject} is a symlink"),
        "git-work-tree" => format!("{subject} is inside a git work tree"),
        "cloud-synced" => format!("{subject} is in a cloud-synced folder"),
        _ => check_id.to_string(),
    }
}
