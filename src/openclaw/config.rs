//! The exec provider declaration, `secrets.providers.<alias>` in `openclaw.json`.
//!
//! `openclaw.json` may be JSON5. clawvault rewrites it only when it is strict JSON
//! (then `serde_json` with `preserve_order` and `arbitrary_precision` keeps every
//! key, its order and every number as written); a file with comments, trailing
//! commas or unquoted keys is left alone and the caller prints the snippet instead.

#[cfg(unix)]
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{OpenClawError, Result};
use crate::fsutil::{self, FileLock};

/// OpenClaw's default exec timeout; the resolver must answer well inside it.
pub const TIMEOUT_MS: u64 = 5000;

/// Everything `secrets.providers.<alias>` says about clawvault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSpec {
    pub alias: String,
    /// The real absolute path of the clawvault binary.
    pub command: PathBuf,
    /// `resolve --state-dir S --vault V [unlock options]`.
    pub args: Vec<String>,
    /// Environment names OpenClaw passes through (it passes nothing else).
    pub pass_env: Vec<String>,
    pub timeout_ms: u64,
}

impl ProviderSpec {
    /// The provider object, as OpenClaw reads it.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("source".into(), "exec".into());
        m.insert(
            "command".into(),
            self.command.to_string_lossy().into_owned().into(),
        );
        m.insert(
            "args".into(),
            Value::Array(self.args.iter().cloned().map(Value::from).collect()),
        );
        m.insert(
            "passEnv".into(),
            Value::Array(self.pass_env.iter().cloned().map(Value::from).collect()),
        );
        m.insert("timeoutMs".into(), self.timeout_ms.into());
        m.insert("jsonOnly".into(), true.into());
        Value::Object(m)
    }

    /// `{"secrets":{"providers":{<alias>: ...}}}`, pretty, for pasting by hand.
    pub fn snippet(&self) -> String {
        let mut providers = Map::new();
        providers.insert(self.alias.clone(), self.to_value());
        let mut secrets = Map::new();
        secrets.insert("providers".into(), Value::Object(providers));
        let mut root = Map::new();
        root.insert("secrets".into(), Value::Object(secrets));
        serde_json::to_string_pretty(&Value::Object(root)).expect("JSON serializes")
    }
}

/// Check an alias against OpenClaw's provider grammar `^[a-z][a-z0-9_-]{0,63}$`.
pub fn validate_alias(alias: &str) -> std::result::Result<(), String> {
    let b = alias.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "provider alias {alias:?} is not valid for OpenClaw: use a lowercase letter, then up to 63 of a-z 0-9 _ -"
        ))
    }
}

/// The running binary's real path, symlinks resolved.
pub fn current_command() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| OpenClawError::UntrustedCommand {
        path: PathBuf::from("(current executable)"),
        reason: format!("cannot find the running binary: {e}"),
    })?;
    std::fs::canonicalize(&exe).map_err(|e| OpenClawError::UntrustedCommand {
        path: exe.clone(),
        reason: format!("cannot resolve its real path: {e}"),
    })
}

/// The checks OpenClaw applies to an exec command: absolute, not a symlink, a
/// regular file, owned by the current user, not group- or world-writable.
pub fn check_command(path: &Path) -> Result<()> {
    let bad = |reason: String| OpenClawError::UntrustedCommand {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_absolute() {
        return Err(bad("the path is not absolute".into()));
    }
    let meta = std::fs::symlink_metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.file_type().is_symlink() {
        return Err(bad("it is a symlink".into()));
    }
    if !meta.is_file() {
        return Err(bad("it is not a regular file".into()));
    }
    #[cfg(windows)]
    {
        // No uid or mode bits: the owner must be the user (or a system principal,
        // e.g. under Program Files) and its DACL must let no one else write it or
        // a directory above it. There is no executable bit to check.
        let _ = &meta;
        crate::trust::check(path, crate::trust::Kind::File)
            .map_err(|u| bad(format!("it {}; {}", u.reason, u.fix)))
    }
    #[cfg(unix)]
    {
        let uid = unsafe { libc::geteuid() };
        if meta.uid() != uid {
            return Err(bad(format!(
                "it is owned by uid {}, not by the current user (uid {uid})",
                meta.uid()
            )));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(bad(format!(
                "it is group- or world-writable (mode {:o})",
                meta.mode() & 0o777
            )));
        }
        if meta.mode() & 0o100 == 0 {
            return Err(bad("it is not executable by its owner".into()));
        }
        Ok(())
    }
}

/// What `register` did.
#[derive(Debug, Clone, PartialEq)]
pub enum RegisterOutcome {
    /// The config was written; `replaced` is the previous declaration, if any.
    Written { replaced: Option<Value> },
    /// The config already declared exactly this provider.
    Unchanged,
    /// The config cannot be rewritten safely; nothing was written.
    Manual { reason: String },
}

/// Why a config file cannot be rewritten, or `Ok(root)`.
fn parse_config(bytes: &[u8]) -> std::result::Result<Map<String, Value>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not valid UTF-8".to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("its top level is not an object".into()),
        Err(e) => Err(format!(
            "it is not strict JSON (line {}, column {}: JSON5 comments, trailing commas or unquoted keys?), and rewriting it would lose them",
            e.line(),
            e.column()
        )),
    }
}

