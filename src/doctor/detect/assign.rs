//! Assignments: `NAME=value`, `"name": "value"`, `--name value`, `set NAME VALUE`,
//! `.netrc` lines, and which names are credential names.

use super::plausible::*;
use super::validate::*;
use super::*;

impl Detector {
    /// `NAME=value`, `"name": "value"`, `--name value`, `<key>NAME</key><string>v`.
    /// `Err(end of name)` when the anchor sits in a name that is not an assignment.
    pub(super) fn assign_at(&self, hay: &[u8], p: usize) -> Result<Hit, usize> {
        let mut ns = p;
        while ns > 0 && p - ns < MAX_NAME && is_name_byte(hay[ns - 1]) {
            ns -= 1;
        }
        let mut ne = p;
        let lim = hay.len().min(p + MAX_NAME);
        while ne < lim && is_name_byte(hay[ne]) {
            ne += 1;
        }
        if ns > 0 && hay[ns - 1].is_ascii_alphanumeric() {
            return Err(ne);
        }
        let raw_name = &hay[ns..ne];
        let flag = raw_name.starts_with(b"-");
        let name = trim_name(raw_name);
        // Separator first: it rejects prose ("the key file") cheaply.
        let mut i = ne;
        let end = hay.len();
        let mut quotes = 0;
        while i < end && quotes < 4 && matches!(hay[i], b'"' | b'\'' | b'\\' | b'`') {
            i += 1;
            quotes += 1;
        }
        let sp = |i: &mut usize| {
            let s = *i;
            while *i < end && *i - s < 16 && matches!(hay[*i], b' ' | b'\t') {
                *i += 1;
            }
        };
        sp(&mut i);
        let mut sep = false;
        let mut shape_only = false;
        if i < end && (hay[i] == b'=' || hay[i] == b':') {
            i += 1;
            sep = true;
            if i < end && (hay[i] == b'=' || hay[i] == b'>') {
                i += 1;
            }
        } else if let Some(n) = (quotes > 0)
            .then(|| change_value_field(&hay[i..]))
            .flatten()
        {
            // A change record names the field in a sibling: OpenClaw-style
            // `{"path":"channels.discord.token","to":"…"}`.
            i += n;
            sep = true;
        } else if hay[i..].starts_with(b"->") {
            // Notes and chat: "slack signing secret -> …".
            i += 2;
            sep = true;
        } else if hay[i..].starts_with(b"</key>") {
            i += 6;
            while i < end && i - ne < 64 && hay[i].is_ascii_whitespace() {
                i += 1;
            }
            if hay[i..].starts_with(b"<string>") {
                i += 8;
                sep = true;
            }
        } else if flag && i > ne && quotes == 0 {
            sep = true;
        } else if quotes == 0 && i > ne && hay[i..].starts_with(b"is ") {
            // Prose in transcripts: "the gateway token is 3f9c…".
            i += 3;
            sep = true;
        } else if i > ne && (hay[i..].starts_with(b"to ") || hay[i..].starts_with(b"is ")) {
            // "I set `MISTRAL_API_KEY` to `…`": prose, so only a provider's format
            // or a value quoted after a strong name.
            i += 3;
            sep = true;
            shape_only = true;
        } else if quotes == 0 && i > ne {
            // `set NAME VALUE` (`aws configure set`, `openclaw config set`): the
            // command names the credential. Otherwise a space after a credential
            // word is prose ("for token …"), taken only for a value of a provider's
            // own format.
            sep = true;
            shape_only = !set_command(hay, ns) && !netrc_password(hay, ns, name);
        }
        if !sep {
            return Err(ne);
        }
        sp(&mut i);
        let mut q = 0;
        while i < end && q < 4 && matches!(hay[i], b'"' | b'\'' | b'\\' | b'`') {
            i += 1;
            q += 1;
        }
        let Some((s, e)) = value_span(hay, i) else {
            return Err(ne);
        };
        // Code: `process.env.KEY ?? 'value'`, `a.clientSecret||""`.
        let (s, e) = match code_fallback(hay, s, e) {
            None => (s, e),
            Some(Some(span)) => span,
            Some(None) => return Err(ne),
        };
        if e - s < 12 || !credential_name(name) {
            return Err(ne);
        }
        let v = &hay[s..e];
        // Prose that quotes the value right after a strong word ("saved the
        // signing secret token `…`") says what it is as plainly as `NAME=`.
        // "signing secret key: …": the word before a weak name can make it strong.
        let strong = strong_name(name) || strong_word_before(hay, ns);
        let quoted = q > 0 && hay.get(e) == Some(&hay[s - 1]) && strong;
        let shown = if flag { trim_end_name(raw_name) } else { name };
        let name_str = String::from_utf8_lossy(shown).into_owned();
        let kind = match self.classify(v) {
            Some(_) if !plausible_token(v) => return Err(ne),
            Some(k) => k,
            None if shape_only && !quoted => return Err(ne),
            None => {
                if !credential_like(v, strong && !digest_name(name)) {
                    return Err(ne);
                }
                kind_from_name(name)
            }
        };
        Ok(make_hit(hay, s, e, kind, Some(name_str)))
    }
}

