//! The vault: a directory holding `vault.json` (format version, vault id, backend,
//! age recipient, wrapped identity) and, for the age backend, `blobs/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::backend::age::AgeBackend;
use crate::backend::keychain::{self, KeychainBackend};
use crate::backend::openbao::{OpenBaoBackend, OpenBaoConfig, OpenbaoArgs};
use crate::backend::{Backend, BackendError};
use crate::fsutil::{self, FsError};
use crate::secret::{ExposeSecret, SecretString};
use crate::trust;

pub mod keywrap;
mod openbao_link;

use keywrap::{KdfParams, WrapError, WrappedIdentity};

/// The manifest's file name inside the vault directory.
pub const MANIFEST_FILE: &str = "vault.json";
/// The manifest format this clawvault writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Which store holds the secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[non_exhaustive]
pub enum BackendConfig {
    /// age files under `<vault>/blobs/`.
    Age,
    /// OS keychain items under this service name.
    Keychain { service: String },
    /// A KV v2 engine of OpenBao or HashiCorp Vault.
    Openbao(Box<OpenBaoConfig>),
}

impl BackendConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            BackendConfig::Age => "age",
            BackendConfig::Keychain { .. } => "keychain",
            BackendConfig::Openbao(_) => "openbao",
        }
    }
}

/// `vault.json`. Unknown fields are kept on rewrite.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub format: u32,
    pub vault_id: String,
    pub backend: BackendConfig,
    /// The vault's age X25519 recipient (`age1...`). Every vault has one: it encrypts
    /// the age backend's blobs and every backup clawvault keeps.
    pub recipient: String,
    pub identity: WrappedIdentity,
    pub created_by: String,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VaultError {
    #[error("no vault at {dir}; create one with `clawvault init`")]
    NotInitialized { dir: PathBuf },
    #[error("a vault already exists at {dir}")]
    AlreadyInitialized { dir: PathBuf },
    #[error("{path} was written by a newer clawvault (format {found}, this one reads {FORMAT_VERSION}); upgrade clawvault")]
    NewerFormat { path: PathBuf, found: u64 },
    #[error("{path} is not a valid vault manifest: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("the passphrase does not unlock the vault at {dir}")]
    WrongPassphrase { dir: PathBuf },
    #[error("the vault at {dir} is locked")]
    Locked { dir: PathBuf },
    #[error("{path}: the recipient does not belong to the identity the passphrase unlocks, so vault.json was altered (secrets written since may be encrypted to someone else); restore vault.json from a backup and re-paste recent credentials")]
    RecipientMismatch { path: PathBuf },
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Fs(#[from] FsError),
}

pub type Result<T> = std::result::Result<T, VaultError>;

/// What `init` should use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    Auto,
    Age,
    Keychain,
}

/// What `init` chose, and why, for the CLI to print.
#[derive(Debug, Clone)]
pub struct InitReport {
    pub backend: &'static str,
    pub reason: String,
}

pub struct Vault {
    dir: PathBuf,
    manifest: Manifest,
    identity: Option<Arc<age::x25519::Identity>>,
    backend: std::sync::OnceLock<Box<dyn Backend>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir)
            .field("vault_id", &self.manifest.vault_id)
            .field("backend", &self.manifest.backend.kind())
            .field("unlocked", &self.identity.is_some())
            .finish()
    }
}

