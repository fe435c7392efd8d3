//! Credentials read from files or systemd credentials, each time they are needed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::secret::SecretString;

/// Where a credential is read from, each time it is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialSource {
    /// A file (must not be readable by group or others).
    File(PathBuf),
    /// A systemd credential: `$CREDENTIALS_DIRECTORY/<name>` of the running service
    /// (`LoadCredential=` / `LoadCredentialEncrypted=`).
    Credential(String),
}

impl CredentialSource {
    /// `credential:NAME` names a systemd credential; anything else is a file path,
    /// made absolute against the current directory.
    pub fn parse(s: &str, default_credential: &str) -> std::result::Result<Self, String> {
        if let Some(name) = s.strip_prefix("credential:") {
            let name = if name.is_empty() {
                default_credential
            } else {
                name
            };
            if name.contains('/') || name == "." || name == ".." {
                return Err(format!(
                    "systemd credential name {name:?} must be a plain file name"
                ));
            }
            return Ok(CredentialSource::Credential(name.to_string()));
        }
        if s.is_empty() {
            return Err("credential file path is empty".into());
        }
        let p = std::path::absolute(s).map_err(|e| format!("{s}: {e}"))?;
        Ok(CredentialSource::File(p))
    }

    pub(super) fn describe(&self) -> String {
        match self {
            CredentialSource::File(p) => p.display().to_string(),
            CredentialSource::Credential(n) => format!("systemd credential {n}"),
        }
    }

    pub(super) fn read(&self, check_mode: bool) -> std::result::Result<SecretString, String> {
        let path = match self {
            CredentialSource::File(p) => p.clone(),
            CredentialSource::Credential(n) => {
                let dir = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
                    format!("systemd credential {n} is configured but $CREDENTIALS_DIRECTORY is not set: run under a unit with LoadCredential={n}:<file>")
                })?;
                PathBuf::from(dir).join(n)
            }
        };
        // systemd protects its credentials directory itself (and may grant access via
        // ACLs that show as group bits), so only plain files get the mode check.
        let check = check_mode && matches!(self, CredentialSource::File(_));
        read_secret_file(&path, check)
    }
}

/// Read a one-line secret file: trailing whitespace is dropped, the rest must be
/// non-empty UTF-8. With `check_mode`, refuse files group or others can read and
/// symlinks.
pub(super) fn read_secret_file(
    path: &Path,
    check_mode: bool,
) -> std::result::Result<SecretString, String> {
    let shown = path.display();
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if check_mode {
        if meta.file_type().is_symlink() {
            return Err(format!(
                "{shown} is a symlink; point clawvault at the file itself"
            ));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{shown} is readable by group or others (mode {mode:03o}); run `chmod 600 {shown}`"
                ));
            }
            // StrictModes: ours (or root's), and no directory above it writable by
            // others, who could otherwise swap in a token of their own.
            crate::trust::check(path, crate::trust::Kind::File).map_err(|e| e.to_string())?;
        }
        #[cfg(windows)]
        {
            // The same two checks with owners and DACLs: nobody else may read it,
            // and nobody else may replace it or a directory above it.
            if let Some(x) = crate::trust::check_private(path)
                .map_err(|e| format!("cannot check who may read {shown}: {e}"))?
            {
                return Err(format!("{shown}: {}; run `{}`", x.describe(), x.fix));
            }
            crate::trust::check(path, crate::trust::Kind::File).map_err(|e| e.to_string())?;
        }
    }
    let bytes = {
        // Capped, and never blocking on a FIFO planted in its place.
        use std::io::Read;
        let mut b = Zeroizing::new(Vec::new());
        crate::fsutil::open_nonblock(std::fs::OpenOptions::new().read(true), path)
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut b))
            .map_err(|e| format!("cannot read {shown}: {e}"))?;
        b
    };
    let s = std::str::from_utf8(&bytes).map_err(|_| format!("{shown} is not UTF-8 text"))?;
    let s = s.trim();
    if s.is_empty() {
        return Err(format!("{shown} is empty"));
    }
    if s.contains(['\n', '\r']) {
        return Err(format!("{shown} holds more than one line"));
    }
    Ok(SecretString::from(s.to_string()))
}
