//! Run the registered exec resolver exactly as OpenClaw runs it: no shell, cwd = the
//! command's directory, only `passEnv` in the environment, stdin a pipe (never a TTY),
//! the provider's time limit. Used by `openclaw register`'s probe and by `models
//! status`, which asks "would OpenClaw resolve this ref right now?".
//!
//! The answer's values are never kept: they are skipped while parsing
//! (`IgnoredAny`), so only ids and error words reach the caller.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use super::config::ProviderSpec;

/// What the resolver said about each id: `None` resolved, `Some(reason)` did not.
pub type Answer = BTreeMap<String, Option<String>>;

#[derive(Deserialize)]
struct Reply {
    #[serde(rename = "protocolVersion")]
    protocol_version: Option<u64>,
    #[serde(default)]
    values: BTreeMap<String, serde::de::IgnoredAny>,
    #[serde(default)]
    errors: BTreeMap<String, ReplyError>,
}

#[derive(Deserialize)]
struct ReplyError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The exec provider `alias` as `openclaw.json` declares it, if it does.
pub fn registered_spec(config: &Value, alias: &str) -> Option<ProviderSpec> {
    let p = config.get("secrets")?.get("providers")?.get(alias)?;
    if p.get("source").and_then(Value::as_str) != Some("exec") {
        return None;
    }
    let strings = |k: &str| -> Vec<String> {
        p.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(ProviderSpec {
        alias: alias.to_string(),
        command: p.get("command")?.as_str()?.into(),
        args: strings("args"),
        pass_env: strings("passEnv"),
        timeout_ms: p
            .get("timeoutMs")
            .and_then(Value::as_u64)
            .unwrap_or(super::config::TIMEOUT_MS),
    })
}

/// Ask the resolver for `ids`. `Err` when it could not answer at all (did not run,
/// exited non-zero, timed out, spoke something else); the message is one line and
/// holds no secret (the resolver's stderr never does).
pub fn resolve(spec: &ProviderSpec, ids: &[String]) -> Result<Answer, String> {
    let mut cmd = Command::new(&spec.command);
    cmd.args(&spec.args)
        .env_clear()
        .current_dir(spec.command.parent().unwrap_or(Path::new("/")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in &spec.pass_env {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", spec.command.display()))?;
    let req = serde_json::json!({
        "protocolVersion": 1,
        "provider": spec.alias,
        "ids": ids,
    });
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(req.to_string().as_bytes());
    }
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_t = std::thread::spawn(move || {
        let mut b = zeroize::Zeroizing::new(Vec::new());
        let _ = stdout.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = (&mut stderr).take(4096).read_to_end(&mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > Duration::from_millis(spec.timeout_ms) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the resolver did not answer within {} ms",
                    spec.timeout_ms
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    if !status.success() {
        let line = String::from_utf8_lossy(&err);
        let line = line.lines().next().unwrap_or("").trim().to_string();
        return Err(format!("the resolver exited with {status}: {line}"));
    }
    let reply: Reply = serde_json::from_slice(&out)
        .map_err(|_| "the resolver's answer is not protocol v1 JSON".to_string())?;
    if reply.protocol_version != Some(1) {
        return Err("the resolver's answer does not follow protocol v1".into());
    }
    let mut answer = Answer::new();
    for id in ids {
        let r = if reply.values.contains_key(id) {
            None
        } else if let Some(e) = reply.errors.get(id) {
            Some(match (&e.code, &e.message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => "error".into(),
            })
        } else {
            Some("the resolver did not answer for this id".into())
        };
        answer.insert(id.clone(), r);
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_registered_exec_provider() {
        let c = json!({"secrets": {"providers": {"clawvault": {
            "source": "exec", "command": "/usr/bin/clawvault",
            "args": ["resolve", "--vault", "/v"], "passEnv": ["HOME"], "timeoutMs": 7000
        }, "other": {"source": "file", "path": "/x"}}}});
        let s = registered_spec(&c, "clawvault").unwrap();
        assert_eq!(s.command, std::path::PathBuf::from("/usr/bin/clawvault"));
        assert_eq!(s.args, ["resolve", "--vault", "/v"]);
        assert_eq!(s.pass_env, ["HOME"]);
        assert_eq!(s.timeout_ms, 7000);
        assert!(registered_spec(&c, "other").is_none());
        assert!(registered_spec(&c, "missing").is_none());
    }

    #[test]
    fn values_are_skipped_and_errors_kept() {
        let r: Reply = serde_json::from_str(
            r#"{"protocolVersion":1,"values":{"a":"s3cret"},"errors":{"b":{"code":"LOCKED","message":"vault is locked"}}}"#,
        )
        .unwrap();
        assert!(r.values.contains_key("a"));
        assert_eq!(r.errors["b"].code.as_deref(), Some("LOCKED"));
    }
}
