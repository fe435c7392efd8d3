//! Entry points for the fuzz targets in `fuzz/` and the corpus replay in
//! `tests/fuzz_corpus.rs`: every parser that reads untrusted bytes. Each must never
//! panic, and no error message may contain the input's secret-looking content.
#![doc(hidden)]

use std::path::Path;

/// A marker planted in fuzz seeds: it must never appear in an error message.
pub const MARKER: &str = "sk-FUZZ-SECRET";

fn check_no_echo(msg: &str) {
    assert!(
        !msg.contains(MARKER),
        "an error message echoed input: {msg}"
    );
}

pub fn envfile(data: &[u8]) {
    match crate::envfile::EnvFile::parse(Path::new(".env"), data.to_vec()) {
        Ok(f) => {
            let (eff, _) = f.effective();
            let names: Vec<String> = eff.iter().map(|e| e.name.clone()).collect();
            // Rewriting with nothing moved is the identity; with everything moved it
            // removes every value.
            assert_eq!(&f.rewrite(&[], |_| String::new())[..], data);
            let all = f.rewrite(&names, |_| "#".into());
            // A value written verbatim inside its own assignment must lose at least
            // that copy (the span covers the whole value); copies elsewhere (a
            // comment, another line) are not the parser's to remove. Values with
            // escapes are not verbatim and are checked by the span tests instead.
            let count = |hay: &[u8], needle: &[u8]| {
                hay.windows(needle.len()).filter(|w| *w == needle).count()
            };
            for e in &f.entries {
                let v = e.value.as_bytes();
                if v.len() >= 8 && count(&data[e.span.clone()], v) > 0 {
                    assert!(
                        count(&all, v) < count(data, v),
                        "a moved value survived the rewrite"
                    );
                }
            }
        }
        Err(e) => check_no_echo(&e.to_string()),
    }
}

pub fn profiles(data: &[u8]) {
    match crate::profiles::ProfileDoc::parse(Path::new("auth-profiles.json"), data) {
        Ok(doc) => {
            for p in doc.profiles() {
                let _ = (p.material(), p.expires(), p.provider(), p.profile_type());
            }
            let out = doc.to_bytes();
            let again = crate::profiles::ProfileDoc::parse(Path::new("x"), &out)
                .expect("own output parses");
            assert_eq!(again.to_bytes(), out);
        }
        Err(e) => check_no_echo(&e.to_string()),
    }
}

pub fn legacy_auth(data: &[u8]) {
    match crate::migrate::parse_legacy(Path::new("auth.json"), data) {
        Ok((_, doc)) => {
            for p in doc.profiles() {
                let _ = (
                    p.material(),
                    p.inline_secret(),
                    p.provider(),
                    p.profile_type(),
                );
            }
        }
        Err(e) => check_no_echo(&e.to_string()),
    }
}

pub fn manifest(data: &[u8]) {
    if let Err(e) = crate::vault::Vault::parse_manifest(Path::new("vault.json"), data) {
        check_no_echo(&e.to_string());
    }
}

/// The agent's request parser.
pub fn agent_request(data: &[u8]) {
    if let Err(reply) = crate::agent::server::parse_request(data) {
        let text = String::from_utf8_lossy(&reply);
        check_no_echo(&text);
        let v: serde_json::Value = serde_json::from_slice(&reply).expect("replies are JSON");
        assert_eq!(v["ok"], false, "{text}");
    }
}

pub fn exec_request(data: &[u8]) {
    if let Err(e) = crate::resolve::parse_request(data) {
        check_no_echo(&e.to_string());
    }
}

pub fn wrapped_identity(data: &[u8]) {
    // A manifest's identity block with attacker-chosen fields must fail cleanly,
    // with tiny KDF costs so the fuzzer stays fast.
    if let Ok(mut w) = serde_json::from_slice::<crate::vault::keywrap::WrappedIdentity>(data) {
        w.kdf.memory_kib = w.kdf.memory_kib.clamp(8, 64);
        w.kdf.iterations = w.kdf.iterations.clamp(1, 2);
        w.kdf.parallelism = w.kdf.parallelism.clamp(1, 2);
        if let Err(e) = crate::vault::keywrap::unwrap("fuzz", &w, b"passphrase") {
            check_no_echo(&e.to_string());
        }
    }
}

/// One fuzz target: takes the fuzzer's bytes, panics on a bug.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("envfile", envfile),
    ("profiles", profiles),
    ("manifest", manifest),
    ("exec_request", exec_request),
    ("wrapped_identity", wrapped_identity),
    ("agent_request", agent_request),
    ("legacy_auth", legacy_auth),
];
