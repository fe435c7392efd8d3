//! Unlocking the vault: an ordered list of sources, each named, each attempt recorded
//! so a failure can say what was tried and why each source failed.
//!
//! The order (issue 5): (1) the clawvault agent, asked by the caller (it serves
//! requests itself and never hands the identity out, see [`crate::agent`]); (2) the
//! identity remembered in the OS keychain ([`keychain`]); (3) the Linux keyutils
//! cache ([`keyutils`]); on Windows, the identity remembered with DPAPI
//! ([`dpapi`], `<vault>/identity.dpapi`); (4) a systemd credential
//! `$CREDENTIALS_DIRECTORY/clawvault.passphrase`; (5) `--passphrase-file`,
//! `$CLAWVAULT_PASSPHRASE_FILE`, `--passphrase-fd`; (6) a no-echo prompt, supplied
//! by the CLI through [`Prompter`] (the library never touches the terminal).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::secret::{strip_trailing_newline, SecretString};
use crate::vault::{Vault, VaultError};

/// Where a passphrase may come from, as given on the command line or environment.
#[derive(Debug, Clone)]
pub struct UnlockOptions {
    /// `--passphrase-file F`
    pub passphrase_file: Option<PathBuf>,
    /// `$CLAWVAULT_PASSPHRASE_FILE`
    pub passphrase_file_env: Option<PathBuf>,
    /// `--passphrase-fd N`
    pub passphrase_fd: Option<i32>,
    /// `$CREDENTIALS_DIRECTORY` (set by systemd's `LoadCredential=`).
    pub credentials_directory: Option<PathBuf>,
    /// The credential's name inside it (`--credential NAME`).
    pub credential_name: String,
}

/// The systemd credential name clawvault reads unless `--credential` says otherwise.
pub const DEFAULT_CREDENTIAL: &str = "clawvault.passphrase";

/// The source names used in output and errors.
pub mod names {
    pub const AGENT: &str = "agent";
    pub const KEYCHAIN: &str = "keychain";
    pub const KEYUTILS: &str = "keyutils";
    /// Windows only: `<vault>/identity.dpapi`.
    pub const DPAPI: &str = "dpapi";
    pub const CREDENTIAL: &str = "systemd credential";
    pub const PASSPHRASE: &str = "passphrase file/fd";
    pub const PROMPT: &str = "prompt";
}

pub mod dpapi;
pub mod keychain;
pub mod keyutils;

/// Asks a human. `None` when no terminal is attached.
pub trait Prompter {
    fn passphrase(&mut self, prompt: &str) -> Option<Result<SecretString, String>>;
}

/// A prompter for contexts that must never prompt (the resolver, tests).
pub struct NoPrompt;

impl Prompter for NoPrompt {
    fn passphrase(&mut self, _: &str) -> Option<Result<SecretString, String>> {
        None
    }
}

/// One source tried, and what happened.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub source: String,
    pub outcome: String,
}

/// No source unlocked the vault.
#[derive(Debug)]
pub struct UnlockError {
    pub dir: PathBuf,
    pub attempts: Vec<Attempt>,
    /// Set when a source gave a passphrase and it was wrong.
    pub wrong_passphrase: bool,
    /// Set when the vault itself is unusable (bad manifest).
    pub fatal: Option<Box<VaultError>>,
}

impl fmt::Display for UnlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.fatal {
            return write!(f, "{e}");
        }
        write!(f, "could not unlock the vault at {}: ", self.dir.display())?;
        if self.attempts.is_empty() {
            return write!(f, "no unlock source was available");
        }
        let parts: Vec<String> = self
            .attempts
            .iter()
            .map(|a| format!("{}: {}", a.source, a.outcome))
            .collect();
        write!(f, "tried {}", parts.join("; "))
    }
}

impl std::error::Error for UnlockError {}

