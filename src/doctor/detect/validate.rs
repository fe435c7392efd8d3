//! Validators for the anchors that are not assignments: provider formats,
//! Telegram, `Bearer` and `Bot` schemes, and the byte classes they share.

use super::plausible::*;
use super::*;

impl Detector {
    pub(super) fn provider(
        &self,
        hay: &[u8],
        p: usize,
        rules: &[ProviderRule],
        packed: bool,
    ) -> Option<Hit> {
        let bounded = left_boundary(hay, p);
        if !bounded && !packed {
            return None;
        }
        let win = &hay[p..hay.len().min(p + MAX_LOOKAHEAD)];
        for r in rules {
            let Some(m) = r.re.find(win) else { continue };
            let end = p + m.end();
            if r.fixed && hay.get(end).is_some_and(|&b| is_token_byte(b)) {
                continue;
            }
            let v = &hay[p..end];
            if is_placeholder(v) || !random_enough(body_of(v)) {
                return None;
            }
            // Glued to a word, the bare `sk-` format also matches ids such as
            // `task-<hex digest>`: take it only when it does not look like one.
            if !bounded
                && r.kind == Kind::OpenAiLegacyKey
                && v[3..].iter().all(|b| b.is_ascii_hexdigit())
            {
                return None;
            }
            return Some(make_hit(hay, p, end, r.kind, None));
        }
        None
    }

    /// `csk-…` (Cerebras), found through its `sk-` anchor one byte later.
    pub(super) fn cerebras_at(&self, hay: &[u8], p: usize, packed: bool) -> Option<Hit> {
        if p == 0 || hay[p - 1] != b'c' {
            return None;
        }
        let rule = std::slice::from_ref(&self.prefix_rules[self.cerebras]);
        self.provider(hay, p - 1, rule, packed)
    }

    pub(super) fn telegram_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
        let mut s = p;
        while s > 0 && p - s < 10 && hay[s - 1].is_ascii_digit() {
            s -= 1;
        }
        // `https://api.telegram.org/bot<id>:<secret>/sendMessage`: the Bot API
        // puts the token right after `bot` in the URL path.
        let in_bot_path = s >= 4 && &hay[s - 4..s] == b"/bot";
        if p - s < 8 || !(left_boundary(hay, s) || in_bot_path) {
            return None;
        }
        let win = &hay[s..hay.len().min(s + 64)];
        let m = self.telegram.find(win)?;
        let end = s + m.end();
        if hay.get(end).is_some_and(|&b| is_token_byte(b)) {
            return None;
        }
        if !random_enough(&hay[p + 3..end]) {
            return None;
        }
        Some(make_hit(hay, s, end, Kind::TelegramBotToken, None))
    }

    pub(super) fn bearer_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
        // `p` is the letter before `earer`.
        if p >= hay.len() || !matches!(hay[p], b'B' | b'b') || !left_boundary(hay, p) {
            return None;
        }
        let mut i = p + 6;
        let ws = i;
        while i < hay.len() && i - ws < 8 && (hay[i] == b' ' || hay[i] == b'\t') {
            i += 1;
        }
        if i == ws {
            return None;
        }
        let (s, e) = value_span(hay, i)?;
        let v = &hay[s..e];
        let kind = self.classify(v);
        if kind.is_some() && !plausible_token(v) || kind.is_none() && !credential_like(v, false) {
            return None;
        }
        Some(make_hit(
            hay,
            s,
            e,
            kind.unwrap_or(Kind::BearerToken),
            Some("Authorization: Bearer".into()),
        ))
    }

    /// `Authorization: Bot <token>` (Discord): only a value of Discord's token shape.
    pub(super) fn bot_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
        if !left_boundary(hay, p) {
            return None;
        }
        let mut i = p + 4;
        while i < hay.len() && i - p < 12 && (hay[i] == b' ' || hay[i] == b'\t') {
            i += 1;
        }
        let (s, e) = value_span(hay, i)?;
        let v = &hay[s..e];
        if !self.discord.is_match(v) || !plausible_token(v) {
            return None;
        }
        Some(make_hit(
            hay,
            s,
            e,
            Kind::DiscordBotToken,
            Some("Authorization: Bot".into()),
        ))
    }
}

pub(super) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

pub(super) fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

pub(super) fn url_cred_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'/' | b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`' | b'@')
}

/// The byte before `p` does not continue a word. An escaped `\n`/`\t` counts as a
/// boundary (secrets inside JSON strings in transcripts).
pub(super) fn left_boundary(hay: &[u8], p: usize) -> bool {
    if p == 0 {
        return true;
    }
    let b = hay[p - 1];
    if !b.is_ascii_alphanumeric() {
        return true;
    }
    p >= 2 && hay[p - 2] == b'\\' && matches!(b, b'n' | b't' | b'r')
}

pub(super) fn value_byte(b: u8) -> bool {
    b.is_ascii_graphic()
        && !matches!(
            b,
            b'"' | b'\''
                | b'`'
                | b'\\'
                | b','
                | b';'
                | b'{'
                | b'}'
                | b'['
                | b']'
                | b'('
                | b')'
                | b'<'
                | b'>'
                | b'&'
        )
}

/// The value starting at `i`, bounded; `None` when it is empty or too long to be a key.
pub(super) fn value_span(hay: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut e = i;
    let lim = hay.len().min(i + MAX_VALUE + 1);
    while e < lim && value_byte(hay[e]) {
        e += 1;
    }
    if e == i || e - i > MAX_VALUE {
        return None;
    }
    Some((i, e))
}
