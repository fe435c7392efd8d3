//! `auth-profiles.json`: the profiles, their material and `order`.

use super::store::*;
use super::*;

/// The whole document.
#[derive(Debug, Clone)]
pub struct ProfileDoc {
    pub(super) path: PathBuf,
    pub(super) root: Map<String, Value>,
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
