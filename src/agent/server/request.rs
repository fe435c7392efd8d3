//! One agent request: parsed from untrusted bytes, checked, its passphrase moved
//! straight into a zeroizing buffer; and the reply lines. Nothing here echoes input.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use super::super::{codes, PROTOCOL_VERSION};
use crate::secret::SecretString;

pub(super) fn reply_err(code: &str, msg: &str) -> Zeroizing<Vec<u8>> {
    let mut v = serde_json::to_vec(&serde_json::json!({
        "v": PROTOCOL_VERSION, "ok": false, "code": code, "error": msg
    }))
    .expect("serializes");
    v.push(b'\n');
    Zeroizing::new(v)
}

pub(super) fn reply_ok(extra: serde_json::Value) -> Zeroizing<Vec<u8>> {
    let mut o = serde_json::json!({"v": PROTOCOL_VERSION, "ok": true});
    if let (Some(m), serde_json::Value::Object(e)) = (o.as_object_mut(), extra) {
        m.extend(e);
    }
    let mut v = serde_json::to_vec(&o).expect("serializes");
    v.push(b'\n');
    Zeroizing::new(v)
}

/// A JSON string literal (`raw`, quotes included) decoded straight into a secret.
/// serde_json unescapes into a scratch buffer of its own and frees it without
/// zeroizing, so a passphrase with a quote or a backslash would be left behind.
fn json_str_secret(raw: &RawValue) -> Option<SecretString> {
    fn hex4(it: &mut std::str::Chars) -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v * 16 + it.next()?.to_digit(16)?;
        }
        Some(v)
    }
    let inner = raw.get().strip_prefix('"')?.strip_suffix('"')?;
    // Unescaping only shrinks: this never reallocates.
    let mut out = Zeroizing::new(String::with_capacity(inner.len()));
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match it.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = hex4(&mut it)?;
                if (0xD800..0xDC00).contains(&hi) {
                    if it.next()? != '\\' || it.next()? != 'u' {
                        return None;
                    }
                    let lo = hex4(&mut it)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return None;
                    }
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                } else {
                    char::from_u32(hi)?
                }
            }
            _ => return None,
        });
    }
    // An exact-size copy: `SecretString::from(String)` would shrink (reallocate)
    // a String with spare capacity, leaving the old allocation unzeroized.
    Some(SecretString::from(out.as_str()))
}

#[derive(Deserialize)]
struct Req<'a> {
    v: Option<u64>,
    #[serde(borrow)]
    op: Option<Cow<'a, str>>,
    /// Raw, so serde_json never unescapes it into a buffer of its own.
    #[serde(borrow, default)]
    passphrase: Option<&'a RawValue>,
    #[serde(default)]
    ids: Option<Vec<String>>,
}

/// One request, parsed and checked; the secret is already in a zeroizing buffer.
#[doc(hidden)]
pub enum Op {
    Status,
    Lock,
    Stop,
    Unlock(SecretString),
    Resolve(Vec<String>),
}

/// Parse one request line (untrusted bytes from the socket). An error is the
/// complete reply to send; it never quotes the input.
#[doc(hidden)]
pub fn parse_request(line: &[u8]) -> Result<Op, Zeroizing<Vec<u8>>> {
    let req: Req = match serde_json::from_slice(line) {
        Ok(r) => r,
        Err(e) => {
            // serde_json messages can quote the input: only the position is kept.
            return Err(reply_err(
                codes::BAD_REQUEST,
                &format!(
                    "malformed request at line {} column {}: send one JSON object per line with \"v\":1 and an \"op\"",
                    e.line(),
                    e.column()
                ),
            ));
        }
    };
    match req.v {
        Some(PROTOCOL_VERSION) => {}
        Some(other) => {
            return Err(reply_err(
                codes::BAD_REQUEST,
                &format!("unsupported protocol version {other}; this agent speaks version {PROTOCOL_VERSION}"),
            ))
        }
        None => {
            return Err(reply_err(
                codes::BAD_REQUEST,
                "the request has no \"v\" (protocol version)",
            ))
        }
    }
    match req.op.as_deref() {
        Some("status") => Ok(Op::Status),
        Some("lock") => Ok(Op::Lock),
        Some("stop") => Ok(Op::Stop),
        Some("unlock") => match req.passphrase.and_then(json_str_secret) {
            Some(pass) => Ok(Op::Unlock(pass)),
            None => Err(reply_err(
                codes::BAD_REQUEST,
                "unlock needs a \"passphrase\" string",
            )),
        },
        Some("resolve") => match req.ids {
            Some(ids) => Ok(Op::Resolve(ids)),
            None => Err(reply_err(
                codes::BAD_REQUEST,
                "resolve needs an \"ids\" array of strings",
            )),
        },
        Some(_) => Err(reply_err(
            codes::BAD_REQUEST,
            "unknown op; this agent knows status, unlock, lock, resolve, stop",
        )),
        None => Err(reply_err(codes::BAD_REQUEST, "the request has no \"op\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ExposeSecret;

    #[test]
    fn json_str_secret_matches_serde_json() {
        for s in [
            "plain",
            "",
            "q\"uote \\ back/slash",
            "ctl \u{1}\u{8}\u{c}\n\r\t",
            "é ü 日本 🦀",
        ] {
            let lit = serde_json::to_string(s).unwrap();
            let raw: &RawValue = serde_json::from_str(&lit).unwrap();
            assert_eq!(json_str_secret(raw).unwrap().expose_secret(), s);
        }
        let raw: &RawValue = serde_json::from_str(r#""\u00e9\ud83e\udd80\/""#).unwrap();
        assert_eq!(json_str_secret(raw).unwrap().expose_secret(), "é🦀/");
        for bad in [r#"["x"]"#, "1", "null", r#""\ud83e""#, r#""\ud83e\u0041""#] {
            let raw: &RawValue = serde_json::from_str(bad).unwrap();
            assert!(json_str_secret(raw).is_none(), "{bad}");
        }
    }
}
