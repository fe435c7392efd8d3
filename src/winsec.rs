//! Windows security descriptors: the current user's SID, owner-only DACLs for new
//! private files and directories, and reading who an existing file's DACL lets in.
//!
//! This is the Windows half of what modes and uids do on Unix (`fsutil`, `trust`):
//! - private files and directories are created with `O:<me>D:P(A;;FA;;;<me>)`
//!   (directories with `OICI`, so what is created inside inherits the same single
//!   entry), protected from inheritance;
//! - SYSTEM and BUILTIN\Administrators count as "root": they are not put in the
//!   DACLs clawvault writes, but a DACL that also grants them access is not a
//!   leak (an administrator can take ownership of any file anyway, as root can read
//!   a 0600 file), so the checks do not refuse it;
//! - any other principal in an allow entry that applies to the object itself
//!   (Everyone, Users, Authenticated Users, another user) makes a file not private.

use std::io;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
    GetNamedSecurityInfoW, GetSecurityInfo, SetNamedSecurityInfoW, SetSecurityInfo,
    SDDL_REVISION_1, SE_FILE_OBJECT, SE_KERNEL_OBJECT,
};
use windows_sys::Win32::Security::{
    GetAce, GetLengthSid, GetSecurityDescriptorDacl, GetTokenInformation, IsValidSid, TokenUser,
    ACE_HEADER, ACL, DACL_SECURITY_INFORMATION, OWNER_SECURITY_INFORMATION,
    PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID, SECURITY_ATTRIBUTES,
    TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, OpenProcess, OpenProcessToken, QueryFullProcessImageNameW,
    PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION,
};

/// A NUL-terminated UTF-16 copy of `p` for the `W` functions.
pub fn wide(p: &Path) -> Vec<u16> {
    p.as_os_str()
        .encode_wide()
        .chain(std::iter::once(0))
        .collect()
}

fn wide_str(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// An owned copy of a SID.
#[derive(Clone, PartialEq, Eq)]
pub struct Sid(Vec<u8>);

impl Sid {
    /// Copy the SID at `p` (which must be valid).
    ///
    /// # Safety
    /// `p` must point at a valid SID.
    unsafe fn copy(p: PSID) -> io::Result<Sid> {
        if p.is_null() || IsValidSid(p) == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "invalid SID"));
        }
        let n = GetLengthSid(p) as usize;
        Ok(Sid(std::slice::from_raw_parts(p as *const u8, n).to_vec()))
    }

    fn as_psid(&self) -> PSID {
        self.0.as_ptr() as PSID
    }

    /// The `S-1-5-...` form.
    pub fn string(&self) -> String {
        let mut out: *mut u16 = std::ptr::null_mut();
        // SAFETY: self holds a valid SID; `out` is freed with LocalFree below.
        unsafe {
            if ConvertSidToStringSidW(self.as_psid(), &mut out) == 0 || out.is_null() {
                return "S-?".into();
            }
            let mut n = 0;
            while *out.add(n) != 0 {
                n += 1;
            }
            let s = String::from_utf16_lossy(std::slice::from_raw_parts(out, n));
            LocalFree(out as _);
            s
        }
    }

    /// SYSTEM, BUILTIN\Administrators or TrustedInstaller: the principals that play
    /// root's part (they own the system directories and can take any file).
    pub fn is_system(&self) -> bool {
        matches!(
            self.string().as_str(),
            "S-1-5-18"
                | "S-1-5-32-544"
                | "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
        )
    }

    /// CREATOR OWNER / CREATOR GROUP: placeholders that only mean something in an
    /// inheritable entry, never in an access check on the object itself.
    fn is_creator_placeholder(&self) -> bool {
        matches!(self.string().as_str(), "S-1-3-0" | "S-1-3-1")
    }

    /// OWNER RIGHTS: whoever owns the object (checked separately).
    fn is_owner_rights(&self) -> bool {
        self.string() == "S-1-3-4"
    }

    /// A readable name for messages: the well-known groups by name, else the SID.
    pub fn name(&self) -> String {
        let s = self.string();
        let known = match s.as_str() {
            "S-1-1-0" => "Everyone",
            "S-1-5-11" => "Authenticated Users",
            "S-1-5-32-545" => "BUILTIN\\Users",
            "S-1-5-32-546" => "BUILTIN\\Guests",
            "S-1-5-4" => "INTERACTIVE",
            "S-1-5-7" => "ANONYMOUS LOGON",
            _ => return s,
        };
        format!("{known} ({s})")
    }
}

