//! OpenBao authentication from the environment: `BAO_TOKEN` / `VAULT_TOKEN` and
//! systemd credentials (`$CREDENTIALS_DIRECTORY`). One test in its own process, as
//! it changes the environment.
// Unix only: the real OpenBao dev server (Linux binary).
#![cfg(unix)]

#[path = "common/openbao.rs"]
mod bao;

use clawvault::backend::openbao::{
    CredentialSource, OpenBaoAuth, OpenBaoBackend, OpenBaoConfig, ROLE_ID_CREDENTIAL,
    SECRET_ID_CREDENTIAL,
};
use clawvault::backend::{Backend, EntryName};
use clawvault::secret::ExposeSecret;
use serde_json::json;

fn config(s: &bao::DevServer, auth: OpenBaoAuth) -> OpenBaoConfig {
    OpenBaoConfig {
        addr: s.addr.clone(),
        mount: "secret".into(),
        prefix: "clawvault/envtest".into(),
        auth,
        ca_file: None,
        allow_insecure_http: false,
        namespace: None,
        links: Default::default(),
    }
}

#[test]
fn tokens_and_credentials_from_the_environment() {
    let Some(s) = bao::DevServer::start("tokens_and_credentials_from_the_environment") else {
        return;
    };
    let n = EntryName::new("main/env:x").unwrap();
    let file_auth = OpenBaoAuth::Token {
        token_file: Some(s.private_file("file-token", "bogus-file-token-1234")),
        token_keychain: None,
    };

    // BAO_TOKEN wins over the token file, then VAULT_TOKEN.
    std::env::set_var("BAO_TOKEN", &s.root_token);
    let b = OpenBaoBackend::new(&config(&s, file_auth.clone())).unwrap();
    b.set(&n, b"from env").unwrap();
    assert!(b.probe().unwrap().contains("BAO_TOKEN"));
    std::env::remove_var("BAO_TOKEN");
    std::env::set_var("VAULT_TOKEN", &s.root_token);
    let b = OpenBaoBackend::new(&config(&s, file_auth.clone())).unwrap();
    assert_eq!(b.get(&n).unwrap().unwrap().expose_secret(), b"from env");
    std::env::remove_var("VAULT_TOKEN");

    // Then the file; a bad token there is reported by where it came from.
    let b = OpenBaoBackend::new(&config(&s, file_auth)).unwrap();
    let e = b.get(&n).expect_err("bogus token is refused").to_string();
    assert!(e.contains("file-token") && e.contains("refused"), "{e}");
    assert!(
        !e.contains("bogus-file-token-1234") && !e.contains(&s.root_token),
        "{e}"
    );

    // No token anywhere.
    let b = OpenBaoBackend::new(&config(
        &s,
        OpenBaoAuth::Token {
            token_file: None,
            token_keychain: None,
        },
    ))
    .unwrap();
    let e = b.get(&n).expect_err("no token").to_string();
    assert!(e.contains("BAO_TOKEN"), "{e}");

    // AppRole through systemd credentials.
    s.ok("POST", "sys/auth/approle", Some(json!({"type": "approle"})));
    s.ok(
        "POST",
        "auth/approle/role/svc",
        Some(json!({"token_policies": ["default", "root-less"], "token_ttl": "1h"})),
    );
    s.policy(
        "root-less",
        r#"path "secret/data/clawvault/envtest/*" { capabilities = ["read"] }"#,
    );
    let rid = s.ok("GET", "auth/approle/role/svc/role-id", None)["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_string();
    let sid = s.ok("POST", "auth/approle/role/svc/secret-id", Some(json!({})))["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = OpenBaoAuth::Approle {
        mount: "approle".into(),
        role_id: CredentialSource::parse("credential:", ROLE_ID_CREDENTIAL).unwrap(),
        secret_id: CredentialSource::parse("credential:", SECRET_ID_CREDENTIAL).unwrap(),
    };
    let b = OpenBaoBackend::new(&config(&s, auth.clone())).unwrap();
    let e = b.get(&n).expect_err("no credentials directory").to_string();
    assert!(e.contains("CREDENTIALS_DIRECTORY"), "{e}");
    let creds = s.home.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join(ROLE_ID_CREDENTIAL), &rid).unwrap();
    std::fs::write(creds.join(SECRET_ID_CREDENTIAL), &sid).unwrap();
    std::env::set_var("CREDENTIALS_DIRECTORY", &creds);
    let b = OpenBaoBackend::new(&config(&s, auth)).unwrap();
    assert_eq!(b.get(&n).unwrap().unwrap().expose_secret(), b"from env");
    // That policy reads but may not write: the error names the path and capability.
    let e = b.set(&n, b"no").expect_err("read-only policy").to_string();
    assert!(
        e.contains("secret/data/clawvault/envtest/main/env:x") && e.contains("create"),
        "{e}"
    );
    assert!(!e.contains(&sid) && !e.contains(&rid), "{e}");
    std::env::remove_var("CREDENTIALS_DIRECTORY");
}
