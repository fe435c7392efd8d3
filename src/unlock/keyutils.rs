//! The Linux kernel keyutils user keyring as a cache of the unwrapped identity, with
//! a timeout (`clawvault unlock --remember keyutils --ttl 12h`).
//!
//! It is a cache, never the store of record: keys vanish at reboot and on expiry.
//! The key is a `user` key named `clawvault:identity:<vault-id>`, linked into the
//! user keyring (`@u`) so every process of this uid finds it, whatever its session
//! keyring. It is created in the process keyring first (where this process
//! possesses it) so its permissions and timeout can be set, then moved to `@u`.
//!
//! Raw `add_key`/`keyctl` system calls through libc; errors name the cause in words,
//! never a bare errno.
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

#[cfg(target_os = "linux")]
use std::ffi::CString;
use std::time::Duration;

use crate::secret::SecretString;

const KEY_SPEC_PROCESS_KEYRING: i32 = -2;
const KEY_SPEC_USER_KEYRING: i32 = -4;

const KEYCTL_SETPERM: libc::c_long = 5;
const KEYCTL_LINK: libc::c_long = 8;
const KEYCTL_UNLINK: libc::c_long = 9;
const KEYCTL_SEARCH: libc::c_long = 10;
const KEYCTL_READ: libc::c_long = 11;
const KEYCTL_SET_TIMEOUT: libc::c_long = 15;
const KEYCTL_INVALIDATE: libc::c_long = 21;

/// Possessor: everything; same uid: view, read, write, search, link, setattr.
const PERM: u32 = 0x3f3f_0000;

/// The key's description for a vault.
pub fn key_name(vault_id: &str) -> String {
    format!("clawvault:identity:{vault_id}")
}

#[cfg(target_os = "linux")]
fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[cfg(target_os = "linux")]
/// Explain an errno from a keyutils call in words.
fn explain(what: &str, e: i32) -> String {
    match e {
        libc::EACCES => format!(
            "the kernel refused access to the user keyring while trying to {what} (EACCES): this process has no session keyring that lets it use the keyring of its uid; run it in a login session (pam_keyinit) or under `keyctl session -`"
        ),
        libc::ENOSYS | libc::EPERM => format!(
            "the kernel keyring is not available to this process while trying to {what} (keyutils calls are blocked, e.g. by a container's seccomp profile)"
        ),
        libc::EDQUOT => format!(
            "the kernel keyring quota of this uid is full while trying to {what}; remove unused keys (keyctl show @u)"
        ),
        libc::ENOKEY => "no identity is cached".to_string(),
        libc::EKEYEXPIRED => "the cached identity has expired (its --ttl passed)".to_string(),
        libc::EKEYREVOKED => "the cached identity was revoked".to_string(),
        other => format!(
            "the kernel keyring failed while trying to {what}: {}",
            std::io::Error::from_raw_os_error(other)
        ),
    }
}

#[cfg(target_os = "linux")]
/// Whether an error from [`get`] just means "nothing cached".
pub fn is_absent(e: &KeyError) -> bool {
    matches!(
        e.errno,
        libc::ENOKEY | libc::EKEYEXPIRED | libc::EKEYREVOKED
    )
}

/// A keyutils failure, with a message in words.
#[derive(Debug, Clone)]
pub struct KeyError {
    pub errno: i32,
    pub message: String,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(target_os = "linux")]
fn fail(what: &str) -> KeyError {
    let e = errno();
    KeyError {
        errno: e,
        message: explain(what, e),
    }
}

#[cfg(target_os = "linux")]
fn search(desc: &CString) -> Result<i64, KeyError> {
    let ty = CString::new("user").expect("no nul");
    // SAFETY: valid NUL-terminated strings; the kernel reads them only.
    let r = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_SEARCH,
            KEY_SPEC_USER_KEYRING as libc::c_long,
            ty.as_ptr(),
            desc.as_ptr(),
            0 as libc::c_long,
        )
    };
    if r < 0 {
        return Err(fail("search the user keyring"));
    }
    Ok(r)
}