fn random_id() -> String {
    let b: [u8; 16] = rand::random();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Vault {
    pub fn manifest_path(dir: &Path) -> PathBuf {
        dir.join(MANIFEST_FILE)
    }

    pub fn exists(dir: &Path) -> bool {
        Self::manifest_path(dir).exists()
    }

    /// Create a vault. The passphrase wraps the identity (for the keychain backend
    /// it is the recovery passphrase for backups and `identity export`).
    pub fn init(
        dir: &Path,
        choice: BackendChoice,
        passphrase: &SecretString,
        kdf: KdfParams,
    ) -> Result<(Vault, InitReport)> {
        if fsutil::refuse_symlink(&Self::manifest_path(dir))? {
            return Err(VaultError::AlreadyInitialized {
                dir: dir.to_path_buf(),
            });
        }
        trust::check_if_exists(dir, trust::Kind::Dir).map_err(FsError::from)?;
        let vault_id = random_id();
        let (backend, report) = match choice {
            BackendChoice::Age => (
                BackendConfig::Age,
                InitReport {
                    backend: "age",
                    reason: "asked for with --backend age".into(),
                },
            ),
            BackendChoice::Keychain => {
                let (store, name) = keychain::platform_store()?;
                keychain::probe(&store, &name).map_err(|why| BackendError::Unavailable {
                    store: name.clone(),
                    reason: why,
                })?;
                (
                    BackendConfig::Keychain {
                        service: keychain::service_name(&vault_id),
                    },
                    InitReport {
                        backend: "keychain",
                        reason: format!("asked for with --backend keychain; {name} answered a set/get/delete probe"),
                    },
                )
            }
            BackendChoice::Auto => match keychain::platform_store()
                .map_err(|e| e.to_string())
                .and_then(|(s, n)| keychain::probe(&s, &n).map(|()| n))
            {
                Ok(name) => (
                    BackendConfig::Keychain {
                        service: keychain::service_name(&vault_id),
                    },
                    InitReport {
                        backend: "keychain",
                        reason: format!("{name} answered a set/get/delete probe"),
                    },
                ),
                Err(why) => (
                    BackendConfig::Age,
                    InitReport {
                        backend: "age",
                        reason: format!("the OS keychain is not usable: {why}"),
                    },
                ),
            },
        };
        let vault = Self::create(dir, vault_id, backend, passphrase, kdf)?;
        Ok((vault, report))
    }

    /// Create a vault whose secrets live in OpenBao / HashiCorp Vault (`clawvault init
    /// --backend openbao`). The server is probed with a write/read/delete round trip
    /// under the prefix before anything is written locally.
    pub fn init_openbao(
        dir: &Path,
        args: &OpenbaoArgs,
        passphrase: &SecretString,
        kdf: KdfParams,
    ) -> Result<(Vault, InitReport)> {
        Self::init_openbao_with_token(dir, args, passphrase, kdf, None)
    }

    /// [`Vault::init_openbao`] with the token `--token-keychain` stores in the OS
    /// keychain before the probe (and removes again when the init fails).
    pub fn init_openbao_with_token(
        dir: &Path,
        args: &OpenbaoArgs,
        passphrase: &SecretString,
        kdf: KdfParams,
        token: Option<&SecretString>,
    ) -> Result<(Vault, InitReport)> {
        if fsutil::refuse_symlink(&Self::manifest_path(dir))? {
            return Err(VaultError::AlreadyInitialized {
                dir: dir.to_path_buf(),
            });
        }
        trust::check_if_exists(dir, trust::Kind::Dir).map_err(FsError::from)?;
        let vault_id = random_id();
        let unavailable = |reason: String| BackendError::Unavailable {
            store: "OpenBao".into(),
            reason,
        };
        let cfg = args.to_config(&vault_id).map_err(unavailable)?;
        let keychain_item = match &cfg.auth {
            crate::backend::openbao::OpenBaoAuth::Token {
                token_keychain: Some(svc),
                ..
            } => {
                let token = token.ok_or_else(|| {
                    unavailable(
                        "--token-keychain needs the token (on stdin or at the prompt)".into(),
                    )
                })?;
                crate::backend::openbao::keychain_token_set(svc, token).map_err(unavailable)?;
                Some(svc.clone())
            }
            _ => None,
        };
        let made = Self::finish_openbao(dir, vault_id, cfg, passphrase, kdf);
        if made.is_err() {
            if let Some(svc) = &keychain_item {
                let _ = crate::backend::openbao::keychain_token_delete(svc);
            }
        }
        made
    }

    fn finish_openbao(
        dir: &Path,
        vault_id: String,
        cfg: crate::backend::openbao::OpenBaoConfig,
        passphrase: &SecretString,
        kdf: KdfParams,
    ) -> Result<(Vault, InitReport)> {
        let probe = OpenBaoBackend::new(&cfg)?.probe()?;
        let mut reason = format!("asked for with --backend openbao; {probe}");
        for w in cfg.warnings() {
            reason.push_str("; ");
            reason.push_str(&w);
        }
        let vault = Self::create(
            dir,
            vault_id,
            BackendConfig::Openbao(Box::new(cfg)),
            passphrase,
            kdf,
        )?;
        Ok((
            vault,
            InitReport {
                backend: "openbao",
                reason,
            },
        ))
    }

    /// Generate and wrap the identity, write the manifest.
    fn create(
        dir: &Path,
        vault_id: String,
        backend: BackendConfig,
        passphrase: &SecretString,
        kdf: KdfParams,
    ) -> Result<Vault> {
        let identity = age::x25519::Identity::generate();
        let id_str = identity.to_string();
        let wrapped = keywrap::wrap(
            &vault_id,
            id_str.expose_secret().as_bytes(),
            passphrase.expose_secret().as_bytes(),
            kdf,
        )
        .map_err(|e| VaultError::Manifest {
            path: Self::manifest_path(dir),
            reason: e.to_string(),
        })?;
        let manifest = Manifest {
            format: FORMAT_VERSION,
            vault_id,
            backend,
            recipient: identity.to_public().to_string(),
            identity: wrapped,
            created_by: format!("clawvault {}", env!("CARGO_PKG_VERSION")),
            extra: Default::default(),
        };
        fsutil::ensure_private_dir(dir)?;
        if manifest.backend == BackendConfig::Age {
            fsutil::ensure_private_dir(&dir.join("blobs"))?;
        }
        let vault = Vault {
            dir: dir.to_path_buf(),
            manifest,
            identity: Some(Arc::new(identity)),
            backend: Default::default(),
        };
        vault.write_manifest()?;
        Ok(vault)
    }

    fn wrap_error(&self, e: WrapError) -> VaultError {
        match e {
            WrapError::WrongPassphrase => VaultError::WrongPassphrase {
                dir: self.dir.clone(),
            },
            WrapError::Format(reason) => VaultError::Manifest {
                path: Self::manifest_path(&self.dir),
                reason,
            },
        }
    }

    /// Open an existing vault, locked.
    pub fn open(dir: &Path) -> Result<Vault> {
        let path = Self::manifest_path(dir);
        // StrictModes: the vault directory, the manifest and the blob and backup
        // directories must be the user's (or root's) and writable by nobody else,
        // all the way up; otherwise another user could have swapped the manifest for
        // one that points at their own server or recipient.
        if !trust::check_if_exists(dir, trust::Kind::Dir).map_err(FsError::from)? {
            return Err(VaultError::NotInitialized {
                dir: dir.to_path_buf(),
            });
        }
        if !trust::check_if_exists(&path, trust::Kind::File).map_err(FsError::from)? {
            return Err(VaultError::NotInitialized {
                dir: dir.to_path_buf(),
            });
        }
        for sub in ["blobs", "backups"] {
            trust::check_if_exists(&dir.join(sub), trust::Kind::Dir).map_err(FsError::from)?;
        }
        let bytes = fsutil::read_private(&path)?.ok_or_else(|| VaultError::NotInitialized {
            dir: dir.to_path_buf(),
        })?;
        let manifest = Self::parse_manifest(&path, &bytes)?;
        Ok(Vault {
            dir: dir.to_path_buf(),
            manifest,
            identity: None,
            backend: Default::default(),
        })
    }

    /// Parse manifest bytes (untrusted input: a fuzz target).
    pub fn parse_manifest(path: &Path, bytes: &[u8]) -> Result<Manifest> {
        let bad = |reason: String| VaultError::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            bad(format!(
                "invalid JSON at line {} column {}",
                e.line(),
                e.column()
            ))
        })?;
        let format = v
            .get("format")
            .and_then(|f| f.as_u64())
            .ok_or_else(|| bad("it has no numeric \"format\" field".into()))?;
        if format > FORMAT_VERSION as u64 {
            return Err(VaultError::NewerFormat {
                path: path.to_path_buf(),
                found: format,
            });
        }
        // Serde's data errors quote the offending value: keep only where it is.
        serde_json::from_slice(bytes).map_err(|e| {
            bad(format!(
                "a field is missing, has the wrong type or an unknown value (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }

    fn write_manifest(&self) -> Result<()> {
        let mut s =
            serde_json::to_string_pretty(&self.manifest).map_err(|e| VaultError::Manifest {
                path: Self::manifest_path(&self.dir),
                reason: e.to_string(),
            })?;
        s.push('\n');
        fsutil::write_atomic(&Self::manifest_path(&self.dir), s.as_bytes())?;
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn id(&self) -> &str {
        &self.manifest.vault_id
    }

    /// Whether reading a secret needs the identity (true for age).
    pub fn reads_need_identity(&self) -> bool {
        matches!(self.manifest.backend, BackendConfig::Age)
    }

    pub fn is_unlocked(&self) -> bool {
        self.identity.is_some()
    }

    pub fn recipient(&self) -> Result<age::x25519::Recipient> {
        self.manifest
            .recipient
            .parse()
            .map_err(|e: &str| VaultError::Manifest {
                path: Self::manifest_path(&self.dir),
                reason: format!("bad recipient: {e}"),
            })
    }

    /// Unwrap the identity with a passphrase (runs Argon2id).
    pub fn unlock_with_passphrase(&mut self, passphrase: &SecretString) -> Result<()> {
        let id = keywrap::unwrap(
            &self.manifest.vault_id,
            &self.manifest.identity,
            passphrase.expose_secret().as_bytes(),
        )
        .map_err(|e| self.wrap_error(e))?;
        let s = std::str::from_utf8(id.expose_secret()).map_err(|_| VaultError::Manifest {
            path: Self::manifest_path(&self.dir),
            reason: "the unwrapped identity is not text".into(),
        })?;
        // The passphrase was right (the AEAD opened): a recipient that does not
        // match is a swapped recipient, not a wrong passphrase.
        let parsed: std::result::Result<age::x25519::Identity, _> = s.parse();
        if let Ok(idp) = parsed {
            if idp.to_public().to_string() != self.manifest.recipient {
                return Err(VaultError::RecipientMismatch {
                    path: Self::manifest_path(&self.dir),
                });
            }
        }
        self.unlock_with_identity(&SecretString::from(s.to_string()))
    }

    /// Unlock with an identity string held elsewhere (the agent, a cache). It must
    /// match this vault's recipient.
    pub fn unlock_with_identity(&mut self, identity: &SecretString) -> Result<()> {
        let id: age::x25519::Identity =
            identity
                .expose_secret()
                .parse()
                .map_err(|_| VaultError::Manifest {
                    path: Self::manifest_path(&self.dir),
                    reason: "the identity is not an age X25519 identity".into(),
                })?;
        if id.to_public().to_string() != self.manifest.recipient {
            return Err(VaultError::WrongPassphrase {
                dir: self.dir.clone(),
            });
        }
        self.identity = Some(Arc::new(id));
        self.backend = Default::default();
        Ok(())
    }

    /// The identity string, for `identity export` and for caching unlock sources.
    pub fn identity_string(&self) -> Result<SecretString> {
        let id = self.identity.as_ref().ok_or_else(|| VaultError::Locked {
            dir: self.dir.clone(),
        })?;
        Ok(id.to_string())
    }

    /// The identity, for decrypting backups.
    pub fn identity(&self) -> Result<Arc<age::x25519::Identity>> {
        self.identity.clone().ok_or_else(|| VaultError::Locked {
            dir: self.dir.clone(),
        })
    }

    /// The backend, built on first use.
    pub fn backend(&self) -> Result<&dyn Backend> {
        if let Some(b) = self.backend.get() {
            return Ok(b.as_ref());
        }
        let b: Box<dyn Backend> = match &self.manifest.backend {
            BackendConfig::Age => {
                let mut b = AgeBackend::new(self.dir.join("blobs"), self.recipient()?);
                if let Some(id) = &self.identity {
                    b = b.with_identity(id.clone());
                }
                Box::new(b)
            }
            BackendConfig::Keychain { .. } => {
                let (store, name) = keychain::platform_store()?;
                Box::new(KeychainBackend::new(store, name, &self.manifest.vault_id))
            }
            BackendConfig::Openbao(cfg) => Box::new(OpenBaoBackend::new(cfg)?),
        };
        let _ = self.backend.set(b);
        Ok(self.backend.get().expect("just set").as_ref())
    }

    /// Re-wrap the identity under a new passphrase (and possibly new parameters).
    pub fn change_passphrase(
        &mut self,
        old: &SecretString,
        new: &SecretString,
        kdf: KdfParams,
    ) -> Result<()> {
        let w = keywrap::rewrap(
            &self.manifest.vault_id,
            &self.manifest.identity,
            old.expose_secret().as_bytes(),
            new.expose_secret().as_bytes(),
            kdf,
        )
        .map_err(|e| self.wrap_error(e))?;
        self.manifest.identity = w;
        fsutil::crash_point("passwd:before-manifest");
        self.write_manifest()
    }
}
