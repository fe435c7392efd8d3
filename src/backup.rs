//! Encrypted backups of files clawvault rewrites. Never plaintext `.bak` files: each
//! backup is a standard age file encrypted to the vault recipient (writing needs no
//! passphrase; restoring needs the identity), under `<vault>/backups/`.

use std::path::{Path, PathBuf};

use crate::backend::age::AgeBackend;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::vault::Vault;

pub fn backups_dir(vault: &Vault) -> PathBuf {
    vault.dir().join("backups")
}

/// A hex SHA-256 fingerprint (of a whole file: safe to store, not to brute-force).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Encrypt `bytes` (the original content of `original`) into a new backup file;
/// returns its path.
pub fn write_backup(vault: &Vault, original: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let dir = backups_dir(vault);
    fsutil::ensure_private_dir(&dir)?;
    let stem: String = original
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
    let name = format!(
        "{}-{:08x}-{stem}.age",
        fsutil::now_ms(),
        rand::random::<u32>()
    );
    let path = dir.join(name);
    let blob = AgeBackend::encrypt(&vault.recipient()?, bytes)?;
    fsutil::write_atomic(&path, &blob)?;
    Ok(path)
}

/// Decrypt a backup (needs the unlocked vault).
pub fn read_backup(vault: &Vault, backup: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let id = vault.identity()?;
    let blob = fsutil::read_private(backup)?
        .ok_or_else(|| Error::Other(format!("backup {} is missing", backup.display())))?;
    let plain = age::decrypt(id.as_ref(), &blob).map_err(|e| {
        Error::Other(format!(
            "backup {} cannot be decrypted with this vault's identity: {e}",
            backup.display()
        ))
    })?;
    Ok(zeroize::Zeroizing::new(plain))
}