/// After a quoted field path (`"channels.discord.token"`), the sibling that holds
/// its value in a change or diff record: `,"to":`, `,"value":`, `,"new":`,
/// `,"from":`, `,"old":`. Returns how many bytes it spans.
fn change_value_field(rest: &[u8]) -> Option<usize> {
    let mut i = 0;
    if rest.first() != Some(&b',') {
        return None;
    }
    i += 1;
    while rest.get(i) == Some(&b' ') {
        i += 1;
    }
    for f in [
        &b"\"to\""[..],
        b"\"value\"",
        b"\"new\"",
        b"\"from\"",
        b"\"old\"",
    ] {
        if rest[i..].starts_with(f) {
            let mut j = i + f.len();
            while rest.get(j) == Some(&b' ') {
                j += 1;
            }
            return (rest.get(j) == Some(&b':')).then_some(j + 1);
        }
    }
    None
}

/// The word right before the name on its line is a strong one (`secret key`,
/// `access token key`): "signing secret key: 9f…" names a secret, not a cache key.
fn strong_word_before(hay: &[u8], ns: usize) -> bool {
    let ls = line_start_near(hay, ns);
    hay[ls..ns]
        .split(|b| !b.is_ascii_alphanumeric() && *b != b'_' && *b != b'-')
        .rfind(|w| !w.is_empty())
        .is_some_and(|w| ns - ls > w.len() && hay[ns - 1] == b' ' && strong_name(w))
}

/// A value that is code: an identifier path (`process.env.MISTRAL_API_KEY`,
/// `a.clientSecret`) with a `??` or `||` fallback after it. `None`: not code;
/// `Some(None)`: code with no literal fallback (minified `{clientSecret:a.clientSecret||""}`);
/// `Some(Some(span))`: the fallback literal, which is what sits in the file.
fn code_fallback(hay: &[u8], s: usize, e: usize) -> Option<Option<(usize, usize)>> {
    let v = &hay[s..e];
    let op = v.windows(2).position(|w| w == b"||" || w == b"??");
    let (id_end, mut j) = match op {
        Some(k) => (s + k, s + k + 2),
        None => {
            let mut j = e;
            while j < hay.len() && j - e < 4 && hay[j] == b' ' {
                j += 1;
            }
            let rest = &hay[j..];
            if !(rest.starts_with(b"||") || rest.starts_with(b"??")) {
                return None;
            }
            (e, j + 2)
        }
    };
    let id = &hay[s..id_end];
    // Glued to the value (`a.b||x`) only a path counts: a password may hold `||`.
    let code = if op.is_some() {
        is_dotted_identifier(id)
    } else {
        is_identifier_path(id)
    };
    if !code {
        return None;
    }
    while j < hay.len() && j - id_end < 8 && hay[j] == b' ' {
        j += 1;
    }
    let quote = hay
        .get(j)
        .copied()
        .filter(|b| matches!(b, b'"' | b'\'' | b'`'));
    if quote.is_none() {
        return Some(None);
    }
    Some(value_span(hay, j + 1).filter(|&(_, ve)| hay.get(ve) == quote.as_ref()))
}

