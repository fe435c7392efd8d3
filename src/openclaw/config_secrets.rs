//! Plaintext credentials in `openclaw.json`, found on OpenClaw's own SecretRef
//! credential surface ([`super::surface`]).
//!
//! Reading only: the config may be JSON5 (comments, trailing commas), so clawvault
//! never rewrites it itself. `secrets apply` does, from a plan ([`super::plan`]).

use serde_json::Value;
use zeroize::Zeroizing;

use super::surface::CONFIG_SURFACE;
use crate::backend::EntryName;
use crate::doctor::detect::is_known_token;

/// The prefix of vault entries that hold config credentials:
/// `config/<path segments joined by '/'>`.
pub const CONFIG_PREFIX: &str = "config/";

/// One plaintext credential in the config.
pub struct ConfigSecret {
    /// The `secrets apply` target type (the matrix id).
    pub target_type: String,
    /// The concrete path, one segment per key.
    pub segments: Vec<String>,
    /// `config/<segments>`: the vault entry and exec id.
    pub entry: String,
    pub secret: Zeroizing<String>,
}

impl std::fmt::Debug for ConfigSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSecret")
            .field("target_type", &self.target_type)
            .field("path", &self.path())
            .finish_non_exhaustive()
    }
}

impl ConfigSecret {
    /// The dot path, for messages and plans.
    pub fn path(&self) -> String {
        self.segments.join(".")
    }
}

/// A value on the surface that clawvault leaves where it is, and why.
#[derive(Debug, Clone)]
pub struct ConfigSkipped {
    pub path: String,
    pub reason: String,
}

/// Whether a string on a credential path is not plaintext: empty, an environment
/// template OpenClaw expands (`${NAME}`, `$NAME`), or one of its non-secret markers.
pub fn is_not_plaintext(s: &str) -> bool {
    let t = s.trim();
    let env_name = |n: &str| {
        let b = n.as_bytes();
        !b.is_empty()
            && b.len() <= 128
            && b[0].is_ascii_uppercase()
            && b.iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
    };
    t.is_empty()
        || (t.starts_with("${") && t.ends_with('}') && env_name(&t[2..t.len() - 1]))
        || (t.starts_with('$') && env_name(&t[1..]))
        || t == "secretref-managed"
        || t.starts_with("secretref-env:")
        || t.starts_with("__env__:")
}

/// Header and environment maps accept SecretRefs on every entry, but most entries
/// (`Content-Type`, `LOG_LEVEL`) are not credentials: only names that say so move,
/// and values in a provider's token format whatever they are called
/// (`MY_SERVICE_PAT: ghp_…`, `X-Upstream: Bearer sk-proj-…`), which `doctor`
/// reports as credentials.
fn map_entry_is_credential(pattern: &str, key: &str, value: &str) -> bool {
    if !(pattern.ends_with("headers.*") || pattern.ends_with("env.*")) {
        return true;
    }
    credential_name_says(key) || is_known_token(value)
}

/// Whether a header or variable name says it holds a credential.
fn credential_name_says(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "authorization",
        "api-key",
        "api_key",
        "apikey",
        "token",
        "secret",
        "password",
        "cookie",
        "x-api-key",
        "private",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
        || crate::providers::provider_of(key).is_some()
        || last_word_is_key(&k)
}

/// `X-Proxy-Key`, `LLM_GATEWAY_KEY`: a name whose last word is `key`, except the
/// headers that carry no secret (`Idempotency-Key`, `Sec-WebSocket-Key`, cache
/// and partition keys).
fn last_word_is_key(lower: &str) -> bool {
    let mut words = lower.rsplit(['-', '_']);
    words.next() == Some("key")
        && !matches!(
            words.next(),
            Some(
                "idempotency" | "websocket" | "cache" | "partition" | "sort" | "primary" | "public"
            )
        )
}

