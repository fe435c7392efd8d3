//! The vault identity remembered with DPAPI (`clawvault unlock --remember dpapi`,
//! Windows only): the Windows analogue of a systemd credential.
//!
//! The identity string is encrypted with `CryptProtectData` in user scope (only this
//! Windows user's logon credentials decrypt it), with `CRYPTPROTECT_UI_FORBIDDEN` and
//! the vault id as the optional entropy, so a blob made for one vault does not open
//! for another. The blob is written atomically to `<vault>/identity.dpapi`, a private
//! file (owner-only DACL), and read back only after the trust checks every private
//! file gets. `clawvault lock` removes it.
//!
//! Elsewhere the source does not exist: [`SUPPORTED`] is false, [`store`] and [`get`]
//! fail with [`windows_only`], and [`forget`] still removes a file found in the vault.
#![cfg_attr(not(windows), allow(dead_code))]

use std::path::{Path, PathBuf};

use crate::secret::SecretString;

/// The blob's file name inside the vault directory.
pub const FILE: &str = "identity.dpapi";

/// Whether this platform has DPAPI.
pub const SUPPORTED: bool = cfg!(windows);

/// The largest blob read back (an identity is 74 bytes; DPAPI adds a few hundred).
const MAX_BLOB: u64 = 64 * 1024;

/// `<vault>/identity.dpapi`.
pub fn path(vault_dir: &Path) -> PathBuf {
    vault_dir.join(FILE)
}

/// The description DPAPI stores (unencrypted) in the blob.
pub fn description(vault_id: &str) -> String {
    format!("clawvault identity {vault_id}")
}

/// What [`get`] found.
pub enum Lookup {
    Found(SecretString),
    /// No blob for this vault.
    Absent,
}

/// `--remember dpapi` where there is no DPAPI: one line, with the alternatives.
pub fn windows_only() -> String {
    let here = if cfg!(target_os = "linux") {
        "here use `--remember keychain`, `--remember keyutils --ttl 12h` or a systemd credential ($CREDENTIALS_DIRECTORY/clawvault.passphrase)"
    } else {
        "here use `--remember keychain`"
    };
    format!("--remember dpapi: DPAPI exists on Windows only; {here}")
}

/// Encrypt `identity` for this Windows user and write it to `<vault>/identity.dpapi`;
/// reads it back to prove it opens. Returns the file's path.
#[cfg(windows)]
pub fn store(vault_dir: &Path, vault_id: &str, identity: &SecretString) -> Result<PathBuf, String> {
    use secrecy::ExposeSecret;
    let p = path(vault_dir);
    let blob = sys::protect(identity.expose_secret().as_bytes(), vault_id)
        .map_err(|e| format!("DPAPI could not encrypt the identity: {e}"))?;
    crate::fsutil::write_atomic(&p, &blob).map_err(|e| e.to_string())?;
    match get(vault_dir, vault_id)? {
        Lookup::Found(back) if back.expose_secret() == identity.expose_secret() => Ok(p),
        _ => {
            let _ = std::fs::remove_file(&p);
            Err(format!(
                "{}: the identity did not read back as written; it was removed, run `clawvault unlock --remember dpapi` again",
                p.display()
            ))
        }
    }
}

/// The remembered identity, after the file's owner and DACL are checked.
#[cfg(windows)]
pub fn get(vault_dir: &Path, vault_id: &str) -> Result<Lookup, String> {
    let p = path(vault_dir);
    if std::fs::symlink_metadata(&p).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Ok(Lookup::Absent);
    }
    crate::trust::check(&p, crate::trust::Kind::File).map_err(|e| e.to_string())?;
    let meta =
        std::fs::symlink_metadata(&p).map_err(|e| format!("cannot stat {}: {e}", p.display()))?;
    if let Some(problem) = super::loose(&p, &meta, false) {
        return Err(problem);
    }
    let blob = crate::fsutil::read_capped(&p, MAX_BLOB)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{} vanished while being read", p.display()))?;
    let plain = sys::unprotect(&blob, vault_id).map_err(|e| {
        format!(
            "{}: DPAPI could not decrypt it ({e}): it was made for another vault, by another Windows user or on another machine, or it is damaged; run `clawvault unlock --remember dpapi` again",
            p.display()
        )
    })?;
    let s = std::str::from_utf8(&plain).map_err(|_| {
        format!(
            "{}: the decrypted content is not a clawvault identity; run `clawvault unlock --remember dpapi` again",
            p.display()
        )
    })?;
    Ok(Lookup::Found(SecretString::from(s.to_string())))
}

