//! Provider token formats that start with a fixed prefix, from each issuer's own
//! documentation of its key format (not from any one host's contents).
//!
//! Each row: the anchor literals the prefilter looks for (the token's first bytes),
//! the kind it reports, a regex anchored at the token's first byte, and whether the
//! format has a fixed end (then a token byte right after it means "not this format").
//! `sk-`-prefixed formats are in `detect.rs` (they share one anchor). No anchor may
//! hold another after its first byte: the prefilter reports non-overlapping matches,
//! so the outer one would hide the inner (`detect::tests::no_anchor_hides_another`).

use super::detect::Kind;

pub(super) struct PrefixFormat {
    pub anchors: &'static [&'static str],
    pub kind: Kind,
    pub re: &'static str,
    pub fixed: bool,
}

const fn f(
    anchors: &'static [&'static str],
    kind: Kind,
    re: &'static str,
    fixed: bool,
) -> PrefixFormat {
    PrefixFormat {
        anchors,
        kind,
        re,
        fixed,
    }
}

pub(super) const PREFIX_FORMATS: &[PrefixFormat] = &[
    // Model providers OpenClaw ships.
    f(
        &["AIza"],
        Kind::GoogleApiKey,
        r"\AAIza[0-9A-Za-z_-]{35}",
        true,
    ),
    f(&["gsk_"], Kind::GroqKey, r"\Agsk_[A-Za-z0-9]{48,}", true),
    f(&["xai-"], Kind::XaiKey, r"\Axai-[A-Za-z0-9]{48,}", true),
    f(
        &["hf_"],
        Kind::HuggingFaceToken,
        r"\Ahf_[A-Za-z0-9]{30,}",
        true,
    ),
    // Perplexity: `pplx-` and 48 alphanumerics.
    f(
        &["pplx-"],
        Kind::PerplexityKey,
        r"\Applx-[A-Za-z0-9]{40,64}",
        true,
    ),
    // NVIDIA NIM / build.nvidia.com: `nvapi-` and 64 URL-safe characters.
    f(
        &["nvapi-"],
        Kind::NvidiaKey,
        r"\Anvapi-[A-Za-z0-9_-]{56,72}",
        true,
    ),
    // Cerebras Cloud: `csk-` and 48 lower-case alphanumerics. No anchor of its own:
    // the prefilter reports non-overlapping anchors, so a `csk-` anchor would hide
    // the `sk-` of a key glued after a `c` (`…anthropicsk-ant-…` in SQLite rows);
    // the `sk-` anchor looks one byte back for it instead.
    f(&[], Kind::CerebrasKey, r"\Acsk-[A-Za-z0-9]{40,64}", true),
    // Fireworks AI: `fw_` and 24 alphanumerics.
    f(
        &["fw_"],
        Kind::FireworksKey,
        r"\Afw_[A-Za-z0-9]{20,48}",
        true,
    ),
    // Together AI's current keys: `tgp_v1_` and 43 URL-safe characters.
    f(
        &["tgp_v1_"],
        Kind::TogetherKey,
        r"\Atgp_v1_[A-Za-z0-9_-]{40,48}",
        true,
    ),
    // Replicate: `r8_` and 37 alphanumerics.
    f(
        &["r8_"],
        Kind::ReplicateToken,
        r"\Ar8_[A-Za-z0-9]{36,40}",
        true,
    ),
    // Tools and channels OpenClaw's plugins take keys for.
    // Tavily search: `tvly-`, optionally `dev-`/`prod-`, and 32 alphanumerics.
    f(
        &["tvly-"],
        Kind::TavilyKey,
        r"\Atvly-(?:dev-|prod-)?[A-Za-z0-9]{28,48}",
        true,
    ),
    // Brave Search API: `BSA` and 28 URL-safe characters.
    f(&["BSA"], Kind::BraveKey, r"\ABSA[A-Za-z0-9_-]{24,40}", true),
    // Firecrawl: `fc-` and 32 hex digits.
    f(&["fc-"], Kind::FirecrawlKey, r"\Afc-[a-f0-9]{32}", true),
    // Stripe secret and restricted keys; ElevenLabs (`sk_` and 48 hex digits).
    f(
        &["sk_"],
        Kind::StripeOrElevenLabsKey,
        r"\Ask_(?:(?:live|test)_[A-Za-z0-9]{24,}|[a-f0-9]{48})",
        true,
    ),
    f(
        &["rk_live_"],
        Kind::StripeOrElevenLabsKey,
        r"\Ark_live_[A-Za-z0-9]{24,}",
        true,
    ),
    // SendGrid: `SG.` 22 `.` 43 (base64url parts).
    f(
        &["SG."],
        Kind::SendgridKey,
        r"\ASG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        true,
    ),
    // Matrix (Synapse) access tokens: `syt_<base64 user>_<20 random>_<6 check>`.
    f(
        &["syt_"],
        Kind::MatrixToken,
        r"\Asyt_[A-Za-z0-9+/=-]{2,}_[A-Za-z0-9]{20}_[A-Za-z0-9]{6}",
        true,
    ),
    // Google OAuth 2.0 access tokens (`ya29.`), as they appear in tool output.
    f(
        &["ya29."],
        Kind::GoogleAccessToken,
        r"\Aya29\.[A-Za-z0-9_-]{30,}",
        true,
    ),
    // Notion integration tokens (current format) and Linear API keys.
    f(
        &["ntn_"],
        Kind::NotionToken,
        r"\Antn_[A-Za-z0-9]{40,}",
        true,
    ),
    f(
        &["lin_api_"],
        Kind::LinearKey,
        r"\Alin_api_[A-Za-z0-9]{40}",
        true,
    ),
    // Forges and package registries.
    f(
        &["ghp_", "gho_", "ghs_", "ghu_", "ghr_"],
        Kind::GithubToken,
        r"\Agh[pousr]_[A-Za-z0-9]{36,}",
        true,
    ),
    f(
        &["github_pat_"],
        Kind::GithubToken,
        r"\Agithub_pat_[A-Za-z0-9_]{50,}",
        true,
    ),
    f(
        &["glpat-"],
        Kind::GitlabToken,
        r"\Aglpat-[A-Za-z0-9_-]{20,}",
        true,
    ),
    f(&["npm_"], Kind::NpmToken, r"\Anpm_[A-Za-z0-9]{36}", true),
    f(
        &["pypi-"],
        Kind::PypiToken,
        r"\Apypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
        true,
    ),
    // Slack.
    f(
        &["xox"],
        Kind::SlackToken,
        r"\Axox[abeoprs]-(?:[0-9]+-)+[0-9A-Za-z]{16,}",
        true,
    ),
    f(
        &["xapp-"],
        Kind::SlackToken,
        r"\Axapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{32,}",
        true,
    ),
    // AWS long-term (AKIA) and temporary (ASIA) access key ids.
    f(
        &["AKIA", "ASIA"],
        Kind::AwsAccessKeyId,
        r"\A(?:AKIA|ASIA)[A-Z2-7]{16}",
        true,
    ),
    f(
        &["eyJ"],
        Kind::Jwt,
        r"\AeyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}",
        true,
    ),
    f(
        &["1//0"],
        Kind::GoogleRefreshToken,
        r"\A1//0[A-Za-z0-9_-]{30,}",
        true,
    ),
];
