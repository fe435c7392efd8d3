//! Which environment variables `openclaw.json` reads: `${NAME}` substitutions in any
//! string, and `{"source": "env", "id": "NAME"}` SecretRefs. A variable the config
//! reads must stay in the environment OpenClaw starts with, so `migrate` keeps it in
//! the state directory's `.env` and says why.

use serde_json::Value;

/// The names, sorted and without duplicates.
pub fn env_names_used(config: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(config, &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => substitutions(s, out),
        Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
        Value::Object(m) => {
            if m.get("source").and_then(Value::as_str) == Some("env") {
                if let Some(id) = m.get("id").and_then(Value::as_str) {
                    out.push(id.to_string());
                }
            }
            m.values().for_each(|x| walk(x, out));
        }
        _ => {}
    }
}

/// `${NAME}` (OpenClaw's config substitution: upper-case letters, digits, `_`).
fn substitutions(s: &str, out: &mut Vec<String>) {
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    out.push(name.to_string());
                }
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_substitutions_and_env_refs_only() {
        let v = serde_json::json!({
            "models": {"providers": {"groq": {"apiKey": "${GROQ_API_KEY}"},
                                      "x": {"apiKey": {"source": "env", "provider": "default", "id": "X_KEY"}},
                                      "y": {"apiKey": {"source": "exec", "provider": "clawvault", "id": "Y"}}}},
            "note": "a ${BAD-NAME} and ${} and ${OK_2}",
        });
        assert_eq!(env_names_used(&v), vec!["GROQ_API_KEY", "OK_2", "X_KEY"]);
    }
}
