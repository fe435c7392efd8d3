//! Where OpenClaw keeps its state and where clawvault keeps its vault.

use std::path::{Path, PathBuf};

/// Names older OpenClaw releases used for the state directory, in lookup order.
pub const LEGACY_STATE_DIRS: &[&str] = &[".clawdbot", ".moltbot", ".moldbot"];

/// The default agent id.
pub const DEFAULT_AGENT: &str = "main";

/// How the state directory was chosen, so the CLI can say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateDirSource {
    Flag,
    Env,
    Default,
    /// `~/.openclaw` was absent and this legacy directory exists.
    Legacy(String),
}

#[derive(Debug, Clone)]
pub struct StateDir {
    pub path: PathBuf,
    pub source: StateDirSource,
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

impl StateDir {
    /// `--state-dir`, else `$OPENCLAW_STATE_DIR`, else `~/.openclaw`, else an existing
    /// legacy directory. `None` when nothing can be resolved (no flag, no env, no HOME).
    pub fn resolve(flag: Option<&Path>) -> Option<StateDir> {
        if let Some(p) = flag {
            return Some(StateDir {
                path: p.to_path_buf(),
                source: StateDirSource::Flag,
            });
        }
        if let Some(p) = std::env::var_os("OPENCLAW_STATE_DIR").filter(|p| !p.is_empty()) {
            return Some(StateDir {
                path: PathBuf::from(p),
                source: StateDirSource::Env,
            });
        }
        let home = home()?;
        let primary = home.join(".openclaw");
        if !primary.exists() {
            for legacy in LEGACY_STATE_DIRS {
                let p = home.join(legacy);
                if p.is_dir() {
                    return Some(StateDir {
                        path: p,
                        source: StateDirSource::Legacy((*legacy).to_string()),
                    });
                }
            }
        }
        Some(StateDir {
            path: primary,
            source: StateDirSource::Default,
        })
    }

    /// `<state>/agents/<agent>/agent`
    pub fn agent_dir(&self, agent: &str) -> PathBuf {
        self.path.join("agents").join(agent).join("agent")
    }

    /// `<state>/vault`
    pub fn default_vault_dir(&self) -> PathBuf {
        self.path.join("vault")
    }

    /// Every agent id that has an agent directory, sorted.
    pub fn agent_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.path.join("agents"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("agent").is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        ids
    }
}

/// Check an agent id: it becomes a path segment and part of exec ids.
pub fn validate_agent_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "agent id {id:?} is not valid: use letters, digits, '_' and '-', starting with a letter or digit"
        ))
    }
}

/// The agent a command works on, and where its profile document lives.
#[derive(Debug, Clone)]
pub struct AgentTarget {
    pub id: String,
    pub dir: PathBuf,
}

impl AgentTarget {
    pub fn profiles_path(&self) -> PathBuf {
        self.dir.join("auth-profiles.json")
    }

    /// `--agent ID`, else `$OPENCLAW_AGENT_DIR` (its id taken from `agents/<id>/agent`),
    /// else the default agent.
    pub fn resolve(state: &StateDir, flag: Option<&str>) -> Result<AgentTarget, String> {
        if let Some(id) = flag {
            validate_agent_id(id)?;
            return Ok(AgentTarget {
                id: id.to_string(),
                dir: state.agent_dir(id),
            });
        }
        if let Some(dir) = std::env::var_os("OPENCLAW_AGENT_DIR").filter(|p| !p.is_empty()) {
            let dir = PathBuf::from(dir);
            let id = dir
                .parent()
                .filter(|_| dir.file_name().map(|n| n == "agent").unwrap_or(false))
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                .filter(|n| validate_agent_id(n).is_ok())
                .unwrap_or(DEFAULT_AGENT)
                .to_string();
            return Ok(AgentTarget { id, dir });
        }
        Ok(AgentTarget {
            id: DEFAULT_AGENT.to_string(),
            dir: state.agent_dir(DEFAULT_AGENT),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids_are_validated() {
        assert!(validate_agent_id("main").is_ok());
        assert!(validate_agent_id("work-2").is_ok());
        assert!(validate_agent_id("../x").is_err());
        assert!(validate_agent_id("").is_err());
        assert!(validate_agent_id("a/b").is_err());
    }

    #[test]
    fn flag_wins() {
        let s = StateDir::resolve(Some(Path::new("/x/y"))).unwrap();
        assert_eq!(s.path, PathBuf::from("/x/y"));
        assert_eq!(s.source, StateDirSource::Flag);
        assert_eq!(
            AgentTarget::resolve(&s, Some("w")).unwrap().profiles_path(),
            PathBuf::from("/x/y/agents/w/agent/auth-profiles.json")
        );
    }
}