pub(super) fn trim_name(n: &[u8]) -> &[u8] {
    let mut n = n;
    while let [b'-' | b'.' | b'_', rest @ ..] = n {
        n = rest;
    }
    while let [rest @ .., b'-' | b'.' | b'_'] = n {
        n = rest;
    }
    n
}

pub(super) fn trim_end_name(n: &[u8]) -> &[u8] {
    let mut n = n;
    while let [rest @ .., b'-' | b'.' | b'_'] = n {
        n = rest;
    }
    n
}

/// Split `OPENAI_API_KEY`, `botToken`, `x-api-key` into words (byte ranges).
/// At most 16 words; the rest of a longer name is one last word.
pub(super) fn word_ranges(name: &[u8], out: &mut [(usize, usize); 16]) -> usize {
    let mut n = 0;
    let mut start: Option<usize> = None;
    let mut prev_lower = false;
    for (i, &b) in name.iter().enumerate() {
        let sep = matches!(b, b'_' | b'-' | b'.');
        let camel = b.is_ascii_uppercase() && prev_lower;
        if sep || camel {
            if let Some(st) = start.take() {
                if n < 15 {
                    out[n] = (st, i);
                    n += 1;
                } else {
                    start = Some(st);
                }
            }
        }
        if !sep && start.is_none() {
            start = Some(i);
        }
        prev_lower = !sep && (b.is_ascii_lowercase() || b.is_ascii_digit());
    }
    if let Some(st) = start {
        out[n] = (st, name.len());
        n += 1;
    }
    n
}

#[cfg(test)]
pub(super) fn words(name: &[u8]) -> Vec<String> {
    let mut r = [(0, 0); 16];
    let n = word_ranges(name, &mut r);
    r[..n]
        .iter()
        .map(|&(a, b)| String::from_utf8_lossy(&name[a..b]).to_ascii_lowercase())
        .collect()
}

