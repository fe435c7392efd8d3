//! The login requests JWT and Kubernetes auth send, checked against a loopback
//! HTTP listener that records them (no Kubernetes cluster here; the JWT flow also
//! runs against a real `bao server -dev` in tests/openbao_auth.rs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;
use crate::backend::{Backend, EntryName};

struct Req {
    line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A tiny HTTP/1.1 server: logins get a fresh token `s.login-<n>` with a `ttl`
/// lease, KV reads get 404 (absent). Every request is recorded.
fn fake_server(ttl: u64) -> (String, Arc<Mutex<Vec<Req>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { return };
            let log = log2.clone();
            std::thread::spawn(move || {
                let mut w = conn.try_clone().unwrap();
                let mut r = BufReader::new(conn);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        r.read_line(&mut h).unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        let (k, v) = h.split_once(':').unwrap();
                        headers.push((k.trim().to_string(), v.trim().to_string()));
                    }
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .map(|(_, v)| v.parse().unwrap())
                        .unwrap_or(0);
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    let line = line.trim_end().to_string();
                    let mut log = log.lock().unwrap();
                    let logins = log
                        .iter()
                        .filter(|q: &&Req| q.line.contains("/login"))
                        .count();
                    let (status, answer) = if line.contains("/login") {
                        (
                            "200 OK",
                            format!(
                                r#"{{"auth":{{"client_token":"s.login-{}","lease_duration":{ttl},"renewable":false}}}}"#,
                                logins + 1
                            ),
                        )
                    } else {
                        ("404 Not Found", r#"{"errors":[]}"#.to_string())
                    };
                    log.push(Req {
                        line,
                        headers,
                        body: String::from_utf8(body).unwrap(),
                    });
                    drop(log);
                    write!(
                        w,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    )
                    .unwrap();
                }
            });
        }
    });
    (addr, log)
}

fn backend(addr: &str, auth: OpenBaoAuth, namespace: Option<&str>) -> OpenBaoBackend {
    OpenBaoBackend::new(&OpenBaoConfig {
        addr: addr.into(),
        mount: "secret".into(),
        prefix: "clawvault/abc".into(),
        auth,
        ca_file: None,
        allow_insecure_http: false,
        namespace: namespace.map(String::from),
        links: Default::default(),
    })
    .unwrap()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn kubernetes_login_sends_role_and_service_account_token_to_auth_kubernetes() {
    let dir = tempfile::tempdir().unwrap();
    let sa = dir.path().join("token");
    // The kubelet projects the token world-readable: Kubernetes auth accepts that.
    std::fs::write(&sa, "eyJhbGciOiJSUzI1NiJ9.sa-token-one.sig\n").unwrap();
    std::fs::set_permissions(&sa, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let (addr, log) = fake_server(3600);
    let b = backend(
        &addr,
        OpenBaoAuth::Kubernetes {
            mount: DEFAULT_KUBERNETES_MOUNT.into(),
            role: "gateway".into(),
            jwt_file: CredentialSource::File(sa.clone()),
        },
        Some("team-a"),
    );
    let name = EntryName::new("env/OPENAI_API_KEY").unwrap();
    assert!(b.get(&name).unwrap().is_none());
    {
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2, "one login, one read");
        let login = &log[0];
        assert_eq!(login.line, "POST /v1/auth/kubernetes/login HTTP/1.1");
        assert_eq!(login.header("X-Vault-Namespace"), Some("team-a"));
        assert_eq!(
            login.header("X-Vault-Token"),
            None,
            "a login carries no token"
        );
        let body = json(&login.body);
        assert_eq!(body["role"], "gateway");
        assert_eq!(body["jwt"], "eyJhbGciOiJSUzI1NiJ9.sa-token-one.sig");
        let read = &log[1];
        assert_eq!(
            read.line,
            "GET /v1/secret/data/clawvault/abc/env/OPENAI_API_KEY HTTP/1.1"
        );
        assert_eq!(read.header("X-Vault-Token"), Some("s.login-1"));
        assert_eq!(read.header("X-Vault-Namespace"), Some("team-a"));
    }
    // The kubelet rotates the projected token: the next request logs in again with it.
    std::fs::write(&sa, "eyJhbGciOiJSUzI1NiJ9.sa-token-two-longer.sig\n").unwrap();
    assert!(b.get(&name).unwrap().is_none());
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 4, "a rotated token file means one new login");
    assert_eq!(
        json(&log[2].body)["jwt"],
        "eyJhbGciOiJSUzI1NiJ9.sa-token-two-longer.sig"
    );
    assert_eq!(log[3].header("X-Vault-Token"), Some("s.login-2"));
}

#[test]
fn kubernetes_defaults_to_the_pod_service_account_token() {
    let args = OpenbaoArgs {
        addr: Some("https://bao.example:8200".into()),
        kubernetes_role: Some("gw".into()),
        ..OpenbaoArgs::default()
    };
    let c = args.to_config("abc").unwrap();
    let OpenBaoAuth::Kubernetes {
        mount,
        role,
        jwt_file,
    } = &c.auth
    else {
        panic!("{:?}", c.auth)
    };
    assert_eq!(mount, "kubernetes");
    assert_eq!(role, "gw");
    assert_eq!(
        jwt_file,
        &CredentialSource::File("/var/run/secrets/kubernetes.io/serviceaccount/token".into())
    );
    let m = c.auth.login_method().unwrap();
    let err = login_request(m.as_ref()).err().unwrap_or_default();
    assert!(
        err.contains("/var/run/secrets/kubernetes.io/serviceaccount/token"),
        "outside a pod the error names the token path: {err}"
    );
    // The manifest form round-trips with the default path filled in.
    let back: OpenBaoConfig =
        serde_json::from_value(serde_json::json!({"addr": "https://b:1", "mount": "secret",
            "prefix": "p", "auth": {"method": "kubernetes", "role": "gw"}}))
        .unwrap();
    assert_eq!(back.auth, c.auth);
}

#[test]
fn jwt_login_relogs_when_the_token_expires_and_refuses_a_readable_jwt_file() {
    let dir = tempfile::tempdir().unwrap();
    let jwt = dir.path().join("jwt");
    std::fs::write(&jwt, "header.payload.sig").unwrap();
    std::fs::set_permissions(&jwt, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let (addr, log) = fake_server(1);
    let b = backend(
        &addr,
        OpenBaoAuth::Jwt {
            mount: "jwt-ci".into(),
            role: "openclaw".into(),
            jwt_file: CredentialSource::File(jwt.clone()),
        },
        None,
    );
    let name = EntryName::new("env/X").unwrap();
    b.get(&name).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    b.get(&name).unwrap();
    {
        let log = log.lock().unwrap();
        let logins: Vec<_> = log.iter().filter(|r| r.line.contains("/login")).collect();
        assert_eq!(
            logins.len(),
            2,
            "an expired JWT-login token means a new login"
        );
        assert!(logins[0].line.starts_with("POST /v1/auth/jwt-ci/login "));
        assert_eq!(json(&logins[0].body)["role"], "openclaw");
        assert_eq!(logins[0].header("X-Vault-Namespace"), None);
    }
    // A JWT file others can read is refused (the Kubernetes path is the exception).
    std::fs::set_permissions(&jwt, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&jwt, "header.payload2.sig").unwrap();
    let err = b.get(&name).unwrap_err().to_string();
    assert!(err.contains("chmod 600") && err.contains("jwt"), "{err}");
    assert!(!err.contains("payload2"), "{err}");
}
