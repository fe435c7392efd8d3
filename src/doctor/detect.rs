//! Credential detection on raw bytes: a multi-pattern prefilter (Aho-Corasick over
//! short anchors such as `sk-`, `AIza`, `token`, `Bearer`) finds candidate places,
//! and only there an anchored validator runs (a small regex for provider formats,
//! hand-written code for `NAME=value` assignments, `Bearer`, URLs with passwords).
//!
//! A [`Hit`] never holds the secret: only its span in the buffer it was found in,
//! its kind, a SHA-256 of its bytes and a redacted preview.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use regex::bytes::Regex;
use sha2::{Digest, Sha256};

use super::formats::PREFIX_FORMATS;
use crate::secret::{ExposeSecret, SecretBytes};

/// What a secret looks like to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    AnthropicApiKey,
    AnthropicOauthToken,
    AnthropicRefreshToken,
    OpenAiProjectKey,
    OpenAiLegacyKey,
    OpenRouterKey,
    GoogleApiKey,
    GoogleRefreshToken,
    GroqKey,
    XaiKey,
    HuggingFaceToken,
    GithubToken,
    SlackToken,
    TelegramBotToken,
    DiscordBotToken,
    AwsAccessKeyId,
    AwsSecretKey,
    PerplexityKey,
    NvidiaKey,
    CerebrasKey,
    FireworksKey,
    TogetherKey,
    ReplicateToken,
    TavilyKey,
    BraveKey,
    FirecrawlKey,
    StripeOrElevenLabsKey,
    SendgridKey,
    MatrixToken,
    GoogleAccessToken,
    NotionToken,
    LinearKey,
    GitlabToken,
    NpmToken,
    PypiToken,
    Jwt,
    OauthRefreshToken,
    GatewayToken,
    Password,
    UrlPassword,
    BearerToken,
    /// The secret path of a Slack or Discord incoming-webhook URL (whoever holds the
    /// URL can post as the integration).
    WebhookUrl,
    /// A value assigned to a credential-named variable, key or flag.
    NamedCredential,
    /// A byte-exact copy of a secret held in the vault.
    VaultSecret,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::AnthropicApiKey => "Anthropic API key",
            Kind::AnthropicOauthToken => "Anthropic OAuth token",
            Kind::AnthropicRefreshToken => "Anthropic OAuth refresh token",
            Kind::OpenAiProjectKey => "OpenAI project key",
            Kind::OpenAiLegacyKey => "OpenAI-style secret key",
            Kind::OpenRouterKey => "OpenRouter key",
            Kind::GoogleApiKey => "Google API key",
            Kind::GoogleRefreshToken => "Google OAuth refresh token",
            Kind::GroqKey => "Groq API key",
            Kind::XaiKey => "xAI API key",
            Kind::HuggingFaceToken => "Hugging Face token",
            Kind::GithubToken => "GitHub token",
            Kind::SlackToken => "Slack token",
            Kind::TelegramBotToken => "Telegram bot token",
            Kind::DiscordBotToken => "Discord bot token",
            Kind::AwsAccessKeyId => "AWS access key id",
            Kind::AwsSecretKey => "AWS secret access key",
            Kind::PerplexityKey => "Perplexity API key",
            Kind::NvidiaKey => "NVIDIA API key",
            Kind::CerebrasKey => "Cerebras API key",
            Kind::FireworksKey => "Fireworks AI API key",
            Kind::TogetherKey => "Together AI API key",
            Kind::ReplicateToken => "Replicate API token",
            Kind::TavilyKey => "Tavily API key",
            Kind::BraveKey => "Brave Search API key",
            Kind::FirecrawlKey => "Firecrawl API key",
            Kind::StripeOrElevenLabsKey => "Stripe or ElevenLabs secret key",
            Kind::SendgridKey => "SendGrid API key",
            Kind::MatrixToken => "Matrix access token",
            Kind::GoogleAccessToken => "Google OAuth access token",
            Kind::NotionToken => "Notion integration token",
            Kind::LinearKey => "Linear API key",
            Kind::GitlabToken => "GitLab token",
            Kind::NpmToken => "npm token",
            Kind::PypiToken => "PyPI token",
            Kind::Jwt => "JWT access token",
            Kind::OauthRefreshToken => "OAuth refresh token",
            Kind::GatewayToken => "OpenClaw gateway token",
            Kind::Password => "password",
            Kind::UrlPassword => "password in a URL",
            Kind::BearerToken => "bearer token",
            Kind::WebhookUrl => "webhook URL secret",
            Kind::NamedCredential => "credential",
            Kind::VaultSecret => "copy of a secret held in the vault",
        }
    }
}

/// One place a secret was found. Spans are offsets into the scanned buffer.
#[derive(Clone)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    /// The credential-looking name it was assigned to, when there was one (names
    /// are not secret: `OPENAI_API_KEY`, `botToken`).
    pub name: Option<String>,
    /// For a byte-exact copy of a credential read from OpenClaw's own files: where
    /// the original is (`openclaw.json gateway.auth.token`).
    pub copy_of: Option<String>,
    pub hash: [u8; 32],
    pub redacted: String,
}

impl std::fmt::Debug for Hit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hit")
            .field("start", &self.start)
            .field("end", &self.end)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("redacted", &self.redacted)
            .finish()
    }
}

