//! Whether one value, on its own, is a token in a format the detector knows: how
//! `migrate` decides about an `openclaw.json` header or env map entry whose name
//! says nothing (`MY_SERVICE_PAT: ghp_…`, `X-Upstream: Bearer sk-proj-…`), so that
//! it moves what `doctor` reports.
//!
//! In `.env` files it does not move a value: what `import-env` moves, `clawvault
//! exec` must be able to set again, and `exec` admits a variable by its name alone
//! (a hostile `.env` must not get `exec` to set an arbitrary variable by giving it
//! a token-shaped value). There `import-env` reports such a line as kept, saying
//! why, and `doctor`'s hint says to rename it.

use std::sync::OnceLock;

use super::Detector;

/// `value` (trimmed, after an authorization scheme `Bearer`, `Bot` or `Token` if it
/// has one) is whole a token in a provider format ([`Detector::classify`]).
pub fn is_known_token(value: &str) -> bool {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    let v = value.trim();
    let v = ["Bearer ", "Bot ", "Token "]
        .iter()
        .find_map(|scheme| {
            v.get(..scheme.len())
                .filter(|p| p.eq_ignore_ascii_case(scheme))
                .map(|_| v[scheme.len()..].trim_start())
        })
        .unwrap_or(v);
    DETECTOR
        .get_or_init(|| Detector::new(&[]))
        .classify(v.as_bytes())
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_tokens_after_a_scheme_and_nothing_else() {
        // Built at run time: no token-shaped literal in the source.
        let pat = format!(
            "ghp_{}",
            "Qm7vXr2LpT9wKd4HsZ1nBy6c".repeat(2).get(..36).unwrap()
        );
        assert!(is_known_token(&pat));
        assert!(is_known_token(&format!("  bearer {pat} ")));
        assert!(is_known_token(&format!("Token {pat}")));
        // Not whole: a token inside a longer value, or cut short.
        assert!(!is_known_token(&format!("{pat}/extra path")));
        assert!(!is_known_token(&pat[..20]));
        for v in [
            "",
            "info",
            "application/json",
            "Bearer ",
            "eu-west-1",
            "Zx81kQ0vP3mN7bT5cR2wY9hL4",
        ] {
            assert!(!is_known_token(v), "{v}");
        }
    }
}
