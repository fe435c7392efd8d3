//! OpenClaw's `auth-profiles.json` (version 1), read and written losslessly.
//!
//! The document is kept as a JSON tree with key order preserved (`preserve_order`)
//! and numbers kept as written (`arbitrary_precision`), so every field clawvault does
//! not know survives a rewrite unchanged. clawvault only ever touches the fields it
//! owns: a profile's material (`key`/`apiKey`/`keyRef`, `token`/`tokenRef`) and the
//! `order` lists.
//!
//! Later OpenClaw releases keep `order`, `lastGood` and `usageStats` in a sibling
//! `auth-state.json` ([`AuthState`]); when that file exists it is where `order` lives.
//! Both files share one reader and writer: strict lossless parse, OpenClaw's
//! `<file>.lock`, atomic 0600 writes, symlinks refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::fsutil::{self, FileLock, FsError};

/// The document version this clawvault understands.
pub const DOC_VERSION: u64 = 1;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProfileError {
    #[error("{path}: invalid JSON at line {line}, column {column} ({what}); fix the file by hand or restore it from a backup - clawvault left it untouched")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        what: &'static str,
    },
    #[error("{path}: {reason}; clawvault left it untouched")]
    Shape { path: PathBuf, reason: String },
    #[error("{path} has version {found}, newer than the {DOC_VERSION} clawvault understands; upgrade clawvault")]
    NewerVersion { path: PathBuf, found: u64 },
    #[error("no profile {id:?} in {path}")]
    NoSuchProfile { path: PathBuf, id: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Fs(#[from] FsError),
}

pub type Result<T> = std::result::Result<T, ProfileError>;

/// The kinds of profile OpenClaw knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileType {
    ApiKey,
    Token,
    OAuth,
    Other,
}

impl ProfileType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileType::ApiKey => "api_key",
            ProfileType::Token => "token",
            ProfileType::OAuth => "oauth",
            ProfileType::Other => "unknown",
        }
    }

    /// Parse a `type`, accepting OpenClaw's old spellings.
    fn parse(s: &str) -> ProfileType {
        match s {
            "api_key" | "apiKey" | "api-key" => ProfileType::ApiKey,
            "token" => ProfileType::Token,
            "oauth" => ProfileType::OAuth,
            _ => ProfileType::Other,
        }
    }
}

/// A SecretRef: `{source, provider, id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub source: String,
    pub provider: String,
    pub id: String,
}

impl SecretRef {
    pub fn exec(provider: &str, id: &str) -> SecretRef {
        SecretRef {
            source: "exec".into(),
            provider: provider.into(),
            id: id.into(),
        }
    }

    fn from_value(v: &Value) -> Option<SecretRef> {
        let o = v.as_object()?;
        Some(SecretRef {
            source: o.get("source")?.as_str()?.to_string(),
            provider: o.get("provider")?.as_str()?.to_string(),
            id: o.get("id")?.as_str()?.to_string(),
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("source".into(), Value::String(self.source.clone()));
        m.insert("provider".into(), Value::String(self.provider.clone()));
        m.insert("id".into(), Value::String(self.id.clone()));
        Value::Object(m)
    }
}

/// Where a profile's material is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    /// Inline plaintext (the field name it sits in).
    Inline(&'static str),
    /// A reference.
    Ref(SecretRef),
    /// OAuth material (always inline; OpenClaw rotates it itself).
    OAuth,
    /// Nothing usable.
    Missing,
}

/// A read-only view of one profile.
#[derive(Debug, Clone)]
pub struct ProfileView<'a> {
    pub id: &'a str,
    pub obj: &'a Map<String, Value>,
}

impl<'a> ProfileView<'a> {
    pub fn profile_type(&self) -> ProfileType {
        self.obj
            .get("type")
            .or_else(|| self.obj.get("mode"))
            .and_then(|t| t.as_str())
            .map(ProfileType::parse)
            .unwrap_or(ProfileType::Other)
    }

