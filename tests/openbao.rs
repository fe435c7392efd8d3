//! The OpenBao backend against a real `bao server -dev` per test.
// Unix only: the real OpenBao dev server (Linux binary) and SIGSTOP/SIGCONT.
#![cfg(unix)]

#[path = "common/openbao.rs"]
mod bao;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bao::DevServer;
use clawvault::backend::conformance::{self, Limits};
use clawvault::backend::openbao::{
    CredentialSource, OpenBaoAuth, OpenBaoBackend, OpenBaoConfig, OpenbaoArgs, Tuning,
};
use clawvault::backend::{Backend, BackendError, EntryName};
use clawvault::secret::{ExposeSecret, SecretString};
use clawvault::vault::keywrap::KdfParams;
use clawvault::vault::{BackendConfig, Vault};
use serde_json::json;

fn rand_prefix() -> String {
    let b: [u8; 6] = rand::random();
    format!(
        "clawvault/t{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

fn name(s: &str) -> EntryName {
    EntryName::new(s).unwrap()
}

fn config(s: &DevServer, prefix: &str, auth: OpenBaoAuth) -> OpenBaoConfig {
    OpenBaoConfig {
        addr: s.addr.clone(),
        mount: "secret".into(),
        prefix: prefix.into(),
        auth,
        ca_file: None,
        allow_insecure_http: false,
        namespace: None,
        links: Default::default(),
    }
}

fn token_auth(s: &DevServer, file: &str, token: &str) -> OpenBaoAuth {
    OpenBaoAuth::Token {
        token_file: Some(s.private_file(file, &format!("{token}\n"))),
        token_keychain: None,
    }
}

fn root_backend(s: &DevServer, prefix: &str) -> OpenBaoBackend {
    OpenBaoBackend::new(&config(
        s,
        prefix,
        token_auth(s, "root-token", &s.root_token),
    ))
    .unwrap()
}

/// The policy from docs/openbao-policy.hcl for this mount and prefix.
fn docs_policy(prefix: &str) -> String {
    include_str!("../docs/openbao-policy.hcl")
        .replace("MOUNT", "secret")
        .replace("PREFIX", prefix)
}

/// Every error message is checked: no token, ever.
fn assert_clean(msg: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!msg.contains(s), "an error message leaks a token: {msg}");
    }
}

fn err_text<T>(r: Result<T, BackendError>, secrets: &[&str]) -> String {
    let e = match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    };
    let msg = e.to_string();
    assert_clean(&msg, secrets);
    assert_clean(&format!("{e:?}"), secrets);
    msg
}

