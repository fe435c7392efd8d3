//! OpenClaw's exec SecretRef provider protocol, version 1.
//!
//! OpenClaw writes one request to stdin,
//! `{"protocolVersion":1,"provider":"clawvault","ids":[...]}`, and reads one
//! response, `{"protocolVersion":1,"values":{...},"errors":{id:{"code":..}}}`. Every
//! requested id lands in `values` or `errors`; only a batch that cannot be served at
//! all (malformed request, locked vault, unusable store) fails as a whole.

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::backend::{validate_exec_id, Backend, BackendError, EntryName};
use crate::secret::ExposeSecret;

pub const PROTOCOL_VERSION: u64 = 1;
/// The largest request clawvault reads (OpenClaw sends at most 512 ids of 256 bytes).
pub const MAX_REQUEST_BYTES: usize = 4 << 20;
/// The most ids served in one batch.
pub const MAX_IDS: usize = 4096;

/// A request that cannot be served at all. Messages never quote the input.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    #[error("the request is not valid JSON (line {line}, column {column})")]
    Json { line: usize, column: usize },
    #[error("the request is not a JSON object")]
    NotObject,
    #[error("the request has no numeric protocolVersion")]
    NoVersion,
    #[error("unsupported protocolVersion {0}; clawvault speaks version 1")]
    Version(u64),
    #[error("the request has no \"ids\" array of strings")]
    Ids,
    #[error("the request has {0} ids; clawvault serves at most {MAX_IDS} per batch")]
    TooMany(usize),
    #[error("the request is larger than {MAX_REQUEST_BYTES} bytes")]
    TooLarge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub provider: Option<String>,
    pub ids: Vec<String>,
}

/// Parse a request (untrusted input: a fuzz target).
pub fn parse_request(bytes: &[u8]) -> Result<Request, RequestError> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLarge);
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| RequestError::Json {
        line: e.line(),
        column: e.column(),
    })?;
    let o = v.as_object().ok_or(RequestError::NotObject)?;
    let ver = o
        .get("protocolVersion")
        .and_then(|v| v.as_u64())
        .ok_or(RequestError::NoVersion)?;
    if ver != PROTOCOL_VERSION {
        return Err(RequestError::Version(ver));
    }
    let arr = o
        .get("ids")
        .and_then(|v| v.as_array())
        .ok_or(RequestError::Ids)?;
    if arr.len() > MAX_IDS {
        return Err(RequestError::TooMany(arr.len()));
    }
    let ids = arr
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .ok_or(RequestError::Ids)?;
    Ok(Request {
        provider: o
            .get("provider")
            .and_then(|p| p.as_str())
            .map(str::to_string),
        ids,
    })
}

/// A provider name from a request, safe to print: OpenClaw's alias grammar
/// (`^[a-z][a-z0-9_-]{0,63}$`) or a placeholder, never arbitrary request bytes.
pub fn printable_provider(p: &str) -> &str {
    let ok = !p.is_empty()
        && p.len() <= 64
        && p.as_bytes()[0].is_ascii_lowercase()
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        p
    } else {
        "(not a valid alias)"
    }
}

/// Per-id error codes. OpenClaw shows `NOT_FOUND`; the others are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    NotFound,
    InvalidId,
    Corrupt,
    NotUtf8,
}

/// A failure that sinks the whole batch.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct BatchError(pub BackendError);

/// The response. `values` holds secrets: it is zeroized when serialized output is
/// dropped, and never logged.
#[derive(Default)]
pub struct Response {
    values: Vec<(String, Zeroizing<String>)>,
    errors: Vec<(String, Code)>,
}

/// One line for the access log: `ok`, or what was not served (ids and codes, never
/// values).
pub fn outcome(r: &Result<Response, BatchError>) -> String {
    match r {
        Ok(resp) if resp.errors.is_empty() => "ok".into(),
        Ok(resp) => {
            let first: Vec<String> = resp
                .errors
                .iter()
                .take(5)
                .map(|(id, c)| {
                    format!(
                        "{id} {}",
                        serde_json::to_string(c)
                            .unwrap_or_default()
                            .trim_matches('"')
                    )
                })
                .collect();
            format!(
                "{} served, {} not: {}",
                resp.values.len(),
                resp.errors.len(),
                first.join(", ")
            )
        }
        Err(e) => format!("failed: {e}"),
    }
}