/// Every plaintext string on the credential surface of `config`.
pub fn find(config: &Value) -> (Vec<ConfigSecret>, Vec<ConfigSkipped>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for (ty, pattern) in CONFIG_SURFACE {
        let pat: Vec<&str> = pattern.split('.').collect();
        walk(config, &pat, &mut Vec::new(), &mut |segs, v| {
            let path = segs.join(".");
            let last = segs.last().map(String::as_str).unwrap_or("");
            match v {
                Value::String(s) if is_not_plaintext(s) => {}
                Value::String(s) if !map_entry_is_credential(pattern, last, s) => {}
                Value::String(s) => {
                    let entry = format!("{CONFIG_PREFIX}{}", segs.join("/"));
                    if EntryName::new(&entry).is_err() {
                        skipped.push(ConfigSkipped {
                            path,
                            reason: "a key on its path cannot be part of an exec SecretRef id (OpenClaw's id grammar); move it by hand with `openclaw config set PATH --ref-source exec ...`".into(),
                        });
                        return;
                    }
                    found.push(ConfigSecret {
                        target_type: (*ty).to_string(),
                        segments: segs.to_vec(),
                        entry,
                        secret: Zeroizing::new(s.clone()),
                    });
                }
                Value::Object(o) if o.contains_key("source") && o.contains_key("id") => {}
                Value::Object(_) | Value::Array(_) => skipped.push(ConfigSkipped {
                    path,
                    reason: "a structured value (not a string); clawvault moves string credentials only - store it in a file with mode 0600 and point a `file` SecretRef at it".into(),
                }),
                _ => {}
            }
        });
    }
    // Two patterns can reach one path (`headers.*` under a provider): keep one.
    let mut seen = std::collections::HashSet::new();
    found.retain(|c| seen.insert(c.entry.clone()));
    (found, skipped)
}

/// Every SecretRef with `source: "store"` on the credential surface, with the
/// entry it names: `(target type, path segments, store name)`.
pub fn store_refs(config: &Value) -> Vec<(String, Vec<String>, String)> {
    let mut out = Vec::new();
    for (ty, pattern) in CONFIG_SURFACE {
        let pat: Vec<&str> = pattern.split('.').collect();
        walk(config, &pat, &mut Vec::new(), &mut |segs, v| {
            if let Some(name) = super::secret_store::store_ref_name(v) {
                out.push(((*ty).to_string(), segs.to_vec(), name.to_string()));
            }
        });
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|(_, segs, _)| seen.insert(segs.clone()));
    out
}

fn walk(v: &Value, pat: &[&str], segs: &mut Vec<String>, hit: &mut dyn FnMut(&[String], &Value)) {
    let Some((head, rest)) = pat.split_first() else {
        hit(segs, v);
        return;
    };
    match (*head, v) {
        ("*", Value::Object(o)) => {
            for (k, child) in o {
                segs.push(k.clone());
                walk(child, rest, segs, hit);
                segs.pop();
            }
        }
        ("[]", Value::Array(a)) => {
            for (i, child) in a.iter().enumerate() {
                segs.push(i.to_string());
                walk(child, rest, segs, hit);
                segs.pop();
            }
        }
        (key, Value::Object(o)) => {
            if let Some(child) = o.get(key) {
                segs.push(key.to_string());
                walk(child, rest, segs, hit);
                segs.pop();
            }
        }
        _ => {}
    }
}

