//! The vault identity at rest: wrapped with a key derived by Argon2id from the
//! passphrase, sealed with XChaCha20-Poly1305. The KDF parameters sit beside the
//! ciphertext so they can be raised later (`clawvault passwd`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::secret::{secret_bytes, ExposeSecret, SecretBytes};

/// Argon2id parameters, as stored in `vault.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfParams {
    /// Always `argon2id`.
    pub alg: String,
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Base64 salt, 16 random bytes.
    pub salt: String,
}

impl KdfParams {
    /// The default: m=64 MiB, t=3, p=1 (about 120 ms on this project's machines).
    pub const DEFAULT_MEMORY_KIB: u32 = 64 * 1024;
    pub const DEFAULT_ITERATIONS: u32 = 3;
    pub const DEFAULT_PARALLELISM: u32 = 1;

    pub fn new_random(memory_kib: u32, iterations: u32, parallelism: u32) -> Self {
        let salt: [u8; 16] = rand::random();
        KdfParams {
            alg: "argon2id".into(),
            memory_kib,
            iterations,
            parallelism,
            salt: B64.encode(salt),
        }
    }

    pub fn default_random() -> Self {
        Self::new_random(
            Self::DEFAULT_MEMORY_KIB,
            Self::DEFAULT_ITERATIONS,
            Self::DEFAULT_PARALLELISM,
        )
    }

    fn derive(&self, passphrase: &[u8]) -> Result<Zeroizing<[u8; 32]>, WrapError> {
        if self.alg != "argon2id" {
            return Err(WrapError::Format(format!(
                "unknown KDF {:?}; this vault was written by a newer clawvault",
                self.alg
            )));
        }
        let salt = B64
            .decode(&self.salt)
            .map_err(|_| WrapError::Format("the KDF salt is not base64".into()))?;
        let params = argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(32),
        )
        .map_err(|e| WrapError::Format(format!("bad Argon2id parameters: {e}")))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        a.hash_password_into(passphrase, &salt, key.as_mut())
            .map_err(|e| WrapError::Format(format!("Argon2id failed: {e}")))?;
        Ok(key)
    }
}

/// The wrapped identity, as stored in `vault.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrappedIdentity {
    pub kdf: KdfParams,
    /// Always `xchacha20poly1305`.
    pub aead: String,
    /// Base64, 24 bytes.
    pub nonce: String,
    /// Base64 ciphertext of the age identity string (`AGE-SECRET-KEY-1...`).
    pub ciphertext: String,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WrapError {
    #[error("wrong passphrase (or the wrapped identity was altered)")]
    WrongPassphrase,
    #[error("{0}")]
    Format(String),
}

/// The associated data binds the ciphertext to its vault and KDF parameters, so
/// parameters cannot be swapped in the manifest without detection.
fn aad(vault_id: &str, kdf: &KdfParams) -> Vec<u8> {
    format!(
        "clawvault-identity-v1\n{vault_id}\n{}\n{}\n{}\n{}\n{}",
        kdf.alg, kdf.memory_kib, kdf.iterations, kdf.parallelism, kdf.salt
    )
    .into_bytes()
}

/// Seal `identity` (the age identity string) under `passphrase`.
pub fn wrap(
    vault_id: &str,
    identity: &[u8],
    passphrase: &[u8],
    kdf: KdfParams,
) -> Result<WrappedIdentity, WrapError> {
    let key = kdf.derive(passphrase)?;
    let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key.as_ref()));
    let nonce: [u8; 24] = rand::random();
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: identity,
                aad: &aad(vault_id, &kdf),
            },
        )
        .map_err(|_| WrapError::Format("sealing the identity failed".into()))?;
    Ok(WrappedIdentity {
        kdf,
        aead: "xchacha20poly1305".into(),
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(ct),
    })
}

/// Open a wrapped identity.
pub fn unwrap(
    vault_id: &str,
    w: &WrappedIdentity,
    passphrase: &[u8],
) -> Result<SecretBytes, WrapError> {
    if w.aead != "xchacha20poly1305" {
        return Err(WrapError::Format(format!(
            "unknown cipher {:?}; this vault was written by a newer clawvault",
            w.aead
        )));
    }
    let nonce = B64
        .decode(&w.nonce)
        .ok()
        .filter(|n| n.len() == 24)
        .ok_or_else(|| WrapError::Format("the identity nonce is malformed".into()))?;
    let ct = B64
        .decode(&w.ciphertext)
        .map_err(|_| WrapError::Format("the wrapped identity is not base64".into()))?;
    let key = w.kdf.derive(passphrase)?;
    let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key.as_ref()));
    let plain = cipher
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ct,
                aad: &aad(vault_id, &w.kdf),
            },
        )
        .map_err(|_| WrapError::WrongPassphrase)?;
    Ok(secret_bytes(plain))
}

/// Re-wrap under a new passphrase and fresh salt/nonce (parameters may change).
pub fn rewrap(
    vault_id: &str,
    w: &WrappedIdentity,
    old: &[u8],
    new: &[u8],
    kdf: KdfParams,
) -> Result<WrappedIdentity, WrapError> {
    let id = unwrap(vault_id, w, old)?;
    wrap(vault_id, id.expose_secret(), new, kdf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> KdfParams {
        KdfParams::new_random(256, 1, 1)
    }

    #[test]
    fn wrap_unwrap_round_trip() {
        let w = wrap("v1", b"AGE-SECRET-KEY-1XYZ", b"pw", small()).unwrap();
        let got = unwrap("v1", &w, b"pw").unwrap();
        assert_eq!(got.expose_secret(), b"AGE-SECRET-KEY-1XYZ");
    }

    #[test]
    fn wrong_passphrase_is_reported() {
        let w = wrap("v1", b"id", b"pw", small()).unwrap();
        assert!(matches!(unwrap("v1", &w, b"nope"), Err(WrapError::WrongPassphrase)));
    }

    #[test]
    fn tampered_parameters_or_vault_id_fail() {
        let w = wrap("v1", b"id", b"pw", small()).unwrap();
        assert!(unwrap("v2", &w, b"pw").is_err());
        let mut t = w.clone();
        t.kdf.iterations = 2;
        assert!(unwrap("v1", &t, b"pw").is_err());
    }

    #[test]
    fn rewrap_changes_passphrase() {
        let w = wrap("v1", b"id", b"old", small()).unwrap();
        let w2 = rewrap("v1", &w, b"old", b"new", small()).unwrap();
        assert!(unwrap("v1", &w2, b"old").is_err());
        assert_eq!(unwrap("v1", &w2, b"new").unwrap().expose_secret(), b"id");
    }
}
