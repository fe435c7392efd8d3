//! Values that stand where a credential would but are not one: the keys local
//! model servers accept (`ollama-local`, `lm-studio`, `EMPTY`), OpenClaw's own
//! non-secret markers (what `models.json` writes for SecretRef-managed
//! providers), an environment variable's name, and documentation examples
//! (alphabet or digit runs, the jwt.io example token).
//!
//! Sources: OpenClaw 2026.9.6 `src/agents/model-auth-markers.ts`
//! (`isNonSecretApiKeyMarker`) and `docs/reference/secret-placeholder-conventions.md`;
//! the vLLM / LM Studio / Ollama OpenAI-compatible server docs, whose clients
//! need *some* key and document `EMPTY`, `lm-studio`, `ollama`, `not-needed`.

/// Keys local OpenAI-compatible servers accept or ignore (compared case-insensitively).
const LOCAL_MODEL_KEYS: &[&str] = &[
    "ollama",
    "ollama-local",
    "lm-studio",
    "lmstudio",
    "not-needed",
    "not_needed",
    "notneeded",
    "not-required",
    "no-key",
    "nokey",
    "no-key-required",
    "sk-no-key-required",
    "empty",
    "none",
    "null",
    "nil",
    "n/a",
    "local",
    "vllm",
    "llama.cpp",
    "llamacpp",
    "jan",
    "localai",
    "token-abc123",
];

/// OpenClaw's non-secret auth markers (`CORE_NON_SECRET_API_KEY_MARKERS` and
/// friends in `model-auth-markers.ts`).
const OPENCLAW_MARKERS: &[&str] = &[
    "custom-local",
    "codex-app-server",
    "gcp-vertex-credentials",
    "ollama-local",
    "secretref-managed",
    "minimax-oauth",
    "apple-fm-local",
    "openclaw-secret-ref-configured",
];

/// Prefixes OpenClaw writes in front of a provider id or env var name.
const OPENCLAW_MARKER_PREFIXES: &[&str] = &["oauth:", "secretref-env:"];

/// Header and payload of the example token on jwt.io and in RFC 7519 tutorials
/// (`{"alg":"HS256","typ":"JWT"}`, `{"sub":"1234567890","name":"John Doe",…}`).
const JWT_IO_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.";
const JWT_IO_PAYLOAD_PREFIX: &str = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lI";

/// True when `v` is known not to be a secret.
pub fn not_a_secret(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    let t = s.trim();
    if LOCAL_MODEL_KEYS.iter().any(|k| t.eq_ignore_ascii_case(k))
        || local_marker(t)
        || OPENCLAW_MARKERS.contains(&t)
        || OPENCLAW_MARKER_PREFIXES.iter().any(|p| t.starts_with(p))
    {
        return true;
    }
    if env_var_name(t) || jwt_io_example(t) || openclaw_fingerprint(t) {
        return true;
    }
    sequential_run(t.as_bytes()) >= 8
}

/// `ds4-local`, `sk-local`, `vllm-local`, `llamacpp-no-key`, `local-model`: the
/// `<name>-local` / `<name>-no-key` / `local-<name>` keys OpenClaw's provider docs
/// and local servers put where a non-empty key is required (one short word and
/// the marker; after `local-`, a word of at most 12 characters and 2 digits).
fn local_marker(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let word = |w: &str| {
        (1..=16).contains(&w.len())
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    ["-local", "-no-key", "-nokey", "-no-key-required"]
        .iter()
        .filter_map(|suf| lower.strip_suffix(suf))
        .any(word)
        || lower.strip_prefix("local-").is_some_and(|w| {
            word(w) && w.len() <= 12 && w.bytes().filter(u8::is_ascii_digit).count() <= 2
        })
}

/// `OPENAI_API_KEY`, `AWS_BEARER_TOKEN_BEDROCK`: a name, not a value. An
/// underscore is required so that an all-caps key (`AKIA…`) is not excused.
pub fn env_var_name(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_uppercase()
        && b.contains(&b'_')
        && !b.ends_with(b"_")
        && !b.windows(2).any(|w| w == b"__")
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
        // every word is mostly letters: `AB12_CD34_EF56` is a key, not a name
        && t.split('_')
            .all(|w| w.bytes().filter(u8::is_ascii_digit).count() * 2 < w.len())
}

/// `fp:3f26b7d7e9e6`: the short digest OpenClaw 2026.9.6 writes in place of every
/// config value in its `diagnostic_events` (state/openclaw.sqlite), never the value.
fn openclaw_fingerprint(t: &str) -> bool {
    t.strip_prefix("fp:")
        .is_some_and(|h| (8..=64).contains(&h.len()) && h.bytes().all(|c| c.is_ascii_hexdigit()))
}

fn jwt_io_example(t: &str) -> bool {
    t.strip_prefix(JWT_IO_HEADER)
        .is_some_and(|rest| rest.starts_with(JWT_IO_PAYLOAD_PREFIX))
}

/// Longest run of characters each one after the previous (`abcdefgh`, `0123456`,
/// `ABCDEF`): documentation examples, never random key material (a run of 8 in
/// a random 64-character alphanumeric string has odds below 1e-12).
pub fn sequential_run(v: &[u8]) -> usize {
    let mut best = 1.min(v.len());
    let mut run = 1;
    for w in v.windows(2) {
        if w[0].is_ascii_alphanumeric() && w[1] == w[0].wrapping_add(1) {
            run += 1;
            best = best.max(run);
        } else {
            run = 1;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_names_and_examples_are_not_secrets() {
        for v in [
            "ollama-local",
            "ds4-local",
            "llamacpp-no-key",
            "sk-local",
            "local-model",
            "local-llm",
            "EMPTY",
            "lm-studio",
            "secretref-managed",
            "secretref-env:OPENAI_API_KEY",
            "oauth:openai-codex",
            "OPENAI_API_KEY",
            "fp:3f26b7d7e9e6",
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        ] {
            assert!(not_a_secret(v.as_bytes()), "{v}");
        }
        for v in [
            "AKIAQ7RZ2M4XVNB3KD5T",
            "AB12_CD34_EF56GH78",
            "Zr8k2Lq9Xw4Pn7Vb3Tc6",
            "fp:Zr8k2Lq9Xw4Pn7Vb3Tc6",
            "local-8f3a9b2c7d1e",
        ] {
            assert!(!not_a_secret(v.as_bytes()), "{v}");
        }
    }
}
