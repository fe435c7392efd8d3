//! The clawvault agent on Windows, driving the real binary: a named pipe whose DACL
//! admits this user's SID alone, a refused squatted name, start/stop, lock.
//! Runs under Wine in CI (`scripts/windows-test.sh`); Unix has `tests/agent.rs`.
//!
//! Not attacked here: a client of *another* user (Wine runs every process as one
//! user, so there is no second SID to connect from). What stands against it is
//! asserted as configuration instead: the pipe's owner and DACL, read back from
//! the live pipe.
#![cfg(windows)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;

const KEY: &str = "sk-or-v1-TESTONLY-pipe-0123456789";

fn setup() -> (Home, PathBuf) {
    Home::age_with_key("openrouter", KEY)
}

fn pipe_of(h: &Home) -> PathBuf {
    clawvault::agent::paths::for_bind(&h.vault(), &h.vault_id()).socket
}

fn wait_exit(
    child: &mut std::process::Child,
    within: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn resolve_is_served_over_the_pipe_and_lock_and_stop_work() {
    let (h, pw) = setup();
    // Without the agent and without a source, resolve fails: the test below can fail.
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("agent: not running") && err.contains("no agent pipe"),
        "{err}"
    );

    let pw_s = pw.to_str().unwrap().to_string();
    let mut a = h.agent_run(&["--idle", "0", "--passphrase-file", &pw_s], |_| {});
    let o = h.resolve(&["main/openrouter:default", "main/nope:x"], |_| {});
    let v = stdout_json(&o);
    assert_eq!(v["values"]["main/openrouter:default"], KEY);
    assert_eq!(v["errors"]["main/nope:x"]["code"], "NOT_FOUND");
    assert!(String::from_utf8_lossy(&o.stderr).contains("served by the agent"));

    let (code, s) = h.agent_status();
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["unlocked"], true);
    assert_eq!(s["pid"].as_u64(), Some(a.child.id() as u64));
    let me = clawvault::winsec::current_user().unwrap().string();
    assert_eq!(
        s["socket"].as_str().unwrap(),
        format!(r"\\.\pipe\clawvault-{me}-{}", h.vault_id())
    );

    // `lock` zeroizes the agent's identity: resolve is refused, not served.
    h.cmd().arg("lock").assert().success();
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains(KEY));
    // `unlock` hands the running agent the passphrase over the pipe.
    let said = stdout_ok(h.cmd().arg("unlock").arg("--passphrase-file").arg(&pw));
    assert!(
        said.contains(r"unlocked the agent at \\.\pipe\clawvault-"),
        "{said}"
    );
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(stdout_json(&o)["values"]["main/openrouter:default"], KEY);

    assert!(stdout_ok(h.cmd().args(["agent", "stop"])).contains("stopped the clawvault agent"));
    let st = wait_exit(&mut a.child, Duration::from_secs(10)).expect("the agent exits on stop");
    assert!(st.success(), "{st}: {}", a.log_text());
    assert!(!clawvault::agent::client::endpoint_exists(&pipe_of(&h)));
    let (code, s) = h.agent_status();
    assert_eq!(code, 3, "{s}");
    assert_eq!(s["running"], false);
}

#[test]
fn the_pipe_is_owned_by_this_user_and_admits_nobody_else() {
    let (h, pw) = setup();
    let pw_s = pw.to_str().unwrap().to_string();
    let _a = h.agent_run(&["--idle", "0", "--passphrase-file", &pw_s], |_| {});
    let pipe = pipe_of(&h);
    // Connect as a client (the agent admits us) and read the pipe's descriptor.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&pipe)
        .unwrap();
    let sec = clawvault::winsec::read_file(&f).unwrap();
    let me = clawvault::winsec::current_user().unwrap();
    assert_eq!(sec.owner.as_ref(), Some(&me), "{pipe:?}");
    let aces = sec.dacl.as_ref().expect("a DACL, not a NULL one");
    assert!(!aces.is_empty());
    assert_eq!(
        sec.others_with(&me, clawvault::winsec::ANY_RIGHTS),
        Vec::<String>::new(),
        "only this user may open the pipe"
    );
    drop(f);
    // The agent still serves after a client that said nothing.
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(stdout_json(&o)["values"]["main/openrouter:default"], KEY);
}