#[cfg(not(windows))]
pub fn store(_: &Path, _: &str, _: &SecretString) -> Result<PathBuf, String> {
    Err(windows_only())
}

#[cfg(not(windows))]
pub fn get(_: &Path, _: &str) -> Result<Lookup, String> {
    Err(windows_only())
}

/// Remove `<vault>/identity.dpapi`. `Ok(false)` when there was none.
pub fn forget(vault_dir: &Path) -> Result<bool, String> {
    let p = path(vault_dir);
    match std::fs::remove_file(&p) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!(
            "cannot remove {}: {e}; delete it by hand",
            p.display()
        )),
    }
}

/// `CryptProtectData` / `CryptUnprotectData` in user scope.
#[cfg(windows)]
mod sys {
    use std::io;

    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Cryptography::{
        CryptProtectData, CryptUnprotectData, CRYPTPROTECT_UI_FORBIDDEN, CRYPT_INTEGER_BLOB,
    };
    use zeroize::{Zeroize, Zeroizing};

    /// A blob pointing at `data` (DPAPI only reads input blobs).
    fn input(data: &[u8]) -> Result<CRYPT_INTEGER_BLOB, io::Error> {
        Ok(CRYPT_INTEGER_BLOB {
            cbData: u32::try_from(data.len())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too large"))?,
            pbData: data.as_ptr() as *mut u8,
        })
    }

    /// Takes a DPAPI output blob: copies it out, wipes it, and frees it with
    /// `LocalFree`.
    fn take(out: &mut CRYPT_INTEGER_BLOB) -> Zeroizing<Vec<u8>> {
        if out.pbData.is_null() {
            return Zeroizing::new(Vec::new());
        }
        // SAFETY: on success DPAPI returns `cbData` bytes at `pbData`, allocated with
        // LocalAlloc and owned by the caller; they are freed exactly once, here.
        unsafe {
            let buf = std::slice::from_raw_parts_mut(out.pbData, out.cbData as usize);
            let copy = Zeroizing::new(buf.to_vec());
            buf.zeroize();
            LocalFree(out.pbData.cast());
            out.pbData = std::ptr::null_mut();
            out.cbData = 0;
            copy
        }
    }

