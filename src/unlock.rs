//! Unlocking the vault: an ordered list of sources, each named, each attempt recorded
//! so a failure can say what was tried and why each source failed.
//!
//! Sources here: `--passphrase-file`, `$CLAWVAULT_PASSPHRASE_FILE`,
//! `--passphrase-fd`, and a no-echo prompt (supplied by the CLI through
//! [`Prompter`]: the library never touches the terminal).

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::fsutil::mode_is_loose;
use crate::secret::{strip_trailing_newline, SecretString};
use crate::vault::{Vault, VaultError};

/// Where a passphrase may come from, as given on the command line or environment.
#[derive(Debug, Clone, Default)]
pub struct UnlockOptions {
    /// `--passphrase-file F`
    pub passphrase_file: Option<PathBuf>,
    /// `$CLAWVAULT_PASSPHRASE_FILE`
    pub passphrase_file_env: Option<PathBuf>,
    /// `--passphrase-fd N`
    pub passphrase_fd: Option<i32>,
}

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
    pub fatal: Option<VaultError>,
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
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let meta = f
        .metadata()
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if mode_is_loose(meta.mode()) {
        return Err(format!(
            "{} is readable or writable by group or others (mode {:o}); run chmod 600 on it",
            path.display(),
            meta.mode() & 0o777
        ));
    }
    read_all(f).map_err(|e| format!("{}: {e}", path.display()))
}

/// Read a passphrase from an inherited file descriptor (until EOF).
pub fn read_passphrase_fd(fd: i32) -> Result<SecretString, String> {
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return Err(format!("file descriptor {fd} is not open"));
    }
    // SAFETY: the fd is open (checked above) and ours to consume: the user handed it
    // to us for exactly this purpose. It is closed when `f` drops.
    let f = unsafe { File::from_raw_fd(fd) };
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

/// Unlock `vault` from the first source that works. Returns the source's name.
/// Vaults whose reads need no identity (keychain) are left as they are.
pub fn unlock(
    vault: &mut Vault,
    opts: &UnlockOptions,
    prompter: &mut dyn Prompter,
) -> Result<String, UnlockError> {
    let prompt = format!("Passphrase for the vault at {}: ", vault.dir().display());
    let mut err = UnlockError {
        dir: vault.dir().to_path_buf(),
        attempts: vec![],
        wrong_passphrase: false,
        fatal: None,
    };
    let mut try_pass =
        |err: &mut UnlockError, name: String, p: Result<SecretString, String>| -> bool {
            match p {
                Err(why) => {
                    err.attempts.push(Attempt {
                        source: name,
                        outcome: why,
                    });
                    false
                }
                Ok(pass) => match vault.unlock_with_passphrase(&pass) {
                    Ok(()) => true,
                    Err(VaultError::WrongPassphrase { .. }) => {
                        err.wrong_passphrase = true;
                        err.attempts.push(Attempt {
                            source: name,
                            outcome: "wrong passphrase".into(),
                        });
                        false
                    }
                    Err(e) => {
                        err.attempts.push(Attempt {
                            source: name,
                            outcome: e.to_string(),
                        });
                        err.fatal = Some(e);
                        false
                    }
                },
            }
        };
    if let Some(p) = &opts.passphrase_file {
        let name = format!("--passphrase-file {}", p.display());
        if try_pass(&mut err, name.clone(), read_passphrase_file(p)) {
            return Ok(name);
        }
    }
    if err.fatal.is_none() {
        if let Some(p) = &opts.passphrase_file_env {
            let name = format!("CLAWVAULT_PASSPHRASE_FILE={}", p.display());
            if try_pass(&mut err, name.clone(), read_passphrase_file(p)) {
                return Ok(name);
            }
        }
    }
    if err.fatal.is_none() {
        if let Some(fd) = opts.passphrase_fd {
            let name = format!("--passphrase-fd {fd}");
            if try_pass(&mut err, name.clone(), read_passphrase_fd(fd)) {
                return Ok(name);
            }
        }
    }
    if err.fatal.is_none() {
        match prompter.passphrase(&prompt) {
            None => err.attempts.push(Attempt {
                source: "prompt".into(),
                outcome: "no terminal attached".into(),
            }),
            Some(p) => {
                if try_pass(&mut err, "prompt".into(), p) {
                    return Ok("prompt".into());
                }
            }
        }
    }
    Err(err)
}
