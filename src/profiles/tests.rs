use super::*;

const SAMPLE: &str = r#"{
  "version": 1,
  "zeta": {"keep": [1, 2.50, 1e400]},
  "profiles": {
"anthropic:default": {
  "type": "api_key",
  "provider": "anthropic",
  "key": "sk-ant-api03-xyz",
  "metadata": {"b": 1, "a": 2},
  "unknownField": true
},
"anthropic:manual": {"mode": "token", "provider": "anthropic", "token": "t", "expires": 1798761600000},
"openai:me@example.com": {"type": "oauth", "provider": "openai", "access": "a", "refresh": "r", "expires": 1}
  },
  "order": {"anthropic": ["anthropic:default", "anthropic:manual"]},
  "lastGood": {"anthropic": "anthropic:default"},
  "usageStats": {"anthropic:default": {"lastUsed": 1736160000000, "errorCount": 0}}
}"#;

fn doc() -> ProfileDoc {
    ProfileDoc::parse(Path::new("auth-profiles.json"), SAMPLE.as_bytes()).unwrap()
}

#[test]
fn reads_types_and_old_spellings() {
    let d = doc();
    let p = d.get("anthropic:manual").unwrap();
    assert_eq!(p.profile_type(), ProfileType::Token);
    assert_eq!(p.expires(), Some(1798761600000));
    assert_eq!(p.material(), Material::Inline("token"));
    let legacy = ProfileDoc::parse(
        Path::new("x"),
        br#"{"profiles":{"openai:default":{"type":"apiKey","apiKey":"k"}}}"#,
    )
    .unwrap();
    let p = legacy.get("openai:default").unwrap();
    assert_eq!(p.profile_type(), ProfileType::ApiKey);
    assert_eq!(p.provider(), "openai");
    assert_eq!(p.inline_secret(), Some("k"));
}

#[test]
fn rewrite_keeps_unknown_fields_order_and_numbers() {
    let d = doc();
    let out = String::from_utf8(d.to_bytes()).unwrap();
    // Big numbers keep their value: 1e400 does not collapse to null or infinity.
    assert!(out.contains("1e+400") || out.contains("1e400"), "{out}");
    assert!(out.contains("2.50"), "{out}");
    let again = ProfileDoc::parse(Path::new("x"), out.as_bytes()).unwrap();
    assert_eq!(again.to_bytes(), d.to_bytes());
    let keys: Vec<&String> = again.root().keys().collect();
    assert_eq!(
        keys,
        [
            "version",
            "zeta",
            "profiles",
            "order",
            "lastGood",
            "usageStats"
        ]
    );
}

#[test]
fn set_ref_replaces_material_in_place() {
    let mut d = doc();
    d.set_ref(
        "anthropic:default",
        ProfileType::ApiKey,
        "anthropic",
        &SecretRef::exec("clawvault", "main/anthropic:default"),
    );
    let p = d.get("anthropic:default").unwrap();
    let keys: Vec<&String> = p.obj.keys().collect();
    assert_eq!(
        keys,
        ["type", "provider", "keyRef", "metadata", "unknownField"]
    );
    assert!(!String::from_utf8(d.to_bytes())
        .unwrap()
        .contains("sk-ant-api03-xyz"));
}

#[test]
fn remove_profile_drops_it_from_order() {
    let mut d = doc();
    assert!(d.remove_profile("anthropic:default").is_some());
    assert_eq!(d.order("anthropic").unwrap(), vec!["anthropic:manual"]);
    assert!(d.root().contains_key("usageStats"));
}

#[test]
fn malformed_json_names_line() {
    let e = ProfileDoc::parse(
        Path::new("/x/auth-profiles.json"),
        b"{\n  \"version\": 1,\n  oops\n}",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("/x/auth-profiles.json") && e.contains("line 3"),
        "{e}"
    );
}

#[test]
fn duplicate_keys_are_refused() {
    let e = ProfileDoc::parse(
        Path::new("p"),
        b"{\"profiles\":{\"a:b\":{\"key\":\"k1\"},\n\"a:b\":{\"key\":\"k2\"}}}",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("appears twice") && e.contains("line 2"), "{e}");
    assert!(!e.contains("k1") && !e.contains("k2"));
}

#[test]
fn newer_version_is_refused() {
    let e = ProfileDoc::parse(Path::new("p"), br#"{"version":2,"profiles":{}}"#).unwrap_err();
    assert!(matches!(e, ProfileError::NewerVersion { found: 2, .. }));
}

#[test]
fn order_set_validates_ids() {
    let mut d = doc();
    assert!(d.set_order("anthropic", &["nope:x".into()]).is_err());
    assert!(d
        .set_order("anthropic", &["openai:me@example.com".into()])
        .is_err());
    d.set_order(
        "anthropic",
        &["anthropic:manual".into(), "anthropic:default".into()],
    )
    .unwrap();
    assert_eq!(d.order("anthropic").unwrap()[0], "anthropic:manual");
    assert!(d.clear_order("anthropic"));
    assert!(d.order("anthropic").is_none());
}

const STATE: &str = r#"{
  "version": 1,
  "order": {"anthropic": ["anthropic:manual", "anthropic:default"], "openai": ["openai:default"], "groq": []},
  "future": {"n": 1.50},
  "lastGood": {"anthropic": "anthropic:manual", "openai": "openai:default"},
  "usageStats": {"anthropic:manual": {"lastUsed": 1736160000000, "errorCount": 0}}
}"#;

#[test]
fn auth_state_forget_profile_follows_openclaw() {
    let mut st = AuthState::parse(Path::new("auth-state.json"), STATE.as_bytes()).unwrap();
    assert!(st.forget_profile("anthropic:manual"));
    assert_eq!(st.order("anthropic").unwrap(), vec!["anthropic:default"]);
    assert_eq!(
        st.root()["lastGood"],
        serde_json::json!({"openai": "openai:default"})
    );
    // usageStats and unknown fields are kept; a list left empty by the removal
    // goes, one that was empty before stays.
    assert!(st.root()["usageStats"].get("anthropic:manual").is_some());
    assert!(st.forget_profile("openai:default"));
    assert!(st.order("openai").is_none());
    assert_eq!(st.order("groq").unwrap(), Vec::<String>::new());
    assert!(!st.forget_profile("nobody:x"));
    let out = String::from_utf8(st.to_bytes()).unwrap();
    assert!(out.contains("1.50"), "{out}");
    let keys: Vec<&String> = st.root().keys().collect();
    assert_eq!(
        keys,
        ["version", "order", "future", "lastGood", "usageStats"]
    );
}

#[test]
fn auth_state_is_parsed_as_strictly_as_profiles() {
    let p = Path::new("/a/auth-state.json");
    let e = AuthState::parse(p, b"{\"order\":{},\n\"order\":{}}")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("appears twice") && e.contains("/a/auth-state.json"),
        "{e}"
    );
    for bad in [&br#"{"order":[]}"#[..], br#"{"lastGood":1}"#, b"[]"] {
        let e = AuthState::parse(p, bad).unwrap_err().to_string();
        assert!(e.contains("/a/auth-state.json"), "{e}");
    }
    assert!(matches!(
        AuthState::parse(p, br#"{"version":2}"#).unwrap_err(),
        ProfileError::NewerVersion { found: 2, .. }
    ));
    assert_eq!(
        AuthState::beside(Path::new("/s/agents/main/agent/auth-profiles.json")),
        Path::new("/s/agents/main/agent/auth-state.json")
    );
}
