//! A static token kept in the OS keychain (`init --token-keychain`).

use crate::secret::ExposeSecret;
use crate::secret::SecretString;

/// The keychain account under which `--token-keychain` keeps the token.
pub const TOKEN_ACCOUNT: &str = "token";

/// The keychain service of a vault's OpenBao token.
pub fn token_keychain_service(vault_id: &str) -> String {
    format!("clawvault-openbao-token:{vault_id}")
}

/// Read the token `init --token-keychain` stored.
pub fn keychain_token_get(service: &str) -> std::result::Result<SecretString, String> {
    use crate::backend::keychain_item::{self, Lookup};
    let why = |e: String| format!("the OpenBao token is kept in the OS keychain: {e}");
    match keychain_item::get(service, TOKEN_ACCOUNT).map_err(why)? {
        Lookup::Found(t) => Ok(SecretString::from(t.expose_secret().trim().to_string())),
        Lookup::Absent { store } => Err(format!(
            "{store} has no OpenBao token for this vault (item {service}); it was removed, or this is another user's session"
        )),
    }
}

/// Store the token (`init --token-keychain`).
pub fn keychain_token_set(service: &str, token: &SecretString) -> std::result::Result<(), String> {
    crate::backend::keychain_item::store(service, TOKEN_ACCOUNT, token)
        .map(|_| ())
        .map_err(|e| format!("cannot store the OpenBao token in the OS keychain: {e}"))
}

/// Remove the token item; `Ok(false)` when there was none.
pub fn keychain_token_delete(service: &str) -> std::result::Result<bool, String> {
    crate::backend::keychain_item::forget(service, TOKEN_ACCOUNT)
}