impl std::fmt::Debug for Sid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.string())
    }
}

struct OwnedHandle(HANDLE);

impl Drop for OwnedHandle {
    fn drop(&mut self) {
        // SAFETY: a handle this module opened and nobody else closes.
        unsafe { CloseHandle(self.0) };
    }
}

/// The user SID of an access token (`TokenUser`).
fn token_user(token: HANDLE) -> io::Result<Sid> {
    let mut len = 0u32;
    // SAFETY: a size query with a null buffer, then a buffer of that size (u64 aligned).
    unsafe {
        GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut len);
        if len == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u64; (len as usize).div_ceil(8)];
        if GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len) == 0 {
            return Err(io::Error::last_os_error());
        }
        let tu = &*(buf.as_ptr() as *const TOKEN_USER);
        Sid::copy(tu.User.Sid)
    }
}

/// The SID of the user this process runs as (cached).
pub fn current_user() -> io::Result<Sid> {
    static ME: OnceLock<Result<Sid, String>> = OnceLock::new();
    ME.get_or_init(|| {
        let mut h: HANDLE = std::ptr::null_mut();
        // SAFETY: the pseudo handle of this process; `h` is closed by OwnedHandle.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut h) } == 0 {
            return Err(io::Error::last_os_error().to_string());
        }
        let h = OwnedHandle(h);
        token_user(h.0).map_err(|e| e.to_string())
    })
    .clone()
    .map_err(|e| io::Error::other(format!("cannot learn the current user's SID: {e}")))
}

/// The SID of the user another process runs as (its primary token's `TokenUser`):
/// how the agent and its client learn who is at the other end of a named pipe.
/// Needs only `PROCESS_QUERY_LIMITED_INFORMATION`, which a user has on its own
/// processes.
pub fn process_user(pid: u32) -> io::Result<Sid> {
    // SAFETY: query-only opens; both handles are closed by OwnedHandle.
    unsafe {
        let p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        if p.is_null() {
            return Err(io::Error::last_os_error());
        }
        let p = OwnedHandle(p);
        let mut t: HANDLE = std::ptr::null_mut();
        if OpenProcessToken(p.0, TOKEN_QUERY, &mut t) == 0 {
            return Err(io::Error::last_os_error());
        }
        let t = OwnedHandle(t);
        token_user(t.0)
    }
}

/// The full path of another process's executable, for the access log.
pub fn process_image(pid: u32) -> Option<String> {
    // SAFETY: a query-only open closed by OwnedHandle; the buffer's size is passed.
    unsafe {
        let p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        if p.is_null() {
            return None;
        }
        let p = OwnedHandle(p);
        let mut buf = vec![0u16; 1024];
        let mut n = buf.len() as u32;
        if QueryFullProcessImageNameW(p.0, PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut n) == 0 {
            return None;
        }
        Some(String::from_utf16_lossy(&buf[..n as usize]))
    }
}

/// A security descriptor allocated by Windows (freed with `LocalFree`).
pub struct LocalSd(PSECURITY_DESCRIPTOR);

impl Drop for LocalSd {
    fn drop(&mut self) {
        // SAFETY: allocated by ConvertStringSecurityDescriptor.../Get*SecurityInfo.
        unsafe { LocalFree(self.0 as _) };
    }
}

impl LocalSd {
    /// Owner: the current user; DACL: one entry, full access for the current user,
    /// protected from inheritance (`P`). Directories pass it on to what is created
    /// inside them (`OICI`).
    pub fn owner_only(dir: bool) -> io::Result<LocalSd> {
        let me = current_user()?.string();
        let flags = if dir { "OICI" } else { "" };
        LocalSd::from_sddl(&format!("O:{me}D:P(A;{flags};FA;;;{me})"))
    }

    /// A descriptor from its SDDL text.
    pub fn from_sddl(sddl: &str) -> io::Result<LocalSd> {
        let sddl = wide_str(sddl);
        let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: a NUL-terminated string; `sd` is freed by LocalSd.
        if unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut sd,
                std::ptr::null_mut(),
            )
        } == 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(LocalSd(sd))
    }

    /// `SECURITY_ATTRIBUTES` pointing at this descriptor (valid while `self` lives).
    pub fn attributes(&self) -> SECURITY_ATTRIBUTES {
        SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: self.0,
            bInheritHandle: 0,
        }
    }

    /// The descriptor's DACL, to be set on an object; a descriptor without one (or
    /// with a NULL DACL, which would let everyone in) is refused.
    fn dacl(&self) -> io::Result<*mut ACL> {
        let mut present = 0;
        let mut defaulted = 0;
        let mut dacl: *mut ACL = std::ptr::null_mut();
        // SAFETY: self.0 is a valid descriptor.
        if unsafe { GetSecurityDescriptorDacl(self.0, &mut present, &mut dacl, &mut defaulted) }
            == 0
        {
            return Err(io::Error::last_os_error());
        }
        if dacl.is_null() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the descriptor has no DACL",
            ));
        }
        Ok(dacl)
    }
}

