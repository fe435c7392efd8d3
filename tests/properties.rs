//! Property tests for the parsers and round trips.

use std::path::Path;
use std::sync::Arc;

use clawvault::backend::age::AgeBackend;
use clawvault::backend::keychain::KeychainBackend;
use clawvault::backend::{Backend, EntryName};
use clawvault::envfile::EnvFile;
use clawvault::profiles::{ProfileDoc, ProfileType, SecretRef};
use clawvault::secret::ExposeSecret;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9 _:/.-]{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-zA-Z_]{1,8}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Unknown fields with distinct names (a JSON object cannot hold one name twice, so a
/// generated duplicate would make the expectation, not the code, wrong).
fn extra_fields() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec(("x[a-zA-Z]{1,8}", json_value()), 0..5).prop_map(|fields| {
        let mut seen = std::collections::HashSet::new();
        fields
            .into_iter()
            .filter(|(k, _)| seen.insert(k.clone()))
            .collect()
    })
}

/// 64 cases from a fixed seed: the same inputs on every run, so CI does not fail at
/// random (stop 22's did, on a generator bug one run in many drew). Explore
/// other inputs with `CLAWVAULT_TEST_SEED=<n>`; a failing seed reproduces exactly.
fn config() -> ProptestConfig {
    let seed = std::env::var("CLAWVAULT_TEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..ProptestConfig::with_cases(64)
    }
}

proptest! {
    #![proptest_config(config())]

    /// Unknown fields at every level survive set_ref, order edits and removals of
    /// other profiles, in value and in order.
    #[test]
    fn document_edits_keep_unknown_fields(top in extra_fields(), prof in extra_fields(), other in extra_fields()) {
        let mut root = Map::new();
        root.insert("version".into(), json!(1));
        for (k, v) in &top { root.insert(k.clone(), v.clone()); }
        let mut p = Map::new();
        p.insert("type".into(), json!("api_key"));
        p.insert("provider".into(), json!("openai"));
        p.insert("key".into(), json!("sk-x"));
        for (k, v) in &prof { p.insert(k.clone(), v.clone()); }
        let mut o = Map::new();
        o.insert("type".into(), json!("token"));
        o.insert("provider".into(), json!("openai"));
        o.insert("token".into(), json!("t"));
        for (k, v) in &other { o.insert(k.clone(), v.clone()); }
        root.insert("profiles".into(), json!({"openai:default": p, "openai:manual": o.clone()}));
        let bytes = serde_json::to_vec(&Value::Object(root)).unwrap();
        let mut doc = ProfileDoc::parse(Path::new("p.json"), &bytes).unwrap();
        doc.set_ref("openai:default", ProfileType::ApiKey, "openai", &SecretRef::exec("clawvault", "main/openai:default"));
        doc.set_order("openai", &["openai:manual".into(), "openai:default".into()]).unwrap();
        let out = doc.to_bytes();
        let again = ProfileDoc::parse(Path::new("p.json"), &out).unwrap();
        prop_assert_eq!(again.to_bytes(), out.clone());
        let v: Value = serde_json::from_slice(&out).unwrap();
        for (k, want) in &top { prop_assert_eq!(&v[k], want); }
        for (k, want) in &prof { prop_assert_eq!(&v["profiles"]["openai:default"][k], want); }
        prop_assert_eq!(&v["profiles"]["openai:manual"], &Value::Object(o));
        prop_assert!(v["profiles"]["openai:default"].get("key").is_none());
        // Key order of the edited profile: everything but the material keeps its place.
        let keys: Vec<String> = v["profiles"]["openai:default"].as_object().unwrap().keys().cloned().collect();
        let mut want = vec!["type".to_string(), "provider".into(), "keyRef".into()];
        want.extend(prof.iter().map(|(k, _)| k.clone()).filter(|k| k != "type" && k != "provider" && k != "keyRef"));
        want.dedup();
        let mut seen = std::collections::HashSet::new();
        want.retain(|k| seen.insert(k.clone()));
        prop_assert_eq!(keys, want);
    }

    /// Rewriting a .env file changes only the moved assignments.
    #[test]
    fn env_rewrite_changes_only_moved_lines(
        lines in prop::collection::vec((0u8..6, "[A-Z][A-Z0-9_]{0,6}", "[a-zA-Z0-9/+=.-]{0,16}"), 1..12),
        crlf in any::<bool>(),
        pick in any::<u64>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        let mut kept_lines = Vec::new();
        let names: Vec<String> = lines.iter().map(|l| l.1.clone()).collect();
        let moved: Vec<String> = names.iter().enumerate().filter(|(i, _)| pick >> (i % 64) & 1 == 1).map(|(_, n)| n.clone()).collect();
        for (kind, name, value) in &lines {
            let line = match kind {
                0 => format!("{name}={value}"),
                1 => format!("export {name}='{value}'"),
                2 => format!("{name}=\"{value}\" # note"),
                3 => "# a comment".to_string(),
                4 => String::new(),
                _ => format!("{name} = {value}"),
            };
            let is_assign = !matches!(kind, 3 | 4);
            if !(is_assign && moved.contains(name)) { kept_lines.push(line.clone()); }
            text.push_str(&line);
            text.push_str(nl);
        }
        let f = EnvFile::parse(Path::new(".env"), text.clone().into_bytes()).unwrap();
        let out = String::from_utf8(f.rewrite(&moved, |n| format!("# {n} moved")).to_vec()).unwrap();
        let out_lines: Vec<&str> = out.split(nl).collect();
        let kept: Vec<&str> = out_lines.iter().copied().filter(|l| !(l.starts_with("# ") && l.ends_with(" moved"))).collect();
        let mut want: Vec<&str> = kept_lines.iter().map(|s| s.as_str()).collect();
        want.push("");
        prop_assert_eq!(kept, want);
        prop_assert!(!out.is_empty());
    }

    /// Any byte string survives set/get in the age backend and the keychain backend
    /// (mock store with a tiny item limit, so values also cross the parts path).
    #[test]
    fn any_bytes_survive_every_local_backend(value in prop::collection::vec(any::<u8>(), 0..3000)) {
        let d = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let age_b = AgeBackend::new(d.path().join("blobs"), id.to_public()).with_identity(Arc::new(id));
        let store: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
        let kc = KeychainBackend::new(store, "mock".into(), "prop").with_item_limit(200);
        let n = EntryName::new("main/prop:value").unwrap();
        for b in [&age_b as &dyn Backend, &kc] {
            b.set(&n, &value).unwrap();
            let got = b.get(&n).unwrap().unwrap();
            prop_assert_eq!(got.expose_secret(), &value[..]);
        }
    }
}