/// Longest value a validator looks at past its anchor; the scanner keeps at least
/// this much overlap between chunks.
pub const MAX_LOOKAHEAD: usize = 1536;
/// How far a validator may look back before its anchor (variable names, digits).
pub const MAX_LOOKBEHIND: usize = 128;
const MAX_VALUE: usize = 512;
const MAX_NAME: usize = 96;

/// Incoming-webhook URL prefixes (after `://`) whose path is the secret.
const SLACK_HOOKS: &[&[u8]] = &[b"hooks.slack.com/services/"];
const DISCORD_HOOKS: &[&[u8]] = &[
    b"discord.com/api/webhooks/",
    b"discordapp.com/api/webhooks/",
    b"ptb.discord.com/api/webhooks/",
    b"canary.discord.com/api/webhooks/",
];

#[derive(Clone, Copy, Debug)]
enum Anchor {
    Sk,
    Prefix(usize),
    Telegram,
    Assign,
    Bearer,
    /// `Bot <token>`: Discord's bot authorization scheme.
    Bot,
    Url,
}

/// Provider formats, each anchored at the token's first byte. Ordered: the first
/// that matches wins. `fixed` formats need a non-token byte right after them.
struct ProviderRule {
    kind: Kind,
    re: Regex,
    fixed: bool,
}

/// The compiled detector; build once, share between threads.
pub struct Detector {
    ac: AhoCorasick,
    anchors: Vec<Anchor>,
    sk_rules: Vec<ProviderRule>,
    prefix_rules: Vec<ProviderRule>,
    telegram: Regex,
    discord: Regex,
    /// Incoming-webhook paths, anchored right after `://`: (host/path prefixes, secret).
    webhooks: Vec<(&'static [&'static [u8]], Regex)>,
    exact: Option<AhoCorasick>,
    /// Per exact pattern: `None` for a vault secret, else the kind and origin of a
    /// credential read from OpenClaw's own files ([`super::harvest`]).
    exact_known: Vec<Option<(Kind, String)>>,
    /// Index of the Cerebras format in `prefix_rules` (see `cerebras_at`).
    cerebras: usize,
}

fn re(s: &str) -> Regex {
    Regex::new(s).expect("built-in pattern")
}

fn case_variants(word: &str) -> [String; 3] {
    let mut cap = word.to_string();
    cap[..1].make_ascii_uppercase();
    [word.to_string(), cap, word.to_ascii_uppercase()]
}

impl Detector {
    /// `vault_secrets`: exact byte strings to find anywhere (copies of the vault's
    /// own secrets); shorter than 8 bytes are ignored.
    pub fn new(vault_secrets: &[SecretBytes]) -> Detector {
        Detector::with_known(vault_secrets, &[])
    }

    /// [`Detector::new`], and also every copy of a credential OpenClaw holds in
    /// plaintext (`known`, from [`super::harvest`]), wherever it appears and whatever
    /// its shape, where no pattern found it already.
    pub fn with_known(vault_secrets: &[SecretBytes], known: &[super::harvest::Known]) -> Detector {
        let sk_rules = vec![
            ProviderRule {
                kind: Kind::AnthropicApiKey,
                re: re(r"\Ask-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{32,}"),
                fixed: false,
            },
            ProviderRule {
                kind: Kind::AnthropicOauthToken,
                re: re(r"\Ask-ant-oat\d\d-[A-Za-z0-9_-]{32,}"),
                fixed: false,
            },
            ProviderRule {
                kind: Kind::AnthropicRefreshToken,
                re: re(r"\Ask-ant-ort\d\d-[A-Za-z0-9_-]{32,}"),
                fixed: false,
            },
            ProviderRule {
                kind: Kind::OpenRouterKey,
                re: re(r"\Ask-or-v1-[a-f0-9]{64}"),
                fixed: true,
            },
            ProviderRule {
                kind: Kind::OpenAiProjectKey,
                re: re(r"\Ask-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}"),
                fixed: false,
            },
            ProviderRule {
                kind: Kind::OpenAiLegacyKey,
                re: re(r"\Ask-[A-Za-z0-9]{32,}"),
                fixed: true,
            },
        ];
        let prefix_rules = PREFIX_FORMATS
            .iter()
            .map(|f| ProviderRule {
                kind: f.kind,
                re: re(f.re),
                fixed: f.fixed,
            })
            .collect();
        let (pats, anchors) = anchor_patterns();
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&pats)
            .expect("anchor automaton");