    /// Encrypt `plain` for the current user, bound to `vault_id`.
    pub fn protect(plain: &[u8], vault_id: &str) -> io::Result<Vec<u8>> {
        let data = input(plain)?;
        let entropy = input(vault_id.as_bytes())?;
        let descr: Vec<u16> = super::description(vault_id)
            .encode_utf16()
            .chain(Some(0))
            .collect();
        let mut out = CRYPT_INTEGER_BLOB::default();
        // SAFETY: every pointer is valid for the call; the description is
        // NUL-terminated; no prompt struct; `out` receives a LocalAlloc'd buffer.
        let ok = unsafe {
            CryptProtectData(
                &data,
                descr.as_ptr(),
                &entropy,
                std::ptr::null(),
                std::ptr::null(),
                CRYPTPROTECT_UI_FORBIDDEN,
                &mut out,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        // The blob is ciphertext; the Zeroizing copy is simply moved out.
        Ok(take(&mut out).to_vec())
    }

    /// Decrypt a blob of [`protect`] for `vault_id`. Fails for another vault's id,
    /// another user, or a damaged blob.
    pub fn unprotect(blob: &[u8], vault_id: &str) -> io::Result<Zeroizing<Vec<u8>>> {
        let data = input(blob)?;
        let entropy = input(vault_id.as_bytes())?;
        let mut out = CRYPT_INTEGER_BLOB::default();
        // SAFETY: as in `protect`; no description is asked for.
        let ok = unsafe {
            CryptUnprotectData(
                &data,
                std::ptr::null_mut(),
                &entropy,
                std::ptr::null(),
                std::ptr::null(),
                CRYPTPROTECT_UI_FORBIDDEN,
                &mut out,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(take(&mut out))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const ID: &[u8] = b"AGE-SECRET-KEY-1TESTONLYDPAPIROUNDTRIP";

        #[test]
        fn protect_unprotect_round_trip() {
            let blob = protect(ID, "vault-a").unwrap();
            assert!(!blob.is_empty());
            assert!(
                !blob.windows(ID.len()).any(|w| w == ID),
                "the blob holds the plaintext"
            );
            assert_eq!(unprotect(&blob, "vault-a").unwrap().as_slice(), ID);
        }

        #[test]
        fn another_vault_ids_entropy_does_not_decrypt() {
            let blob = protect(ID, "vault-a").unwrap();
            assert!(unprotect(&blob, "vault-b").is_err());
            assert!(unprotect(&blob, "").is_err());
        }

        /// Where the ciphertext (`pbData`) lies in a DPAPI blob: the documented
        /// layout, read field by field, checked to end with `cbSign` and the sign.
        fn ciphertext(blob: &[u8]) -> std::ops::Range<usize> {
            let u32_at = |o: usize| u32::from_le_bytes(blob[o..o + 4].try_into().unwrap()) as usize;
            // dwVersion, guidProvider, dwMasterKeyVersion, guidMasterKey, dwFlags
            let mut o = 4 + 16 + 4 + 16 + 4;
            o += 4 + u32_at(o); // szDataDescr
            o += 8; // algCrypt, dwAlgCryptLen
            o += 4 + u32_at(o); // salt
            o += 4 + u32_at(o); // HMAC key
            o += 8; // algHash, dwAlgHashLen
            o += 4 + u32_at(o); // HMAC key 2
            let len = u32_at(o);
            let data = o + 4..o + 4 + len;
            assert_eq!(data.end + 4 + u32_at(data.end), blob.len(), "blob layout");
            data
        }

        #[test]
        fn a_flipped_byte_fails() {
            let blob = protect(ID, "vault-a").unwrap();
            let data = ciphertext(&blob);
            assert!(data.len() >= ID.len(), "{data:?}");
            // A byte of the ciphertext, and the last byte of the sign (the HMAC).
            // (Windows also refuses a change to the header; Wine 8 does not check
            // the header's master key GUID, description or salt, so those are not
            // asserted here.)
            for i in [data.start + data.len() / 2, blob.len() - 1] {
                let mut bad = blob.clone();
                bad[i] ^= 0x01;
                assert!(unprotect(&bad, "vault-a").is_err(), "byte {i} flipped");
            }
            assert!(
                unprotect(&blob[..blob.len() - 1], "vault-a").is_err(),
                "truncated"
            );
            assert_eq!(unprotect(&blob, "vault-a").unwrap().as_slice(), ID);
        }
    }
}

#[cfg(all(test, windows))]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;
    use crate::unlock::{names, unlock_from, NoPrompt, Sources, UnlockOptions};
    use crate::vault::keywrap::KdfParams;
    use crate::vault::{BackendChoice, Vault};

    /// An age vault with a cheap KDF, opened fresh and unlocked by passphrase.
    fn vault(dir: &Path) -> Vault {
        let pass = SecretString::from("dpapi test passphrase".to_string());
        let (v, _) = Vault::init(
            dir,
            BackendChoice::Age,
            &pass,
            KdfParams::new_random(256, 1, 1),
        )
        .unwrap();
        assert!(v.is_unlocked());
        v
    }

    fn only_dpapi() -> Sources {
        Sources {
            keychain: false,
            keyutils: false,
            dpapi: true,
            credential: false,
            passphrase: false,
            prompt: false,
        }
    }

    #[test]
    fn the_file_written_is_private_and_holds_no_plaintext() {
        let d = tempfile::tempdir().unwrap();
        let v = vault(&d.path().join("v"));
        let id = v.identity_string().unwrap();
        let p = store(v.dir(), v.id(), &id).unwrap();
        assert_eq!(p, v.dir().join(FILE));
        assert!(
            crate::trust::check_private(&p).unwrap().is_none(),
            "{:?}",
            crate::trust::check_private(&p)
                .unwrap()
                .map(|x| x.describe())
        );
        let raw = std::fs::read(&p).unwrap();
        let plain = id.expose_secret().as_bytes();
        assert!(!raw.windows(plain.len()).any(|w| w == plain));
        assert!(forget(v.dir()).unwrap());
        assert!(!p.exists());
        assert!(!forget(v.dir()).unwrap());
    }

    #[test]
    fn status_lists_dpapi_right_after_keyutils() {
        let d = tempfile::tempdir().unwrap();
        let v = vault(&d.path().join("v"));
        let row = |v: &Vault| {
            let rows = crate::unlock::status(v, &UnlockOptions::default(), false);
            let names: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
            assert_eq!(
                &names[..3],
                [names::KEYCHAIN, names::KEYUTILS, names::DPAPI],
                "{names:?}"
            );
            (rows[2].state, rows[2].detail.clone())
        };
        let (state, detail) = row(&v);
        assert_eq!(state, "unavailable");
        assert!(detail.contains("--remember dpapi"), "{detail}");
        store(v.dir(), v.id(), &v.identity_string().unwrap()).unwrap();
        assert_eq!(row(&Vault::open(v.dir()).unwrap()).0, "would-unlock");
    }

    #[test]
    fn unlock_source_end_to_end_and_another_vaults_identity_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let a = vault(&d.path().join("a"));
        let b = vault(&d.path().join("b"));
        let opts = UnlockOptions::default();

        // Nothing remembered yet: the attempt says how to remember it.
        let mut fresh = Vault::open(a.dir()).unwrap();
        let e = unlock_from(&mut fresh, &opts, &mut NoPrompt, only_dpapi()).unwrap_err();
        assert_eq!(e.attempts.len(), 1, "{e}");
        assert_eq!(e.attempts[0].source, names::DPAPI);
        assert!(
            e.attempts[0].outcome.contains("--remember dpapi"),
            "{}",
            e.attempts[0].outcome
        );

        store(a.dir(), a.id(), &a.identity_string().unwrap()).unwrap();
        let mut fresh = Vault::open(a.dir()).unwrap();
        assert!(!fresh.is_unlocked());
        let src = unlock_from(&mut fresh, &opts, &mut NoPrompt, only_dpapi()).unwrap();
        assert_eq!(src, names::DPAPI);
        assert!(fresh.is_unlocked());
        assert_eq!(
            fresh.identity_string().unwrap().expose_secret(),
            a.identity_string().unwrap().expose_secret()
        );

        // Vault b's identity, protected with a's id as entropy (as if b's identity
        // were remembered under a's name): it opens, but is not a's and is refused.
        store(a.dir(), a.id(), &b.identity_string().unwrap()).unwrap();
        let mut fresh = Vault::open(a.dir()).unwrap();
        let e = unlock_from(&mut fresh, &opts, &mut NoPrompt, only_dpapi()).unwrap_err();
        assert!(!fresh.is_unlocked());
        assert!(
            e.attempts[0].outcome.contains("another vault"),
            "{}",
            e.attempts[0].outcome
        );
        let leaked = b.identity_string().unwrap();
        assert!(!e.to_string().contains(leaked.expose_secret()));

        // b's own blob copied into a: DPAPI refuses it (the entropy is b's id).
        store(b.dir(), b.id(), &b.identity_string().unwrap()).unwrap();
        let blob = std::fs::read(path(b.dir())).unwrap();
        crate::fsutil::write_atomic(&path(a.dir()), &blob).unwrap();
        let mut fresh = Vault::open(a.dir()).unwrap();
        let e = unlock_from(&mut fresh, &opts, &mut NoPrompt, only_dpapi()).unwrap_err();
        assert!(
            e.attempts[0].outcome.contains("could not decrypt")
                && e.attempts[0].outcome.contains(FILE),
            "{}",
            e.attempts[0].outcome
        );
    }
}
