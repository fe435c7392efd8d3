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

/// How much stack [`scrub_stack`] overwrites: far more than the deepest call chain
/// that handles key material (parsing the identity, X25519, age decryption, Argon2id
/// unwrapping), well within a 2 MiB thread stack.
pub const STACK_SCRUB_BYTES: usize = 256 * 1024;

/// Overwrite [`STACK_SCRUB_BYTES`] of this thread's stack below the caller's frame.
///
/// Key material passed by value (x25519-dalek copies the 32 secret bytes into its
/// callees' frames; `Identity::from_str` builds a `[u8; 32]` on the stack) is left
/// behind in dead stack frames, where neither `Zeroize` nor `Drop` reach it. The
/// agent's threads are long-lived, so such residue would outlive `lock`.
#[inline(never)]
pub fn scrub_stack() {
    let mut buf = [0u8; STACK_SCRUB_BYTES];
    zeroize::Zeroize::zeroize(&mut buf[..]);
    std::hint::black_box(&buf);
}

/// Run `f` in a frame of its own, then [`scrub_stack`] over the frames it used.
/// Whatever `f` returns must not hold key material inline (heap-backed secrets are
/// fine).
pub fn with_scrubbed_stack<T>(f: impl FnOnce() -> T) -> T {
    #[inline(never)]
    fn call<T>(f: impl FnOnce() -> T) -> T {
        f()
    }
    let r = call(f);
    scrub_stack();
    r
}