/// Declare `spec` in the config at `path` (created when absent). Takes OpenClaw's
/// sibling lock, writes atomically with mode 0600, and keeps everything else.
pub fn register(path: &Path, spec: &ProviderSpec) -> Result<RegisterOutcome> {
    let cfg_err = |reason: String| OpenClawError::Config {
        path: path.to_path_buf(),
        reason,
    };
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.file_type().is_symlink() {
            return Ok(RegisterOutcome::Manual {
                reason: "it is a symlink; clawvault does not replace a symlinked config".into(),
            });
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            fsutil::ensure_private_dir(dir).map_err(|e| cfg_err(e.to_string()))?;
        }
    }
    let _lock = FileLock::acquire(path, fsutil::LOCK_WAIT).map_err(|e| cfg_err(e.to_string()))?;
    let bytes = fsutil::read_private(path)
        .map_err(|e| cfg_err(e.to_string()))?
        .unwrap_or_default();
    let mut root = match parse_config(&bytes) {
        Ok(r) => r,
        Err(reason) => return Ok(RegisterOutcome::Manual { reason }),
    };
    let secrets = root
        .entry("secrets")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(secrets) = secrets.as_object_mut() else {
        return Ok(RegisterOutcome::Manual {
            reason: "\"secrets\" is not an object".into(),
        });
    };
    let providers = secrets
        .entry("providers")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(providers) = providers.as_object_mut() else {
        return Ok(RegisterOutcome::Manual {
            reason: "\"secrets.providers\" is not an object".into(),
        });
    };
    let want = spec.to_value();
    let replaced = match providers.get(&spec.alias) {
        Some(v) if *v == want => return Ok(RegisterOutcome::Unchanged),
        Some(v) => Some(v.clone()),
        None => None,
    };
    providers.insert(spec.alias.clone(), want);
    let mut out = serde_json::to_string_pretty(&Value::Object(root)).expect("JSON serializes");
    out.push('\n');
    fsutil::crash_point("register:before-write");
    fsutil::write_atomic(path, out.as_bytes()).map_err(|e| cfg_err(e.to_string()))?;
    Ok(RegisterOutcome::Written { replaced })
}