/// Replace the DACL of an existing file or directory with the owner-only one,
/// protected from inheritance (the `chmod 600`/`700` of Windows). The owner is
/// left as it is: callers refuse objects that are not the user's first.
pub fn set_owner_only(path: &Path, dir: bool) -> io::Result<()> {
    set_dacl(path, &LocalSd::owner_only(dir)?)
}

/// Replace the DACL of an existing file or directory with the one in `sd`,
/// protected from inheritance; the owner is left as it is.
pub fn set_dacl(path: &Path, sd: &LocalSd) -> io::Result<()> {
    let dacl = sd.dacl()?;
    let w = wide(path);
    // SAFETY: NUL-terminated name; the DACL lives in `sd` for the call.
    let rc = unsafe {
        SetNamedSecurityInfoW(
            w.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            dacl,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    Ok(())
}

/// Replace the DACL of the kernel object behind `h` (a process or thread handle
/// with `WRITE_DAC`) with the one in `sd`, protected from inheritance.
///
/// # Safety
/// `h` must be an open handle (or a pseudo handle) for the whole call.
pub unsafe fn set_handle_dacl(h: HANDLE, sd: &LocalSd) -> io::Result<()> {
    let dacl = sd.dacl()?;
    // SAFETY: the caller vouches for `h`; the DACL lives in `sd` for the call.
    let rc = unsafe {
        SetSecurityInfo(
            h,
            SE_KERNEL_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            dacl,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    Ok(())
}

/// One access-control entry that applies to the object itself.
#[derive(Debug, Clone)]
pub struct Ace {
    pub allow: bool,
    pub sid: Option<Sid>,
    pub mask: u32,
    /// The raw ACE type (0 allow, 1 deny; anything else is an object or callback
    /// entry, which clawvault never writes and treats as a grant to someone else).
    pub kind: u8,
}

/// The owner and DACL of a file or directory.
#[derive(Debug, Clone)]
pub struct Security {
    pub owner: Option<Sid>,
    /// `None`: a NULL DACL, which grants everyone everything.
    pub dacl: Option<Vec<Ace>>,
}

const ACCESS_ALLOWED: u8 = 0;
const ACCESS_DENIED: u8 = 1;
const INHERIT_ONLY: u8 = 0x08;

/// Rights that let a principal change a file or what a directory holds.
pub const WRITE_RIGHTS: u32 = 0x0002 // FILE_WRITE_DATA / FILE_ADD_FILE
    | 0x0004 // FILE_APPEND_DATA / FILE_ADD_SUBDIRECTORY
    | 0x0010 // FILE_WRITE_EA
    | 0x0040 // FILE_DELETE_CHILD
    | 0x0100 // FILE_WRITE_ATTRIBUTES
    | 0x0001_0000 // DELETE
    | 0x0004_0000 // WRITE_DAC
    | 0x0008_0000 // WRITE_OWNER
    | 0x4000_0000 // GENERIC_WRITE
    | 0x1000_0000; // GENERIC_ALL
/// On a directory: create entries in it, but neither delete nor rename what others
/// made there (the rights of a sticky directory such as `/tmp`).
pub const ADD_ENTRY_RIGHTS: u32 = 0x0002 | 0x0004;

unsafe fn parse(owner: PSID, dacl: *mut ACL) -> io::Result<Security> {
    let owner = if owner.is_null() {
        None
    } else {
        Some(Sid::copy(owner)?)
    };
    if dacl.is_null() {
        return Ok(Security { owner, dacl: None });
    }
    let count = (*dacl).AceCount as u32;
    let mut aces = Vec::with_capacity(count as usize);
    for i in 0..count {
        let mut p: *mut core::ffi::c_void = std::ptr::null_mut();
        if GetAce(dacl, i, &mut p) == 0 {
            return Err(io::Error::last_os_error());
        }
        let h = &*(p as *const ACE_HEADER);
        if h.AceFlags & INHERIT_ONLY != 0 {
            continue;
        }
        let kind = h.AceType;
        let (mask, sid) = if kind == ACCESS_ALLOWED || kind == ACCESS_DENIED {
            // ACCESS_ALLOWED_ACE / ACCESS_DENIED_ACE: header, mask, then the SID.
            let mask = *(p as *const u8).add(4).cast::<u32>();
            let sid = Sid::copy((p as *mut u8).add(8) as PSID).ok();
            (mask, sid)
        } else {
            (u32::MAX, None)
        };
        aces.push(Ace {
            allow: kind != ACCESS_DENIED,
            sid,
            mask,
            kind,
        });
    }
    Ok(Security {
        owner,
        dacl: Some(aces),
    })
}

/// Read the owner and DACL of `path` (a symlink itself is not followed by the
/// callers: they refuse symlinks before asking).
pub fn read_path(path: &Path) -> io::Result<Security> {
    let w = wide(path);
    let mut owner: PSID = std::ptr::null_mut();
    let mut dacl: *mut ACL = std::ptr::null_mut();
    let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: out-pointers valid; `sd` (which owner and dacl point into) is freed
    // by LocalSd after parsing.
    unsafe {
        let rc = GetNamedSecurityInfoW(
            w.as_ptr(),
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
            &mut owner,
            std::ptr::null_mut(),
            &mut dacl,
            std::ptr::null_mut(),
            &mut sd,
        );
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc as i32));
        }
        let _free = LocalSd(sd);
        parse(owner, dacl)
    }
}

/// Read the owner and DACL of an open file (needs `READ_CONTROL`, which every
/// read or write open of std's `File` has).
pub fn read_file(f: &std::fs::File) -> io::Result<Security> {
    let h = std::os::windows::io::AsRawHandle::as_raw_handle(f) as HANDLE;
    let mut owner: PSID = std::ptr::null_mut();
    let mut dacl: *mut ACL = std::ptr::null_mut();
    let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: as in read_path.
    unsafe {
        let rc = GetSecurityInfo(
            h,
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
            &mut owner,
            std::ptr::null_mut(),
            &mut dacl,
            std::ptr::null_mut(),
            &mut sd,
        );
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc as i32));
        }
        let _free = LocalSd(sd);
        parse(owner, dacl)
    }
}