#[test]
fn conformance_suite_with_a_root_token() {
    let Some(s) = DevServer::start("conformance_suite_with_a_root_token") else {
        return;
    };
    let prefix = rand_prefix();
    let b = root_backend(&s, &prefix);
    assert_eq!(b.kind(), "openbao");
    assert!(b.describe().contains(&prefix));
    assert_clean(&format!("{b:?}"), &[&s.root_token]);
    conformance::run_all(&b, "c/", &Limits::default());

    // The stock CLI reads what clawvault wrote: base64 in value_b64.
    let n = name("main/anthropic:default");
    b.set(&n, b"sk-ant-\x00binary\xff").unwrap();
    let out = s.bao(&[
        "kv",
        "get",
        "-field=value_b64",
        &format!("secret/{prefix}/main/anthropic:default"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(String::from_utf8(out.stdout).unwrap().trim())
        .unwrap();
    assert_eq!(decoded, b"sk-ant-\x00binary\xff");

    // Soft delete keeps history (undelete brings it back); purge removes it.
    assert!(b.delete(&n).unwrap());
    assert!(!b.contains(&n).unwrap());
    let out = s.bao(&[
        "kv",
        "undelete",
        "-versions=1",
        &format!("secret/{prefix}/main/anthropic:default"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(b.contains(&n).unwrap());
    assert!(b.purge(&n).unwrap());
    let (st, _) = s.api(
        "GET",
        &format!("secret/metadata/{prefix}/main/anthropic:default"),
        None,
    );
    assert_eq!(st, 404, "purge removes the metadata");
    assert!(!b.purge(&n).unwrap());
    assert!(b.list().unwrap().is_empty());

    // An entry clawvault did not write is reported as such, without its contents.
    s.ok(
        "POST",
        &format!("secret/data/{prefix}/main/foreign:x"),
        Some(json!({"data": {"password": "hunter2-foreign"}})),
    );
    let msg = err_text(
        b.get(&name("main/foreign:x")),
        &["hunter2-foreign", &s.root_token],
    );
    assert!(msg.contains("no value_b64 field"), "{msg}");
}

#[test]
fn conformance_suite_under_the_documented_policy() {
    let Some(s) = DevServer::start("conformance_suite_under_the_documented_policy") else {
        return;
    };
    let prefix = rand_prefix();
    s.policy("clawvault", &docs_policy(&prefix));
    let token = s.create_token(json!({"policies": ["clawvault"], "ttl": "1h"}));
    let b = OpenBaoBackend::new(&config(&s, &prefix, token_auth(&s, "tok", &token))).unwrap();
    let report = b.probe().unwrap();
    assert!(report.contains("probe"), "{report}");
    assert!(
        !report.contains("purg"),
        "the documented policy allows purge: {report}"
    );
    conformance::run_all(&b, "p/", &Limits::default());
    let n = name("main/x:y");
    b.set(&n, b"v").unwrap();
    assert!(b.purge(&n).unwrap());
    // Outside the prefix the same token is denied.
    let other = OpenBaoBackend::new(&config(
        &s,
        "clawvault/elsewhere",
        token_auth(&s, "tok2", &token),
    ))
    .unwrap();
    let msg = err_text(other.get(&n), &[&token, &s.root_token]);
    assert!(
        msg.contains("secret/data/clawvault/elsewhere/main/x:y"),
        "{msg}"
    );
}

fn setup_approle(
    s: &DevServer,
    prefix: &str,
    role: &str,
    extra: serde_json::Value,
) -> (PathBuf, PathBuf) {
    let (st, _) = s.api("GET", "sys/auth/approle", None);
    if st != 200 {
        s.ok("POST", "sys/auth/approle", Some(json!({"type": "approle"})));
    }
    let policy = format!("cv-{role}");
    s.policy(&policy, &docs_policy(prefix));
    let mut body = json!({"token_policies": [policy], "token_ttl": "1h", "token_max_ttl": "4h"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    s.ok("POST", &format!("auth/approle/role/{role}"), Some(body));
    let rid = s.ok("GET", &format!("auth/approle/role/{role}/role-id"), None)["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_string();
    let sid = s.ok(
        "POST",
        &format!("auth/approle/role/{role}/secret-id"),
        Some(json!({})),
    )["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    (
        s.private_file(&format!("{role}-role-id"), &rid),
        s.private_file(&format!("{role}-secret-id"), &format!("{sid}\n")),
    )
}

fn approle_auth(rid: PathBuf, sid: PathBuf) -> OpenBaoAuth {
    OpenBaoAuth::Approle {
        mount: "approle".into(),
        role_id: CredentialSource::File(rid),
        secret_id: CredentialSource::File(sid),
    }
}

#[test]
fn approle_login_runs_the_suite() {
    let Some(s) = DevServer::start("approle_login_runs_the_suite") else {
        return;
    };
    let prefix = rand_prefix();
    let (rid, sid) = setup_approle(&s, &prefix, "gateway", json!({}));
    let b =
        OpenBaoBackend::new(&config(&s, &prefix, approle_auth(rid.clone(), sid.clone()))).unwrap();
    assert!(b.probe().unwrap().contains("AppRole"));
    conformance::run_all(
        &b,
        "a/",
        &Limits {
            large: 16 * 1024,
            many: 20,
        },
    );

    // A wrong secret_id: a clear refusal naming the file, never the ids.
    let secret_id = std::fs::read_to_string(&sid).unwrap().trim().to_string();
    let bad = s.private_file("bad-secret-id", "00000000-0000-0000-0000-000000000000");
    let b2 =
        OpenBaoBackend::new(&config(&s, &prefix, approle_auth(rid.clone(), bad.clone()))).unwrap();
    let msg = err_text(
        b2.get(&name("main/x:y")),
        &[&secret_id, "00000000-0000-0000-0000-000000000000"],
    );
    assert!(
        msg.contains("AppRole login") && msg.contains(&bad.display().to_string()),
        "{msg}"
    );

    // A policy denial with a live AppRole token is not mistaken for a revoked one:
    // no login per denied id.
    let (rid_d, sid_d) = setup_approle(&s, "clawvault/some-other-vault", "denied", json!({}));
    let bd = OpenBaoBackend::new(&config(&s, &prefix, approle_auth(rid_d, sid_d))).unwrap();
    let count_tokens = || {
        s.ok("GET", "auth/token/accessors?list=true", None)["data"]["keys"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = count_tokens();
    let names: Vec<EntryName> = (0..40).map(|i| name(&format!("main/d{i}:x"))).collect();
    for r in bd.get_many(&names) {
        let msg = err_text(r, &[&secret_id]);
        assert!(
            msg.contains("permission denied on secret/data/") && msg.contains("cv-denied"),
            "{msg}"
        );
    }
    let logins = count_tokens() - before;
    assert_eq!(logins, 1, "one AppRole login for 40 denied reads");

    // A secret_id file readable by others is refused before any request.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sid, std::fs::Permissions::from_mode(0o644)).unwrap();
        let b3 = OpenBaoBackend::new(&config(&s, &prefix, approle_auth(rid, sid.clone()))).unwrap();
        let msg = err_text(b3.get(&name("main/x:y")), &[&secret_id]);
        assert!(msg.contains("chmod 600"), "{msg}");
    }
}

#[test]
fn token_is_renewed_before_it_expires() {
    let Some(s) = DevServer::start("token_is_renewed_before_it_expires") else {
        return;
    };
    let prefix = rand_prefix();
    s.policy("clawvault", &docs_policy(&prefix));
    let token = s.create_token(json!({
        "policies": ["clawvault"], "ttl": "4s", "explicit_max_ttl": "1h", "renewable": true
    }));
    let b = OpenBaoBackend::new(&config(&s, &prefix, token_auth(&s, "tok", &token))).unwrap();
    let n = name("main/renew:me");
    b.set(&n, b"v1").unwrap();
    // Past two thirds of the TTL the next operation renews.
    std::thread::sleep(Duration::from_millis(3000));
    assert!(b.get(&n).unwrap().is_some());
    let ttl = s.ok("POST", "auth/token/lookup", Some(json!({ "token": token })))["data"]["ttl"]
        .as_u64()
        .unwrap();
    assert!(ttl >= 3, "renew-self extended the TTL (ttl now {ttl})");
    // Past the original expiry the token still works.
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(b.get(&n).unwrap().unwrap().expose_secret(), b"v1");
}

#[test]
fn expired_and_revoked_tokens_get_clear_errors() {
    let Some(s) = DevServer::start("expired_and_revoked_tokens_get_clear_errors") else {
        return;
    };
    let prefix = rand_prefix();
    s.policy("clawvault", &docs_policy(&prefix));
    let short = s.create_token(json!({"policies": ["clawvault"], "ttl": "2s", "renewable": false}));
    let b =
        OpenBaoBackend::new(&config(&s, &prefix, token_auth(&s, "short-token", &short))).unwrap();
    let n = name("main/exp:x");
    b.set(&n, b"v").unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let msg = err_text(b.get(&n), &[&short, &s.root_token]);
    assert!(
        msg.contains("expired") && msg.contains("short-token"),
        "{msg}"
    );

    // A revoked token (its expiry unknown to the client) is diagnosed with lookup-self.
    let long = s.create_token(json!({"policies": ["clawvault"], "ttl": "1h"}));
    let b = OpenBaoBackend::new(&config(&s, &prefix, token_auth(&s, "long-token", &long))).unwrap();
    b.set(&n, b"v").unwrap();
    s.ok("POST", "auth/token/revoke", Some(json!({ "token": long })));
    let msg = err_text(b.get(&n), &[&long, &s.root_token]);
    assert!(msg.contains("expired, revoked or invalid"), "{msg}");
}

#[test]
fn approle_logs_in_again_after_expiry_and_revocation() {
    let Some(s) = DevServer::start("approle_logs_in_again_after_expiry_and_revocation") else {
        return;
    };
    let prefix = rand_prefix();
    let (rid, sid) = setup_approle(
        &s,
        &prefix,
        "shortlived",
        json!({"token_ttl": "2s", "token_max_ttl": "2s"}),
    );
    let b = OpenBaoBackend::new(&config(&s, &prefix, approle_auth(rid, sid))).unwrap();
    let n = name("main/relogin:x");
    b.set(&n, b"v").unwrap();
    // The token reaches its max TTL: renewal cannot help, a new login does.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(b.get(&n).unwrap().unwrap().expose_secret(), b"v");
    // The server revokes every AppRole token: the next request gets 403, logs in
    // again once and succeeds.
    s.ok(
        "PUT",
        "sys/leases/revoke-prefix/auth/approle/login",
        Some(json!({})),
    );
    assert_eq!(b.get(&n).unwrap().unwrap().expose_secret(), b"v");
    let got = b.get_many(&[n.clone(), n.clone(), name("main/none:x")]);
    assert!(got[0].as_ref().unwrap().is_some() && got[2].as_ref().unwrap().is_none());
}

#[test]
fn sealed_server_is_named_as_such() {
    let Some(s) = DevServer::start("sealed_server_is_named_as_such") else {
        return;
    };
    let prefix = rand_prefix();
    let b = root_backend(&s, &prefix);
    let n = name("main/sealed:x");
    b.set(&n, b"v").unwrap();
    s.ok("PUT", "sys/seal", None);
    let msg = err_text(b.get(&n), &[&s.root_token]);
    assert!(
        msg.contains("sealed") && msg.contains("bao operator unseal"),
        "{msg}"
    );
    assert!(msg.contains(&s.addr), "{msg}");
    let msg = err_text(b.set(&n, b"w"), &[&s.root_token]);
    assert!(msg.contains("sealed"), "{msg}");
    let many: Vec<EntryName> = (0..40).map(|i| name(&format!("main/s{i}:x"))).collect();
    for r in b.get_many(&many) {
        assert!(err_text(r, &[&s.root_token]).contains("sealed"));
    }
    // A fresh backend (as `init` would) fails its probe the same way.
    let msg = err_text(root_backend(&s, &prefix).probe(), &[&s.root_token]);
    assert!(msg.contains("sealed"), "{msg}");
}

#[test]
fn denied_policy_names_the_path_and_the_policies() {
    let Some(s) = DevServer::start("denied_policy_names_the_path_and_the_policies") else {
        return;
    };
    let prefix = rand_prefix();
    s.policy(
        "only-other",
        r#"path "secret/data/other/*" { capabilities = ["read", "create", "update"] }"#,
    );
    let token = s.create_token(json!({"policies": ["only-other"], "ttl": "1h"}));
    let b = OpenBaoBackend::new(&config(&s, &prefix, token_auth(&s, "tok", &token))).unwrap();
    let n = name("main/openai:default");
    let msg = err_text(b.get(&n), &[&token, &s.root_token]);
    assert!(
        msg.contains(&format!("secret/data/{prefix}/main/openai:default")),
        "{msg}"
    );
    assert!(
        msg.contains("only-other") && msg.contains("\"read\""),
        "{msg}"
    );
    let msg = err_text(b.set(&n, b"v"), &[&token]);
    assert!(msg.contains("create") && msg.contains(&prefix), "{msg}");
    let msg = err_text(b.list(), &[&token]);
    assert!(msg.contains(&format!("secret/metadata/{prefix}")), "{msg}");
    let msg = err_text(b.probe(), &[&token]);
    assert!(msg.contains("permission denied"), "{msg}");
}

#[test]
fn missing_mount_and_closed_port() {
    let Some(s) = DevServer::start("missing_mount_and_closed_port") else {
        return;
    };
    let prefix = rand_prefix();
    let mut c = config(&s, &prefix, token_auth(&s, "tok", &s.root_token));
    c.mount = "nosuch".into();
    let b = OpenBaoBackend::new(&c).unwrap();
    let msg = err_text(b.get(&name("main/x:y")), &[&s.root_token]);
    assert!(
        msg.contains("no secrets engine is mounted at nosuch/"),
        "{msg}"
    );
    let msg = err_text(b.set(&name("main/x:y"), b"v"), &[&s.root_token]);
    assert!(msg.contains("nosuch/"), "{msg}");
    let msg = err_text(b.probe(), &[&s.root_token]);
    assert!(msg.contains("nosuch/"), "{msg}");

    // A KV v1 mount is refused at probe time.
    s.ok(
        "POST",
        "sys/mounts/kv1",
        Some(json!({"type": "kv", "options": {"version": "1"}})),
    );
    c.mount = "kv1".into();
    let msg = err_text(OpenBaoBackend::new(&c).unwrap().probe(), &[&s.root_token]);
    assert!(msg.contains("not KV version 2"), "{msg}");

    // Nothing listening: the address, bounded time, no token.
    let port = bao::free_port();
    let mut c = config(&s, &prefix, token_auth(&s, "tok", &s.root_token));
    c.addr = format!("http://127.0.0.1:{port}");
    let b = OpenBaoBackend::new(&c).unwrap();
    let t0 = Instant::now();
    let msg = err_text(b.get(&name("main/x:y")), &[&s.root_token]);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(
        msg.contains(&format!("127.0.0.1:{port}")) && msg.contains("connection refused"),
        "{msg}"
    );
}

#[test]
fn server_killed_mid_batch_gives_bounded_clear_errors() {
    let Some(mut s) = DevServer::start("server_killed_mid_batch_gives_bounded_clear_errors") else {
        return;
    };
    let prefix = rand_prefix();
    let b = root_backend(&s, &prefix);
    let stored: Vec<EntryName> = (0..32).map(|i| name(&format!("main/p{i}:k"))).collect();
    for n in &stored {
        b.set(n, b"value").unwrap();
    }
    // Far more reads than finish before the kill.
    let names: Vec<EntryName> = (0..20_000).map(|i| stored[i % 32].clone()).collect();
    let t0 = Instant::now();
    let results = std::thread::scope(|sc| {
        let h = sc.spawn(|| b.get_many(&names));
        std::thread::sleep(Duration::from_millis(150));
        s.kill();
        h.join().unwrap()
    });
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(15), "batch took {took:?}");
    assert_eq!(results.len(), names.len());
    let ok = results.iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    let errs: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.err())
        .map(|e| e.to_string())
        .collect();
    assert!(ok > 0, "some reads finished before the kill");
    assert!(
        !errs.is_empty(),
        "the kill happened mid-batch (all {ok} finished in {took:?})"
    );
    for m in &errs {
        assert_clean(m, &[&s.root_token]);
        assert!(m.contains(&s.addr), "{m}");
    }
    eprintln!(
        "mid-batch kill: {ok} ok, {} errors in {took:?}; first: {}",
        errs.len(),
        errs[0]
    );
}

#[test]
fn hung_server_times_out_instead_of_hanging() {
    let Some(s) = DevServer::start("hung_server_times_out_instead_of_hanging") else {
        return;
    };
    let prefix = rand_prefix();
    let tuning = Tuning {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(800),
        concurrency: 8,
    };
    let b = OpenBaoBackend::with_tuning(
        &config(&s, &prefix, token_auth(&s, "tok", &s.root_token)),
        tuning,
    )
    .unwrap();
    let n = name("main/hang:x");
    b.set(&n, b"v").unwrap();
    s.freeze();
    let names: Vec<EntryName> = (0..200).map(|_| n.clone()).collect();
    let t0 = Instant::now();
    let results = b.get_many(&names);
    let took = t0.elapsed();
    s.signal(libc::SIGCONT);
    assert!(took < Duration::from_secs(5), "batch took {took:?}");
    for r in results {
        let m = err_text(r, &[&s.root_token]);
        assert!(m.contains("no answer within") && m.contains(&s.addr), "{m}");
    }
}

#[test]
fn init_openbao_probes_and_reopens() {
    let Some(s) = DevServer::start("init_openbao_probes_and_reopens") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vdir = dir.path().join("vault");
    let token_file = s.private_file("tok", &s.root_token);
    let args = OpenbaoArgs {
        addr: Some(s.addr.clone()),
        mount: "secret".into(),
        token_file: Some(token_file),
        approle_mount: "approle".into(),
        ..Default::default()
    };
    let pass = SecretString::from("correct horse".to_string());
    let (v, report) =
        Vault::init_openbao(&vdir, &args, &pass, KdfParams::new_random(1024, 1, 1)).unwrap();
    assert_eq!(report.backend, "openbao");
    assert!(report.reason.contains("probe"), "{}", report.reason);
    let prefix = format!("clawvault/{}", v.id());
    match &v.manifest().backend {
        BackendConfig::Openbao(c) => assert_eq!(c.prefix, prefix),
        other => panic!("{other:?}"),
    }
    let manifest = std::fs::read_to_string(vdir.join("vault.json")).unwrap();
    assert!(manifest.contains("\"kind\": \"openbao\""), "{manifest}");
    assert!(!manifest.contains(&s.root_token));
    v.backend()
        .unwrap()
        .set(&name("main/a:b"), b"hello")
        .unwrap();
    drop(v);
    // The probe left nothing behind; the entry is where the docs say.
    let keys = s.ok("GET", &format!("secret/metadata/{prefix}?list=true"), None);
    assert_eq!(keys["data"]["keys"], json!(["main/"]));
    let v = Vault::open(&vdir).unwrap();
    assert_eq!(
        v.backend()
            .unwrap()
            .get(&name("main/a:b"))
            .unwrap()
            .unwrap()
            .expose_secret(),
        b"hello"
    );

    // A server that is down: init fails and leaves no vault behind.
    let args = OpenbaoArgs {
        addr: Some(format!("http://127.0.0.1:{}", bao::free_port())),
        ..args
    };
    let vdir2 = dir.path().join("vault2");
    let e =
        Vault::init_openbao(&vdir2, &args, &pass, KdfParams::new_random(1024, 1, 1)).unwrap_err();
    assert!(e.to_string().contains("connection refused"), "{e}");
    assert!(!vdir2.join("vault.json").exists());
}

/// A loopback TCP forwarder that counts the connections it accepts.
fn counting_forwarder(target: u16) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            c.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (mut c1, mut s1) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut c2, mut s2) = (client, server);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c1, &mut s1);
                let _ = s1.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (port, count)
}

#[test]
fn batch_of_512_reuses_a_few_kept_alive_connections() {
    let Some(s) = DevServer::start("batch_of_512_reuses_a_few_kept_alive_connections") else {
        return;
    };
    let (port, accepted) = counting_forwarder(s.port);
    let prefix = rand_prefix();
    let mut c = config(&s, &prefix, token_auth(&s, "tok", &s.root_token));
    c.addr = format!("http://127.0.0.1:{port}");
    let tuning = Tuning::default();
    let b = OpenBaoBackend::with_tuning(&c, tuning.clone()).unwrap();
    let names: Vec<EntryName> = (0..512)
        .map(|i| name(&format!("main/p{i}:default")))
        .collect();
    for (i, n) in names.iter().enumerate() {
        b.set(n, format!("v{i}").as_bytes()).unwrap();
    }
    let writes = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        writes <= 2,
        "512 sequential writes used {writes} connections"
    );
    let got = b.get_many(&names);
    for (i, r) in got.into_iter().enumerate() {
        assert_eq!(
            r.unwrap().unwrap().expose_secret(),
            format!("v{i}").as_bytes()
        );
    }
    let total = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        total <= writes + tuning.concurrency,
        "512 batch reads opened {} connections (limit {})",
        total - writes,
        tuning.concurrency
    );
}

#[test]
fn tls_is_verified_and_ca_file_is_honoured() {
    let Some(s) = DevServer::start_with("tls_is_verified_and_ca_file_is_honoured", &["-dev-tls"])
    else {
        return;
    };
    assert!(s.addr.starts_with("https://"));
    let prefix = rand_prefix();
    let mut c = config(&s, &prefix, token_auth(&s, "tok", &s.root_token));
    // Without the dev CA the certificate is not trusted.
    let msg = err_text(
        OpenBaoBackend::new(&c).unwrap().get(&name("main/x:y")),
        &[&s.root_token],
    );
    assert!(
        msg.contains("TLS failed") && msg.contains("--ca-file"),
        "{msg}"
    );
    c.ca_file = Some(s.ca_file());
    let b = OpenBaoBackend::new(&c).unwrap();
    b.probe().unwrap();
    b.set(&name("main/x:y"), b"over tls").unwrap();
    assert_eq!(
        b.get(&name("main/x:y")).unwrap().unwrap().expose_secret(),
        b"over tls"
    );
}
