//! The vault identity remembered in the OS keychain (`clawvault unlock --remember
//! keychain`): one item, service `clawvault-identity:<vault-id>`, account `identity`.

use crate::backend::keychain_item;
pub use crate::backend::keychain_item::Lookup;
use crate::secret::SecretString;

pub const ACCOUNT: &str = "identity";

pub fn service(vault_id: &str) -> String {
    format!("clawvault-identity:{vault_id}")
}

/// Read the remembered identity.
pub fn get(vault_id: &str) -> Result<Lookup, String> {
    keychain_item::get(&service(vault_id), ACCOUNT)
}

/// Remember `identity` for `vault_id`; reads it back to prove it was stored.
pub fn store(vault_id: &str, identity: &SecretString) -> Result<String, String> {
    keychain_item::store(&service(vault_id), ACCOUNT, identity)
}

/// Forget the remembered identity. `Ok(false)` when there was none.
pub fn forget(vault_id: &str) -> Result<bool, String> {
    keychain_item::forget(&service(vault_id), ACCOUNT)
}
