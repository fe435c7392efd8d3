//! `models auth link`: point an entry of an OpenBao vault at an existing KV v2
//! field (kept in vault.json, which holds no secrets).

use super::*;
use crate::backend::openbao::KvLink;
use crate::backend::EntryName;

impl Vault {
    /// Link `name` to `link` (or remove its link with `None`). The field must read
    /// with the current token before the link is saved; returns the manifest path.
    pub fn set_openbao_link(&mut self, name: &EntryName, link: Option<KvLink>) -> Result<PathBuf> {
        let path = Self::manifest_path(&self.dir);
        let BackendConfig::Openbao(cfg) = &self.manifest.backend else {
            return Err(VaultError::Manifest {
                path,
                reason: format!(
                    "links to existing KV fields need the openbao backend; this vault uses {}",
                    self.manifest.backend.kind()
                ),
            });
        };
        let mut cfg = (**cfg).clone();
        match link {
            Some(l) => {
                cfg.links.insert(name.as_str().to_string(), l.clone());
                let probe = OpenBaoBackend::new(&cfg)?;
                if probe.get(name)?.is_none() {
                    return Err(VaultError::Backend(BackendError::Other(format!(
                        "nothing to link: {l} does not exist (or its latest version is deleted); create it first or fix --kv"
                    ))));
                }
            }
            None => {
                cfg.links.remove(name.as_str());
            }
        }
        self.manifest.backend = BackendConfig::Openbao(Box::new(cfg));
        self.write_manifest()?;
        self.backend = std::sync::OnceLock::new();
        Ok(path)
    }
}
