//! Mapping transport failures and server answers to one-line errors.

use super::*;
use crate::backend::BackendError;

/// Remove secrets a server could echo back, and cap the length.
pub(super) fn scrub(msg: &str, secrets: &[&str]) -> String {
    let mut m = msg.to_string();
    for s in secrets {
        if s.len() >= 4 {
            m = m.replace(s, "<redacted>");
        }
    }
    if m.len() > 200 {
        let mut cut = 200;
        while !m.is_char_boundary(cut) {
            cut -= 1;
        }
        m.truncate(cut);
        m.push('…');
    }
    m
}

impl OpenBaoBackend {
    pub(super) fn map_transport(&self, e: ureq::Error) -> BackendError {
        use std::io::ErrorKind;
        let reason = match &e {
            ureq::Error::Timeout(t) => format!(
                "no answer within the {} timeout ({t}); is the server up and reachable? check --addr and the network",
                if matches!(t, ureq::Timeout::Connect) {
                    format!("{:?} connect", self.tuning.connect_timeout)
                } else {
                    format!("{:?}", self.tuning.request_timeout)
                }
            ),
            ureq::Error::HostNotFound => {
                "cannot resolve the host name; check --addr and DNS".to_string()
            }
            ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => {
                "connection refused; is the server running, and is --addr right?".to_string()
            }
            ureq::Error::Io(io)
                if matches!(
                    io.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::UnexpectedEof
                        | ErrorKind::BrokenPipe
                ) =>
            {
                format!("the connection was dropped ({io}); is the server still running?")
            }
            ureq::Error::Io(io) if {
                let m = io.to_string().to_ascii_lowercase();
                m.contains("certificate") || m.contains("tls") || m.contains("handshake")
            } =>
            {
                format!("TLS failed: {io}; if the server uses a private CA pass --ca-file with its CA certificate")
            }
            ureq::Error::Io(io) => format!("network error: {io}"),
            ureq::Error::ConnectionFailed => {
                "cannot connect; is the server running, and is --addr right?".to_string()
            }
            ureq::Error::Tls(m) => {
                format!("TLS failed: {m}; if the server uses a private CA pass --ca-file")
            }
            ureq::Error::Rustls(r) => format!(
                "TLS failed: {r}; if the server uses a private CA pass --ca-file with its CA certificate"
            ),
            other => format!("request failed: {other}"),
        };
        self.unavailable(reason)
    }

    pub(super) fn sealed_or_503(&self, r: &Resp) -> BackendError {
        let sealed = r.errors().to_ascii_lowercase().contains("sealed")
            || self
                .raw(Method::Get, "sys/seal-status", None, None)
                .ok()
                .and_then(|s| s.json())
                .and_then(|v| v.get("sealed").and_then(|x| x.as_bool()))
                .unwrap_or(false);
        if sealed {
            self.unavailable(
                "the server is sealed; unseal it (`bao operator unseal`) and try again",
            )
        } else {
            self.unavailable(format!(
                "the server answered 503 Service Unavailable ({}); it may be a standby node or overloaded",
                scrub(&r.errors(), &[])
            ))
        }
    }

    /// A 403 on `path`: policy denial or a dead token?
    pub(super) fn denied(&self, name: &str, path: &str, capability: &str) -> BackendError {
        {
            let lookup = self.token().ok().and_then(|t| {
                self.raw(Method::Get, "auth/token/lookup-self", Some(&t.secret), None)
                    .ok()
            });
            match lookup {
                Some(r) if r.status == 200 => {
                    let policies = r
                        .json()
                        .and_then(|v| {
                            v.pointer("/data/policies")
                                .and_then(|p| p.as_array())
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|x| x.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                })
                        })
                        .unwrap_or_default();
                    return BackendError::NoAccess {
                        store: self.store.clone(),
                        name: name.to_string(),
                        reason: format!(
                            "permission denied on {path} (token policies: {policies}); grant {capability:?} on that path in a policy (see docs/openbao.md)"
                        ),
                    };
                }
                Some(r) if r.status == 403 && self.is_login() => {
                    return self.unavailable(format!(
                        "the token from {} was refused right after login (revoked, or the role's token policies lack the default policy); check the role",
                        self.token_source()
                    ));
                }
                Some(r) if r.status == 403 => {
                    let expired = self
                        .token
                        .read()
                        .expect("token lock")
                        .as_ref()
                        .and_then(|t| t.remaining())
                        .is_some_and(|left| left.is_zero());
                    return self.unavailable(format!(
                        "the token from {} {}; get a new one (e.g. `bao login`) or configure AppRole",
                        self.token_source(),
                        if expired {
                            "has expired"
                        } else {
                            "was refused: it is expired, revoked or invalid"
                        }
                    ));
                }
                _ => {}
            }
        }
        BackendError::NoAccess {
            store: self.store.clone(),
            name: name.to_string(),
            reason: format!(
                "permission denied on {path}; grant {capability:?} on that path to the {} policies (see docs/openbao.md)",
                if self.is_login() { "login role's" } else { "token's" }
            ),
        }
    }

    pub(super) fn no_mount(&self) -> BackendError {
        self.unavailable(format!(
            "no secrets engine is mounted at {}/; enable KV v2 there (`bao secrets enable -path={} kv-v2`) or choose another --mount",
            self.cfg.mount, self.cfg.mount
        ))
    }

    pub(super) fn unexpected(
        &self,
        what: &str,
        name: &str,
        r: &Resp,
        secrets: &[&str],
    ) -> BackendError {
        match r.status {
            503 => self.sealed_or_503(r),
            404 if r.errors().contains("no handler for route") => self.no_mount(),
            s => BackendError::Other(format!(
                "{} answered {s} to {what} {name}: {}",
                self.store,
                scrub(&r.errors(), secrets)
            )),
        }
    }
}
