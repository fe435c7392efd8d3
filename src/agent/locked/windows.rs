//! Windows: `VirtualAlloc`'ed pages, `VirtualLock`ed (kept in the working set, so
//! never written to the page file), zeroized before `VirtualFree`. Between requests
//! the identity lies there sealed by `CryptProtectMemory` with the same-process key,
//! so a crash dump, a hibernation file or a read of this process's memory finds
//! ciphertext; each use unseals a locked copy that is zeroized when it drops.
//!
//! There is no per-process switch like `PR_SET_DUMPABLE` or `PT_DENY_ATTACH`: by
//! default any process of the same user may `OpenProcess` this one and read its
//! memory or attach a debugger. `harden_process` narrows the process's DACL
//! against that (`process_dacl.rs`, where what stays open is listed), and keeps Windows Error Reporting from showing crash UI
//! (`SetErrorMode`); a dump may still be written by WER, which runs as SYSTEM, if
//! the machine's `LocalDumps` key asks for one.

use std::sync::atomic::Ordering;

use windows_sys::Win32::Security::Cryptography::{
    CryptProtectMemory, CryptUnprotectMemory, CRYPTPROTECTMEMORY_BLOCK_SIZE,
    CRYPTPROTECTMEMORY_SAME_PROCESS,
};
use windows_sys::Win32::System::Diagnostics::Debug::{
    SetErrorMode, SEM_FAILCRITICALERRORS, SEM_NOGPFAULTERRORBOX,
};
use windows_sys::Win32::System::Memory::{
    VirtualAlloc, VirtualFree, VirtualLock, VirtualUnlock, MEM_COMMIT, MEM_RELEASE, MEM_RESERVE,
    PAGE_READWRITE,
};

use super::{LockedBuf, Revealed, MLOCK_WARNED};
use crate::secret::{ExposeSecret, SecretString};

/// Allocation granularity is 64 KiB, but locking works on 4 KiB pages.
const PAGE: usize = 4096;

/// `CryptProtectMemory` works on whole 16-byte blocks.
const SEAL_BLOCK: usize = CRYPTPROTECTMEMORY_BLOCK_SIZE as usize;

fn sealed_len(len: usize) -> usize {
    len.div_ceil(SEAL_BLOCK).max(1) * SEAL_BLOCK
}

impl LockedBuf {
    /// Fresh zeroed pages for `n` bytes, `VirtualLock`ed when Windows allows it.
    fn pages(n: usize) -> std::io::Result<LockedBuf> {
        let cap = n.div_ceil(PAGE).max(1) * PAGE;
        // SAFETY: a fresh private allocation; checked for null below.
        let ptr = unsafe {
            VirtualAlloc(
                std::ptr::null(),
                cap,
                MEM_COMMIT | MEM_RESERVE,
                PAGE_READWRITE,
            )
        };
        if ptr.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: ptr is a fresh allocation of cap bytes.
        let locked = unsafe { VirtualLock(ptr, cap) } != 0;
        if !locked && !MLOCK_WARNED.swap(true, Ordering::Relaxed) {
            eprintln!(
                "clawvault agent: warning: cannot lock the identity's memory (VirtualLock: {}); it could be paged out. Raise the process's minimum working set to fix this.",
                std::io::Error::last_os_error()
            );
        }
        Ok(LockedBuf {
            ptr: ptr as *mut u8,
            cap,
            len: 0,
            locked,
        })
    }

    /// Copy `s` into fresh locked pages and seal them in place
    /// (`CryptProtectMemory`, same-process key).
    pub(super) fn alloc(s: &SecretString) -> std::io::Result<LockedBuf> {
        let bytes = s.expose_secret().as_bytes();
        let n = sealed_len(bytes.len());
        let mut b = LockedBuf::pages(n)?;
        // SAFETY: bytes.len() <= n <= cap; regions do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), b.ptr, bytes.len()) };
        b.len = bytes.len();
        // SAFETY: n bytes of our pages, a multiple of the block size. On failure
        // `b` drops, zeroizing the plaintext.
        if unsafe { CryptProtectMemory(b.ptr.cast(), n as u32, CRYPTPROTECTMEMORY_SAME_PROCESS) }
            == 0
        {
            return Err(std::io::Error::last_os_error());
        }
        Ok(b)
    }
}

/// A locked copy of the sealed pages, unsealed; zeroized and freed when the
/// result drops.
pub(super) fn reveal(b: &LockedBuf) -> std::io::Result<Revealed<'_>> {
    let n = sealed_len(b.len);
    let mut copy = LockedBuf::pages(n)?;
    // SAFETY: both hold at least n bytes; distinct allocations.
    unsafe { std::ptr::copy_nonoverlapping(b.ptr, copy.ptr, n) };
    copy.len = b.len;
    // SAFETY: n bytes of the copy's pages, a multiple of the block size.
    if unsafe { CryptUnprotectMemory(copy.ptr.cast(), n as u32, CRYPTPROTECTMEMORY_SAME_PROCESS) }
        == 0
    {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Revealed::Copy(copy, std::marker::PhantomData))
}

impl Drop for LockedBuf {
    fn drop(&mut self) {
        // SAFETY: ptr/cap describe our allocation; volatile writes so the zeroing is kept.
        unsafe {
            for i in 0..self.cap {
                std::ptr::write_volatile(self.ptr.add(i), 0);
            }
            std::sync::atomic::compiler_fence(Ordering::SeqCst);
            if self.locked {
                VirtualUnlock(self.ptr as *const _, self.cap);
            }
            VirtualFree(self.ptr as *mut _, 0, MEM_RELEASE);
        }
    }
}

/// Turn off crash dialogs, and narrow the process's DACL so that
/// other processes of the same user cannot open it for memory reads, debugging or
/// injection (`process_dacl`). Returns what could not be done, for the log.
pub fn harden_process() -> Vec<String> {
    // SAFETY: sets this process's error mode; no pointers.
    unsafe { SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX) };
    super::process_dacl::restrict_process()
}