#[test]
fn an_agent_refuses_a_pipe_name_someone_already_holds() {
    use windows_sys::Win32::Foundation::{CloseHandle, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::Storage::FileSystem::{
        FILE_FLAG_FIRST_PIPE_INSTANCE, PIPE_ACCESS_DUPLEX,
    };
    use windows_sys::Win32::System::Pipes::{
        CreateNamedPipeW, PIPE_TYPE_BYTE, PIPE_UNLIMITED_INSTANCES,
    };
    let (h, pw) = setup();
    // A squatter creates the agent's pipe name first and waits for its clients.
    let name = clawvault::winsec::wide(&pipe_of(&h));
    // SAFETY: a NUL-terminated name; the handle is closed below.
    let squat = unsafe {
        CreateNamedPipeW(
            name.as_ptr(),
            PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
            PIPE_TYPE_BYTE,
            PIPE_UNLIMITED_INSTANCES,
            4096,
            4096,
            0,
            std::ptr::null(),
        )
    };
    assert_ne!(squat, INVALID_HANDLE_VALUE);
    let out = h
        .cmd()
        .args(["agent", "run", "--idle", "0", "--passphrase-file"])
        .arg(&pw)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    // SAFETY: our handle.
    unsafe { CloseHandle(squat) };
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another process already holds that name")
            && err.contains(r"\\.\pipe\clawvault-"),
        "{err}"
    );
    assert!(!err.contains("serving vault"), "{err}");
}

