//! Credentials OpenClaw itself holds in plaintext, read from its own files before the
//! host scan, so that a copy of one is found anywhere else byte for byte.
//!
//! A gateway token is 48 hex digits and a channel token can be any random string:
//! neither has a format a pattern can find in free text (a JSON log line, a
//! transcript, a shell argument). But the value sits on OpenClaw's credential surface
//! in `openclaw.json`, or under a credential name in the state directory's `.env`,
//! and whatever bytes are there are a credential wherever else they appear. Values
//! stay in memory (zeroized), are never written, hashed to disk or printed.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::detect::{credential_name, kind_from_name, Kind};
use crate::envfile::EnvFile;
use crate::openclaw::config_secrets;
use crate::secret::{secret_bytes, SecretBytes};

/// A credential found in one of OpenClaw's files, to match byte for byte.
pub struct Known {
    pub value: SecretBytes,
    pub kind: Kind,
    /// Where it came from, for the finding: `openclaw.json gateway.auth.token`.
    pub origin: String,
}

/// Largest file read for harvesting (OpenClaw's config and `.env` are small).
const CAP: u64 = 4 << 20;

/// Plaintext credentials on OpenClaw's SecretRef surface in its config
/// (`$OPENCLAW_CONFIG_PATH`, else `<state>/openclaw.json`), in its auth stores, and
/// under credential names in `<state>/.env` and the environment of the user's
/// systemd units and launchd agents that start OpenClaw. Unreadable or malformed
/// files give nothing (the scan itself reports them).
pub fn known_credentials(state_dir: &Path, home: Option<&Path>) -> Vec<Known> {
    let mut out = Vec::new();
    let state = crate::paths::StateDir {
        path: state_dir.to_path_buf(),
        source: crate::paths::StateDirSource::Flag,
    };
    let config = crate::openclaw::config_path(&state);
    let config = config.as_path();
    if let Ok(Some(bytes)) = crate::fsutil::read_capped(config, CAP) {
        if let Ok(v) = config_secrets::parse_config(&bytes) {
            let (found, _) = config_secrets::find(&v);
            let file = config
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for s in found {
                let path = s.path();
                out.push(Known {
                    value: secret_bytes(s.secret.as_bytes().to_vec()),
                    kind: kind_from_name(path.as_bytes()),
                    origin: format!("{file} {path}"),
                });
            }
        }
    }
    // Auth stores: JSON era (one document per agent, the legacy single agent, the
    // old OAuth file) and SQLite era (the shared and per-agent databases).
    let mut json_docs = vec![
        state_dir.join("agent/auth-profiles.json"),
        state_dir.join("credentials/oauth.json"),
    ];
    json_docs.extend(
        state
            .agent_ids()
            .iter()
            .map(|a| state.agent_dir(a).join("auth-profiles.json")),
    );
    for p in json_docs {
        let Ok(Some(bytes)) = crate::fsutil::read_capped(&p, CAP) else {
            continue;
        };
        if let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(&bytes) {
            let file = p
                .strip_prefix(state_dir)
                .unwrap_or(&p)
                .display()
                .to_string();
            from_profiles(&root, &file, &mut out);
        }
    }
    use crate::openclaw::sqlite;
    for (kind, db) in sqlite::store_locations(&state, None) {
        if !matches!(crate::fsutil::refuse_symlink(&db), Ok(true)) || !db.is_file() {
            continue;
        }
        let Ok(c) = sqlite::open_immutable(&db) else {
            continue;
        };
        if let Ok(Some(cell)) = sqlite::read_cell(&c, &kind) {
            let cell = zeroize::Zeroizing::new(cell);
            if let Ok(Value::Object(root)) = serde_json::from_str::<Value>(&cell) {
                from_profiles(&root, &kind.describe(), &mut out);
            }
        }
    }
    if let Some(home) = home {
        from_units(home, &mut out);
    }
    let env = state_dir.join(".env");
    if let Ok(Some(bytes)) = crate::fsutil::read_capped(&env, CAP) {
        if let Ok(f) = EnvFile::parse(&env, bytes) {
            for e in &f.entries {
                if credential_name(e.name.as_bytes()) {
                    out.push(Known {
                        value: secret_bytes(e.value.as_bytes().to_vec()),
                        kind: kind_from_name(e.name.as_bytes()),
                        origin: format!(".env {}", e.name),
                    });
                }
            }
        }
    }
    out
}

