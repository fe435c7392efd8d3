//! `auth-state.json`: `order`, `lastGood` and `usageStats` in later releases.

use super::store::*;
use super::*;

/// The file name of OpenClaw's sibling state file.
pub const AUTH_STATE_FILE: &str = "auth-state.json";

/// OpenClaw's `auth-state.json` (`order`, `lastGood`, `usageStats`), beside
/// `auth-profiles.json` in later releases. Kept losslessly like [`ProfileDoc`]; only
/// `order` lists and `lastGood` entries are ever changed.
#[derive(Debug, Clone)]
pub struct AuthState {
    pub(super) path: PathBuf,
    pub(super) root: Map<String, Value>,
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