#[test]
fn start_detaches_is_single_instance_and_stop_ends_it() {
    let (h, pw) = setup();
    h.agent_start_unlocked(&pw);
    let (code, s) = h.agent_status();
    assert_eq!(code, 0, "{s}");
    let pid = s["pid"].as_u64().unwrap();
    // A second start finds it and starts nothing.
    let again = h
        .cmd()
        .args(["agent", "start", "--idle", "0"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("already running"));
    // A second `agent run` is refused by the pid lock, before any unlock.
    let run2 = h
        .cmd()
        .args(["agent", "run", "--idle", "0"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(!run2.status.success());
    assert!(
        String::from_utf8_lossy(&run2.stderr)
            .contains("another clawvault agent already serves this vault"),
        "{}",
        String::from_utf8_lossy(&run2.stderr)
    );
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(stdout_json(&o)["values"]["main/openrouter:default"], KEY);
    h.cmd().args(["agent", "stop"]).assert().success();
    let deadline = Instant::now() + Duration::from_secs(10);
    while clawvault::fsutil::pid_alive(pid as i64) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !clawvault::fsutil::pid_alive(pid as i64),
        "the agent (pid {pid}) still runs"
    );
    // The log is private, like every other file in the vault directory.
    assert_private_tree(&h.vault());
}

#[test]
fn the_agent_unlocks_itself_from_the_dpapi_remembered_identity() {
    let (h, pw) = setup();
    stdout_ok(
        h.cmd()
            .args(["unlock", "--remember", "dpapi", "--passphrase-file"])
            .arg(&pw),
    );
    let blob = h.vault().join("identity.dpapi");
    assert!(blob.is_file());
    // No passphrase given: the agent (as a logon task would start it) unlocks from DPAPI.
    let _a = h.agent_run(&["--idle", "0"], |_| {});
    let (code, s) = h.agent_status();
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["unlocked"], true, "{s}");
    assert_eq!(s["unlockedBy"], "dpapi", "{s}");
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(stdout_json(&o)["values"]["main/openrouter:default"], KEY);
    // `lock` locks the agent and forgets the remembered copy.
    h.cmd().arg("lock").assert().success();
    assert!(!blob.exists());
    let (_, s) = h.agent_status();
    assert_eq!(s["unlocked"], false, "{s}");
}

#[test]
fn a_silent_agent_fails_the_call_in_time_instead_of_hanging_it() {
    use windows_sys::Win32::Foundation::{CloseHandle, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::Storage::FileSystem::PIPE_ACCESS_DUPLEX;
    use windows_sys::Win32::System::Pipes::{
        ConnectNamedPipe, CreateNamedPipeW, PIPE_TYPE_BYTE, PIPE_UNLIMITED_INSTANCES,
    };
    let (h, _pw) = setup();
    // A server of this user on the agent's name that accepts and never answers.
    let name = clawvault::winsec::wide(&pipe_of(&h));
    // SAFETY: a NUL-terminated name; the handle is closed by the thread below.
    let pipe = unsafe {
        CreateNamedPipeW(
            name.as_ptr(),
            PIPE_ACCESS_DUPLEX,
            PIPE_TYPE_BYTE,
            PIPE_UNLIMITED_INSTANCES,
            4096,
            4096,
            0,
            std::ptr::null(),
        )
    };
    assert_ne!(pipe, INVALID_HANDLE_VALUE);
    let raw = pipe as usize;
    let silent = std::thread::spawn(move || {
        // SAFETY: our pipe handle; blocks until the client connects.
        unsafe { ConnectNamedPipe(raw as _, std::ptr::null_mut()) };
        std::thread::sleep(Duration::from_secs(3));
        // SAFETY: our handle, closed once.
        unsafe { CloseHandle(raw as _) };
    });
    let mut c = clawvault::agent::client::Client::connect(&h.vault(), &h.vault_id()).unwrap();
    c.set_read_timeout(Duration::from_millis(700));
    let t = Instant::now();
    let e = c.status().unwrap_err();
    let waited = t.elapsed();
    assert!(e.message.contains("no answer within 0.7 s"), "{e}");
    // Failed by the deadline, not by the server closing (3 s later, which would say
    // "closed the connection without answering").
    assert!(waited >= Duration::from_millis(700), "{waited:?}");
    silent.join().unwrap();
}

/// Which of `rights` another process of this user gets on the process `pid`, one
/// `OpenProcess` each: the names of those granted.
fn process_rights_granted(pid: u32, rights: &[(&'static str, u32)]) -> Vec<&'static str> {
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::Threading::OpenProcess;
    rights
        .iter()
        .filter(|(_, r)| {
            // SAFETY: an open whose handle, if any, is closed at once.
            let p = unsafe { OpenProcess(*r, 0, pid) };
            if p.is_null() {
                return false;
            }
            // SAFETY: the handle just opened.
            unsafe { CloseHandle(p) };
            true
        })
        .map(|(n, _)| *n)
        .collect()
}

#[test]
fn another_process_of_this_user_cannot_open_the_agent_to_read_its_memory() {
    use windows_sys::Win32::System::Threading::{
        PROCESS_CREATE_THREAD, PROCESS_DUP_HANDLE, PROCESS_QUERY_INFORMATION,
        PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SUSPEND_RESUME, PROCESS_VM_OPERATION,
        PROCESS_VM_READ, PROCESS_VM_WRITE,
    };
    const WRITE_DAC: u32 = 0x0004_0000;
    let mut attack = vec![
        ("PROCESS_VM_READ", PROCESS_VM_READ),
        ("PROCESS_VM_WRITE", PROCESS_VM_WRITE),
        ("PROCESS_VM_OPERATION", PROCESS_VM_OPERATION),
        ("PROCESS_CREATE_THREAD", PROCESS_CREATE_THREAD),
        ("PROCESS_DUP_HANDLE", PROCESS_DUP_HANDLE),
        ("PROCESS_QUERY_INFORMATION", PROCESS_QUERY_INFORMATION),
        ("PROCESS_SUSPEND_RESUME", PROCESS_SUSPEND_RESUME),
    ];
    // Rewriting the DACL back is refused by the OWNER RIGHTS entry, which takes
    // away the owner's implicit WRITE_DAC. Wine 8 does not implement OWNER RIGHTS
    // (it still grants the owner WRITE_DAC), so there (WINEPREFIX is set only
    // under windows-test.sh's Wine) it cannot be attacked, and is not.
    if std::env::var_os("WINEPREFIX").is_none() {
        attack.push(("WRITE_DAC", WRITE_DAC));
    } else {
        eprintln!("under Wine: WRITE_DAC by the owner not checked (Wine has no OWNER RIGHTS)");
    }
    // The control: a process of this user that did not harden itself (this test)
    // is open to all of it, so the checks below can fail.
    let me = std::process::id();
    assert_eq!(
        process_rights_granted(me, &attack).len(),
        attack.len(),
        "an ordinary process is open to its user"
    );

    let (h, pw) = setup();
    let pw_s = pw.to_str().unwrap().to_string();
    let a = h.agent_run(&["--idle", "0", "--passphrase-file", &pw_s], |_| {});
    let pid = a.child.id();
    // Unlocked and serving: the identity is in its memory now.
    let o = h.resolve(&["main/openrouter:default"], |_| {});
    assert_eq!(stdout_json(&o)["values"]["main/openrouter:default"], KEY);
    assert_eq!(
        process_rights_granted(pid, &attack),
        Vec::<&str>::new(),
        "the agent's DACL must refuse these to other processes of its user"
    );
    // What clients and `stop` need is kept: who it runs as, and waiting for it.
    assert_eq!(
        process_rights_granted(
            pid,
            &[(
                "PROCESS_QUERY_LIMITED_INFORMATION",
                PROCESS_QUERY_LIMITED_INFORMATION
            )]
        ),
        vec!["PROCESS_QUERY_LIMITED_INFORMATION"]
    );
    let (code, s) = h.agent_status();
    assert_eq!(code, 0, "{s}");
}
