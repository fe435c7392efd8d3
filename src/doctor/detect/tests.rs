use super::assign::*;
use super::plausible::*;
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

/// Held-out bench classes (stop 24): code with a fallback literal, minified code,
/// an unencoded `@` in a URL password, a password that starts with `%`, rclone's
/// `pass =`, a hex secret quoted in prose after a strong word.
#[test]
fn code_fallbacks_url_at_signs_and_quoted_prose() {
    let k = rand_alnum(32);
    let line = format!("  token: process.env.MISTRAL_API_KEY ?? '{k}',");
    let h = find(&line);
    assert_eq!(h.len(), 1, "{line}: {h:?}");
    assert_eq!(&line.as_bytes()[h[0].start..h[0].end], k.as_bytes());
    for code in [
        "const Qs={clientSecret:a.clientSecret||\"\"};function HV(Q){return Q.path}",
        "apiKey: process.env.OPENAI_API_KEY || undefined,",
        "token: cfg.auth.token ?? null",
    ] {
        assert!(find(code).is_empty(), "{code}");
    }
    let pw = format!("{}@{}", rand_alnum(6), rand_alnum(14));
    let line = format!("DATABASE_URL=postgres://homelab:{pw}@db.internal:5432/homelab");
    let h = find(&line);
    assert_eq!(h.len(), 1, "{line}: {h:?}");
    assert_eq!(&line.as_bytes()[h[0].start..h[0].end], pw.as_bytes());
    let pw = format!("%8!-{}", rand_alnum(15));
    assert!(!is_placeholder(pw.as_bytes()));
    for t in [
        "$OPENAI_API_KEY",
        "${KEY}",
        "$(pass show x)",
        "%APPDATA%",
        "$env:OPENAI_KEY",
        "%(key)s",
    ] {
        assert!(is_placeholder(t.as_bytes()), "{t}");
    }
    let pw = format!("{}-{}", rand_alnum(12), rand_alnum(12));
    let line = format!("pass = {pw}");
    assert_eq!(find(&line).len(), 1, "{line}");
    assert!(find("pass = true").is_empty());
    assert!(find(&format!("bypass = {}", rand_alnum(20))).is_empty());
    let hex = crate::seeded::r(b"0123456789abcdef", 32);
    let line = format!("- saved slack signing secret token `{hex}` (user asked me to remember it)");
    assert_eq!(find(&line).len(), 1, "{line}");
    assert!(find(&format!("- merged commit `{hex}` into main")).is_empty());
    for line in [
        format!("here is my new slack signing secret key: {hex} can you put it in the config?"),
        format!("use this one: slack signing secret -> {hex}"),
    ] {
        assert_eq!(find(&line).len(), 1, "{line}");
    }
    assert!(find(&format!("cache key: {hex}")).is_empty());
    let discord = format!(
        "MTMw{}.{}.{}",
        rand_alnum(22),
        rand_alnum(6),
        rand_alnum(38)
    );
    let line = format!(
        "{{\"subsystem\":\"gateway/reload\",\"msg\":\"config changed\",\"path\":\"channels.discord.token\",\"to\":\"{discord}\"}}"
    );
    let h = find(&line);
    assert_eq!(h.len(), 1, "{line}");
    assert_eq!(&line.as_bytes()[h[0].start..h[0].end], discord.as_bytes());
    assert!(find("{\"path\":\"gateway.mode\",\"to\":\"local-loopback-only\"}").is_empty());
    assert!(find("{\"path\":\"channels.discord.token\",\"to\":\"secretref-managed\"}").is_empty());
    assert!(find(&format!("the object key: {hex}")).is_empty());
    assert!(find(&format!("rotate the token {hex} tomorrow")).is_empty());
    let k = rand_alnum(32);
    let line = format!("Saved. I set `MISTRAL_API_KEY` to `{k}` and restarted the gateway.");
    assert_eq!(find(&line).len(), 1, "{line}");
    assert!(find("I sent the token to `api.example.com` for review").is_empty());
}

/// Key material that starts with `/`, `~` or `.` is not a path (an AWS secret key
/// starts with `/` one time in 64); paths under credential names still are paths.
#[test]
fn values_starting_like_paths() {
    let aws = format!("/{}/{}", rand_alnum(19), rand_alnum(19));
    let line = format!("aws_secret_access_key={aws}");
    assert_eq!(find(&line).len(), 1, "{line}");
    for pw in [
        format!("~{}*{}", rand_alnum(8), rand_alnum(8)),
        format!(".{}+{}", rand_alnum(7), rand_alnum(7)),
    ] {
        let line = format!("POSTGRES_PASSWORD: {pw}");
        assert_eq!(find(&line).len(), 1, "{line}");
    }
    let line = format!(
        "pass = {}.:_{}^{}",
        rand_alnum(3),
        rand_alnum(8),
        rand_alnum(6)
    );
    assert_eq!(find(&line).len(), 1, "{line}");
    assert!(find("model_key: gpt-4o-mini-2024-07-18").is_empty());
    for path in [
        "token: /var/run/secrets/kubernetes.io/serviceaccount/token",
        "password: ~/.config/app/password.txt",
        "secret: ../keys/service-account-2024.json",
        "apiKey: /Users/Lena/Library/Keys/openai-prod",
    ] {
        assert!(find(path).is_empty(), "{path}");
    }
}
