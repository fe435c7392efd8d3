use super::*;
use crate::secret::ExposeSecret;

fn cfg(addr: &str) -> OpenBaoConfig {
    OpenBaoConfig {
        addr: addr.into(),
        mount: "secret".into(),
        prefix: "clawvault/abc".into(),
        auth: OpenBaoAuth::Token {
            token_file: None,
            token_keychain: None,
        },
        ca_file: None,
        allow_insecure_http: false,
        namespace: None,
        links: Default::default(),
    }
}

#[test]
fn plain_http_only_to_loopback() {
    for ok in [
        "http://127.0.0.1:8200",
        "http://127.8.9.10:1",
        "http://localhost:8200/",
        "http://[::1]:8200",
        "https://bao.example.com:8200",
    ] {
        assert!(cfg(ok).validated().is_ok(), "{ok}");
    }
    let e = cfg("http://10.0.0.5:8200").validated().unwrap_err();
    assert!(e.contains("--allow-insecure-http"), "{e}");
    assert!(cfg("http://bao.example.com").validated().is_err());
    let mut c = cfg("http://bao.example.com:8200");
    c.allow_insecure_http = true;
    let c = c.validated().unwrap();
    assert_eq!(c.warnings().len(), 1);
    assert!(cfg("http://127.0.0.1:1").warnings().is_empty());
    assert!(cfg("ftp://x").validated().is_err());
    assert!(cfg("https://user:pw@bao.example").validated().is_err());
    assert!(cfg("https://bao.example/v1/secret").validated().is_err());
}

#[test]
fn mount_and_prefix_are_checked_and_trimmed() {
    let mut c = cfg("https://b.example");
    c.mount = "/team/kv/".into();
    c.prefix = "clawvault/x/".into();
    let v = c.validated().unwrap();
    assert_eq!(
        (v.mount.as_str(), v.prefix.as_str()),
        ("team/kv", "clawvault/x")
    );
    c.prefix = "a/../b".into();
    assert!(c.validated().is_err());
    c.prefix = "a b".into();
    assert!(c.validated().is_err());
}

#[test]
fn paths_are_percent_encoded() {
    assert_eq!(
        encode_path("secret/data/p/main/openai:work#2"),
        "secret/data/p/main/openai:work%232"
    );
    assert_eq!(encode_path("a b?c"), "a%20b%3Fc");
}

#[test]
fn scrub_removes_secrets_and_caps_length() {
    assert_eq!(
        scrub("bad token hvs.ABCDEF", &["hvs.ABCDEF"]),
        "bad token <redacted>"
    );
    assert!(scrub(&"x".repeat(500), &[]).chars().count() <= 201);
}

