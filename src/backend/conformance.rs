//! The conformance suite every backend must pass. Integration tests call
//! [`run_all`] with a fresh backend for each store: age, the real Secret Service,
//! keyring-core's mock store with chunking forced, and the OpenBao server.

use super::{Backend, EntryName};
use crate::secret::ExposeSecret;

fn name(prefix: &str, s: &str) -> EntryName {
    EntryName::new(&format!("{prefix}{s}")).expect("test names are valid")
}

fn get(b: &dyn Backend, n: &EntryName) -> Option<Vec<u8>> {
    b.get(n)
        .unwrap_or_else(|e| panic!("get {n} on {}: {e}", b.kind()))
        .map(|s| s.expose_secret().to_vec())
}

/// Options for stores with limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest value the suite stores.
    pub large: usize,
    /// How many entries the "many" case writes.
    pub many: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            large: 64 * 1024,
            many: 50,
        }
    }
}

/// Run every case. `prefix` makes names unique per run (`t<random>/`), so a failed
/// run cannot collide with leftovers in a real keychain.
pub fn run_all(b: &dyn Backend, prefix: &str, limits: &Limits) {
    set_get_round_trip(b, prefix);
    overwrite(b, prefix);
    delete(b, prefix);
    missing(b, prefix);
    binary_safe(b, prefix);
    large_value(b, prefix, limits.large);
    many_entries(b, prefix, limits.many);
    odd_names(b, prefix);
    list_sees_entries(b, prefix);
}

pub fn set_get_round_trip(b: &dyn Backend, p: &str) {
    let n = name(p, "main/anthropic:default");
    b.set(&n, b"sk-ant-api03-conformance").unwrap();
    assert_eq!(get(b, &n).as_deref(), Some(&b"sk-ant-api03-conformance"[..]));
    assert!(b.contains(&n).unwrap());
    assert!(b.delete(&n).unwrap());
}

pub fn overwrite(b: &dyn Backend, p: &str) {
    let n = name(p, "main/openai:default");
    b.set(&n, b"first").unwrap();
    b.set(&n, b"second-and-longer").unwrap();
    assert_eq!(get(b, &n).as_deref(), Some(&b"second-and-longer"[..]));
    b.set(&n, b"3").unwrap();
    assert_eq!(get(b, &n).as_deref(), Some(&b"3"[..]));
    assert!(b.delete(&n).unwrap());
}

pub fn delete(b: &dyn Backend, p: &str) {
    let n = name(p, "main/groq:default");
    b.set(&n, b"gone soon").unwrap();
    assert!(b.delete(&n).unwrap());
    assert!(!b.contains(&n).unwrap());
    assert_eq!(get(b, &n), None);
    assert!(!b.delete(&n).unwrap(), "second delete reports nothing removed");
}

pub fn missing(b: &dyn Backend, p: &str) {
    let n = name(p, "main/never:set");
    assert_eq!(get(b, &n), None);
    assert!(!b.contains(&n).unwrap());
}

pub fn binary_safe(b: &dyn Backend, p: &str) {
    let n = name(p, "main/bin:all-bytes");
    let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    b.set(&n, &all).unwrap();
    assert_eq!(get(b, &n), Some(all));
    let nul = name(p, "main/bin:nul");
    b.set(&nul, b"\0\0trailing\0").unwrap();
    assert_eq!(get(b, &nul).as_deref(), Some(&b"\0\0trailing\0"[..]));
    b.delete(&n).unwrap();
    b.delete(&nul).unwrap();
}

pub fn large_value(b: &dyn Backend, p: &str, size: usize) {
    let n = name(p, "main/large:value");
    let v: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
    b.set(&n, &v).unwrap();
    assert_eq!(get(b, &n), Some(v));
    // Shrinking a large value must not leave stale parts behind.
    b.set(&n, b"small").unwrap();
    assert_eq!(get(b, &n).as_deref(), Some(&b"small"[..]));
    assert!(b.delete(&n).unwrap());
    assert!(!b.contains(&n).unwrap());
}

pub fn many_entries(b: &dyn Backend, p: &str, count: usize) {
    let names: Vec<EntryName> = (0..count)
        .map(|i| name(p, &format!("many/p{i}:default")))
        .collect();
    for (i, n) in names.iter().enumerate() {
        b.set(n, format!("value-{i}").as_bytes()).unwrap();
    }
    let got = b.get_many(&names);
    assert_eq!(got.len(), count);
    for (i, r) in got.into_iter().enumerate() {
        let v = r.unwrap().map(|s| s.expose_secret().to_vec());
        assert_eq!(v, Some(format!("value-{i}").into_bytes()), "entry {i}");
    }
    for n in &names {
        assert!(b.delete(n).unwrap());
    }
}

pub fn odd_names(b: &dyn Backend, p: &str) {
    for s in [
        "main/openai:work#2",
        "main/x.y:z-w_v",
        "agent-2/anthropic:manual",
        "env/OPENAI_API_KEY",
        "a/b/c/d:e",
        "main/UPPER:lower",
    ] {
        let n = name(p, s);
        b.set(&n, s.as_bytes()).unwrap();
        assert_eq!(get(b, &n).as_deref(), Some(s.as_bytes()), "{s}");
    }
    // Names that differ only in case or punctuation are distinct entries.
    let a = name(p, "main/case:A");
    let c = name(p, "main/case:a");
    b.set(&a, b"upper").unwrap();
    b.set(&c, b"lower").unwrap();
    assert_eq!(get(b, &a).as_deref(), Some(&b"upper"[..]));
    assert_eq!(get(b, &c).as_deref(), Some(&b"lower"[..]));
    for s in [
        "main/openai:work#2",
        "main/x.y:z-w_v",
        "agent-2/anthropic:manual",
        "env/OPENAI_API_KEY",
        "a/b/c/d:e",
        "main/UPPER:lower",
        "main/case:A",
        "main/case:a",
    ] {
        assert!(b.delete(&name(p, s)).unwrap(), "{s}");
    }
}

pub fn list_sees_entries(b: &dyn Backend, p: &str) {
    let names = [name(p, "list/a:1"), name(p, "list/b:2")];
    for n in &names {
        b.set(n, b"v").unwrap();
    }
    let listed = b.list().unwrap();
    for n in &names {
        assert!(listed.contains(n), "list() misses {n}");
    }
    for n in &names {
        b.delete(n).unwrap();
    }
    let listed = b.list().unwrap();
    assert!(!listed.iter().any(|n| names.contains(n)));
}
