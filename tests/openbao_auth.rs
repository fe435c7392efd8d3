//! OpenBao authentication against a real `bao server -dev`: JWT login with a key
//! pair generated here and a JWT signed in the test (ES256), re-login when the JWT
//! file changes, Vault Agent-style token-file rotation, namespaces, all under the
//! reader (gateway) policy of docs/openbao-reader-policy.hcl.
// Unix only: the real OpenBao dev server (Linux binary).
#![cfg(unix)]

#[path = "common/openbao.rs"]
mod bao;

use base64::Engine as _;
use clawvault::backend::openbao::{CredentialSource, OpenBaoAuth, OpenBaoBackend, OpenBaoConfig};
use clawvault::backend::{Backend, EntryName};
use clawvault::secret::ExposeSecret;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

const PREFIX: &str = "clawvault/authtest";

fn config(s: &bao::DevServer, auth: OpenBaoAuth, namespace: Option<&str>) -> OpenBaoConfig {
    OpenBaoConfig {
        addr: s.addr.clone(),
        mount: "secret".into(),
        prefix: PREFIX.into(),
        auth,
        ca_file: None,
        allow_insecure_http: false,
        namespace: namespace.map(String::from),
        links: Default::default(),
    }
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A P-256 key pair: the signer and the public key as PEM (SPKI).
fn key_pair() -> (EcdsaKeyPair, String) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let kp =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    // SubjectPublicKeyInfo for id-ecPublicKey / prime256v1, then the 65-byte point.
    let mut spki = hex_bytes("3059301306072a8648ce3d020106082a8648ce3d030107034200");
    spki.extend_from_slice(kp.public_key().as_ref());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&spki);
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n");
    (kp, pem)
}

fn hex_bytes(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

fn sign_jwt(kp: &EcdsaKeyPair, sub: &str, ttl: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let header = b64url(br#"{"alg":"ES256","typ":"JWT"}"#);
    let claims = b64url(
        json!({"iss": "clawvault-test", "sub": sub, "aud": "openbao",
               "iat": now, "nbf": now - 5, "exp": now + ttl})
        .to_string()
        .as_bytes(),
    );
    let input = format!("{header}.{claims}");
    let sig = kp.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", b64url(sig.as_ref()))
}

fn reader_policy(s: &bao::DevServer, name: &str) {
    let hcl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/openbao-reader-policy.hcl"
    ))
    .unwrap()
    .replace("MOUNT", "secret")
    .replace("PREFIX", PREFIX);
    s.policy(name, &hcl);
}

fn put(s: &bao::DevServer, ns: &str, name: &str, value: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(value);
    s.ok(
        "POST",
        &format!("{ns}secret/data/{PREFIX}/{name}"),
        Some(json!({"data": {"value_b64": b64}})),
    );
}

fn names(v: &[&str]) -> Vec<EntryName> {
    v.iter().map(|n| EntryName::new(n).unwrap()).collect()
}

/// Every read a gateway does: one id, a batch, contains, list.
fn every_resolve_path(b: &OpenBaoBackend, expect: &[(&str, &[u8])]) {
    let ns: Vec<&str> = expect.iter().map(|(n, _)| *n).collect();
    let ids = names(&ns);
    for (id, (_, want)) in ids.iter().zip(expect) {
        assert_eq!(b.get(id).unwrap().unwrap().expose_secret(), *want, "{id}");
        assert!(b.contains(id).unwrap(), "{id}");
    }
    for (got, (n, want)) in b.get_many(&ids).into_iter().zip(expect) {
        assert_eq!(got.unwrap().unwrap().expose_secret(), *want, "{n}");
    }
    let listed = b.list().unwrap();
    for id in &ids {
        assert!(listed.contains(id), "{id} in {listed:?}");
    }
    // And the reader cannot write.
    let e = b.set(&ids[0], b"overwrite").unwrap_err().to_string();
    assert!(e.contains("permission denied"), "{e}");
}

