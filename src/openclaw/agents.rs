//! Which agent a `models` command acts on when `--agent` is not given, chosen the way
//! OpenClaw 2026.9.6 chooses it (`resolveModelsTargetAgent`), so a script written for
//! `openclaw models auth ...` acts on the same agent under clawvault or fails the same way.
//!
//! - A change (`paste-*`, `setup-token`, `logout`, `order set|clear`, `link`): the sole
//!   configured agent; with several, refuse.
//! - A read (`list`, `status`, `order get`): `agents.defaults.systemAgent.agentId`, else an
//!   entry marked `default: true` (unless `agents.ownership` is `explicit`), else the sole
//!   agent; with several, refuse.
//!
//! No roster in the config at all (`agents.list` / `agents.entries` absent) means the
//! implicit `main` agent, as in OpenClaw.

use serde_json::Value;

use crate::paths::DEFAULT_AGENT;

/// What the command does with the agent's store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Read,
    Change,
}

/// The configured agent ids, in config order; `None` when the config has no roster.
pub fn roster(config: &Value) -> Option<Vec<String>> {
    let agents = config.get("agents")?.as_object()?;
    if let Some(entries) = agents.get("entries").filter(|v| !v.is_null()) {
        let ids = entries
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| v.is_object())
                    .map(|(k, _)| normalize(k))
                    .collect()
            })
            .unwrap_or_default();
        return Some(dedup(ids));
    }
    let list = agents.get("list").filter(|v| !v.is_null())?;
    let ids = list
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("id").and_then(Value::as_str))
                .map(normalize)
                .collect()
        })
        .unwrap_or_default();
    Some(dedup(ids))
}

fn dedup(ids: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn normalize(id: &str) -> String {
    id.trim().to_ascii_lowercase()
}

/// The agent an entry marks `default: true`, when exactly one does.
fn marked_default(config: &Value) -> Option<String> {
    let agents = config.get("agents")?;
    if agents.get("ownership").and_then(Value::as_str) == Some("explicit") {
        return None;
    }
    let marked: Vec<String> = match agents.get("entries").and_then(Value::as_object) {
        Some(m) => m
            .iter()
            .filter(|(_, v)| v.get("default").and_then(Value::as_bool) == Some(true))
            .map(|(k, _)| normalize(k))
            .collect(),
        None => agents
            .get("list")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|e| e.get("default").and_then(Value::as_bool) == Some(true))
                    .filter_map(|e| e.get("id").and_then(Value::as_str))
                    .map(normalize)
                    .collect()
            })
            .unwrap_or_default(),
    };
    (marked.len() == 1).then(|| marked[0].clone())
}

/// The agent to act on without `--agent`, or OpenClaw's refusal as a one-line message.
pub fn select(config: Option<&Value>, u: Use) -> Result<String, String> {
    let Some(config) = config else {
        return Ok(DEFAULT_AGENT.to_string());
    };
    if u == Use::Read {
        let system = config
            .pointer("/agents/defaults/systemAgent/agentId")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(id) = system {
            return Ok(normalize(id));
        }
        if let Some(id) = marked_default(config) {
            return Ok(id);
        }
    }
    let ids = match roster(config) {
        None => return Ok(DEFAULT_AGENT.to_string()),
        Some(ids) => ids,
    };
    match ids.len() {
        0 => Err("no agents are configured in openclaw.json: run `openclaw onboard` or `openclaw agents add` first".into()),
        1 => Ok(ids[0].clone()),
        _ => Err(match u {
            Use::Change => format!(
                "Multiple agents are configured ({}), but the model command has no explicit owner. Pass --agent <id>.",
                ids.join(", ")
            ),
            Use::Read => format!(
                "Multiple agents are configured ({}), but model inspection has no explicit owner. Pass --agent <id> or set agents.defaults.systemAgent.agentId.",
                ids.join(", ")
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn no_config_or_no_roster_is_main() {
        assert_eq!(select(None, Use::Change).unwrap(), "main");
        assert_eq!(
            select(Some(&json!({"gateway": {}})), Use::Read).unwrap(),
            "main"
        );
    }

    #[test]
    fn a_sole_agent_is_chosen() {
        let c = json!({"agents": {"list": [{"id": "Work"}]}});
        assert_eq!(select(Some(&c), Use::Change).unwrap(), "work");
        let c = json!({"agents": {"entries": {"ops": {}}}});
        assert_eq!(select(Some(&c), Use::Read).unwrap(), "ops");
    }

    #[test]
    fn several_agents_refuse_a_change_even_with_a_system_agent() {
        let c = json!({"agents": {"list": [{"id": "main"}, {"id": "work", "default": true}],
                                  "defaults": {"systemAgent": {"agentId": "work"}}}});
        let e = select(Some(&c), Use::Change).unwrap_err();
        assert!(
            e.contains("Multiple agents") && e.contains("--agent"),
            "{e}"
        );
        assert_eq!(select(Some(&c), Use::Read).unwrap(), "work");
    }

    #[test]
    fn reads_take_a_marked_default_unless_ownership_is_explicit() {
        let c = json!({"agents": {"list": [{"id": "main"}, {"id": "work", "default": true}]}});
        assert_eq!(select(Some(&c), Use::Read).unwrap(), "work");
        let c = json!({"agents": {"ownership": "explicit",
                                  "list": [{"id": "main"}, {"id": "work", "default": true}]}});
        let e = select(Some(&c), Use::Read).unwrap_err();
        assert!(e.contains("systemAgent"), "{e}");
    }

    #[test]
    fn an_empty_roster_is_an_error() {
        let c = json!({"agents": {"list": []}});
        assert!(select(Some(&c), Use::Change).is_err());
    }
}