impl Response {
    /// The values served, `(id, value)`.
    pub fn values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A response built elsewhere (the agent's offline cache).
    pub fn from_parts(
        values: Vec<(String, Zeroizing<String>)>,
        not_found: Vec<String>,
    ) -> Response {
        Response {
            values,
            errors: not_found
                .into_iter()
                .map(|id| (id, Code::NotFound))
                .collect(),
        }
    }

    pub fn value_count(&self) -> usize {
        self.values.len()
    }

    pub fn errors(&self) -> &[(String, Code)] {
        &self.errors
    }

    /// The JSON bytes for stdout. Hand-assembled so the secret strings are never
    /// copied into an un-zeroized `serde_json::Value`.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let cap = 64
            + self
                .values
                .iter()
                .map(|(k, v)| k.len() + v.len() + 8)
                .sum::<usize>()
            + self.errors.len() * 48;
        let mut out = Zeroizing::new(Vec::with_capacity(cap));
        out.extend_from_slice(b"{\"protocolVersion\":1,\"values\":{");
        for (i, (k, v)) in self.values.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json_str(&mut out, k);
            out.push(b':');
            write_json_str(&mut out, v);
        }
        out.extend_from_slice(b"},\"errors\":{");
        for (i, (k, c)) in self.errors.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json_str(&mut out, k);
            out.extend_from_slice(b":{\"code\":");
            let code = serde_json::to_string(c).expect("codes serialize");
            out.extend_from_slice(code.as_bytes());
            out.push(b'}');
        }
        out.extend_from_slice(b"}}\n");
        out
    }
}

/// JSON string escaping into a (zeroizing) buffer, without an intermediate copy.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for ch in s.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Serve a batch from `backend`.
pub fn serve(backend: &dyn Backend, ids: &[String]) -> Result<Response, BatchError> {
    let mut resp = Response::default();
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    let mut names = Vec::with_capacity(ids.len());
    for id in ids {
        if !seen.insert(id.as_str()) {
            continue;
        }
        match validate_exec_id(id).and_then(|()| EntryName::new(id)) {
            Ok(n) => names.push(n),
            Err(_) => resp.errors.push((id.clone(), Code::InvalidId)),
        }
    }
    let got = backend.get_many(&names);
    for (name, r) in names.into_iter().zip(got) {
        match r {
            Ok(Some(secret)) => match std::str::from_utf8(secret.expose_secret()) {
                Ok(s) => resp
                    .values
                    .push((name.as_str().to_string(), Zeroizing::new(s.to_string()))),
                Err(_) => resp.errors.push((name.as_str().to_string(), Code::NotUtf8)),
            },
            Ok(None) => resp
                .errors
                .push((name.as_str().to_string(), Code::NotFound)),
            Err(BackendError::Corrupt { .. }) => {
                resp.errors.push((name.as_str().to_string(), Code::Corrupt))
            }
            Err(e) => return Err(BatchError(e)),
        }
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests() {
        let r =
            parse_request(br#"{"protocolVersion":1,"provider":"clawvault","ids":["main/a:b"]}"#)
                .unwrap();
        assert_eq!(r.ids, vec!["main/a:b"]);
        assert_eq!(
            parse_request(br#"{"protocolVersion":2,"ids":[]}"#),
            Err(RequestError::Version(2))
        );
        assert_eq!(
            parse_request(br#"{"ids":[]}"#),
            Err(RequestError::NoVersion)
        );
        assert_eq!(
            parse_request(br#"{"protocolVersion":1,"ids":[1]}"#),
            Err(RequestError::Ids)
        );
        assert!(matches!(
            parse_request(br#"{"protocolVersion":1,"#),
            Err(RequestError::Json { .. })
        ));
        let many = format!(
            r#"{{"protocolVersion":1,"ids":[{}]}}"#,
            vec!["\"a\""; MAX_IDS + 1].join(",")
        );
        assert_eq!(
            parse_request(many.as_bytes()),
            Err(RequestError::TooMany(MAX_IDS + 1))
        );
    }

    #[test]
    fn request_errors_never_echo_input() {
        let e = parse_request(b"{\"protocolVersion\":1,\"ids\":[\"sk-secret-in-a-bad-request\"")
            .unwrap_err();
        assert!(!e.to_string().contains("sk-secret"));
    }

    #[test]
    fn json_escaping_round_trips() {
        let mut r = Response::default();
        r.values
            .push(("main/a:b".into(), Zeroizing::new("q\"\\\n\u{1}é".into())));
        r.errors.push(("x y".into(), Code::InvalidId));
        let v: Value = serde_json::from_slice(&r.to_json()).unwrap();
        assert_eq!(v["values"]["main/a:b"], "q\"\\\n\u{1}é");
        assert_eq!(v["errors"]["x y"]["code"], "INVALID_ID");
        assert_eq!(v["protocolVersion"], 1);
    }
}