/// Read a passphrase file: refuses group/world-readable files, strips one trailing
/// newline, refuses an empty passphrase.
pub fn read_passphrase_file(path: &Path) -> Result<SecretString, String> {
    // No blocking on a FIFO planted in its place; the type is checked on the open file.
    let f = crate::fsutil::open_nonblock(std::fs::OpenOptions::new().read(true), path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let meta = f
        .metadata()
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    // Owned by us (or root, e.g. a systemd credential) and no one else can replace
    // it or a directory above it.
    crate::trust::check_open(path, &meta).map_err(|e| e.to_string())?;
    if let Some(problem) = loose(path, &meta, true) {
        return Err(problem);
    }
    read_all(f).map_err(|e| format!("{}: {e}", path.display()))
}

/// Why a passphrase file is readable or writable by someone else, in one line with
/// its fix; `None` when only its owner may.
#[cfg(unix)]
fn loose(path: &Path, meta: &std::fs::Metadata, with_mode: bool) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    crate::fsutil::mode_is_loose(meta.mode()).then(|| {
        if with_mode {
            format!(
                "{} is readable or writable by group or others (mode {:o}); run chmod 600 on it",
                path.display(),
                meta.mode() & 0o777
            )
        } else {
            format!(
                "{} is readable or writable by group or others; run chmod 600 on it",
                path.display()
            )
        }
    })
}

/// Windows: its DACL lets someone besides the user (and the system principals) in.
#[cfg(windows)]
fn loose(path: &Path, _meta: &std::fs::Metadata, _with_mode: bool) -> Option<String> {
    match crate::trust::check_private(path) {
        Ok(None) => None,
        Ok(Some(x)) => Some(format!(
            "{}: {}; run `{}`",
            path.display(),
            x.describe(),
            x.fix
        )),
        Err(e) => Some(format!("cannot check who may read {}: {e}", path.display())),
    }
}

/// Read a passphrase from an inherited file descriptor (until EOF).
pub fn read_passphrase_fd(fd: i32) -> Result<SecretString, String> {
    if !crate::fsutil::fd_is_open(fd) {
        return Err(format!("file descriptor {fd} is not open"));
    }
    // SAFETY: the fd is open (checked above) and ours to consume: the user handed it
    // to us for exactly this purpose. It is closed when `f` drops.
    let f = unsafe { crate::fsutil::file_from_fd(fd) };
    read_all(f).map_err(|e| format!("file descriptor {fd}: {e}"))
}

fn read_all(r: impl Read) -> Result<SecretString, String> {
    let mut buf = Zeroizing::new(Vec::new());
    r.take(64 * 1024)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    strip_trailing_newline(&mut buf);
    if buf.is_empty() {
        return Err("the passphrase is empty".into());
    }
    let s =
        std::str::from_utf8(&buf).map_err(|_| "the passphrase is not valid UTF-8".to_string())?;
    Ok(SecretString::from(s.to_string()))
}

/// A passphrase from the explicit non-interactive sources, in order: flag file, env
/// file, fd. `Ok(None)` when none was given. Used by `init` and `passwd`.
pub fn explicit_passphrase(opts: &UnlockOptions) -> Result<Option<(String, SecretString)>, String> {
    if let Some(p) = &opts.passphrase_file {
        return read_passphrase_file(p)
            .map(|s| Some((format!("--passphrase-file {}", p.display()), s)));
    }
    if let Some(p) = &opts.passphrase_file_env {
        return read_passphrase_file(p)
            .map(|s| Some((format!("CLAWVAULT_PASSPHRASE_FILE={}", p.display()), s)));
    }
    if let Some(fd) = opts.passphrase_fd {
        return read_passphrase_fd(fd).map(|s| Some((format!("--passphrase-fd {fd}"), s)));
    }
    Ok(None)
}

impl Default for UnlockOptions {
    fn default() -> Self {
        UnlockOptions {
            passphrase_file: None,
            passphrase_file_env: None,
            passphrase_fd: None,
            credentials_directory: None,
            credential_name: DEFAULT_CREDENTIAL.to_string(),
        }
    }
}

impl UnlockOptions {
    /// The credential file, when `$CREDENTIALS_DIRECTORY` is set.
    pub fn credential_path(&self) -> Option<PathBuf> {
        self.credentials_directory
            .as_ref()
            .map(|d| d.join(&self.credential_name))
    }
}