#[test]
fn credential_sources_parse() {
    assert_eq!(
        CredentialSource::parse("credential:", ROLE_ID_CREDENTIAL).unwrap(),
        CredentialSource::Credential(ROLE_ID_CREDENTIAL.into())
    );
    assert_eq!(
        CredentialSource::parse("credential:sid", SECRET_ID_CREDENTIAL).unwrap(),
        CredentialSource::Credential("sid".into())
    );
    assert!(CredentialSource::parse("credential:../x", "d").is_err());
    match CredentialSource::parse("rel/file", "d").unwrap() {
        CredentialSource::File(p) => assert!(p.is_absolute()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn token_file_must_be_private() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("token");
    std::fs::write(&p, "s.sekrit-token\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_secret_file(&p, true).unwrap_err();
        assert!(e.contains("chmod 600"), "{e}");
        assert!(!e.contains("sekrit"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    #[cfg(windows)]
    {
        // A file made by a plain write may let others read it (Everyone under Wine,
        // the inherited entries on Windows); the owner-only DACL makes it usable.
        if crate::trust::check_private(&p).unwrap().is_some() {
            let e = read_secret_file(&p, true).unwrap_err();
            assert!(e.contains("icacls"), "{e}");
            assert!(!e.contains("sekrit"), "{e}");
        }
        // Made again owner-only from the start. (Not with make_private: Wine maps
        // DACLs onto Unix modes and cannot take the world bits off an existing file.)
        std::fs::remove_file(&p).unwrap();
        let mut f = crate::fsutil::create_new_private(&p).unwrap();
        std::io::Write::write_all(&mut f, b"s.sekrit-token\n").unwrap();
    }
    assert_eq!(
        read_secret_file(&p, true).unwrap().expose_secret(),
        "s.sekrit-token"
    );
    std::fs::write(&p, "").unwrap();
    assert!(read_secret_file(&p, true).unwrap_err().contains("empty"));
}

#[test]
fn config_round_trips_through_json() {
    let c = OpenBaoConfig {
        auth: OpenBaoAuth::Approle {
            mount: "approle".into(),
            role_id: CredentialSource::File("/etc/clawvault/role_id".into()),
            secret_id: CredentialSource::Credential("clawvault-bao-secret-id".into()),
        },
        ..cfg("https://bao.example:8200")
    };
    let s = serde_json::to_string(&c).unwrap();
    assert!(s.contains("\"method\":\"approle\""), "{s}");
    assert!(s.contains("\"secretId\":{\"credential\""), "{s}");
    let back: OpenBaoConfig = serde_json::from_str(&s).unwrap();
    assert_eq!(back, c);
}

#[test]
fn args_flatten_into_a_command() {
    use clap::Parser;
    #[derive(Parser)]
    struct Init {
        #[command(flatten)]
        bao: OpenbaoArgs,
    }
    let i = Init::try_parse_from(["init", "--addr", "http://127.0.0.1:8200"]).unwrap();
    assert_eq!(i.bao.mount, "secret");
    assert_eq!(i.bao.approle_mount, "approle");
    assert!(Init::try_parse_from(["init", "--approle-role-id-file", "credential:"]).is_err());
    assert!(Init::try_parse_from([
        "init",
        "--token-file",
        "t",
        "--approle-role-id-file",
        "r",
        "--approle-secret-id-file",
        "s"
    ])
    .is_err());
    let i = Init::try_parse_from([
        "init",
        "--approle-role-id-file",
        "credential:",
        "--approle-secret-id-file",
        "/etc/clawvault/secret_id",
    ])
    .unwrap();
    assert_eq!(
        i.bao.approle_secret_id_file.as_deref(),
        Some("/etc/clawvault/secret_id")
    );
}

#[test]
fn args_build_a_config() {
    let a = OpenbaoArgs {
        addr: Some("http://127.0.0.1:8200".into()),
        ..Default::default()
    };
    let c = a.to_config("v123").unwrap();
    assert_eq!(c.prefix, "clawvault/v123");
    assert_eq!(
        c.auth,
        OpenBaoAuth::Token {
            token_file: None,
            token_keychain: None
        }
    );
    let half = OpenbaoArgs {
        approle_role_id_file: Some("/r".into()),
        ..a.clone()
    };
    assert!(half.to_config("v").is_err());
}

/// Issue 14, finding 8: `*.localhost` is resolved like any other name (DNS included),
/// so plain http to it would send the token wherever the resolver says.
#[test]
fn localhost_subdomain_is_not_loopback() {
    for addr in [
        "http://evil.localhost:8200",
        "http://bao.LOCALHOST",
        "http://localhost.attacker.example:8200",
        "http://127.0.0.1.nip.io:8200",
    ] {
        let err = cfg(addr).validated().expect_err(addr);
        assert!(err.contains("not a loopback address"), "{addr}: {err}");
        assert!(!cfg(addr).is_loopback(), "{addr}");
    }
    // The single name `localhost` is still accepted, but never handed to a resolver.
    for (addr, base) in [
        ("http://localhost:8200", "http://127.0.0.1:8200"),
        ("http://LocalHost", "http://127.0.0.1"),
        ("http://127.0.0.1:8200", "http://127.0.0.1:8200"),
        ("http://[::1]:8200", "http://[::1]:8200"),
        ("https://localhost:8200", "https://localhost:8200"),
    ] {
        let c = cfg(addr).validated().expect(addr);
        assert_eq!(c.base_url(), base, "{addr}");
    }
}
