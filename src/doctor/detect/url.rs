//! URLs: the password in `scheme://user:password@host` and the secret path of
//! Slack and Discord incoming webhooks.

use super::plausible::*;
use super::validate::*;
use super::*;

impl Detector {
    /// A Slack or Discord incoming-webhook URL (`p` at `://`): its secret path.
    pub(super) fn webhook_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
        let rest = &hay[(p + 3).min(hay.len())..];
        for (prefixes, re) in &self.webhooks {
            for prefix in prefixes.iter() {
                if rest.len() > prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix) {
                    let s = p + 3 + prefix.len();
                    let m = re.find(&hay[s..hay.len().min(s + 160)])?;
                    let e = s + m.end();
                    if hay.get(e).is_some_and(|b| b.is_ascii_alphanumeric())
                        || is_placeholder(&hay[s..e])
                    {
                        return None;
                    }
                    return Some(make_hit(hay, s, e, Kind::WebhookUrl, None));
                }
            }
        }
        None
    }

    /// `scheme://user:password@host`: the password; or a webhook URL's secret path.
    pub(super) fn url_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
        if let Some(h) = self.webhook_at(hay, p) {
            return Some(h);
        }
        // The scheme before `://` must be letters.
        let mut s = p;
        while s > 0 && p - s < 16 && (hay[s - 1].is_ascii_alphanumeric() || hay[s - 1] == b'+') {
            s -= 1;
        }
        if s == p {
            return None;
        }
        let mut i = p + 3;
        let lim = hay.len().min(i + 256);
        let user_start = i;
        while i < lim && url_cred_byte(hay[i]) && hay[i] != b':' {
            i += 1;
        }
        if i >= lim || hay[i] != b':' || i == user_start {
            return None;
        }
        i += 1;
        let pw_start = i;
        // The first `:` ends the user name; the password may hold more (RFC 3986
        // userinfo) and, unencoded as people paste it, `@` too: the authority's
        // last `@` ends it (`postgres://app:b@w5…@db:5432`).
        let mut at = None;
        while i < lim && (url_cred_byte(hay[i]) || hay[i] == b'@') {
            if hay[i] == b'@' {
                at = Some(i);
            }
            i += 1;
        }
        let i = at?;
        if i - pw_start < 6 {
            return None;
        }
        let v = &hay[pw_start..i];
        if is_placeholder(v) || !has_entropy(v, 2.5) {
            return None;
        }
        let kind = self
            .classify(v)
            .filter(|_| plausible_token(v))
            .unwrap_or(Kind::UrlPassword);
        Some(make_hit(hay, pw_start, i, kind, None))
    }
}