#[test]
fn jwt_login_with_a_locally_signed_jwt_under_the_reader_policy() {
    let Some(s) =
        bao::DevServer::start("jwt_login_with_a_locally_signed_jwt_under_the_reader_policy")
    else {
        return;
    };
    let (kp, pem) = key_pair();
    reader_policy(&s, "clawvault-reader");
    s.ok("POST", "sys/auth/jwt", Some(json!({"type": "jwt"})));
    s.ok(
        "POST",
        "auth/jwt/config",
        Some(json!({"jwt_validation_pubkeys": [pem], "bound_issuer": "clawvault-test"})),
    );
    s.ok(
        "POST",
        "auth/jwt/role/gateway",
        Some(
            json!({"role_type": "jwt", "user_claim": "sub", "bound_audiences": ["openbao"],
                    "bound_subject": "gateway-1",
                    "token_policies": ["default", "clawvault-reader"], "token_ttl": "1h"}),
        ),
    );
    put(&s, "", "main/openrouter:default", b"sk-or-v1-jwt-reader");
    put(&s, "", "env/OPENAI_API_KEY", b"sk-openai\x00\xffbytes");
    let jwt_file = s.private_file("workload.jwt", &sign_jwt(&kp, "gateway-1", 600));
    let b = OpenBaoBackend::new(&config(
        &s,
        OpenBaoAuth::Jwt {
            mount: "jwt".into(),
            role: "gateway".into(),
            jwt_file: CredentialSource::File(jwt_file.clone()),
        },
        None,
    ))
    .unwrap();
    every_resolve_path(
        &b,
        &[
            ("main/openrouter:default", b"sk-or-v1-jwt-reader"),
            ("env/OPENAI_API_KEY", b"sk-openai\x00\xffbytes"),
        ],
    );

    // The JWT file is replaced by one for a subject the role does not accept: the
    // change means a new login, which the server refuses (and the JWT stays out of
    // the error).
    let wrong = sign_jwt(&kp, "someone-else", 600);
    std::fs::write(&jwt_file, &wrong).unwrap();
    let id = EntryName::new("main/openrouter:default").unwrap();
    let e = b.get(&id).unwrap_err().to_string();
    assert!(e.contains("JWT login at auth/jwt was refused"), "{e}");
    assert!(
        !e.contains(&wrong) && !e.contains(&wrong[wrong.len() - 20..]),
        "{e}"
    );

    // A JWT signed by another key is refused too.
    let (other, _) = key_pair();
    std::fs::write(&jwt_file, sign_jwt(&other, "gateway-1", 600)).unwrap();
    assert!(b.get(&id).is_err());

    // The workload identity rotates the file to a good JWT: served again.
    std::fs::write(&jwt_file, sign_jwt(&kp, "gateway-1", 600)).unwrap();
    assert_eq!(
        b.get(&id).unwrap().unwrap().expose_secret(),
        b"sk-or-v1-jwt-reader"
    );
}

#[test]
fn token_file_rotation_and_namespace_under_the_reader_policy() {
    let Some(s) =
        bao::DevServer::start("token_file_rotation_and_namespace_under_the_reader_policy")
    else {
        return;
    };
    reader_policy(&s, "clawvault-reader");
    put(&s, "", "main/anthropic:default", b"sk-ant-rotated");
    let id = EntryName::new("main/anthropic:default").unwrap();
    let mk = |s: &bao::DevServer| {
        s.create_token(json!({"policies": ["default", "clawvault-reader"], "ttl": "1h"}))
    };
    // A Vault Agent sink: the token file is rewritten with a new token and the old
    // one is revoked. The backend notices the change and uses the new token.
    let first = mk(&s);
    let sink = s.private_file("agent-sink", &first);
    let b = OpenBaoBackend::new(&config(
        &s,
        OpenBaoAuth::Token {
            token_file: Some(sink.clone()),
            token_keychain: None,
        },
        None,
    ))
    .unwrap();
    every_resolve_path(&b, &[("main/anthropic:default", b"sk-ant-rotated")]);
    let second = mk(&s);
    std::fs::write(&sink, format!("{second}\n")).unwrap();
    s.ok("POST", "auth/token/revoke", Some(json!({ "token": first })));
    assert_eq!(
        b.get(&id).unwrap().unwrap().expose_secret(),
        b"sk-ant-rotated"
    );
    // Rotated by rename (a new inode), as most sinks do.
    let third = mk(&s);
    let tmp = sink.with_extension("tmp");
    std::fs::write(&tmp, &third).unwrap();
    // A sink written world-readable is refused, even after rotation.
    std::fs::rename(&tmp, &sink).unwrap();
    let e = b.get(&id).unwrap_err().to_string();
    assert!(e.contains("chmod 600") && !e.contains(&third), "{e}");
    std::fs::set_permissions(&sink, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    s.ok(
        "POST",
        "auth/token/revoke",
        Some(json!({ "token": second })),
    );
    assert_eq!(
        b.get(&id).unwrap().unwrap().expose_secret(),
        b"sk-ant-rotated"
    );

    // Namespaces: OpenBao (2.3+) has them in the dev server.
    let (st, v) = s.api("POST", "sys/namespaces/team-a", Some(json!({})));
    assert!(
        (200..300).contains(&st),
        "namespaces unsupported by this bao? {st} {v}"
    );
    s.ok(
        "POST",
        "team-a/sys/mounts/secret",
        Some(json!({"type": "kv", "options": {"version": "2"}})),
    );
    put(&s, "team-a/", "main/anthropic:default", b"sk-ant-team-a");
    let hcl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/openbao-reader-policy.hcl"
    ))
    .unwrap()
    .replace("MOUNT", "secret")
    .replace("PREFIX", PREFIX);
    s.ok(
        "PUT",
        "team-a/sys/policies/acl/clawvault-reader",
        Some(json!({ "policy": hcl })),
    );
    let v = s.ok(
        "POST",
        "team-a/auth/token/create",
        Some(json!({"policies": ["default", "clawvault-reader"], "ttl": "1h"})),
    );
    let ns_token = s.private_file("ns-token", v["auth"]["client_token"].as_str().unwrap());
    let auth = OpenBaoAuth::Token {
        token_file: Some(ns_token),
        token_keychain: None,
    };
    let b = OpenBaoBackend::new(&config(&s, auth.clone(), Some("team-a"))).unwrap();
    every_resolve_path(&b, &[("main/anthropic:default", b"sk-ant-team-a")]);
    // Without the namespace the same token finds nothing it may read at the root.
    let b = OpenBaoBackend::new(&config(&s, auth, None)).unwrap();
    assert!(b.get(&id).is_err());
}