#[cfg(target_os = "linux")]
/// Cache `identity` for `vault_id` with a timeout. Replaces an older copy.
pub fn store(vault_id: &str, identity: &SecretString, ttl: Duration) -> Result<(), KeyError> {
    use secrecy::ExposeSecret;
    let ty = CString::new("user").expect("no nul");
    let desc = CString::new(key_name(vault_id)).map_err(|_| KeyError {
        errno: libc::EINVAL,
        message: "the vault id is not valid".into(),
    })?;
    let _ = forget(vault_id);
    let payload = identity.expose_secret().as_bytes();
    // SAFETY: pointers are valid for the lengths given; the kernel copies the payload.
    let key = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            ty.as_ptr(),
            desc.as_ptr(),
            payload.as_ptr() as *const libc::c_void,
            payload.len(),
            KEY_SPEC_PROCESS_KEYRING as libc::c_long,
        )
    };
    if key < 0 {
        return Err(fail("add a key"));
    }
    let undo = |e: KeyError| {
        // SAFETY: plain integer arguments.
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, key) };
        e
    };
    let secs = ttl.as_secs().clamp(1, u32::MAX as u64) as libc::c_long;
    // SAFETY: plain integer arguments.
    unsafe {
        if libc::syscall(libc::SYS_keyctl, KEYCTL_SETPERM, key, PERM as libc::c_long) < 0 {
            return Err(undo(fail("set the key's permissions")));
        }
        if libc::syscall(libc::SYS_keyctl, KEYCTL_SET_TIMEOUT, key, secs) < 0 {
            return Err(undo(fail("set the key's timeout")));
        }
        if libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_LINK,
            key,
            KEY_SPEC_USER_KEYRING as libc::c_long,
        ) < 0
        {
            return Err(undo(fail("link the key into the user keyring")));
        }
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_UNLINK,
            key,
            KEY_SPEC_PROCESS_KEYRING as libc::c_long,
        );
    }
    Ok(())
}

#[cfg(target_os = "linux")]
/// The cached identity for `vault_id`.
pub fn get(vault_id: &str) -> Result<SecretString, KeyError> {
    let desc = CString::new(key_name(vault_id)).map_err(|_| KeyError {
        errno: libc::ENOKEY,
        message: "no identity is cached".into(),
    })?;
    let key = search(&desc)?;
    let mut buf = zeroize::Zeroizing::new(vec![0u8; 512]);
    // SAFETY: buf is valid for writes of its length.
    let n = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_READ,
            key,
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
        )
    };
    if n < 0 {
        return Err(fail("read the cached identity"));
    }
    let n = n as usize;
    if n > buf.len() {
        return Err(KeyError {
            errno: libc::EINVAL,
            message: "the cached key is not a clawvault identity (too large)".into(),
        });
    }
    let s = std::str::from_utf8(&buf[..n]).map_err(|_| KeyError {
        errno: libc::EINVAL,
        message: "the cached key is not a clawvault identity (not text)".into(),
    })?;
    Ok(SecretString::from(s.to_string()))
}

#[cfg(target_os = "linux")]
/// Remove the cached identity. `Ok(false)` when there was none.
pub fn forget(vault_id: &str) -> Result<bool, KeyError> {
    let Ok(desc) = CString::new(key_name(vault_id)) else {
        return Ok(false);
    };
    let mut removed = false;
    // A key can be linked more than once (older runs): remove every copy found.
    for _ in 0..16 {
        match search(&desc) {
            Ok(key) => {
                // SAFETY: plain integer arguments.
                if unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, key) } < 0 {
                    let e = fail("remove the cached identity");
                    // Without setattr/invalidate permission, at least unlink it.
                    // SAFETY: plain integer arguments.
                    if unsafe {
                        libc::syscall(
                            libc::SYS_keyctl,
                            KEYCTL_UNLINK,
                            key,
                            KEY_SPEC_USER_KEYRING as libc::c_long,
                        )
                    } < 0
                    {
                        return Err(e);
                    }
                }
                removed = true;
            }
            Err(e) if is_absent(&e) => return Ok(removed),
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

#[cfg(not(target_os = "linux"))]
pub fn is_absent(_: &KeyError) -> bool {
    false
}

#[cfg(not(target_os = "linux"))]
fn unsupported() -> KeyError {
    KeyError {
        errno: libc::ENOSYS,
        message: "the kernel keyutils keyring exists on Linux only".into(),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn store(_: &str, _: &SecretString, _: Duration) -> Result<(), KeyError> {
    Err(unsupported())
}

#[cfg(not(target_os = "linux"))]
pub fn get(_: &str) -> Result<SecretString, KeyError> {
    Err(unsupported())
}

#[cfg(not(target_os = "linux"))]
pub fn forget(_: &str) -> Result<bool, KeyError> {
    Ok(false)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn errors_are_words_not_errnos() {
        let m = explain("add a key", libc::EACCES);
        assert!(
            m.contains("session keyring") && m.contains("keyctl session"),
            "{m}"
        );
        assert!(explain("x", libc::ENOKEY).contains("no identity is cached"));
    }
}
