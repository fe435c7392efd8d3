//! One freshly random secret of each kind, and the alphabets they are drawn from.

use crate::seeded::{digits, r};

pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const URLSAFE: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
pub(crate) const HEX: &[u8] = b"0123456789abcdef";
const UPPER32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn b64url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// One of each kind, freshly random.
pub(crate) struct Secrets {
    pub(crate) anthropic: String,
    pub(crate) anthropic_oat: String,
    pub(crate) openai_proj: String,
    pub(crate) openai_legacy: String,
    pub(crate) openrouter: String,
    pub(crate) google: String,
    pub(crate) groq: String,
    pub(crate) xai: String,
    pub(crate) hf: String,
    pub(crate) ghp: String,
    pub(crate) github_pat: String,
    pub(crate) slack_bot: String,
    pub(crate) slack_app: String,
    pub(crate) telegram: String,
    pub(crate) discord: String,
    pub(crate) aws_id: String,
    pub(crate) aws_secret: String,
    pub(crate) jwt: String,
    pub(crate) oauth_refresh: String,
    pub(crate) google_refresh: String,
    pub(crate) gateway: String,
    pub(crate) db_password: String,
    pub(crate) flag_token: String,
    pub(crate) bearer: String,
    pub(crate) url_password: String,
    pub(crate) escaped_key: String,
    pub(crate) vault_copy: String,
}

impl Secrets {
    pub(crate) fn new() -> Secrets {
        Secrets {
            anthropic: format!("sk-ant-api03-{}AA", r(URLSAFE, 93)),
            anthropic_oat: format!("sk-ant-oat01-{}AA", r(URLSAFE, 93)),
            openai_proj: format!("sk-proj-{}", r(URLSAFE, 120)),
            openai_legacy: format!("sk-{}T3BlbkFJ{}", r(ALNUM, 20), r(ALNUM, 20)),
            openrouter: format!("sk-or-v1-{}", r(HEX, 64)),
            google: format!("AIza{}", r(URLSAFE, 35)),
            groq: format!("gsk_{}", r(ALNUM, 52)),
            xai: format!("xai-{}", r(ALNUM, 80)),
            hf: format!("hf_{}", r(ALNUM, 34)),
            ghp: format!("ghp_{}", r(ALNUM, 36)),
            github_pat: format!("github_pat_{}_{}", r(ALNUM, 22), r(ALNUM, 59)),
            slack_bot: format!("xoxb-{}-{}-{}", digits(12), digits(13), r(ALNUM, 24)),
            slack_app: format!(
                "xapp-1-A{}-{}-{}",
                r(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10),
                digits(13),
                r(HEX, 64)
            ),
            telegram: format!("{}:AA{}", digits(10), r(URLSAFE, 33)),
            discord: format!(
                "{}.{}.{}",
                b64url(&digits(19)),
                r(URLSAFE, 6),
                r(URLSAFE, 38)
            ),
            aws_id: format!("AKIA{}", r(UPPER32, 16)),
            aws_secret: r(ALNUM, 40),
            jwt: format!(
                "{}.{}.{}",
                b64url(r#"{"alg":"HS256","typ":"JWT"}"#),
                b64url(&format!(r#"{{"sub":"{}","exp":1900000000}}"#, r(ALNUM, 12))),
                r(URLSAFE, 43)
            ),
            oauth_refresh: r(URLSAFE, 64),
            google_refresh: format!("1//0{}", r(URLSAFE, 60)),
            gateway: r(HEX, 48),
            db_password: format!("Pw{}", r(ALNUM, 22)),
            flag_token: r(HEX, 48),
            bearer: r(ALNUM, 40),
            url_password: format!("Q{}", r(ALNUM, 19)),
            escaped_key: format!("sk-proj-{}", r(URLSAFE, 100)),
            vault_copy: format!("cv{}", r(ALNUM, 30)),
        }
    }
}