pub(super) fn ends_with_ci(w: &[u8], suffix: &str) -> bool {
    w.len() >= suffix.len() && w[w.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

pub(super) const CRED_WORDS: &[&str] = &[
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "pass",
    "pwd",
    "credential",
    "credentials",
    "auth",
    "apikey",
    "refresh",
    "access",
    "bearer",
];
pub(super) const CRED_SUFFIXES: &[&str] = &[
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "accesskey",
    "privatekey",
    "secretkey",
    "authkey",
];
/// Last words that make a credential-named field metadata, not the credential.
pub(super) const META_WORDS: &[&str] = &[
    "ref",
    "refs",
    "id",
    "ids",
    "hash",
    "hashed",
    "digest",
    "fingerprint",
    "count",
    "limit",
    "limits",
    "size",
    "len",
    "length",
    "file",
    "files",
    "path",
    "dir",
    "url",
    "uri",
    "endpoint",
    "type",
    "name",
    "names",
    "mode",
    "header",
    "prefix",
    "env",
    "var",
    "source",
    "format",
    "expires",
    "expiry",
    "at",
    "ttl",
    "timeout",
    "usage",
    "provider",
    "index",
    "version",
    "tokens",
    "cmd",
    "command",
    "helper",
    "required",
    "enabled",
    "method",
    "kind",
    "policy",
    "scope",
    "scopes",
    "label",
    "hint",
    "display",
    "status",
    "level",
    "log",
];

pub(crate) fn credential_name(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > 64 {
        return false;
    }
    let mut r = [(0, 0); 16];
    let n = word_ranges(name, &mut r);
    if n == 0 {
        return false;
    }
    let (a, b) = r[n - 1];
    let last = &name[a..b];
    if META_WORDS
        .iter()
        .any(|m| last.eq_ignore_ascii_case(m.as_bytes()))
    {
        return false;
    }
    r[..n].iter().any(|&(a, b)| {
        let w = &name[a..b];
        CRED_WORDS
            .iter()
            .any(|c| w.eq_ignore_ascii_case(c.as_bytes()))
            || CRED_SUFFIXES.iter().any(|s| ends_with_ci(w, s))
    })
}

/// Names that say "this is a secret" outright (hex values of digest length are
/// accepted under them: gateway tokens are often hex).
pub(super) fn strong_name(name: &[u8]) -> bool {
    contains_any_ci(
        name,
        &[
            b"token",
            b"secret",
            b"password",
            b"passwd",
            b"apikey",
            b"api_key",
            b"api-key",
        ],
    )
}

/// Names that say the value is a digest (`integrity_token_sha256`, `checksum`):
/// a hex digest under them is not a token even when "token" is in the name.
pub(super) fn digest_name(name: &[u8]) -> bool {
    contains_any_ci(
        name,
        &[
            b"sha1",
            b"sha256",
            b"sha512",
            b"digest",
            b"checksum",
            b"hash",
            b"integrity",
            b"md5",
        ],
    )
}

/// `name` holds one of the lowercase `words`, in any case.
fn contains_any_ci(name: &[u8], words: &[&[u8]]) -> bool {
    let l = name.to_ascii_lowercase();
    words.iter().any(|w| l.windows(w.len()).any(|x| x == *w))
}

pub(crate) fn kind_from_name(name: &[u8]) -> Kind {
    let l = String::from_utf8_lossy(name).to_ascii_lowercase();
    if l.contains("pass") || l.contains("pwd") {
        Kind::Password
    } else if l.contains("aws") && l.contains("secret") {
        Kind::AwsSecretKey
    } else if l.contains("refresh") {
        Kind::OauthRefreshToken
    } else if l.contains("gateway") {
        Kind::GatewayToken
    } else if l.contains("telegram") {
        Kind::TelegramBotToken
    } else if l.contains("discord") {
        Kind::DiscordBotToken
    } else {
        Kind::NamedCredential
    }
}

/// Where the line holding `ns` starts, looking back at most [`MAX_LOOKBEHIND`] bytes
/// (a bounded look keeps a long single-line file linear to scan).
pub(super) fn line_start_near(hay: &[u8], ns: usize) -> usize {
    let from = ns.saturating_sub(MAX_LOOKBEHIND);
    hay[from..ns]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(from, |i| from + i + 1)
}

/// The words before the name on its line end with `set` and its flags only:
/// `aws configure set NAME`, `openclaw config set NAME`, fish's `set -gx NAME`.
pub(super) fn set_command(hay: &[u8], ns: usize) -> bool {
    let ls = line_start_near(hay, ns);
    let mut words = hay[ls..ns]
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|w| !w.is_empty())
        .rev()
        .skip_while(|w| w.len() > 1 && w[0] == b'-');
    words.next() == Some(b"set".as_slice())
}

/// `password VALUE` as `.netrc` writes it: the keyword first on its line, or after
/// `login NAME` (`machine host login me password VALUE`).
pub(super) fn netrc_password(hay: &[u8], ns: usize, name: &[u8]) -> bool {
    if name != b"password" {
        return false;
    }
    let ls = line_start_near(hay, ns);
    let before = &hay[ls..ns];
    if before.iter().all(|b| *b == b' ' || *b == b'\t') {
        return true;
    }
    let words: Vec<&[u8]> = before
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|w| !w.is_empty())
        .collect();
    words.len() >= 2 && words[words.len() - 2] == b"login"
}