/// Who, besides the current user and the system principals, an allow entry lets
/// in with any of `rights`. A NULL DACL answers "Everyone".
impl Security {
    pub fn others_with(&self, me: &Sid, rights: u32) -> Vec<String> {
        let Some(aces) = &self.dacl else {
            return vec!["Everyone (a NULL DACL)".into()];
        };
        let mut out = vec![];
        for a in aces.iter().filter(|a| a.allow && a.mask & rights != 0) {
            let who = match &a.sid {
                None => format!("an entry of type {}", a.kind),
                Some(s) if s == me || s.is_system() || s.is_creator_placeholder() => continue,
                Some(s) if s.is_owner_rights() => {
                    if self.owner.as_ref() == Some(me)
                        || self.owner.as_ref().is_some_and(Sid::is_system)
                    {
                        continue;
                    }
                    "OWNER RIGHTS (S-1-3-4)".into()
                }
                Some(s) => s.name(),
            };
            if !out.contains(&who) {
                out.push(who);
            }
        }
        out
    }

    /// The SIDs (for an `icacls /remove:g`) of the principals [`Self::others_with`] names.
    pub fn other_sids(&self, me: &Sid, rights: u32) -> Vec<String> {
        let mut out = vec![];
        for a in self.dacl.iter().flatten() {
            if let Some(s) = &a.sid {
                if a.allow
                    && a.mask & rights != 0
                    && s != me
                    && !s.is_system()
                    && !s.is_creator_placeholder()
                    && !out.contains(&s.string())
                {
                    out.push(s.string());
                }
            }
        }
        out
    }
}

/// All access rights at all: for "may anyone else read or write it".
pub const ANY_RIGHTS: u32 = u32::MAX;

/// The `icacls` command that leaves `path` to its owner alone: drop inherited
/// entries, grant the current user full control, remove the named others.
pub fn icacls_fix(path: &Path, dir: bool, remove: &[String]) -> String {
    let me = current_user()
        .map(|s| s.string())
        .unwrap_or_else(|_| "%USERNAME%".into());
    let grant = if dir { "(OI)(CI)F" } else { "F" };
    let mut s = format!(
        "icacls \"{}\" /inheritance:r /grant:r *{me}:{grant}",
        path.display()
    );
    for sid in remove {
        s.push_str(&format!(" /remove:g *{sid}"));
    }
    s
}