/// Parse `openclaw.json` as OpenClaw does (JSON5). The error names the position,
/// never the text.
pub fn parse_config(bytes: &[u8]) -> std::result::Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
    json5::from_str::<Value>(text).map_err(|e| match e {
        json5::Error::Message {
            location: Some(l), ..
        } => {
            format!(
                "it is not valid JSON5 (line {}, column {})",
                l.line, l.column
            )
        }
        _ => "it is not valid JSON5".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_paths(found: &[ConfigSecret]) -> Vec<String> {
        let mut paths: Vec<String> = found.iter().map(|f| f.path()).collect();
        paths.sort();
        paths
    }

    #[test]
    fn finds_plaintext_on_the_surface_only() {
        let cfg = parse_config(
            br#"{
              // JSON5
              gateway: { auth: { mode: "token", token: "gw-plain-token-0123456789" } },
              models: { providers: {
                openai: { apiKey: "sk-proj-abc", baseUrl: "https://x",
                          headers: { "X-Api-Key": "hdr-secret", "Content-Type": "json",
                                     "X-Proxy-Key": "proxy-secret", "Idempotency-Key": "k1" } },
                ollama: { apiKey: "${OLLAMA_API_KEY}" },
                groq: { apiKey: { source: "exec", provider: "clawvault", id: "x" } },
              } },
              channels: { telegram: { botToken: "123:abc", accounts: { work: { botToken: "456:def" } } },
                          googlechat: { serviceAccount: { type: "service_account" } } },
              notASurface: { token: "not-moved" },
            }"#,
        )
        .unwrap();
        let (found, skipped) = find(&cfg);
        assert_eq!(
            sorted_paths(&found),
            [
                "channels.telegram.accounts.work.botToken",
                "channels.telegram.botToken",
                "gateway.auth.token",
                "models.providers.openai.apiKey",
                "models.providers.openai.headers.X-Api-Key",
                "models.providers.openai.headers.X-Proxy-Key",
            ]
        );
        let gw = found
            .iter()
            .find(|f| f.path() == "gateway.auth.token")
            .unwrap();
        assert_eq!(gw.entry, "config/gateway/auth/token");
        assert_eq!(gw.target_type, "gateway.auth.token");
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].path.contains("serviceAccount"));
        assert!(!format!("{found:?}").contains("gw-plain"));
    }

    /// A header or variable whose name says nothing still moves when its value is
    /// a token in a known format (doctor reports it as one); other values under
    /// such names stay.
    #[test]
    fn map_entries_move_by_a_known_token_format_as_well_as_by_name() {
        // Built at run time: no token-shaped literal in the source.
        let pat = format!(
            "ghp_{}",
            "Qm7vXr2LpT9wKd4HsZ1n".repeat(2).get(..36).unwrap()
        );
        let sk = format!("sk-proj-{}", "Lw4Tz9QpXe2Vn7Kr5Hd1Ms8G".repeat(3));
        let cfg: Value = serde_json::json!({
            "models": { "providers": { "custom": { "baseUrl": "http://127.0.0.1:9", "headers": {
                "X-Upstream": format!("Bearer {sk}"),
                "X-Request-Id": "Zx81kQ0vP3mN7bT5cR2wY9hL4",
                "Content-Type": "application/json",
            } } } },
            "plugins": { "entries": { "acpx": { "config": { "mcpServers": { "gh": {
                "command": "x",
                "env": { "MY_SERVICE_PAT": pat, "LOG_LEVEL": "info", "REGION": "eu-west-1" },
            } } } } } },
        });
        let (found, _) = find(&cfg);
        assert_eq!(
            sorted_paths(&found),
            [
                "models.providers.custom.headers.X-Upstream",
                "plugins.entries.acpx.config.mcpServers.gh.env.MY_SERVICE_PAT",
            ]
        );
        let hdr = found
            .iter()
            .find(|f| f.path().ends_with("X-Upstream"))
            .unwrap();
        assert_eq!(
            hdr.secret.as_str(),
            format!("Bearer {sk}"),
            "the whole header value moves"
        );
    }

    #[test]
    fn templates_and_markers_are_not_plaintext() {
        for s in [
            "",
            " ",
            "${OPENAI_API_KEY}",
            "$GROQ_API_KEY",
            "secretref-managed",
            "secretref-env:X",
        ] {
            assert!(is_not_plaintext(s), "{s}");
        }
        for s in ["sk-abc", "${lower}", "$", "x${A}"] {
            assert!(!is_not_plaintext(s), "{s}");
        }
    }

    #[test]
    fn parse_errors_do_not_quote_the_config() {
        let e = parse_config(b"{ token: \"sk-SECRET-1\" ,, }").unwrap_err();
        assert!(!e.contains("SECRET"), "{e}");
    }
}
