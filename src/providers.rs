//! OpenClaw's provider -> environment variable map, in its lookup order.

/// `(provider, [env var names in lookup order])`. `*_OAUTH_TOKEN` names are tokens.
pub const PROVIDER_ENV: &[(&str, &[&str])] = &[
    ("anthropic", &["ANTHROPIC_OAUTH_TOKEN", "ANTHROPIC_API_KEY"]),
    ("openai", &["OPENAI_API_KEY"]),
    ("google", &["GEMINI_API_KEY"]),
    ("openrouter", &["OPENROUTER_API_KEY"]),
    (
        "github-copilot",
        &["COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"],
    ),
    ("chutes", &["CHUTES_OAUTH_TOKEN", "CHUTES_API_KEY"]),
    ("zai", &["ZAI_API_KEY", "Z_AI_API_KEY"]),
    ("opencode", &["OPENCODE_API_KEY", "OPENCODE_ZEN_API_KEY"]),
    ("qwen-portal", &["QWEN_OAUTH_TOKEN", "QWEN_PORTAL_API_KEY"]),
    (
        "minimax-portal",
        &["MINIMAX_OAUTH_TOKEN", "MINIMAX_API_KEY"],
    ),
    ("kimi-coding", &["KIMI_API_KEY", "KIMICODE_API_KEY"]),
    ("huggingface", &["HUGGINGFACE_HUB_TOKEN", "HF_TOKEN"]),
    ("volcengine", &["VOLCANO_ENGINE_API_KEY"]),
    ("byteplus", &["BYTEPLUS_API_KEY"]),
    ("voyage", &["VOYAGE_API_KEY"]),
    ("groq", &["GROQ_API_KEY"]),
    ("deepgram", &["DEEPGRAM_API_KEY"]),
    ("cerebras", &["CEREBRAS_API_KEY"]),
    ("xai", &["XAI_API_KEY"]),
    ("litellm", &["LITELLM_API_KEY"]),
    ("vercel-ai-gateway", &["AI_GATEWAY_API_KEY"]),
    ("cloudflare-ai-gateway", &["CLOUDFLARE_AI_GATEWAY_API_KEY"]),
    ("moonshot", &["MOONSHOT_API_KEY"]),
    ("minimax", &["MINIMAX_API_KEY"]),
    ("nvidia", &["NVIDIA_API_KEY"]),
    ("xiaomi", &["XIAOMI_API_KEY"]),
    ("synthetic", &["SYNTHETIC_API_KEY"]),
    ("venice", &["VENICE_API_KEY"]),
    ("mistral", &["MISTRAL_API_KEY"]),
    ("together", &["TOGETHER_API_KEY"]),
    ("qianfan", &["QIANFAN_API_KEY"]),
    ("ollama", &["OLLAMA_API_KEY"]),
    ("vllm", &["VLLM_API_KEY"]),
    ("kilocode", &["KILOCODE_API_KEY"]),
];

/// Whether a variable holds a token (vs. an API key).
pub fn is_token_var(name: &str) -> bool {
    name.ends_with("_OAUTH_TOKEN")
}

/// The provider a variable belongs to, and its rank in that provider's lookup order.
/// `MINIMAX_API_KEY` is listed for two providers; the first listed wins.
pub fn provider_of(var: &str) -> Option<(&'static str, usize)> {
    PROVIDER_ENV
        .iter()
        .find_map(|(p, vars)| vars.iter().position(|v| *v == var).map(|i| (*p, i)))
}

/// The variables of a provider, in lookup order.
pub fn vars_of(provider: &str) -> &'static [&'static str] {
    PROVIDER_ENV
        .iter()
        .find(|(p, _)| *p == provider)
        .map(|(_, v)| *v)
        .unwrap_or(&[])
}

/// Names that look like credentials: `*_API_KEY`, `*_API_KEYS`, `*_API_KEY_<suffix>`,
/// `*_TOKEN`, `*_SECRET`, `*_PASSWORD`.
pub fn is_credential_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.ends_with("_API_KEY")
        || n.ends_with("_API_KEYS")
        || n.contains("_API_KEY_")
        || n.ends_with("_TOKEN")
        || n.ends_with("_SECRET")
        || n.ends_with("_PASSWORD")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(provider_of("ANTHROPIC_API_KEY"), Some(("anthropic", 1)));
        assert_eq!(provider_of("MINIMAX_API_KEY"), Some(("minimax-portal", 1)));
        assert_eq!(provider_of("NOPE"), None);
        assert!(is_token_var("QWEN_OAUTH_TOKEN") && !is_token_var("HF_TOKEN"));
        assert!(is_credential_name("STRIPE_SECRET") && is_credential_name("OPENAI_API_KEY_2"));
        assert!(!is_credential_name("PORT") && !is_credential_name("TOKENIZER"));
        assert_eq!(vars_of("groq"), &["GROQ_API_KEY"]);
    }
}