/// Token values of an auth-profile document (`{profiles: {id: {...}}}`, or the old
/// OAuth file's `{provider: {...}}`): API keys, tokens, OAuth access and refresh
/// tokens. OAuth stays in OpenClaw's store by its policy, but a copy of it in a
/// transcript or log is a leak like any other.
fn from_profiles(root: &Map<String, Value>, origin: &str, out: &mut Vec<Known>) {
    let profiles = match root.get("profiles").and_then(Value::as_object) {
        Some(p) => p,
        None => root,
    };
    for (id, p) in profiles {
        let Some(o) = p.as_object() else { continue };
        for (k, v) in o {
            let Some(s) = v.as_str() else { continue };
            let token_field = matches!(
                k.as_str(),
                "access" | "refresh" | "idToken" | "id_token" | "key" | "apiKey" | "token"
            );
            if !token_field && !credential_name(k.as_bytes()) {
                continue;
            }
            let kind = if k.contains("refresh") {
                Kind::OauthRefreshToken
            } else if k == "access" {
                Kind::BearerToken
            } else {
                kind_from_name(k.as_bytes())
            };
            out.push(Known {
                value: secret_bytes(s.as_bytes().to_vec()),
                kind,
                origin: format!("{origin} profile {id} `{k}`"),
            });
        }
    }
}

/// `Environment=` assignments (systemd user units and drop-ins) and
/// `EnvironmentVariables` pairs (launchd agents) under credential names, in the
/// service definitions that start OpenClaw (whose environment it reads).
fn from_units(home: &Path, out: &mut Vec<Known>) {
    use super::fix::units::{launchd, systemd};
    let entries = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect()
    };
    let mut files = Vec::new();
    for p in entries(&home.join(".config/systemd/user")) {
        if p.is_dir() {
            files.extend(entries(&p));
        } else {
            files.push(p);
        }
    }
    files.extend(entries(&home.join("Library/LaunchAgents")));
    for p in files {
        if !super::fix::units::is_unit_path(&p) {
            continue;
        }
        let Ok(Some(bytes)) = crate::fsutil::read_capped(&p, CAP) else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut push = |var: &str, value: &[u8]| {
            if credential_name(var.as_bytes()) {
                out.push(Known {
                    value: secret_bytes(value.to_vec()),
                    kind: kind_from_name(var.as_bytes()),
                    origin: format!("{name} {var}"),
                });
            }
        };
        if p.extension().is_some_and(|e| e == "plist") {
            if launchd::runs_openclaw(&text) {
                for pair in launchd::environment_pairs(&text) {
                    push(&pair.name, &pair.value);
                }
            }
        } else if systemd::runs_openclaw(&text) || drop_in_of_openclaw(&p) {
            for line in text.lines() {
                for a in systemd::environment_words(line).unwrap_or_default() {
                    push(&a.name, &a.value);
                }
            }
        }
    }
}

/// A drop-in (`<unit>.d/*.conf`) whose unit starts OpenClaw.
fn drop_in_of_openclaw(p: &Path) -> bool {
    let Some(dir) = p.parent() else { return false };
    let Some(unit) = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".d"))
    else {
        return false;
    };
    let Some(base) = dir.parent() else {
        return false;
    };
    crate::fsutil::read_capped(&base.join(unit), CAP)
        .ok()
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|t| super::fix::units::systemd::runs_openclaw(&t))
}
