//! Session keys OpenClaw's channels keep themselves: the WhatsApp channel (Baileys)
//! stores the linked device's key pairs in `credentials/whatsapp/<account>/creds.json`.
//! Whoever holds them can act as that linked device. OpenClaw writes and reads them
//! itself on every connection, so no SecretRef can hold them (like OAuth tokens): doctor
//! names each private key at its line, as information when only the owner can read the
//! file, with what to do if it leaked.

use std::path::Path;

use serde_json::Value;

/// Check id of these findings.
pub const CHECK_ID: &str = "plaintext.channel-session";
/// What to do about one: nothing moves it.
pub const FIX_HINT: &str = "nothing can move it (OpenClaw reads it on every connection; no SecretRef holds it): keep the file 0600 in a 0700 directory; if it leaked, unlink the device in WhatsApp and link it again";

/// `credentials/whatsapp/<account>/creds.json` (any state directory).
pub fn is_whatsapp_creds(path: &Path) -> bool {
    let mut it = path.iter().rev();
    it.next().is_some_and(|n| n == "creds.json")
        && it.next().is_some()
        && it.next().is_some_and(|n| n == "whatsapp")
        && it.next().is_some_and(|n| n == "credentials")
}

/// (key name, 1-based line) of every private key in a Baileys `creds.json`: objects
/// `{"private": {"type": "Buffer", "data": "<base64>"}}` at any depth.
pub fn private_keys(bytes: &[u8]) -> Vec<(String, u64)> {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&v, "", bytes, &mut out);
    out
}

fn walk(v: &Value, at: &str, bytes: &[u8], out: &mut Vec<(String, u64)>) {
    match v {
        Value::Object(o) => {
            for (k, c) in o {
                if k == "private" {
                    if let Some(d) = c.get("data").and_then(Value::as_str) {
                        let needle = serde_json::to_string(d).unwrap_or_default();
                        let line = super::checks::line_of(bytes, needle.as_bytes());
                        if line > 0 && d.len() >= 16 {
                            out.push((at.to_string(), line));
                        }
                        continue;
                    }
                }
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                walk(c, &here, bytes, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| walk(c, at, bytes, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baileys_private_keys_are_named_at_their_line() {
        let creds = "{\n  \"noiseKey\": {\n    \"private\": {\n      \"type\": \"Buffer\",\n      \"data\": \"hLzJ2x9QbWm0c1VhQ0k3RkZ6dGxnS0xBbk9yS2ZpdXg=\"\n    },\n    \"public\": {\"type\": \"Buffer\", \"data\": \"cHVibGljcHVibGljcHVibGljcHVibGljcHVibGljcHU=\"}\n  },\n  \"registrationId\": 42\n}\n";
        assert_eq!(
            private_keys(creds.as_bytes()),
            [("noiseKey".to_string(), 5)]
        );
        assert!(is_whatsapp_creds(Path::new(
            "/h/.openclaw/credentials/whatsapp/default/creds.json"
        )));
        assert!(!is_whatsapp_creds(Path::new(
            "/h/.openclaw/credentials/creds.json"
        )));
    }
}
