//! Memory for the held identity: its own mmap'ed pages, mlock'ed (never swapped),
//! excluded from core dumps, zeroized before they are released. And process
//! hardening for the agent: no core dumps, no ptrace attach by same-uid processes.
//!
//! Windows (`windows.rs`) has `VirtualLock` for the pages and zeroizes them the
//! same way, and keeps the identity sealed there with `CryptProtectMemory`
//! (same-process key) between requests, unsealing a locked copy per use. It has
//! nothing like `PR_SET_DUMPABLE`: `harden_process` narrows the process's DACL
//! instead (`process_dacl.rs`), so that another process of the same user cannot
//! open the agent to read its memory, and turns off the crash dialogs
//! (`SetErrorMode`).

use std::sync::atomic::AtomicBool;

use crate::secret::SecretString;

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod sys;

#[cfg(windows)]
mod process_dacl;

pub use sys::harden_process;

static MLOCK_WARNED: AtomicBool = AtomicBool::new(false);

/// A page-backed buffer holding one secret string.
pub struct LockedBuf {
    ptr: *mut u8,
    cap: usize,
    len: usize,
    locked: bool,
}

// SAFETY: the buffer is exclusively owned; no interior aliasing.
unsafe impl Send for LockedBuf {}
unsafe impl Sync for LockedBuf {}

impl LockedBuf {
    /// Copy `s` into fresh locked pages (`mlock`; Windows: `VirtualLock`). A failed
    /// lock is reported once on stderr, not fatal.
    pub fn new(s: &SecretString) -> std::io::Result<LockedBuf> {
        LockedBuf::alloc(s)
    }

    /// The held string, for as long as the result lives: the buffer's own pages on
    /// Unix; on Windows a fresh locked copy unsealed from them
    /// (`CryptUnprotectMemory`), zeroized and freed when it drops, so the identity
    /// lies in plaintext only while a request uses it.
    pub fn reveal(&self) -> std::io::Result<Revealed<'_>> {
        sys::reveal(self)
    }

    /// The bytes as they lie in the pages (sealed on Windows, unless this is a copy).
    fn raw_str(&self) -> &str {
        // SAFETY: ptr holds len bytes copied from a &str (or unsealed back to them).
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.ptr, self.len)) }
    }

    pub fn is_mlocked(&self) -> bool {
        self.locked
    }
}

/// The held string for the length of a borrow; see [`LockedBuf::reveal`].
pub enum Revealed<'a> {
    /// The buffer's own pages (Unix: they hold the plaintext).
    Held(&'a LockedBuf),
    /// A locked copy with the plaintext (Windows), zeroized when dropped.
    #[cfg(windows)]
    Copy(LockedBuf, std::marker::PhantomData<&'a LockedBuf>),
}

impl std::ops::Deref for Revealed<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Revealed::Held(b) => b.raw_str(),
            #[cfg(windows)]
            Revealed::Copy(b, _) => b.raw_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_and_zeroizes() {
        let b = LockedBuf::new(&SecretString::from("AGE-SECRET-KEY-1TEST".to_string())).unwrap();
        assert_eq!(&*b.reveal().unwrap(), "AGE-SECRET-KEY-1TEST");
        // Revealed twice at once (two resolves in flight), each whole.
        {
            let (x, y) = (b.reveal().unwrap(), b.reveal().unwrap());
            assert_eq!((&*x, &*y), ("AGE-SECRET-KEY-1TEST", "AGE-SECRET-KEY-1TEST"));
        }
        drop(b);
        // Lengths around the 16-byte seal block.
        for n in [0, 1, 15, 16, 17, 74, 4095, 4096, 5000] {
            let s = "k".repeat(n);
            let b = LockedBuf::new(&SecretString::from(s.clone())).unwrap();
            assert_eq!(&*b.reveal().unwrap(), s.as_str(), "{n}");
        }
    }

    /// Windows: between requests the pages hold the identity sealed with
    /// `CryptProtectMemory`, not in plaintext. Wine 8 implements that call as a stub
    /// that leaves the bytes as they are, so there (and only there: `WINEPREFIX` is
    /// set) the plaintext is expected and said.
    #[cfg(windows)]
    #[test]
    fn windows_pages_hold_the_identity_sealed() {
        let plain = "AGE-SECRET-KEY-1SEALEDTESTSEALEDTESTSEALEDTEST";
        let b = LockedBuf::new(&SecretString::from(plain.to_string())).unwrap();
        // SAFETY: the buffer's own bytes, len of them.
        let raw = unsafe { std::slice::from_raw_parts(b.ptr, b.len) };
        if raw == plain.as_bytes() {
            assert!(
                std::env::var_os("WINEPREFIX").is_some(),
                "the held identity lies in plaintext: CryptProtectMemory did not seal it"
            );
            eprintln!(
                "Wine: CryptProtectMemory is a stub here; sealing is verified on Windows only"
            );
        } else {
            assert_eq!(&*b.reveal().unwrap(), plain);
        }
    }
}