/// Run the resolver exactly as OpenClaw will (no shell, cwd = the command's
/// directory, only `passEnv` in the environment, 5 s limit) with one id that does
/// not exist, and expect a well-formed `NOT_FOUND` answer. Proves the command runs
/// and the vault unlocks from the recorded options.
pub fn probe(spec: &ProviderSpec) -> Result<()> {
    let id = "clawvault-probe/none:none";
    let answer =
        super::runner::resolve(spec, &[id.to_string()]).map_err(OpenClawError::ProbeFailed)?;
    match answer.get(id) {
        Some(Some(reason)) if reason.starts_with("NOT_FOUND") => Ok(()),
        _ => Err(OpenClawError::ProbeFailed(
            "the resolver's answer does not follow protocol v1".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ProviderSpec {
        ProviderSpec {
            alias: "clawvault".into(),
            command: "/opt/cv/clawvault".into(),
            args: vec!["resolve".into(), "--vault".into(), "/v".into()],
            pass_env: vec![],
            timeout_ms: TIMEOUT_MS,
        }
    }

    #[test]
    fn provider_value_has_openclaw_shape() {
        let v = spec().to_value();
        assert_eq!(
            v,
            serde_json::json!({"source":"exec","command":"/opt/cv/clawvault",
                "args":["resolve","--vault","/v"],"passEnv":[],"timeoutMs":5000,"jsonOnly":true})
        );
    }

    #[test]
    fn register_keeps_everything_else() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("openclaw.json");
        let before = r#"{"z":1,"big":123456789012345678901234567890,"f":1.50,"secrets":{"defaults":{"env":"default"},"providers":{"other":{"source":"env"}}},"a":"\u00e9"}"#;
        std::fs::write(&p, before).unwrap();
        assert_eq!(
            register(&p, &spec()).unwrap(),
            RegisterOutcome::Written { replaced: None }
        );
        let after = std::fs::read_to_string(&p).unwrap();
        let v: Value = serde_json::from_str(&after).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "big", "f", "secrets", "a"]);
        assert!(after.contains("123456789012345678901234567890"));
        assert!(after.contains("1.50"));
        assert_eq!(v["a"], "é");
        assert_eq!(v["secrets"]["providers"]["other"]["source"], "env");
        assert_eq!(v["secrets"]["defaults"]["env"], "default");
        assert_eq!(v["secrets"]["providers"]["clawvault"], spec().to_value());
        #[cfg(unix)]
        assert!(!crate::fsutil::mode_is_loose(
            std::fs::metadata(&p).unwrap().mode()
        ));
        #[cfg(windows)]
        assert!(matches!(crate::trust::check_private(&p), Ok(None)));
        // Idempotent.
        assert_eq!(register(&p, &spec()).unwrap(), RegisterOutcome::Unchanged);
        // A changed declaration replaces the old one and says so.
        let mut s2 = spec();
        s2.args.push("--passphrase-file".into());
        s2.args.push("/pw".into());
        assert!(matches!(
            register(&p, &s2).unwrap(),
            RegisterOutcome::Written { replaced: Some(_) }
        ));
    }

    #[test]
    fn json5_config_is_left_alone() {
        let d = tempfile::tempdir().unwrap();
        for (i, text) in [
            "{\n  // my gateway\n  gateway: { mode: \"local\" },\n}\n",
            "{\"a\": 1,}\n",
            "{a: 1}\n",
            "[1]",
        ]
        .iter()
        .enumerate()
        {
            let p = d.path().join(format!("c{i}.json"));
            std::fs::write(&p, text).unwrap();
            assert!(
                matches!(
                    register(&p, &spec()).unwrap(),
                    RegisterOutcome::Manual { .. }
                ),
                "{text}"
            );
            assert_eq!(std::fs::read_to_string(&p).unwrap(), *text);
        }
    }

    #[test]
    #[cfg(unix)]
    fn missing_config_is_created_private() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/openclaw.json");
        register(&p, &spec()).unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["secrets"]["providers"]["clawvault"]["source"], "exec");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    #[cfg(windows)]
    fn missing_config_is_created_owner_only() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub").join("openclaw.json");
        register(&p, &spec()).unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["secrets"]["providers"]["clawvault"]["source"], "exec");
        assert!(matches!(crate::trust::check_private(&p), Ok(None)));
    }

    #[test]
    #[cfg(unix)]
    fn symlinked_config_is_left_alone() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.json");
        std::fs::write(&real, "{}").unwrap();
        let link = d.path().join("openclaw.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(
            register(&link, &spec()).unwrap(),
            RegisterOutcome::Manual { .. }
        ));
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "{}");
    }

    #[test]
    #[cfg(unix)]
    fn command_checks() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("clawvault");
        std::fs::write(&bin, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        check_command(&bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o775)).unwrap();
        assert!(check_command(&bin)
            .unwrap_err()
            .to_string()
            .contains("writable"));
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&bin, &link).unwrap();
        assert!(check_command(&link)
            .unwrap_err()
            .to_string()
            .contains("symlink"));
        assert!(check_command(Path::new("rel/clawvault")).is_err());
    }

    #[test]
    fn aliases() {
        assert!(validate_alias("clawvault").is_ok());
        assert!(validate_alias("cv_2-x").is_ok());
        assert!(validate_alias("Clawvault").is_err());
        assert!(validate_alias("2cv").is_err());
        assert!(validate_alias("").is_err());
    }
}