    pub fn provider(&self) -> String {
        self.obj
            .get("provider")
            .and_then(|p| p.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| self.id.split(':').next().unwrap_or("").to_string())
    }

    /// `expires` in Unix ms, when present and numeric.
    pub fn expires(&self) -> Option<i64> {
        self.obj.get("expires").and_then(|e| {
            e.as_i64()
                .or_else(|| e.as_f64().map(|f| f as i64))
                .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
        })
    }

    pub fn email(&self) -> Option<&str> {
        self.obj.get("email").and_then(|e| e.as_str())
    }

    fn non_empty_str(&self, field: &str) -> bool {
        self.obj
            .get(field)
            .and_then(|v| v.as_str())
            .map(|s| !s.is_empty())
            .unwrap_or(false)
    }

    pub fn material(&self) -> Material {
        match self.profile_type() {
            ProfileType::ApiKey => {
                if let Some(r) = self.obj.get("keyRef").and_then(SecretRef::from_value) {
                    Material::Ref(r)
                } else if self.non_empty_str("key") {
                    Material::Inline("key")
                } else if self.non_empty_str("apiKey") {
                    Material::Inline("apiKey")
                } else {
                    Material::Missing
                }
            }
            ProfileType::Token => {
                if let Some(r) = self.obj.get("tokenRef").and_then(SecretRef::from_value) {
                    Material::Ref(r)
                } else if self.non_empty_str("token") {
                    Material::Inline("token")
                } else {
                    Material::Missing
                }
            }
            ProfileType::OAuth => {
                if self.non_empty_str("access") || self.non_empty_str("refresh") {
                    Material::OAuth
                } else {
                    Material::Missing
                }
            }
            ProfileType::Other => Material::Missing,
        }
    }

    /// The inline secret string, if the material is inline.
    pub fn inline_secret(&self) -> Option<&'a str> {
        match self.material() {
            Material::Inline(field) => self.obj.get(field).and_then(|v| v.as_str()),
            _ => None,
        }
    }
}

/// The whole document.
#[derive(Debug, Clone)]
pub struct ProfileDoc {
    path: PathBuf,
    root: Map<String, Value>,
}

fn classify(e: &serde_json::Error) -> &'static str {
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

impl ProfileDoc {
    /// An empty document for `path`.
    pub fn empty(path: &Path) -> ProfileDoc {
        let mut root = Map::new();
        root.insert("version".into(), Value::from(DOC_VERSION));
        root.insert("profiles".into(), Value::Object(Map::new()));
        ProfileDoc {
            path: path.to_path_buf(),
            root,
        }
    }

