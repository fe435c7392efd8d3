//! Memory for the held identity: its own mmap'ed pages, mlock'ed (never swapped),
//! excluded from core dumps, zeroized before they are released. And process
//! hardening for the agent: no core dumps, no ptrace attach by same-uid processes.
//!
//! Windows (`windows.rs`) has `VirtualLock` for the pages and zeroizes them the
//! same way, but nothing like `PR_SET_DUMPABLE` for a user process: another
//! process of the same user may open this one and read its memory, and Windows
//! Error Reporting may write a dump if LocalDumps is configured. `harden_process`
//! turns off the crash dialogs (`SetErrorMode`) and says the rest in the log.

use std::sync::atomic::AtomicBool;

use crate::secret::SecretString;

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod sys;

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

    pub fn as_str(&self) -> &str {
        // SAFETY: ptr holds len bytes copied from a &str.
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.ptr, self.len)) }
    }

    pub fn is_mlocked(&self) -> bool {
        self.locked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_and_zeroizes() {
        let b = LockedBuf::new(&SecretString::from("AGE-SECRET-KEY-1TEST".to_string())).unwrap();
        assert_eq!(b.as_str(), "AGE-SECRET-KEY-1TEST");
        drop(b);
    }
}