        let mut det = Detector {
            ac,
            anchors,
            sk_rules,
            prefix_rules,
            telegram: re(r"\A[0-9]{8,10}:AA[A-Za-z0-9_-]{33}"),
            discord: re(r"\A[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\z"),
            webhooks: vec![
                (
                    SLACK_HOOKS,
                    re(r"\AT[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}"),
                ),
                (DISCORD_HOOKS, re(r"\A[0-9]{17,20}/[A-Za-z0-9_-]{60,70}")),
            ],
            exact: None,
            exact_known: Vec::new(),
            cerebras: PREFIX_FORMATS
                .iter()
                .position(|f| f.kind == Kind::CerebrasKey)
                .expect("Cerebras format"),
        };
        // A vault can hold a placeholder (`migrate` moves `"key": "YOUR_API_KEY"` like
        // any other value): matching it byte for byte would report every example
        // line as a vault copy, so exact matching uses what the patterns would take
        // for a real secret.
        let mut exact_pats: Vec<&[u8]> = Vec::new();
        let mut exact_known = Vec::new();
        let vault = vault_secrets.iter().map(|s| (s.expose_secret(), None));
        let host = known.iter().map(|k| {
            let v = k.value.expose_secret();
            (
                v,
                Some((det.classify(v).unwrap_or(k.kind), k.origin.clone())),
            )
        });
        for (v, origin) in vault.chain(host) {
            if v.len() >= 8 && det.exact_worthy(v) && !exact_pats.contains(&v) {
                exact_pats.push(v);
                exact_known.push(origin);
            }
        }
        det.exact_known = exact_known;
        if !exact_pats.is_empty() {
            det.exact = Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&exact_pats)
                    .expect("exact automaton"),
            );
        }
        det
    }

    /// A vault secret worth finding byte for byte: not a placeholder, an example or
    /// a low-entropy fake by the rules the patterns use.
    fn exact_worthy(&self, v: &[u8]) -> bool {
        if is_placeholder(v) {
            return false;
        }
        match self.classify(v) {
            Some(_) => plausible_token(v),
            None => random_enough(v),
        }
    }

    /// Find secrets whose anchor starts in `from..to`; `hay` may extend before
    /// `from` (look-behind) and after `to` (look-ahead). Hits are appended in
    /// order of their start, without overlaps.
    pub fn scan(&self, hay: &[u8], from: usize, to: usize, out: &mut Vec<Hit>) {
        self.scan_with(hay, from, to, false, out)
    }

    /// [`Detector::scan`] for packed binary records (SQLite pages and their -wal):
    /// columns follow each other with no separator, and a TEXT column's header byte
    /// can be a letter, so prefix-anchored provider formats (`sk-ant-…`, `AIza…`)
    /// are accepted right after an alphanumeric byte (`anthropicsk-ant-api03-…`).
    pub fn scan_packed(&self, hay: &[u8], from: usize, to: usize, out: &mut Vec<Hit>) {
        self.scan_with(hay, from, to, true, out)
    }

    fn scan_with(&self, hay: &[u8], from: usize, to: usize, packed: bool, out: &mut Vec<Hit>) {
        let first = out.len();
        let mut skip_until = 0usize;
        let input = Input::new(hay).span(from..hay.len());
        for m in self.ac.find_iter(input) {
            let p = m.start();
            if p >= to {
                break;
            }
            if p < skip_until {
                continue;
            }
            let found = match self.anchors[m.pattern().as_usize()] {
                Anchor::Sk => self
                    .cerebras_at(hay, p, packed)
                    .or_else(|| self.provider(hay, p, &self.sk_rules, packed)),
                Anchor::Prefix(i) => {
                    self.provider(hay, p, std::slice::from_ref(&self.prefix_rules[i]), packed)
                }
                Anchor::Telegram => self.telegram_at(hay, p),
                Anchor::Bearer => self.bearer_at(hay, p.wrapping_sub(1)),
                Anchor::Bot => self.bot_at(hay, p),
                Anchor::Url => self.url_at(hay, p),
                Anchor::Assign => match self.assign_at(hay, p) {
                    Ok(h) => Some(h),
                    // Packed records run names into values (`tokensk-proj-…`):
                    // a failed name must not hide a provider anchor inside it.
                    Err(name_end) => {
                        if !packed {
                            skip_until = skip_until.max(name_end);
                        }
                        None
                    }
                },
            };
            if let Some(h) = found {
                skip_until = skip_until.max(h.end);
                push_hit(out, first, h);
            }
        }
        if let Some(exact) = &self.exact {
            let input = Input::new(hay).span(from..hay.len());
            for m in exact.find_iter(input) {
                if m.start() >= to {
                    break;
                }
                if let Some((kind, origin)) = &self.exact_known[m.pattern().as_usize()] {
                    // A copy of a credential from OpenClaw's files: only where no
                    // pattern found something already (that finding says more).
                    if out[first..]
                        .iter()
                        .any(|o| o.start < m.end() && o.end > m.start())
                    {
                        continue;
                    }
                    let mut h = make_hit(hay, m.start(), m.end(), *kind, None);
                    h.copy_of = Some(origin.clone());
                    let pos = out[first..]
                        .iter()
                        .position(|o| o.start > h.start)
                        .map(|i| i + first)
                        .unwrap_or(out.len());
                    out.insert(pos, h);
                    continue;
                }
                let mut h = make_hit(hay, m.start(), m.end(), Kind::VaultSecret, None);
                // Name the provider format too when it has one.
                if let Some(k) = self.classify(&hay[m.start()..m.end()]) {
                    h.name = Some(k.label().to_string());
                }
                // A vault copy replaces a pattern hit at the same place.
                out.retain(|o| o.end <= h.start || o.start >= h.end);
                let pos = out[first..]
                    .iter()
                    .position(|o| o.start > h.start)
                    .map(|i| i + first)
                    .unwrap_or(out.len());
                out.insert(pos, h);
            }
        }
    }

    /// The provider format of a whole value, if it has one.
    pub fn classify(&self, v: &[u8]) -> Option<Kind> {
        let rules: &[ProviderRule] = if v.starts_with(b"sk-") {
            &self.sk_rules
        } else {
            &self.prefix_rules
        };
        for r in rules {
            if let Some(m) = r.re.find(v) {
                if m.end() == v.len() {
                    return Some(r.kind);
                }
            }
        }
        if self.telegram.find(v).map(|m| m.end()) == Some(v.len()) {
            return Some(Kind::TelegramBotToken);
        }
        if self.discord.is_match(v) {
            return Some(Kind::DiscordBotToken);
        }
        None
    }

    fn provider(&self, hay: &[u8], p: usize, rules: &[ProviderRule], packed: bool) -> Option<Hit> {
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
    fn cerebras_at(&self, hay: &[u8], p: usize, packed: bool) -> Option<Hit> {
        if p == 0 || hay[p - 1] != b'c' {
            return None;
        }
        let rule = std::slice::from_ref(&self.prefix_rules[self.cerebras]);
        self.provider(hay, p - 1, rule, packed)
    }

    fn telegram_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
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

    fn bearer_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
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
    fn bot_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
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

    /// A Slack or Discord incoming-webhook URL (`p` at `://`): its secret path.
    fn webhook_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
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
    fn url_at(&self, hay: &[u8], p: usize) -> Option<Hit> {
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
        // userinfo), up to the `@`.
        while i < lim && url_cred_byte(hay[i]) {
            i += 1;
        }
        if i >= lim || hay[i] != b'@' || i - pw_start < 6 {
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

    /// `NAME=value`, `"name": "value"`, `--name value`, `<key>NAME</key><string>v`.
    /// `Err(end of name)` when the anchor sits in a name that is not an assignment.
    fn assign_at(&self, hay: &[u8], p: usize) -> Result<Hit, usize> {
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
        if e - s < 12 || !credential_name(name) {
            return Err(ne);
        }
        let v = &hay[s..e];
        let shown = if flag { trim_end_name(raw_name) } else { name };
        let name_str = String::from_utf8_lossy(shown).into_owned();
        let kind = match self.classify(v) {
            Some(_) if !plausible_token(v) => return Err(ne),
            Some(k) => k,
            None if shape_only => return Err(ne),
            None => {
                if !credential_like(v, strong_name(name) && !digest_name(name)) {
                    return Err(ne);
                }
                kind_from_name(name)
            }
        };
        Ok(make_hit(hay, s, e, kind, Some(name_str)))
    }
}

fn push_hit(out: &mut Vec<Hit>, first: usize, h: Hit) {
    if let Some(last) = out[first..].last() {
        if h.start < last.end {
            return;
        }
    }
    out.push(h);
}

fn make_hit(hay: &[u8], s: usize, e: usize, kind: Kind, name: Option<String>) -> Hit {
    let v = &hay[s..e];
    Hit {
        start: s,
        end: e,
        kind,
        name,
        copy_of: None,
        hash: Sha256::digest(v).into(),
        redacted: redact(v),
    }
}

/// Show at most the first few and last few characters: `sk-ant…x9Qa`.
///
/// A value under 24 characters shows at most 4 of them in total (2 + 2), and
/// one under 16 shows none: a short password must not be guessable from its
/// preview.
pub fn redact(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n < 16 {
        return "****".into();
    }
    let (head, tail) = if n < 24 {
        (2, 2)
    } else {
        ((n / 5).clamp(2, 6), (n / 8).clamp(1, 4))
    };
    let a: String = chars[..head].iter().collect();
    let b: String = chars[n - tail..].iter().collect();
    format!("{a}…{b}")
}

/// A whole line replaced by `NAME=(redacted, N characters)` when it starts with
/// a plain variable name and `=`/`:`, else `(line redacted, N characters)`.
pub fn redact_whole_line(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let n = text.chars().count();
    let t = text.trim_start();
    let t = t.strip_prefix("export ").unwrap_or(t);
    if let Some(i) = t.find(['=', ':']) {
        let name = t[..i].trim_end();
        if !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return format!("{name}{}(redacted, {n} characters)", &t[i..i + 1]);
        }
    }
    format!("(line redacted, {n} characters)")
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

fn url_cred_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'/' | b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`' | b'@')
}

/// The byte before `p` does not continue a word. An escaped `\n`/`\t` counts as a
/// boundary (secrets inside JSON strings in transcripts).
fn left_boundary(hay: &[u8], p: usize) -> bool {
    if p == 0 {
        return true;
    }
    let b = hay[p - 1];
    if !b.is_ascii_alphanumeric() {
        return true;
    }
    p >= 2 && hay[p - 2] == b'\\' && matches!(b, b'n' | b't' | b'r')
}

fn value_byte(b: u8) -> bool {
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
fn value_span(hay: &[u8], i: usize) -> Option<(usize, usize)> {
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

fn trim_name(n: &[u8]) -> &[u8] {
    let mut n = n;
    while let [b'-' | b'.' | b'_', rest @ ..] = n {
        n = rest;
    }
    while let [rest @ .., b'-' | b'.' | b'_'] = n {
        n = rest;
    }
    n
}

fn trim_end_name(n: &[u8]) -> &[u8] {
    let mut n = n;
    while let [rest @ .., b'-' | b'.' | b'_'] = n {
        n = rest;
    }
    n
}

/// Split `OPENAI_API_KEY`, `botToken`, `x-api-key` into words (byte ranges).
/// At most 16 words; the rest of a longer name is one last word.
fn word_ranges(name: &[u8], out: &mut [(usize, usize); 16]) -> usize {
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
fn words(name: &[u8]) -> Vec<String> {
    let mut r = [(0, 0); 16];
    let n = word_ranges(name, &mut r);
    r[..n]
        .iter()
        .map(|&(a, b)| String::from_utf8_lossy(&name[a..b]).to_ascii_lowercase())
        .collect()
}

fn ends_with_ci(w: &[u8], suffix: &str) -> bool {
    w.len() >= suffix.len() && w[w.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

const CRED_WORDS: &[&str] = &[
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "credential",
    "credentials",
    "auth",
    "apikey",
    "refresh",
    "access",
    "bearer",
];
const CRED_SUFFIXES: &[&str] = &[
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
const META_WORDS: &[&str] = &[
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
fn strong_name(name: &[u8]) -> bool {
    let l = name.to_ascii_lowercase();
    [
        &b"token"[..],
        b"secret",
        b"password",
        b"passwd",
        b"apikey",
        b"api_key",
        b"api-key",
    ]
    .iter()
    .any(|w| l.windows(w.len()).any(|x| x == *w))
}

/// Names that say the value is a digest (`integrity_token_sha256`, `checksum`):
/// a hex digest under them is not a token even when "token" is in the name.
fn digest_name(name: &[u8]) -> bool {
    let l = name.to_ascii_lowercase();
    [
        &b"sha1"[..],
        b"sha256",
        b"sha512",
        b"digest",
        b"checksum",
        b"hash",
        b"integrity",
        b"md5",
    ]
    .iter()
    .any(|w| l.windows(w.len()).any(|x| x == *w))
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

/// The prefilter's literals and what each one anchors.
fn anchor_patterns() -> (Vec<String>, Vec<Anchor>) {
    let mut pats: Vec<String> = Vec::new();
    let mut anchors = Vec::new();
    pats.push("sk-".into());
    anchors.push(Anchor::Sk);
    for (i, f) in PREFIX_FORMATS.iter().enumerate() {
        for l in f.anchors {
            pats.push((*l).into());
            anchors.push(Anchor::Prefix(i));
        }
    }
    pats.push(":AA".into());
    anchors.push(Anchor::Telegram);
    pats.push("://".into());
    anchors.push(Anchor::Url);
    // `earer` finds `Bearer` and `bearer` with one anchor (bearer_at checks the
    // letter before), which leaves room for Discord's `Bot ` scheme.
    pats.push("earer".into());
    anchors.push(Anchor::Bearer);
    pats.push("Bot ".into());
    anchors.push(Anchor::Bot);
    // Credential-named assignments. Names with `auth`, `access`, `refresh` or
    // `credential` nearly always hold one of these words too (`access_token`,
    // `AWS_ACCESS_KEY_ID`); OAuth stores' bare `access`/`refresh` fields are
    // read structurally.
    for w in ["key", "token", "secret", "passw"] {
        for v in case_variants(w) {
            pats.push(v);
            anchors.push(Anchor::Assign);
        }
    }
    for v in ["pwd", "PWD"] {
        pats.push(v.into());
        anchors.push(Anchor::Assign);
    }
    // Up to 64 anchors the prefilter stays a packed (Teddy) searcher: slim up
    // to 32, fat (AVX2) above; past 64 aho-corasick falls back to a DFA, several
    // times slower. bench/doctor.sh measures the cost of each anchor added.
    debug_assert!(pats.len() <= 64, "{} anchors", pats.len());
    (pats, anchors)
}

/// Where the line holding `ns` starts, looking back at most [`MAX_LOOKBEHIND`] bytes
/// (a bounded look keeps a long single-line file linear to scan).
fn line_start_near(hay: &[u8], ns: usize) -> usize {
    let from = ns.saturating_sub(MAX_LOOKBEHIND);
    hay[from..ns]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(from, |i| from + i + 1)
}

/// The words before the name on its line end with `set` and its flags only:
/// `aws configure set NAME`, `openclaw config set NAME`, fish's `set -gx NAME`.
fn set_command(hay: &[u8], ns: usize) -> bool {
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
fn netrc_password(hay: &[u8], ns: usize, name: &[u8]) -> bool {
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

/// The part after a known prefix, for the randomness test.
fn body_of(v: &[u8]) -> &[u8] {
    match v.iter().rposition(|&b| b == b'-' || b == b'_') {
        Some(i) if v.len() - i > 16 => &v[i + 1..],
        _ => v,
    }
}

/// A value in a provider format that is not a placeholder or a low-entropy fake.
fn plausible_token(v: &[u8]) -> bool {
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

fn has_entropy(v: &[u8], min: f64) -> bool {
    entropy(v) >= min
}

/// Random-looking enough for a token body (rejects `aaaa…`, `xxxx…`, `1234…`,
/// `deadbeefdeadbeef…`).
///
/// The entropy floor depends on the alphabet: a hex string carries at most 4 bits a
/// character, so the 3.3 floor that suits base62 at 32+ characters rejects 1.7% of
/// random 32-character hex tokens (measured over 10^5 draws); 2.9 rejects fewer than
/// 1 in 10^4 and still rejects every periodic or short-alphabet fake.
fn random_enough(v: &[u8]) -> bool {
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
fn periodic(v: &[u8]) -> bool {
    (1..=16.min(v.len() / 2)).any(|p| v.iter().zip(&v[p..]).all(|(a, b)| a == b))
}

fn longest_run(v: &[u8]) -> usize {
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
    if super::suppress::not_a_secret(v) {
        return true;
    }
    if matches!(v[0], b'$' | b'<' | b'%' | b'{') {
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

/// `xxxx` standing for key material: a run of one `x` or `X` that is six long, or
/// four long between separators (`sk-xxxx`, `xxxx-xxxx`). Any mix of cases matched
/// before, and 1 in 10^4 random 120-character base64url keys holds `xxXx`.
fn x_run(v: &[u8]) -> bool {
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
fn is_dotted_identifier(v: &[u8]) -> bool {
    let mut parts = 0;
    for p in v.split(|&b| b == b'.') {
        let ok = p
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'$')
            && p.iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$');
        if !ok {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, &b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

fn is_hex_digest(v: &[u8]) -> bool {
    matches!(v.len(), 32 | 40 | 56 | 64 | 96 | 128) && v.iter().all(|b| b.is_ascii_hexdigit())
}

/// A value assigned to a credential name that looks like real key material.
fn credential_like(v: &[u8], strong: bool) -> bool {
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
    if l.windows(3).any(|w| w == b"://") || matches!(v[0], b'/' | b'~' | b'.') {
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
    let symbols = v
        .iter()
        .filter(|&&b| !b.is_ascii_alphanumeric() && !matches!(b, b'-' | b'.' | b'_' | b':' | b'/'))
        .count();
    let mixed =
        (digits > 0 && letters > 0) || (lower > 0 && upper > 0 && (v.len() >= 20 || symbols > 0));
    if !mixed {
        return false;
    }
    // Words joined by dashes (`gpt-4o-mini-2024-07-18`) are not keys.
    let seps = v
        .iter()
        .filter(|&&b| matches!(b, b'-' | b'.' | b'_' | b':' | b'/'))
        .count();
    if seps * 5 > v.len() {
        return false;
    }
    random_enough(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rand_alnum(n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        crate::seeded::r(A, n)
    }

    fn find(s: &str) -> Vec<Hit> {
        let d = Detector::new(&[]);
        let mut out = Vec::new();
        d.scan(s.as_bytes(), 0, s.len(), &mut out);
        out
    }

    #[test]
    fn names_split_into_words() {
        assert_eq!(words(b"OPENAI_API_KEY"), ["openai", "api", "key"]);
        assert_eq!(words(b"botToken"), ["bot", "token"]);
        assert!(credential_name(b"apiKey"));
        assert!(credential_name(b"PGPASSWORD"));
        assert!(credential_name(b"aws_secret_access_key"));
        assert!(!credential_name(b"keyRef"));
        assert!(!credential_name(b"max_tokens"));
        assert!(!credential_name(b"monkey"));
        assert!(!credential_name(b"author"));
        assert!(!credential_name(b"tokenId"));
    }

    #[test]
    fn provider_keys_found_and_placeholders_not() {
        let k = format!("sk-ant-api03-{}AA", rand_alnum(93));
        let h = find(&format!("ANTHROPIC_API_KEY={k}\n"));
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].kind, Kind::AnthropicApiKey);
        assert!(find("ANTHROPIC_API_KEY=sk-ant-api03-...\n").is_empty());
        assert!(find("key: sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").is_empty());
        assert!(find("\"apiKey\": \"${OPENAI_API_KEY}\"").is_empty());
        assert!(find("\"apiKey\": \"<your-key>\"").is_empty());
        assert!(find("token = YOUR_API_KEY_GOES_HERE_1234").is_empty());
    }

    /// A placeholder word counts only between separators: between two digits it is
    /// random key material (a CI run drew `…3Dummy7…` and missed the key).
    #[test]
    fn placeholder_words_need_separators_not_digits() {
        let body = "Q7v2mK9xLp4R8tW1nB6cZ3yH5jD0fG2s";
        for w in ["HeRe", "fake", "YoUr", "Dummy", "here", "FAKE"] {
            let k = format!("sk-proj-{body}3{w}7{body}");
            assert!(!is_placeholder(k.as_bytes()), "{k}");
        }
        let k = format!("sk-proj-{body}xxXx{body}");
        assert!(!is_placeholder(k.as_bytes()), "{k}");
        for p in [
            "your-key-here",
            "sk-fake_1234",
            "dummy.token.9",
            "REPLACE_ME",
            "key here",
            "sk-ant-xxxx",
            "xxxx-xxxx-xxxx",
            "sk-abcxxxxxxdef",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn escaped_json_and_boundaries() {
        let k = format!("sk-proj-{}", rand_alnum(60));
        let line = format!("{{\"text\":\"set it:\\n{k}\\n\"}}");
        let h = find(&line);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(&line.as_bytes()[h[0].start..h[0].end], k.as_bytes());
        assert!(find(&format!("task-{}", rand_alnum(40))).is_empty());
    }

    /// SQLite packs columns with no separator: packed scanning takes provider
    /// formats glued to a word, plain scanning does not.
    #[test]
    fn packed_records_accept_glued_provider_keys() {
        let d = Detector::new(&[]);
        let k = format!("sk-ant-api03-{}AA", rand_alnum(93));
        let row = format!("anthropic:defaultanthropic{k}\u{1}e{k}");
        let mut plain = Vec::new();
        d.scan(row.as_bytes(), 0, row.len(), &mut plain);
        assert!(plain.is_empty(), "{plain:?}");
        let mut packed = Vec::new();
        d.scan_packed(row.as_bytes(), 0, row.len(), &mut packed);
        assert_eq!(packed.len(), 2, "{packed:?}");
        assert!(packed.iter().all(|h| h.kind == Kind::AnthropicApiKey));
        // A name running into a key does not hide it; a hex id is not a key.
        let row = format!(
            "tokenopenaisk-proj-{} task-{}",
            rand_alnum(60),
            "0123456789abcdef".repeat(2)
        );
        let mut packed = Vec::new();
        d.scan_packed(row.as_bytes(), 0, row.len(), &mut packed);
        assert_eq!(packed.len(), 1, "{packed:?}");
        assert_eq!(packed[0].kind, Kind::OpenAiProjectKey);
    }

    /// Vault secrets that the patterns would call placeholders are not matched
    /// byte for byte.
    #[test]
    fn placeholder_vault_secrets_are_not_exact_patterns() {
        let real = rand_alnum(40);
        let secrets: Vec<SecretBytes> = ["YOUR_API_KEY", "xxxxxxxxxxxx", "aaaaaaaaaaaaaaaa", &real]
            .iter()
            .map(|s| crate::secret::secret_bytes(s.as_bytes().to_vec()))
            .collect();
        let d = Detector::new(&secrets);
        let text = format!("a YOUR_API_KEY b xxxxxxxxxxxx c aaaaaaaaaaaaaaaa d {real} e");
        let mut out = Vec::new();
        d.scan(text.as_bytes(), 0, text.len(), &mut out);
        let kinds: Vec<Kind> = out.iter().map(|h| h.kind).collect();
        assert_eq!(kinds, [Kind::VaultSecret], "{out:?}");
    }

    #[test]
    fn redaction_hides_the_middle() {
        let r = redact(b"sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789");
        assert!(r.starts_with("sk-ant") && r.ends_with("6789") && r.contains('…'));
        assert_eq!(redact(b"short"), "****");
    }

    /// Random hex tokens pass the randomness test (a 3.3-bit floor dropped 1.7% of
    /// 32-character ones); repeated patterns and short alphabets do not.
    #[test]
    fn random_hex_is_random_enough_and_patterns_are_not() {
        let hex = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| b"0123456789abcdef"[rand::random::<usize>() % 16])
                .collect()
        };
        let rejected = (0..2000).filter(|_| !random_enough(&hex(32))).count();
        assert!(
            rejected <= 2,
            "{rejected} of 2000 random 32-hex tokens rejected"
        );
        for fake in [
            "a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4",
            "deadbeefdeadbeefdeadbeefdeadbeef",
            "abababababababababababababababab",
        ] {
            assert!(!random_enough(fake.as_bytes()), "{fake}");
        }
        let k = rand_alnum(40);
        assert!(random_enough(k.as_bytes()));
        assert!(!periodic(k.as_bytes()));
    }

    /// The prefilter reports non-overlapping anchors, leftmost first: an anchor
    /// holding another one after its first byte hides it (a `csk-` anchor hid the
    /// `sk-` of `…anthropicsk-ant-…`). Only a deliberate pair may do that.
    #[test]
    fn no_anchor_hides_another() {
        let (pats, _) = anchor_patterns();
        assert!(
            pats.len() <= 64,
            "{} anchors: past 64 the prefilter is no longer packed",
            pats.len()
        );
        for a in &pats {
            for b in &pats {
                // `gsk_` (Groq) holds Stripe's/ElevenLabs' `sk_`: a `gsk_` token is Groq's.
                if a == b || (a == "gsk_" && b == "sk_") {
                    continue;
                }
                assert!(!a[1..].contains(b.as_str()), "anchor {a:?} hides {b:?}");
            }
        }
    }

    /// A credential word followed by a space: `set NAME VALUE` takes a key-like
    /// value; prose takes only a value of a provider's format.
    #[test]
    fn set_commands_and_provider_shaped_values_after_a_credential_word() {
        let aws = format!("{}/{}", rand_alnum(20), rand_alnum(19));
        let line = format!("aws configure set aws_secret_access_key {aws} --profile backup");
        let h = find(&line);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(&line.as_bytes()[h[0].start..h[0].end], aws.as_bytes());
        let discord = format!("MTE{}.{}.{}", rand_alnum(23), rand_alnum(6), rand_alnum(38));
        let line = format!("[discord] login failed: 401 Unauthorized for token {discord}");
        assert_eq!(find(&line).len(), 1, "{line}");
        // fish: `set -gx NAME VALUE`.
        let k = rand_alnum(32);
        let line = format!("- cmd: set -gx MISTRAL_API_KEY {k}");
        assert_eq!(find(&line).len(), 1, "{line}");
        // A URL password holding `:` (only the first one ends the user name).
        let pw = format!("{}_:_{}", rand_alnum(8), rand_alnum(7));
        let line = format!("DATABASE_URL=postgres://crm_sync:{pw}@db.internal:5432/crm");
        let h = find(&line);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(&line.as_bytes()[h[0].start..h[0].end], pw.as_bytes());
        assert!(find("see http://localhost:8080/health and https://a.b:443/x").is_empty());
        // `.netrc`: the keyword starts its line or follows `login NAME`.
        let pw = format!("{}#{}", rand_alnum(10), rand_alnum(8));
        for line in [
            format!("  password {pw}"),
            format!("machine nas.local login lena password {pw}"),
        ] {
            let h = find(&line);
            assert_eq!(h.len(), 1, "{line}: {h:?}");
            assert_eq!(&line.as_bytes()[h[0].start..h[0].end], pw.as_bytes());
        }
        // Prose with a key-like word that has no provider format is not a finding.
        for prose in [
            format!("rotate the token {} tomorrow", rand_alnum(24)),
            "the api key parameter is required".to_string(),
            "password reset requested for account".to_string(),
        ] {
            assert!(find(&prose).is_empty(), "{prose}");
        }
    }

    /// Every prefixed format in the table is found in free text (a log line, a
    /// shell argument, a URL query) at its own span, and not when glued to a word.
    #[test]
    fn prefixed_formats_found_in_free_text() {
        let hex = |n: usize| -> String {
            (0..n)
                .map(|_| b"0123456789abcdef"[rand::random::<usize>() % 16] as char)
                .collect()
        };
        let cases = [
            (format!("pplx-{}", rand_alnum(48)), Kind::PerplexityKey),
            (format!("nvapi-{}", rand_alnum(64)), Kind::NvidiaKey),
            (
                format!("csk-{}", rand_alnum(48).to_ascii_lowercase()),
                Kind::CerebrasKey,
            ),
            (format!("fw_{}", rand_alnum(24)), Kind::FireworksKey),
            (format!("tgp_v1_{}", rand_alnum(43)), Kind::TogetherKey),
            (format!("r8_{}", rand_alnum(37)), Kind::ReplicateToken),
            (format!("tvly-dev-{}", rand_alnum(32)), Kind::TavilyKey),
            (format!("tvly-{}", rand_alnum(32)), Kind::TavilyKey),
            (format!("fc-{}", hex(32)), Kind::FirecrawlKey),
            (format!("BSA{}", rand_alnum(28)), Kind::BraveKey),
            (
                format!("sk_live_{}", rand_alnum(24)),
                Kind::StripeOrElevenLabsKey,
            ),
            (format!("sk_{}", hex(48)), Kind::StripeOrElevenLabsKey),
            (
                format!("SG.{}.{}", rand_alnum(22), rand_alnum(43)),
                Kind::SendgridKey,
            ),
            (
                format!("syt_YWxpY2U_{}_{}", rand_alnum(20), rand_alnum(6)),
                Kind::MatrixToken,
            ),
            (
                format!("ya29.a0{}", rand_alnum(120)),
                Kind::GoogleAccessToken,
            ),
            (format!("ntn_{}", rand_alnum(46)), Kind::NotionToken),
            (format!("lin_api_{}", rand_alnum(40)), Kind::LinearKey),
            (format!("glpat-{}", rand_alnum(20)), Kind::GitlabToken),
            (format!("ghu_{}", rand_alnum(36)), Kind::GithubToken),
            (format!("npm_{}", rand_alnum(36)), Kind::NpmToken),
            (format!("ASIA{}", "QWERTYUIOPASDFGH"), Kind::AwsAccessKeyId),
            (
                format!("sk-ant-admin01-{}", rand_alnum(80)),
                Kind::AnthropicApiKey,
            ),
        ];
        for (k, kind) in &cases {
            for line in [
                format!("curl -s 'https://api.example.net/v1?key={k}&q=1'"),
                format!("{{\"level\":\"info\",\"msg\":\"using {k} for search\"}}"),
                format!("$ tool --flag {k}"),
            ] {
                let h = find(&line);
                assert_eq!(h.len(), 1, "{kind:?} in {line}: {h:?}");
                assert_eq!(h[0].kind, *kind, "{line}");
                assert_eq!(&line.as_bytes()[h[0].start..h[0].end], k.as_bytes());
            }
            assert!(
                find(&format!("word{k}")).is_empty(),
                "{kind:?} glued to a word"
            );
        }
        // Documentation forms are not keys.
        for doc in [
            "pplx-xxxxxxxxxxxx",
            "nvapi-...",
            "csk-...",
            "tvly-YOUR_API_KEY",
            "fc-YOUR-API-KEY",
        ] {
            assert!(
                find(&format!("export KEY_FOR_DOCS {doc}")).is_empty(),
                "{doc}"
            );
        }
    }

    #[test]
    fn hashes_and_uuids_are_not_credentials() {
        assert!(find("\"token\": \"3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b\"").is_empty());
        assert!(find("key = d41d8cd98f00b204e9800998ecf8427e").is_empty());
        assert!(find("\"integrity\": \"sha512-AbCdEf0123456789AbCdEf0123456789\"").is_empty());
        assert!(find("{ password: process.env.OPENAI_API_KEY }").is_empty());
    }
}