    /// Parse bytes (untrusted input: a fuzz target). Duplicate keys are refused (a
    /// rewrite would silently drop one). Only the position and category of an error
    /// are kept, never the input.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<ProfileDoc> {
        let root = parse_root(path, bytes)?;
        let shape = |reason: &str| shape(path, reason);
        match root.get("profiles") {
            None | Some(Value::Object(_)) => {}
            Some(_) => return Err(shape("\"profiles\" is not an object")),
        }
        if let Some(Value::Object(profiles)) = root.get("profiles") {
            for (id, p) in profiles {
                if !p.is_object() {
                    return Err(shape(&format!("profile {id:?} is not an object")));
                }
            }
        }
        Ok(ProfileDoc {
            path: path.to_path_buf(),
            root,
        })
    }

    /// Load `path`; an absent file is an empty document. Symlinks are refused.
    pub fn load(path: &Path) -> Result<ProfileDoc> {
        match fsutil::read_private(path)? {
            Some(bytes) => Self::parse(path, &bytes),
            None => Ok(Self::empty(path)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serialize as OpenClaw does: two-space indent, trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        root_bytes(&self.root)
    }

    /// Write atomically, 0600, creating the agent directory 0700 if needed. Callers
    /// that read-modify-write use [`ProfileDoc::modify`], which also takes the lock.
    pub fn save(&self) -> Result<()> {
        save_root(&self.path, &self.root)
    }

    /// Load under OpenClaw's lock: a snapshot no writer is halfway through, and a lock
    /// left by a crashed clawvault is cleared on the way.
    pub fn load_locked(path: &Path) -> Result<ProfileDoc> {
        Self::modify(path, |doc| Ok((doc.clone(), false)))
    }

    /// Read-modify-write under OpenClaw's lock. `f` returns `Ok(true)` to write.
    pub fn modify<T>(
        path: &Path,
        f: impl FnOnce(&mut ProfileDoc) -> Result<(T, bool)>,
    ) -> Result<T> {
        with_lock(path, || {
            let mut doc = Self::load(path)?;
            let (out, write) = f(&mut doc)?;
            if write {
                fsutil::crash_point("profiles:before-write");
                doc.save()?;
            }
            Ok(out)
        })
    }

    fn profiles_map(&self) -> Option<&Map<String, Value>> {
        self.root.get("profiles").and_then(|p| p.as_object())
    }

    fn profiles_map_mut(&mut self) -> &mut Map<String, Value> {
        let entry = self
            .root
            .entry("profiles")
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        entry.as_object_mut().expect("just made an object")
    }

    pub fn profiles(&self) -> impl Iterator<Item = ProfileView<'_>> {
        self.profiles_map()
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(id, v)| v.as_object().map(|obj| ProfileView { id, obj }))
    }

    pub fn get(&self, id: &str) -> Option<ProfileView<'_>> {
        self.profiles_map()?
            .get_key_value(id)
            .and_then(|(id, v)| v.as_object().map(|obj| ProfileView { id, obj }))
    }

    pub fn len(&self) -> usize {
        self.profiles_map().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point a profile's material at `r`, creating the profile (type `ty`, provider
    /// `provider`) if it does not exist. Inline material fields are removed; every
    /// other field stays where it is.
    pub fn set_ref(&mut self, id: &str, ty: ProfileType, provider: &str, r: &SecretRef) {
        let (ref_field, drop): (&str, &[&str]) = match ty {
            ProfileType::Token => ("tokenRef", &["token"]),
            _ => ("keyRef", &["key", "apiKey"]),
        };
        let profiles = self.profiles_map_mut();
        let p = profiles
            .entry(id.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !p.is_object() {
            *p = Value::Object(Map::new());
        }
        let obj = p.as_object_mut().expect("object");
        if !obj.contains_key("type") && !obj.contains_key("mode") {
            obj.insert("type".into(), Value::String(ty.as_str().into()));
        }
        if !obj.contains_key("provider") {
            obj.insert("provider".into(), Value::String(provider.into()));
        }
        if let Some(slot) = obj.get_mut(ref_field) {
            *slot = r.to_value();
            for f in drop {
                obj.shift_remove(*f);
            }
            return;
        }
        // Put the ref where the inline field was, to keep the file readable.
        let old = std::mem::take(obj);
        let mut placed = false;
        for (k, v) in old {
            if drop.contains(&k.as_str()) {
                if !placed {
                    obj.insert(ref_field.into(), r.to_value());
                    placed = true;
                }
                continue;
            }
            obj.insert(k, v);
        }
        if !placed {
            obj.insert(ref_field.into(), r.to_value());
        }
    }

    /// Insert a whole profile object when `id` is absent; returns whether it was inserted.
    pub fn insert_profile(&mut self, id: &str, obj: Map<String, Value>) -> bool {
        let profiles = self.profiles_map_mut();
        if profiles.contains_key(id) {
            return false;
        }
        profiles.insert(id.to_string(), Value::Object(obj));
        true
    }

    /// Set (or clear with `None`) a top-level numeric field of a profile, such as `expires`.
    pub fn set_profile_field(&mut self, id: &str, field: &str, value: Option<Value>) {
        if let Some(Value::Object(obj)) = self.profiles_map_mut().get_mut(id) {
            match value {
                Some(v) => {
                    obj.insert(field.into(), v);
                }
                None => {
                    obj.shift_remove(field);
                }
            }
        }
    }

    /// Remove a profile and every reference to it in `order`. Returns the removed profile.
    pub fn remove_profile(&mut self, id: &str) -> Option<Map<String, Value>> {
        let removed = self.profiles_map_mut().shift_remove(id)?;
        // As OpenClaw does: a list emptied by the removal goes (an explicit empty
        // list would mean "use no profile of this provider"), and so does a
        // `lastGood` naming the profile.
        drop_from_order(&mut self.root, id, true);
        if let Some(Value::Object(last)) = self.root.get_mut("lastGood") {
            last.retain(|_, v| v.as_str() != Some(id));
        }
        // A stale cooldown must not follow a profile later recreated under this id.
        if let Some(Value::Object(stats)) = self.root.get_mut("usageStats") {
            stats.shift_remove(id);
        }
        removed.as_object().cloned()
    }

    /// The order override for `provider`, if any.
    pub fn order(&self, provider: &str) -> Option<Vec<String>> {
        order_in(&self.root, provider)
    }

    /// Check that every id is a profile of `provider`, as an order override needs.
    pub fn check_order_ids(&self, provider: &str, ids: &[String]) -> Result<()> {
        for id in ids {
            match self.get(id) {
                None => {
                    return Err(ProfileError::NoSuchProfile {
                        path: self.path.clone(),
                        id: id.clone(),
                    })
                }
                Some(p) if p.provider() != provider => {
                    return Err(ProfileError::Invalid(format!(
                        "profile {id:?} belongs to provider {:?}, not {provider:?}",
                        p.provider()
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Set the order override for `provider`. Every id must be a profile of that provider.
    pub fn set_order(&mut self, provider: &str, ids: &[String]) -> Result<()> {
        self.check_order_ids(provider, ids)?;
        set_order_in(&mut self.root, provider, ids);
        Ok(())
    }

    /// Remove the order override for `provider`; returns whether there was one.
    pub fn clear_order(&mut self, provider: &str) -> bool {
        clear_order_in(&mut self.root, provider)
    }

    /// The root object, for callers (migrations) that need to look at everything.
    pub fn root(&self) -> &Map<String, Value> {
        &self.root
    }
}

/// The file name of OpenClaw's sibling state file.
pub const AUTH_STATE_FILE: &str = "auth-state.json";

/// OpenClaw's `auth-state.json` (`order`, `lastGood`, `usageStats`), beside
/// `auth-profiles.json` in later releases. Kept losslessly like [`ProfileDoc`]; only
/// `order` lists and `lastGood` entries are ever changed.
#[derive(Debug, Clone)]
pub struct AuthState {
    path: PathBuf,
    root: Map<String, Value>,
}

impl AuthState {
    /// The `auth-state.json` beside an `auth-profiles.json`.
    pub fn beside(profiles_path: &Path) -> PathBuf {
        profiles_path.with_file_name(AUTH_STATE_FILE)
    }

    /// Parse bytes; the same strictness as [`ProfileDoc::parse`].
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<AuthState> {
        let root = parse_root(path, bytes)?;
        match root.get("lastGood") {
            None | Some(Value::Object(_)) => {}
            Some(_) => return Err(shape(path, "\"lastGood\" is not an object")),
        }
        Ok(AuthState {
            path: path.to_path_buf(),
            root,
        })
    }

    /// Load `path`; `None` when it does not exist. Symlinks are refused.
    pub fn load(path: &Path) -> Result<Option<AuthState>> {
        fsutil::read_private(path)?
            .map(|bytes| Self::parse(path, &bytes))
            .transpose()
    }

    /// Read-modify-write under OpenClaw's lock, when the file exists (checked under
    /// the lock): `Ok(None)` when it does not, and nothing is created. `f` returns
    /// `Ok(true)` to write.
    pub fn modify<T>(
        path: &Path,
        f: impl FnOnce(&mut AuthState) -> Result<(T, bool)>,
    ) -> Result<Option<T>> {
        if !fsutil::refuse_symlink(path)? {
            return Ok(None);
        }
        with_lock(path, || {
            let Some(mut st) = Self::load(path)? else {
                return Ok(None);
            };
            let (out, write) = f(&mut st)?;
            if write {
                fsutil::crash_point("auth-state:before-write");
                save_root(&st.path, &st.root)?;
            }
            Ok(Some(out))
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serialized as OpenClaw does: two-space indent, trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        root_bytes(&self.root)
    }

    /// The order override for `provider`, if any.
    pub fn order(&self, provider: &str) -> Option<Vec<String>> {
        order_in(&self.root, provider)
    }

    /// Set the order override for `provider` (the caller checks the ids against the
    /// profiles, which live in `auth-profiles.json`).
    pub fn set_order(&mut self, provider: &str, ids: &[String]) {
        set_order_in(&mut self.root, provider, ids)
    }

    /// Remove the order override for `provider`; returns whether there was one.
    pub fn clear_order(&mut self, provider: &str) -> bool {
        clear_order_in(&mut self.root, provider)
    }

    /// Forget a logged-out profile as OpenClaw does: drop it from every `order` list
    /// (a list it leaves empty goes too: OpenClaw reads an empty list as "use no
    /// profile") and drop the `lastGood` entries naming it. `usageStats` is left
    /// alone. Returns whether anything changed.
    pub fn forget_profile(&mut self, id: &str) -> bool {
        let mut changed = drop_from_order(&mut self.root, id, true);
        if let Some(Value::Object(last)) = self.root.get_mut("lastGood") {
            let before = last.len();
            last.retain(|_, v| v.as_str() != Some(id));
            changed |= last.len() != before;
        }
        changed
    }

    /// The root object.
    pub fn root(&self) -> &Map<String, Value> {
        &self.root
    }
}

fn shape(path: &Path, reason: &str) -> ProfileError {
    ProfileError::Shape {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The checks every OpenClaw auth document gets: strict JSON (duplicate keys
/// refused), a top-level object, a `version` we understand, an object `order`.
fn parse_root(path: &Path, bytes: &[u8]) -> Result<Map<String, Value>> {
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

fn root_bytes(root: &Map<String, Value>) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(&Value::Object(root.clone()))
        .expect("a JSON tree always serializes");
    s.push('\n');
    s.into_bytes()
}

/// Write atomically, 0600, creating the directory 0700 if needed.
fn save_root(path: &Path, root: &Map<String, Value>) -> Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            fsutil::ensure_private_dir(dir)?;
        }
    }
    fsutil::write_atomic(path, &root_bytes(root))?;
    Ok(())
}

/// Run `f` holding OpenClaw's `<path>.lock` (creating the directory 0700 if needed).
fn with_lock<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            fsutil::ensure_private_dir(dir)?;
        }
    }
    let _lock = FileLock::acquire(path, lock_wait())?;
    f()
}

fn order_in(root: &Map<String, Value>, provider: &str) -> Option<Vec<String>> {
    let list = root.get("order")?.get(provider)?.as_array()?;
    Some(
        list.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    )
}

fn set_order_in(root: &mut Map<String, Value>, provider: &str, ids: &[String]) {
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

fn clear_order_in(root: &mut Map<String, Value>, provider: &str) -> bool {
    match root.get_mut("order") {
        Some(Value::Object(o)) => o.shift_remove(provider).is_some(),
        _ => false,
    }
}

/// Drop `id` from every `order` list; with `drop_emptied`, a list this leaves empty
/// is removed. Returns whether anything changed.
fn drop_from_order(root: &mut Map<String, Value>, id: &str, drop_emptied: bool) -> bool {
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

fn lock_wait() -> Duration {
    std::env::var("CLAWVAULT_LOCK_WAIT_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(fsutil::LOCK_WAIT)
}

#[cfg(test)]
mod tests {
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
}
