//! The reader and writer both documents share: strict lossless parse, OpenClaw's
//! `<file>.lock`, atomic 0600 writes; and the `order` map helpers.

use super::*;

pub(super) fn classify(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    if e.to_string().starts_with("duplicate key") {
        return "a key appears twice in one object";
    }
    match e.classify() {
        Category::Eof => "the file ends too early",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected data",
        Category::Io => "read error",
    }
}

pub(super) fn shape(path: &Path, reason: &str) -> ProfileError {
    ProfileError::Shape {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The checks every OpenClaw auth document gets: strict JSON (duplicate keys
/// refused), a top-level object, a `version` we understand, an object `order`.
pub(super) fn parse_root(path: &Path, bytes: &[u8]) -> Result<Map<String, Value>> {
    let v: Value = crate::strictjson::from_slice(bytes).map_err(|e| ProfileError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        what: classify(&e),
    })?;
    let Value::Object(root) = v else {
        return Err(shape(path, "the top level is not a JSON object"));
    };
    if let Some(ver) = root.get("version") {
        match ver.as_u64() {
            Some(n) if n > DOC_VERSION => {
                return Err(ProfileError::NewerVersion {
                    path: path.to_path_buf(),
                    found: n,
                })
            }
            Some(_) => {}
            None => return Err(shape(path, "\"version\" is not a number")),
        }
    }
    match root.get("order") {
        None | Some(Value::Object(_)) => {}
        Some(_) => return Err(shape(path, "\"order\" is not an object")),
    }
    Ok(root)
}

pub(super) fn root_bytes(root: &Map<String, Value>) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(&Value::Object(root.clone()))
        .expect("a JSON tree always serializes");
    s.push('\n');
    s.into_bytes()
}

/// Write atomically, 0600, creating the directory 0700 if needed.
pub(super) fn save_root(path: &Path, root: &Map<String, Value>) -> Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            fsutil::ensure_private_dir(dir)?;
        }
    }
    fsutil::write_atomic(path, &root_bytes(root))?;
    Ok(())
}

/// Run `f` holding OpenClaw's `<path>.lock` (creating the directory 0700 if needed).
pub(super) fn with_lock<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            fsutil::ensure_private_dir(dir)?;
        }
    }
    let _lock = FileLock::acquire(path, lock_wait())?;
    f()
}

pub(super) fn order_in(root: &Map<String, Value>, provider: &str) -> Option<Vec<String>> {
    let list = root.get("order")?.get(provider)?.as_array()?;
    Some(
        list.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    )
}

pub(super) fn set_order_in(root: &mut Map<String, Value>, provider: &str, ids: &[String]) {
    let order = root
        .entry("order")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(o) = order {
        o.insert(
            provider.into(),
            Value::Array(ids.iter().map(|s| Value::String(s.clone())).collect()),
        );
    }
}

pub(super) fn clear_order_in(root: &mut Map<String, Value>, provider: &str) -> bool {
    match root.get_mut("order") {
        Some(Value::Object(o)) => o.shift_remove(provider).is_some(),
        _ => false,
    }
}

/// Drop `id` from every `order` list; with `drop_emptied`, a list this leaves empty
/// is removed. Returns whether anything changed.
pub(super) fn drop_from_order(root: &mut Map<String, Value>, id: &str, drop_emptied: bool) -> bool {
    let Some(Value::Object(order)) = root.get_mut("order") else {
        return false;
    };
    let mut changed = false;
    let mut emptied = Vec::new();
    for (provider, list) in order.iter_mut() {
        if let Value::Array(a) = list {
            let before = a.len();
            a.retain(|v| v.as_str() != Some(id));
            if a.len() != before {
                changed = true;
                if a.is_empty() {
                    emptied.push(provider.clone());
                }
            }
        }
    }
    if drop_emptied {
        for p in emptied {
            order.shift_remove(&p);
        }
    }
    changed
}

pub(super) fn lock_wait() -> Duration {
    std::env::var("CLAWVAULT_LOCK_WAIT_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(fsutil::LOCK_WAIT)
}
