//! Windows: the agent's process DACL, narrowed so that another process of the
//! same user cannot open the agent to read or write its memory, start a thread in
//! it, duplicate its handles or debug it. This is the nearest Windows has to
//! `PR_SET_DUMPABLE` 0 (KeePassXC and PuTTY's Pageant `-restrict-acl` do the same).
//!
//! By default a process's DACL (from its token's default DACL) gives its user
//! `PROCESS_ALL_ACCESS`: `ReadProcessMemory` or `MiniDumpWriteDump` from any
//! program the user runs finds the held identity. After `restrict_process` the user
//! keeps only what the agent's clients and its stop need: query-limited information
//! (who the process runs as, its image), synchronize (wait for it), terminate and
//! read-control. An `OWNER RIGHTS` entry with the same rights takes away the owner's
//! implicit `WRITE_DAC`, so a same-user process cannot simply rewrite the DACL
//! back. SYSTEM keeps full access.
//!
//! Threads are not narrowed. Each thread has a DACL of its own (from the token's
//! default DACL), and a thread handle with `THREAD_SET_CONTEXT` is enough to take
//! the process over: a same-user attacker who knows that can still get in. This is
//! against tools that read or dump a process (`ReadProcessMemory`,
//! `MiniDumpWriteDump`, procdump), not against a determined hijack. Narrowing the
//! threads as well was tried: under Wine it left the prefix's Credential Manager
//! failing for later processes (error 3) for reasons not found, and it cannot be
//! checked on Windows here, so it is not shipped.
//!
//! What stays open: an administrator with `SeDebugPrivilege` opens any process,
//! and a same-user process can still take over the agent's executable or its
//! environment before it starts.

use std::io;

use windows_sys::Win32::System::Threading::GetCurrentProcess;

use crate::winsec::{self, LocalSd};

/// `PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION | READ_CONTROL | SYNCHRONIZE`.
pub const PROCESS_KEPT: u32 = 0x0001 | 0x1000 | 0x0002_0000 | 0x0010_0000;

fn narrow_sd() -> io::Result<LocalSd> {
    let me = winsec::current_user()?.string();
    // OW: OWNER RIGHTS (replaces the owner's implicit READ_CONTROL | WRITE_DAC);
    // 0x1fffff: PROCESS_ALL_ACCESS.
    LocalSd::from_sddl(&format!(
        "D:P(A;;{PROCESS_KEPT:#x};;;{me})(A;;{PROCESS_KEPT:#x};;;OW)(A;;0x1fffff;;;SY)"
    ))
}

/// Narrow this process's DACL.
pub fn restrict_process() -> Vec<String> {
    let mut failed = vec![];
    // SAFETY: the pseudo handle of this process, which carries every right.
    let process = unsafe { GetCurrentProcess() };
    // SAFETY: the pseudo handle is always valid.
    let set = narrow_sd().and_then(|sd| unsafe { winsec::set_handle_dacl(process, &sd) });
    if let Err(e) = set {
        failed.push(format!("cannot narrow the process DACL: {e}"));
    }
    failed
}
