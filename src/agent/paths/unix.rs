//! Unix: `$XDG_RUNTIME_DIR/clawvault/<vault-id>.sock`, else `/run/user/<uid>/clawvault/`
//! when that runtime directory exists (so a resolver run with a bare environment
//! still finds an agent started under systemd), else inside the vault directory.
//! The pid file and log sit beside the socket.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::AgentPaths;

fn at(dir: PathBuf, stem: &str) -> AgentPaths {
    let socket = dir.join(format!("{stem}.sock"));
    AgentPaths::in_dir(dir, socket, stem)
}

fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

fn runtime_dirs() -> Vec<PathBuf> {
    let mut v = vec![];
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR").filter(|x| !x.is_empty()) {
        let p = PathBuf::from(x);
        if p.is_absolute() {
            v.push(p);
        }
    }
    let run_user = PathBuf::from(format!("/run/user/{}", uid()));
    if !v.contains(&run_user)
        && std::fs::metadata(&run_user)
            .map(|m| m.is_dir() && m.uid() == uid())
            .unwrap_or(false)
    {
        v.push(run_user);
    }
    v
}

/// Every place an agent for this vault may listen, the one `agent run` binds first.
pub fn candidates(vault_dir: &Path, vault_id: &str) -> Vec<AgentPaths> {
    let mut v: Vec<AgentPaths> = runtime_dirs()
        .into_iter()
        .map(|d| at(d.join("clawvault"), vault_id))
        .collect();
    v.push(at(vault_dir.to_path_buf(), "agent"));
    v
}

/// Where `agent run` binds.
pub fn for_bind(vault_dir: &Path, vault_id: &str) -> AgentPaths {
    candidates(vault_dir, vault_id)
        .into_iter()
        .next()
        .expect("the vault directory is always a candidate")
}
