//! The crate-wide error, with a remediation hint for the CLI's second line.

use thiserror::Error;

use crate::backend::BackendError;
use crate::fsutil::FsError;
use crate::profiles::ProfileError;
use crate::unlock::UnlockError;
use crate::vault::VaultError;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error(transparent)]
    Unlock(#[from] UnlockError),
    #[error(transparent)]
    OpenClaw(#[from] crate::openclaw::OpenClawError),
    /// Bad input from the user; the message says what and where.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// The OpenBao backend names its store "OpenBao ..." in every error.
fn is_openbao(store: &str) -> bool {
    store.starts_with("OpenBao")
}

impl Error {
    /// What the user can do about it, when there is something useful to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Vault(VaultError::NotInitialized { .. }) => {
                Some("run `clawvault init`, or point --vault / CLAWVAULT_DIR at an existing vault")
            }
            Error::Vault(VaultError::WrongPassphrase { .. }) => {
                Some("check the passphrase; nothing was changed")
            }
            Error::Unlock(u) if u.wrong_passphrase => Some("check the passphrase; nothing was changed"),
            #[cfg(not(windows))]
            Error::Unlock(_) => Some(
                "start the agent (`clawvault agent start`), cache the identity (`clawvault unlock --remember keychain|keyutils`), or give --passphrase-file F (mode 0600) / --passphrase-fd N; `clawvault unlock --status` shows every source",
            ),
            // No agent and no keyutils on Windows; DPAPI instead.
            #[cfg(windows)]
            Error::Unlock(_) => Some(
                "remember the identity (`clawvault unlock --remember dpapi|keychain`), or give --passphrase-file F (private to you) / --passphrase-fd N; `clawvault unlock --status` shows every source",
            ),
            Error::Backend(BackendError::Unavailable { store, .. }) if is_openbao(store) => Some(
                "check the server address, that it is unsealed, and the token or AppRole files (mode 0600); see docs/openbao.md",
            ),
            Error::Backend(BackendError::NoAccess { store, .. }) if is_openbao(store) => Some(
                "the token's policies do not grant this path; docs/openbao-policy.hcl lists what clawvault needs",
            ),
            Error::Backend(BackendError::Unavailable { .. }) => Some(
                "start or unlock the keychain service, or create an age vault with `clawvault init --backend age`",
            ),
            Error::Backend(BackendError::NoAccess { .. }) => {
                Some("unlock the keyring collection (log in to the desktop session) and retry")
            }
            Error::Fs(FsError::Locked { .. }) => None,
            Error::OpenClaw(e) => e.hint(),
            _ => None,
        }
    }
}
