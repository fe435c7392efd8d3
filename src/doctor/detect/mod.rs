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

mod assign;
mod known_token;
mod plausible;
#[cfg(test)]
mod tests;
mod url;
mod validate;

pub(crate) use assign::{credential_name, kind_from_name};
pub use known_token::is_known_token;
pub use plausible::{entropy, is_placeholder};
use plausible::{plausible_token, random_enough};

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
    // `pass` also finds `password`, `passwd` and rclone's `pass =`.
    for w in ["key", "token", "secret", "pass"] {
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
