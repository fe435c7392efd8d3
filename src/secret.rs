//! Secret material in memory: always wrapped, never printable.

pub use secrecy::{ExposeSecret, SecretBox, SecretSlice, SecretString};

/// Secret bytes (a key, a token, an identity). Zeroized on drop, no `Debug` output.
pub type SecretBytes = SecretSlice<u8>;

/// Wrap a byte vector at once.
pub fn secret_bytes(v: Vec<u8>) -> SecretBytes {
    SecretBytes::from(v)
}

/// Strip one trailing `\n` or `\r\n` in place (what a shell `echo` or a file adds).
pub fn strip_trailing_newline(v: &mut Vec<u8>) {
    if v.last() == Some(&b'\n') {
        v.pop();
        if v.last() == Some(&b'\r') {
            v.pop();
        }
    }
}