/// Check a credential name: a single path segment.
pub fn validate_credential_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(format!(
            "credential name {name:?} is not valid: give a file name inside $CREDENTIALS_DIRECTORY, e.g. {DEFAULT_CREDENTIAL}"
        ));
    }
    Ok(())
}

/// Which sources [`unlock`] may try. The agent is asked by the caller.
#[derive(Debug, Clone, Copy)]
pub struct Sources {
    pub keychain: bool,
    pub keyutils: bool,
    /// `<vault>/identity.dpapi` (Windows only; ignored elsewhere).
    pub dpapi: bool,
    pub credential: bool,
    pub passphrase: bool,
    pub prompt: bool,
}

impl Sources {
    pub const ALL: Sources = Sources {
        keychain: true,
        keyutils: true,
        dpapi: true,
        credential: true,
        passphrase: true,
        prompt: true,
    };
    /// Only sources that give a passphrase (what the agent's `unlock` op needs).
    pub const PASSPHRASE_ONLY: Sources = Sources {
        keychain: false,
        keyutils: false,
        dpapi: false,
        credential: true,
        passphrase: true,
        prompt: true,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PassSource {
    Credential,
    File,
    Env,
    Fd,
    Prompt,
}

/// The passphrase sources `sources` allows, in order.
fn pass_sources(sources: Sources) -> Vec<PassSource> {
    let mut v = vec![];
    if sources.credential {
        v.push(PassSource::Credential);
    }
    if sources.passphrase {
        v.extend([PassSource::File, PassSource::Env, PassSource::Fd]);
    }
    if sources.prompt {
        v.push(PassSource::Prompt);
    }
    v
}

/// Read one passphrase source. `Err` carries the attempt to record.
fn read_source(
    kind: PassSource,
    opts: &UnlockOptions,
    prompter: &mut dyn Prompter,
    prompt: &str,
) -> Option<(String, Result<SecretString, String>)> {
    match kind {
        PassSource::Credential => Some(match opts.credential_path() {
            None => (
                names::CREDENTIAL.into(),
                Err("CREDENTIALS_DIRECTORY is not set".into()),
            ),
            Some(p) => {
                let name = format!("{} {}", names::CREDENTIAL, p.display());
                if p.exists() {
                    (name, read_passphrase_file(&p))
                } else {
                    (name, Err("no such credential".into()))
                }
            }
        }),
        PassSource::File => opts.passphrase_file.as_ref().map(|p| {
            (
                format!("--passphrase-file {}", p.display()),
                read_passphrase_file(p),
            )
        }),
        PassSource::Env => opts.passphrase_file_env.as_ref().map(|p| {
            (
                format!("CLAWVAULT_PASSPHRASE_FILE={}", p.display()),
                read_passphrase_file(p),
            )
        }),
        PassSource::Fd => opts
            .passphrase_fd
            .map(|fd| (format!("--passphrase-fd {fd}"), read_passphrase_fd(fd))),
        PassSource::Prompt => Some((
            names::PROMPT.into(),
            prompter
                .passphrase(prompt)
                .unwrap_or_else(|| Err("no terminal attached".into())),
        )),
    }
}

/// Walk the passphrase sources in order; `try_pass` says whether to stop (true) with
/// the passphrase it was given. Records every failed source in `attempts`.
fn walk_passphrases(
    opts: &UnlockOptions,
    prompter: &mut dyn Prompter,
    prompt: &str,
    attempts: &mut Vec<Attempt>,
    sources: Sources,
    mut try_pass: impl FnMut(&str, SecretString, &mut Vec<Attempt>) -> Step,
) -> Option<String> {
    let given = opts.passphrase_file.is_some()
        || opts.passphrase_file_env.is_some()
        || opts.passphrase_fd.is_some();
    for kind in pass_sources(sources) {
        if kind == PassSource::File && !given {
            attempts.push(Attempt {
                source: names::PASSPHRASE.into(),
                outcome:
                    "none given (--passphrase-file, CLAWVAULT_PASSPHRASE_FILE, --passphrase-fd)"
                        .into(),
            });
        }
        let Some((name, got)) = read_source(kind, opts, prompter, prompt) else {
            continue;
        };
        match got {
            Err(why) => attempts.push(Attempt {
                source: name,
                outcome: why,
            }),
            Ok(pass) => match try_pass(&name, pass, attempts) {
                Step::Done => return Some(name),
                Step::Next => {}
                Step::Stop => return None,
            },
        }
    }
    None
}

enum Step {
    Done,
    Next,
    Stop,
}

/// A passphrase from the first passphrase source that gives one: the systemd
/// credential, then file/env/fd, then the prompt. Failed sources are recorded.
pub fn passphrase_from_sources(
    opts: &UnlockOptions,
    prompter: &mut dyn Prompter,
    prompt: &str,
    attempts: &mut Vec<Attempt>,
    sources: Sources,
) -> Option<(String, SecretString)> {
    let mut out = None;
    let name = walk_passphrases(opts, prompter, prompt, attempts, sources, |_, p, _| {
        out = Some(p);
        Step::Done
    })?;
    out.map(|p| (name, p))
}

/// The identity cached by a source, checked against the vault without unlocking it.
fn cached_identity(vault: &Vault, source: &str) -> Result<SecretString, String> {
    let got = match source {
        names::KEYCHAIN => match keychain::get(vault.id())? {
            keychain::Lookup::Found(s) => s,
            keychain::Lookup::Absent { store } => {
                return Err(format!("nothing remembered for this vault in {store}"))
            }
        },
        names::DPAPI => match dpapi::get(vault.dir(), vault.id())? {
            dpapi::Lookup::Found(s) => s,
            dpapi::Lookup::Absent => {
                return Err(
                    "nothing remembered for this vault (`clawvault unlock --remember dpapi`)"
                        .into(),
                )
            }
        },
        _ => keyutils::get(vault.id()).map_err(|e| e.to_string())?,
    };
    if !identity_matches(vault, &got) {
        return Err("the cached identity belongs to another vault".into());
    }
    Ok(got)
}

/// Whether `identity` is this vault's (no KDF run: one scalar multiplication).
pub fn identity_matches(vault: &Vault, identity: &SecretString) -> bool {
    use secrecy::ExposeSecret;
    identity
        .expose_secret()
        .parse::<age::x25519::Identity>()
        .map(|id| id.to_public().to_string() == vault.manifest().recipient)
        .unwrap_or(false)
}

/// Unlock `vault` from the first source that works. Returns the source's name.
pub fn unlock(
    vault: &mut Vault,
    opts: &UnlockOptions,
    prompter: &mut dyn Prompter,
) -> Result<String, UnlockError> {
    unlock_from(vault, opts, prompter, Sources::ALL)
}

/// [`unlock`] with a chosen set of sources.
pub fn unlock_from(
    vault: &mut Vault,
    opts: &UnlockOptions,
    prompter: &mut dyn Prompter,
    sources: Sources,
) -> Result<String, UnlockError> {
    let prompt = format!("Passphrase for the vault at {}: ", vault.dir().display());
    let mut err = UnlockError {
        dir: vault.dir().to_path_buf(),
        attempts: vec![],
        wrong_passphrase: false,
        fatal: None,
    };
    for (on, name) in [
        (sources.keychain, names::KEYCHAIN),
        (sources.keyutils, names::KEYUTILS),
        (sources.dpapi && dpapi::SUPPORTED, names::DPAPI),
    ] {
        if !on {
            continue;
        }
        match cached_identity(vault, name) {
            Ok(id) => match vault.unlock_with_identity(&id) {
                Ok(()) => return Ok(name.to_string()),
                Err(e) => err.attempts.push(Attempt {
                    source: name.into(),
                    outcome: e.to_string(),
                }),
            },
            Err(why) => err.attempts.push(Attempt {
                source: name.into(),
                outcome: why,
            }),
        }
    }
    // Passphrase sources, in order; a wrong passphrase moves on to the next one.
    let mut wrong = false;
    let mut fatal = None;
    let done = walk_passphrases(
        opts,
        prompter,
        &prompt,
        &mut err.attempts,
        sources,
        |name, pass, attempts| match vault.unlock_with_passphrase(&pass) {
            Ok(()) => Step::Done,
            Err(VaultError::WrongPassphrase { .. }) => {
                wrong = true;
                attempts.push(Attempt {
                    source: name.into(),
                    outcome: "wrong passphrase".into(),
                });
                Step::Next
            }
            Err(e) => {
                attempts.push(Attempt {
                    source: name.into(),
                    outcome: e.to_string(),
                });
                fatal = Some(Box::new(e));
                Step::Stop
            }
        },
    );
    err.wrong_passphrase = wrong;
    err.fatal = fatal;
    match done {
        Some(name) => Ok(name),
        None => Err(err),
    }
}

/// One source's state for `clawvault unlock --status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceStatus {
    pub source: String,
    /// `would-unlock`, `available` or `unavailable`.
    pub state: &'static str,
    pub detail: String,
}

/// What each local source (2-6) would do, without unlocking (no KDF run, nothing
/// read from an fd).
pub fn status(vault: &Vault, opts: &UnlockOptions, tty: bool) -> Vec<SourceStatus> {
    let mut out = vec![];
    let cached = [names::KEYCHAIN, names::KEYUTILS, names::DPAPI];
    // DPAPI exists on Windows only; elsewhere the source is not listed at all.
    for name in cached
        .into_iter()
        .filter(|n| dpapi::SUPPORTED || *n != names::DPAPI)
    {
        out.push(match cached_identity(vault, name) {
            Ok(_) => SourceStatus {
                source: name.into(),
                state: "would-unlock",
                detail: "holds this vault's identity".into(),
            },
            Err(why) => SourceStatus {
                source: name.into(),
                state: "unavailable",
                detail: why,
            },
        });
    }
    let file_state = |p: &Path| -> (&'static str, String) {
        match std::fs::metadata(p) {
            Err(e) => ("unavailable", format!("cannot read {}: {e}", p.display())),
            Ok(m) if !m.is_file() => (
                "unavailable",
                format!("{} is not a regular file", p.display()),
            ),
            Ok(m) if loose(p, &m, false).is_some() => {
                ("unavailable", loose(p, &m, false).unwrap_or_default())
            }
            Ok(_) => ("available", format!("{} (checked when used)", p.display())),
        }
    };
    out.push(match opts.credential_path() {
        None => SourceStatus {
            source: names::CREDENTIAL.into(),
            state: "unavailable",
            detail: "CREDENTIALS_DIRECTORY is not set".into(),
        },
        Some(p) => {
            let (state, detail) = file_state(&p);
            SourceStatus {
                source: names::CREDENTIAL.into(),
                state,
                detail,
            }
        }
    });
    let mut pass = vec![];
    if let Some(p) = &opts.passphrase_file {
        let (s, d) = file_state(p);
        pass.push((s, format!("--passphrase-file {d}")));
    }
    if let Some(p) = &opts.passphrase_file_env {
        let (s, d) = file_state(p);
        pass.push((s, format!("CLAWVAULT_PASSPHRASE_FILE={d}")));
    }
    if let Some(fd) = opts.passphrase_fd {
        let open = crate::fsutil::fd_is_open(fd);
        pass.push(if open {
            (
                "available",
                format!("--passphrase-fd {fd} (checked when used)"),
            )
        } else {
            ("unavailable", format!("--passphrase-fd {fd} is not open"))
        });
    }
    if pass.is_empty() {
        out.push(SourceStatus {
            source: names::PASSPHRASE.into(),
            state: "unavailable",
            detail: "none given (--passphrase-file, CLAWVAULT_PASSPHRASE_FILE, --passphrase-fd)"
                .into(),
        });
    }
    for (state, detail) in pass {
        out.push(SourceStatus {
            source: names::PASSPHRASE.into(),
            state,
            detail,
        });
    }
    out.push(SourceStatus {
        source: names::PROMPT.into(),
        state: if tty { "available" } else { "unavailable" },
        detail: if tty {
            "a terminal is attached".into()
        } else {
            "no terminal attached".into()
        },
    });
    out
}
