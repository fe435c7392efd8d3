//! Unix: mmap'ed pages, `mlock`, `MADV_DONTDUMP`, `RLIMIT_CORE` 0 and
//! `PR_SET_DUMPABLE` 0 (Linux) or `PT_DENY_ATTACH` (macOS).

use std::sync::atomic::Ordering;

use super::{LockedBuf, Revealed, MLOCK_WARNED};
use crate::secret::{ExposeSecret, SecretString};

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

impl LockedBuf {
    /// Copy `s` into fresh locked pages. mlock failure is reported once on stderr
    /// (a low RLIMIT_MEMLOCK), not fatal.
    pub(super) fn alloc(s: &SecretString) -> std::io::Result<LockedBuf> {
        let bytes = s.expose_secret().as_bytes();
        let ps = page_size();
        let cap = bytes.len().div_ceil(ps).max(1) * ps;
        // SAFETY: anonymous private mapping; checked for MAP_FAILED below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                cap,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: ptr is a fresh mapping of cap bytes.
        let locked = unsafe { libc::mlock(ptr, cap) } == 0;
        if !locked && !MLOCK_WARNED.swap(true, Ordering::Relaxed) {
            eprintln!(
                "clawvault agent: warning: cannot lock the identity's memory (mlock: {}); it could be swapped out. Raise RLIMIT_MEMLOCK (LimitMEMLOCK= in the unit) to fix this.",
                std::io::Error::last_os_error()
            );
        }
        #[cfg(target_os = "linux")]
        // SAFETY: advisory call on our own mapping.
        unsafe {
            libc::madvise(ptr, cap, libc::MADV_DONTDUMP);
        }
        // SAFETY: bytes.len() <= cap; regions do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr as *mut u8, bytes.len()) };
        Ok(LockedBuf {
            ptr: ptr as *mut u8,
            cap,
            len: bytes.len(),
            locked,
        })
    }
}

/// Unix: the pages hold the plaintext; a reveal borrows them.
pub(super) fn reveal(b: &LockedBuf) -> std::io::Result<Revealed<'_>> {
    Ok(Revealed::Held(b))
}

impl Drop for LockedBuf {
    fn drop(&mut self) {
        // SAFETY: ptr/cap describe our mapping; volatile writes so the zeroing is kept.
        unsafe {
            for i in 0..self.cap {
                std::ptr::write_volatile(self.ptr.add(i), 0);
            }
            std::sync::atomic::compiler_fence(Ordering::SeqCst);
            if self.locked {
                libc::munlock(self.ptr as *mut libc::c_void, self.cap);
            }
            libc::munmap(self.ptr as *mut libc::c_void, self.cap);
        }
    }
}

/// No core dumps, no ptrace attach by other same-uid processes (Linux:
/// `PR_SET_DUMPABLE` 0; macOS: `PT_DENY_ATTACH`). Returns what could not be done,
/// for the log.
pub fn harden_process() -> Vec<String> {
    let mut failed = vec![];
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls with valid arguments.
    unsafe {
        if libc::setrlimit(libc::RLIMIT_CORE, &zero) != 0 {
            failed.push(format!(
                "RLIMIT_CORE 0: {}",
                std::io::Error::last_os_error()
            ));
        }
        #[cfg(target_os = "linux")]
        if libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 {
            failed.push(format!(
                "PR_SET_DUMPABLE 0: {}",
                std::io::Error::last_os_error()
            ));
        }
        // macOS: refuse debugger attach (a same-uid `lldb -p` or task_for_pid
        // through ptrace); the hardened runtime would do this for a signed binary.
        #[cfg(target_os = "macos")]
        if libc::ptrace(libc::PT_DENY_ATTACH, 0, std::ptr::null_mut(), 0) != 0 {
            failed.push(format!(
                "PT_DENY_ATTACH: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    failed
}
