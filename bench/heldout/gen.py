#!/usr/bin/env python3
"""A held-out OpenClaw operator home, for measuring `clawvault doctor` from the outside.

    gen.py OUT_DIR --seed N [--size-mb M]

Writes OUT_DIR/home (a home directory: ~/.openclaw state dir, shell histories, units,
plists, project trees, configs, notes ...), OUT_DIR/planted.json (each credential written
into it) and OUT_DIR/decoys.json (labelled non-secrets that secret scanners tend to flag).
Each record: {"path": "home/...", "line": L, "col": C, "kind": K, "context": X,
"shape": S, "len": N, "prefix": first 4 chars}; line and column (1-based, code points)
are where the value's first character sits. Deterministic per seed.

Written from OpenClaw's documentation (the npm package's docs/) and the providers' public
token formats only, without looking at the detector under test. Secret bodies are random;
every value is written through `H.p` (planted) or `H.d` (decoy), which places a marker that
is turned into a line/column label when the file is written, and the labels are checked
against the files on disk before the run ends.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import random
import re
import string
import struct
import sys
import zlib

ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
UPDIG = string.ascii_uppercase + string.digits
LOWDIG = string.ascii_lowercase + string.digits

M_START, M_MID, M_END = "\ue000", "\ue001", "\ue002"
MARK_RE = re.compile("\ue000(\\d+)\ue001|\ue002")


def jd(o, **kw):
    return json.dumps(o, ensure_ascii=False, **kw)


def b64url_nopad(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# --------------------------------------------------------------------------------------
# Secret shapes (providers' documented / observed public formats; random bodies)
# --------------------------------------------------------------------------------------


class Gen:
    def __init__(self, r, base_ts):
        self.r = r
        self.base_ts = base_ts
        self.seen = set()

    def rs(self, alpha, n):
        return "".join(self.r.choices(alpha, k=n))

    def uniq(self, f):
        while True:
            v = f()
            if v not in self.seen:
                self.seen.add(v)
                return v

    def digits(self, lo, hi):
        n = self.r.randint(lo, hi)
        return str(self.r.randint(10 ** (n - 1), 10 ** n - 1))

    def snowflake(self):
        return str(self.r.randint(3 * 10 ** 17, 14 * 10 ** 17))

    # --- model providers
    def openai(self):
        r = self.r.random()
        if r < 0.65:
            n = self.r.choice([74, 58])
            return "sk-proj-" + self.rs(B64URL, n) + "T3BlbkFJ" + self.rs(B64URL, n)
        if r < 0.85:
            return "sk-svcacct-" + self.rs(B64URL, 74) + "T3BlbkFJ" + self.rs(B64URL, 74)
        return "sk-" + self.rs(ALNUM, 20) + "T3BlbkFJ" + self.rs(ALNUM, 20)

    def openai_legacy(self):
        return "sk-" + self.rs(ALNUM, 48)

    def anthropic(self):
        return "sk-ant-api03-" + self.rs(B64URL, 93) + "AA"

    def anthropic_oauth(self):
        return "sk-ant-oat01-" + self.rs(B64URL, 93) + "AA"

    def anthropic_refresh(self):
        return "sk-ant-ort01-" + self.rs(B64URL, 93) + "AA"

    def openrouter(self):
        return "sk-or-v1-" + self.rs(HEX, 64)

    def groq(self):
        return "gsk_" + self.rs(ALNUM, 52)

    def xai(self):
        return "xai-" + self.rs(ALNUM, 80)

    def google(self):
        return "AIza" + self.rs(B64URL, 35)

    def mistral(self):
        return self.rs(ALNUM, 32)

    def deepseek(self):
        return "sk-" + self.rs(HEX, 32)

    def perplexity(self):
        return "pplx-" + self.rs(ALNUM, 48)

    def tavily(self):
        return self.r.choice(["tvly-", "tvly-dev-", "tvly-prod-"]) + self.rs(ALNUM, 32)

    def firecrawl(self):
        return "fc-" + self.rs(HEX, 32)

    def brave(self):
        return "BSA" + self.rs(B64URL, 28)

    def elevenlabs(self):
        return "sk_" + self.rs(HEX, 48)

    # --- code hosts, chat, misc
    def github_pat(self):
        return "ghp_" + self.rs(ALNUM, 36)

    def github_fine(self):
        return "github_pat_11" + self.rs(UPDIG, 20) + "_" + self.rs(ALNUM, 59)

    def github_oauth(self):
        return "gho_" + self.rs(ALNUM, 36)

    def gitlab(self):
        return "glpat-" + self.rs(B64URL, 20)

    def slack_bot(self):
        return "xoxb-" + self.digits(10, 13) + "-" + self.digits(10, 13) + "-" + self.rs(ALNUM, 24)

    def slack_user(self):
        return ("xoxp-" + self.digits(10, 13) + "-" + self.digits(10, 13) + "-"
                + self.digits(10, 13) + "-" + self.rs(HEX, 32))

    def slack_app(self):
        return "xapp-1-A" + self.rs(UPDIG, 10) + "-" + self.digits(13, 13) + "-" + self.rs(HEX, 64)

    def slack_signing(self):
        return self.rs(HEX, 32)

    def slack_webhook(self):
        return ("https://hooks.slack.com/services/T" + self.rs(UPDIG, self.r.randint(8, 10))
                + "/B" + self.rs(UPDIG, self.r.randint(8, 10)) + "/" + self.rs(ALNUM, 24))

    def discord_bot(self):
        head = b64url_nopad(self.snowflake().encode())
        return head + "." + self.rs(B64URL, 6) + "." + self.rs(B64URL, self.r.choice([27, 38]))

    def discord_webhook(self):
        host = self.r.choice(["discord.com", "discordapp.com"])
        return "https://%s/api/webhooks/%s/%s" % (host, self.snowflake(), self.rs(B64URL, 68))

    def telegram(self):
        return self.digits(9, 10) + ":AA" + self.rs(B64URL, 33)

    def huggingface(self):
        return "hf_" + self.rs(string.ascii_letters, 34)

    def stripe(self):
        if self.r.random() < 0.5:
            return "sk_live_" + self.rs(ALNUM, 24)
        return "sk_live_51" + self.rs(ALNUM, 97)

    def aws_access_key(self):
        return "AKIA" + self.rs(string.ascii_uppercase + "234567", 16)

    def aws_secret_key(self):
        return self.rs(ALNUM + "/+", 40)

    def npm(self):
        return "npm_" + self.rs(ALNUM, 36)

    def gateway_token(self):
        return self.rs(HEX, self.r.choice([48, 48, 64]))

    def matrix(self):
        local = b64url_nopad(self.r.choice(["clawbot", "openclaw", "assistant"]).encode())
        return "syt_" + local + "_" + self.rs(ALNUM, 20) + "_" + self.rs(ALNUM, 6)

    def google_refresh(self):
        return "1//0" + self.rs(ALNUM[:52], 1) + self.rs(B64URL, 98)

    def google_access(self):
        return "ya29.a0" + self.rs(B64URL, 150)

    def password(self):
        sym = "!#%+-.:=@^_~*"
        while True:
            n = self.r.randint(14, 26)
            s = self.rs(ALNUM + sym, n)
            if (any(c in sym for c in s) and any(c.isdigit() for c in s)
                    and any(c.isupper() for c in s) and s[0] not in "-#"):
                return s

    def generic_token(self):
        c = self.r.random()
        if c < 0.35:
            return self.rs(HEX, self.r.choice([32, 40, 64]))
        if c < 0.75:
            return self.rs(B64URL, self.r.choice([32, 40, 43]))
        raw = bytes(self.r.getrandbits(8) for _ in range(32))
        return base64.b64encode(raw).decode()

    def jwt(self, flavour=None):
        r = self.r
        now = self.base_ts
        flavour = flavour or r.choice(["supabase", "auth0", "codex", "internal"])
        if flavour == "supabase":
            hdr = {"alg": "HS256", "typ": "JWT"}
            pl = {"iss": "supabase", "ref": self.rs(string.ascii_lowercase, 20),
                  "role": "service_role", "iat": now - r.randint(10 ** 6, 10 ** 7),
                  "exp": now + 10 ** 8}
            sig = 32
        elif flavour == "auth0":
            hdr = {"alg": "RS256", "typ": "JWT", "kid": self.rs(B64URL, 22)}
            pl = {"iss": "https://%s.eu.auth0.com/" % self.rs(string.ascii_lowercase, 8),
                  "sub": "auth0|" + self.rs(HEX, 24), "aud": ["https://api.internal"],
                  "iat": now - 3600, "exp": now + 82800, "scope": "openid profile read:all",
                  "azp": self.rs(ALNUM, 32)}
            sig = 256
        elif flavour == "codex":
            hdr = {"alg": "RS256", "kid": self.rs(HEX, 8) + "-" + self.rs(HEX, 4), "typ": "JWT"}
            pl = {"aud": ["https://api.openai.com/v1"], "client_id": "app_" + self.rs(ALNUM, 24),
                  "exp": now + 864000, "https://api.openai.com/auth": {
                      "chatgpt_account_id": self.uuid(), "chatgpt_plan_type": "plus"},
                  "iat": now, "iss": "https://auth.openai.com", "jti": self.uuid(),
                  "scp": ["openid", "profile", "email", "offline_access"],
                  "sub": "google-oauth2|" + self.digits(21, 21)}
            sig = 256
        else:
            hdr = {"alg": "HS512", "typ": "JWT"}
            pl = {"sub": self.rs(LOWDIG, 12), "svc": "ops-bridge", "iat": now,
                  "exp": now + 31536000, "jti": self.rs(HEX, 16)}
            sig = 64
        raw = bytes(r.getrandbits(8) for _ in range(sig))
        return ".".join([b64url_nopad(jd(hdr, separators=(",", ":")).encode()),
                         b64url_nopad(jd(pl, separators=(",", ":")).encode()),
                         b64url_nopad(raw)])

    def wa_secret(self):
        return base64.b64encode(bytes(self.r.getrandbits(8) for _ in range(32))).decode()

    # --- non-secrets
    def uuid(self):
        h = self.rs(HEX, 32)
        h = h[:12] + "4" + h[13:16] + self.r.choice("89ab") + h[17:]
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

    def sha1(self):
        return self.rs(HEX, 40)

    def sha256(self):
        return self.rs(HEX, 64)

    def sha512(self):
        return self.rs(HEX, 128)

    def integrity(self):
        return "sha512-" + base64.b64encode(bytes(self.r.getrandbits(8) for _ in range(64))).decode()


# kind -> (generator name, env var names, curl auth header template)
KINDS = {
    "openai": ("openai", ["OPENAI_API_KEY"], "Authorization: Bearer {}"),
    "openai_legacy": ("openai_legacy", ["OPENAI_API_KEY", "OPENAI_KEY"], "Authorization: Bearer {}"),
    "anthropic": ("anthropic", ["ANTHROPIC_API_KEY"], "x-api-key: {}"),
    "anthropic_oauth": ("anthropic_oauth", ["ANTHROPIC_OAUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
                        "Authorization: Bearer {}"),
    "openrouter": ("openrouter", ["OPENROUTER_API_KEY"], "Authorization: Bearer {}"),
    "groq": ("groq", ["GROQ_API_KEY"], "Authorization: Bearer {}"),
    "xai": ("xai", ["XAI_API_KEY"], "Authorization: Bearer {}"),
    "google": ("google", ["GEMINI_API_KEY", "GOOGLE_API_KEY"], "x-goog-api-key: {}"),
    "mistral": ("mistral", ["MISTRAL_API_KEY"], "Authorization: Bearer {}"),
    "deepseek": ("deepseek", ["DEEPSEEK_API_KEY"], "Authorization: Bearer {}"),
    "perplexity": ("perplexity", ["PERPLEXITY_API_KEY", "PPLX_API_KEY"], "Authorization: Bearer {}"),
    "tavily": ("tavily", ["TAVILY_API_KEY"], "Authorization: Bearer {}"),
    "firecrawl": ("firecrawl", ["FIRECRAWL_API_KEY"], "Authorization: Bearer {}"),
    "brave": ("brave", ["BRAVE_API_KEY", "BRAVE_SEARCH_API_KEY"], "X-Subscription-Token: {}"),
    "elevenlabs": ("elevenlabs", ["ELEVENLABS_API_KEY", "XI_API_KEY"], "xi-api-key: {}"),
    "github_pat": ("github_pat", ["GITHUB_TOKEN", "GH_TOKEN"], "Authorization: token {}"),
    "github_fine": ("github_fine", ["GITHUB_TOKEN", "GH_TOKEN"], "Authorization: Bearer {}"),
    "github_oauth": ("github_oauth", ["GH_TOKEN"], "Authorization: Bearer {}"),
    "gitlab": ("gitlab", ["GITLAB_TOKEN", "CI_JOB_TOKEN_OVERRIDE"], "PRIVATE-TOKEN: {}"),
    "slack_bot": ("slack_bot", ["SLACK_BOT_TOKEN"], "Authorization: Bearer {}"),
    "slack_user": ("slack_user", ["SLACK_USER_TOKEN"], "Authorization: Bearer {}"),
    "slack_app": ("slack_app", ["SLACK_APP_TOKEN"], "Authorization: Bearer {}"),
    "discord_bot": ("discord_bot", ["DISCORD_BOT_TOKEN", "DISCORD_TOKEN"], "Authorization: Bot {}"),
    "telegram_bot": ("telegram", ["TELEGRAM_BOT_TOKEN", "TG_BOT_TOKEN"], None),
    "huggingface": ("huggingface", ["HF_TOKEN", "HUGGINGFACE_HUB_TOKEN"], "Authorization: Bearer {}"),
    "stripe": ("stripe", ["STRIPE_SECRET_KEY", "STRIPE_API_KEY"], "Authorization: Bearer {}"),
    "aws_access_key": ("aws_access_key", ["AWS_ACCESS_KEY_ID"], None),
    "aws_secret_key": ("aws_secret_key", ["AWS_SECRET_ACCESS_KEY"], None),
    "npm": ("npm", ["NPM_TOKEN", "NODE_AUTH_TOKEN"], "Authorization: Bearer {}"),
    "gateway_token": ("gateway_token", ["OPENCLAW_GATEWAY_TOKEN"], "Authorization: Bearer {}"),
    "jwt": ("jwt", ["SUPABASE_SERVICE_ROLE_KEY", "API_JWT", "SERVICE_JWT"], "Authorization: Bearer {}"),
    "password": ("password", ["OPENCLAW_GATEWAY_PASSWORD", "DB_PASSWORD", "SMTP_PASSWORD",
                              "IMAP_PASSWORD", "REDIS_PASSWORD"], None),
    "generic_token": ("generic_token", ["WEBHOOK_SECRET", "HOOKS_TOKEN", "API_TOKEN",
                                        "INTERNAL_API_KEY", "SESSION_SECRET"], "Authorization: Bearer {}"),
    "matrix_token": ("matrix", ["MATRIX_ACCESS_TOKEN"], "Authorization: Bearer {}"),
    "google_oauth_refresh": ("google_refresh", ["GOOGLE_REFRESH_TOKEN"], None),
    "google_oauth_access": ("google_access", ["GOOGLE_ACCESS_TOKEN"], "Authorization: Bearer {}"),
    "anthropic_oauth_refresh": ("anthropic_refresh", ["ANTHROPIC_REFRESH_TOKEN"], None),
    "slack_signing_secret": ("slack_signing", ["SLACK_SIGNING_SECRET"], None),
    "slack_webhook": ("slack_webhook", ["SLACK_WEBHOOK_URL"], None),
    "discord_webhook": ("discord_webhook", ["DISCORD_WEBHOOK_URL"], None),
}

API_URL = {
    "openai": "https://api.openai.com/v1/models",
    "openai_legacy": "https://api.openai.com/v1/chat/completions",
    "anthropic": "https://api.anthropic.com/v1/messages",
    "anthropic_oauth": "https://api.anthropic.com/v1/messages",
    "openrouter": "https://openrouter.ai/api/v1/models",
    "groq": "https://api.groq.com/openai/v1/models",
    "xai": "https://api.x.ai/v1/models",
    "google": "https://generativelanguage.googleapis.com/v1beta/models",
    "mistral": "https://api.mistral.ai/v1/models",
    "deepseek": "https://api.deepseek.com/models",
    "perplexity": "https://api.perplexity.ai/chat/completions",
    "tavily": "https://api.tavily.com/search",
    "firecrawl": "https://api.firecrawl.dev/v1/scrape",
    "brave": "https://api.search.brave.com/res/v1/web/search?q=openclaw",
    "elevenlabs": "https://api.elevenlabs.io/v1/voices",
    "github_pat": "https://api.github.com/user",
    "github_fine": "https://api.github.com/repos/{org}/{repo}/issues",
    "github_oauth": "https://api.github.com/user/repos",
    "gitlab": "https://gitlab.com/api/v4/projects",
    "slack_bot": "https://slack.com/api/auth.test",
    "slack_user": "https://slack.com/api/users.profile.get",
    "slack_app": "https://slack.com/api/apps.connections.open",
    "discord_bot": "https://discord.com/api/v10/users/@me",
    "huggingface": "https://huggingface.co/api/whoami-v2",
    "stripe": "https://api.stripe.com/v1/charges?limit=3",
    "npm": "https://registry.npmjs.org/-/whoami",
    "gateway_token": "http://127.0.0.1:18789/v1/chat/completions",
    "jwt": "https://{proj}.supabase.co/rest/v1/profiles?select=*",
    "generic_token": "https://hooks.internal.lan/ingest",
    "matrix_token": "https://matrix.org/_matrix/client/v3/account/whoami",
    "google_oauth_access": "https://www.googleapis.com/gmail/v1/users/me/profile",
}

PLANT_KINDS = [k for k in KINDS]

HUMAN = {"generic_token": "webhook secret", "password": "db password", "gateway_token": "gateway token",
         "jwt": "service role jwt", "slack_signing_secret": "slack signing secret", "openai_legacy": "old openai",
         "github_pat": "github", "github_fine": "github fine-grained", "github_oauth": "gh cli",
         "google": "gemini", "aws_access_key": "aws key id", "aws_secret_key": "aws secret",
         "matrix_token": "matrix", "google_oauth_refresh": "google refresh", "google_oauth_access": "google access",
         "anthropic_oauth_refresh": "claude refresh", "anthropic_oauth": "claude setup"}


def human(k):
    return HUMAN.get(k, k.replace("_", " "))

# where `openclaw config set` puts each kind
OPENCLAW_PATH = {
    "telegram_bot": "channels.telegram.botToken", "discord_bot": "channels.discord.token",
    "slack_bot": "channels.slack.botToken", "slack_app": "channels.slack.appToken",
    "slack_user": "channels.slack.userToken", "slack_signing_secret": "channels.slack.signingSecret",
    "matrix_token": "channels.matrix.accessToken", "brave": "plugins.entries.brave.config.webSearch.apiKey",
    "tavily": "plugins.entries.tavily.config.webSearch.apiKey",
    "firecrawl": "plugins.entries.firecrawl.config.webFetch.apiKey",
    "elevenlabs": "talk.providers.elevenlabs.apiKey", "gateway_token": "gateway.auth.token",
    "generic_token": "hooks.token", "github_pat": "skills.entries.gh-triage.env.GITHUB_TOKEN",
    "github_fine": "skills.entries.gh-triage.env.GITHUB_TOKEN", "huggingface": "skills.entries.hf-models.env.HF_TOKEN",
}

# provider ids as OpenClaw names them (models.providers.<id>, auth profile provider)
PROVIDER_OF = {
    "openai": "openai", "openai_legacy": "openai", "anthropic": "anthropic",
    "openrouter": "openrouter", "groq": "groq", "xai": "xai", "google": "google",
    "mistral": "mistral", "deepseek": "deepseek", "perplexity": "perplexity",
}
MODEL_KINDS = list(PROVIDER_OF)

WORDS = """the a to and of in for on with that this it is be as at by from we you they
agent gateway session model provider channel message reply tool call result config token
memory workspace summary task schedule reminder calendar email draft review build deploy
test branch commit merge release docs guide update check status error warning retry fail
success queue worker cron job backup restore log file folder script python node rust bash
server client request response latency timeout cache index search query fetch page link
image audio voice transcript note meeting project plan idea list item priority owner team
user group room thread mention bot webhook event payload field value option setting flag
default override fallback route profile order usage cost budget limit rate quota window
compaction context prompt system assistant human reasoning thinking stream chunk delta
open close start stop restart reload apply plan migrate import export vault secret ref
weekly daily morning evening tomorrow yesterday today monday friday weekend trip train
grocery recipe dinner garden invoice receipt tax report slides spreadsheet chart metric
dashboard alert incident postmortem runbook oncall ticket sprint standup retro roadmap
""".split()

CODE_WORDS = """const let var function return if else for while await async import export from
class new this self def pass None True False null undefined try catch finally throw raise
map filter reduce push pop len range print console log error path join read write open
json parse stringify dict list str int float bool opts args kwargs result data value item
""".split()


def sentence(r, n=None):
    n = n or r.randint(6, 22)
    w = r.choices(WORDS, k=n)
    s = " ".join(w)
    return s[0].upper() + s[1:] + r.choice([".", ".", ".", "?", "!"])


def paragraph(r, n=None):
    return " ".join(sentence(r) for _ in range(n or r.randint(1, 5)))


# --------------------------------------------------------------------------------------
# Host writer with line labels
# --------------------------------------------------------------------------------------


class Host:
    def __init__(self, out, seed, size_mb):
        self.out = out
        self.home = os.path.join(out, "home")
        self.seed = seed
        self.r = random.Random(seed)
        # 2026-07-01 + up to 60 days
        self.base_ts = 1782864000 + self.r.randint(0, 60 * 86400)
        self.g = Gen(self.r, self.base_ts)
        self.recs = []
        self.kind_count = {}
        self.labels = []  # finished: dict with path line col
        self.bytes = 0
        self.size_bytes = int(size_mb * 1_000_000)
        self.user = self.r.choice(["dana", "mkoch", "priya", "tobias", "lena", "okafor", "jr"])
        self.uhome = "/home/" + self.user
        self.files = 0

    # ---- labels
    def _mark(self, value, kind, context, shape, planted):
        assert value and "\n" not in value
        i = len(self.recs)
        self.recs.append({"kind": kind, "context": context, "shape": shape,
                          "planted": planted, "value": value})
        if planted:
            self.kind_count[kind] = self.kind_count.get(kind, 0) + 1
        return "%s%d%s%s%s" % (M_START, i, M_MID, value, M_END)

    def p(self, value, kind, context, shape):
        return self._mark(value, kind, context, shape, True)

    def d(self, value, kind, context, shape):
        return self._mark(value, kind, context, shape, False)

    def new(self, kind):
        return self.g.uniq(getattr(self.g, KINDS[kind][0]))

    def env_name(self, kind):
        return self.r.choice(KINDS[kind][1])

    # ---- files
    def write(self, rel, text, mode=0o600):
        path = os.path.join(self.home, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if M_START in text or M_END in text:
            text = self._finalize(rel, text)
        assert M_START not in text and M_MID not in text and M_END not in text, rel
        data = text.encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        self.bytes += len(data)
        self.files += 1

    def _finalize(self, rel, text):
        out = []
        line = 1
        col0 = 0  # code points since last newline in the output
        pos = 0
        open_ids = []
        for m in MARK_RE.finditer(text):
            piece = text[pos:m.start()]
            out.append(piece)
            nl = piece.count("\n")
            if nl:
                line += nl
                col0 = len(piece) - piece.rfind("\n") - 1
            else:
                col0 += len(piece)
            pos = m.end()
            if m.group(1) is not None:
                i = int(m.group(1))
                rec = self.recs[i]
                assert "line" not in rec, "value labelled twice: %s" % rel
                rec.update(path="home/" + rel, line=line, col=col0 + 1)
                open_ids.append(i)
                self.labels.append(rec)
            else:
                assert open_ids, rel
                open_ids.pop()
        assert not open_ids, rel
        out.append(text[pos:])
        return "".join(out)


# --------------------------------------------------------------------------------------
# JSON5 writer (openclaw.json): unquoted identifier keys, trailing commas, comments
# --------------------------------------------------------------------------------------

IDENT_RE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


class C:  # a comment line inside a JSON5 object
    def __init__(self, text):
        self.text = text


class Raw:  # raw JSON5 text for a value (already labelled)
    def __init__(self, text):
        self.text = text


def j5(v, ind=0, inline_small=True):
    sp = "  " * ind
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, dict):
        if not v:
            return "{}"
        if inline_small and len(v) <= 3 and all(isinstance(x, (str, int, bool)) for x in v.values()) \
                and not any(isinstance(k, C) for k in v) and sum(len(str(x)) for x in v.values()) < 70:
            return "{ " + ", ".join("%s: %s" % (j5key(k), j5(x)) for k, x in v.items()) + " }"
        lines = ["{"]
        for k, x in v.items():
            if isinstance(x, C):
                lines.append(sp + "  // " + x.text)
                continue
            lines.append(sp + "  " + j5key(k) + ": " + j5(x, ind + 1, inline_small) + ",")
        lines.append(sp + "}")
        return "\n".join(lines)
    if isinstance(v, list):
        if all(isinstance(x, (str, int)) for x in v) and sum(len(str(x)) + 4 for x in v) < 80:
            return "[" + ", ".join(j5(x) for x in v) + "]"
        lines = ["["]
        for x in v:
            lines.append(sp + "  " + j5(x, ind + 1, inline_small) + ",")
        lines.append(sp + "]")
        return "\n".join(lines)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    return jd(v)


def j5key(k):
    return k if IDENT_RE.match(k) else jd(k)


# --------------------------------------------------------------------------------------
# Decoy values
# --------------------------------------------------------------------------------------

LOCAL_PLACEHOLDERS = ["ollama-local", "lm-studio", "lmstudio", "not-needed", "EMPTY", "none",
                      "sk-no-key-required", "llamacpp-no-key", "sk-local", "local", "ollama",
                      "no-key", "dummy", "vllm-local", "ds4-local", "local-model"]
DOC_EXAMPLES = ["sk-...", "sk-or-...", "gsk-...", "xai-...", "tvly-...", "pplx-...", "AIza...",
                "your-api-key-here", "YOUR_API_KEY", "<your-gateway-token>", "<openrouter-api-key>",
                "example-openai-key-not-real", "example-discord-bot-token", "replace-me",
                "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                "xoxb-xxxxxxxxxxxx-xxxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx",
                "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                "123456789:ABCdefGhIJKlmNoPQRsTUVwxyZ",
                "abcdef0123456789abcdef0123456789abcdef0123456789",
                "0123456789abcdef0123456789abcdef",
                "sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                "your_telegram_bot_token_here", "sk-1234567890abcdef1234567890abcdef",
                "changeme", "GEMINI_KEY_HERE", "BRAVE_API_KEY_HERE"]
JWT_IO = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwia"
          "WF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


def redacted(h):
    g, r = h.g, h.r
    c = r.randint(0, 6)
    if c == 0:
        v = g.anthropic()
        return v[:8] + "\u2026" + v[-4:]
    if c == 1:
        return "sk-proj-" + "*" * r.randint(8, 24)
    if c == 2:
        v = g.openrouter()
        return v[:8] + "..." + v[-8:]
    if c == 3:
        return r.choice(["****", "********", "\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022",
                         "[REDACTED]", "<redacted>", "__OPENCLAW_REDACTED__"])
    if c == 4:
        v = g.slack_bot()
        return v[:5] + "\u2026" + v[-4:]
    if c == 5:
        v = g.telegram()
        return v.split(":")[0] + ":***"
    v = g.github_pat()
    return v[:4] + "****" + v[-4:]


def png_b64(r, w=None, h=None):
    w = w or r.randint(4, 24)
    h = h or r.randint(4, 24)
    raw = b"".join(b"\x00" + bytes(r.getrandbits(8) for _ in range(w * 3)) for _ in range(h))

    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------


class Builder:
    def __init__(self, h):
        self.h = h
        self.r = h.r
        self.g = h.g
        self.agents = ["main"] + self.r.sample(["work", "ops", "research", "family", "coder"],
                                               self.r.randint(1, 2))
        self.projects = self.r.sample(["trip-planner", "invoice-bot", "homelab", "tg-digest",
                                       "site", "scraper", "voice-notes", "crm-sync"], 4)
        self.json_log_planted = []
        self.text_log_planted = []
        self.values = {}  # kind -> list of values already used (for copies)

    def pick(self, allowed=None):
        """The least planted kind so far among `allowed` (ties broken at random)."""
        allowed = allowed or PLANT_KINDS
        n = self.h.kind_count
        low = min(n.get(k, 0) for k in allowed)
        return self.r.choice([k for k in allowed if n.get(k, 0) == low])

    def secret(self, kind):
        v = self.h.new(kind)
        self.values.setdefault(kind, []).append(v)
        return v

    def P(self, v, kind, ctx, shape):
        return self.h.p(v, kind, ctx, shape)

    def D(self, v, kind, ctx, shape):
        return self.h.d(v, kind, ctx, shape)

    def ts_iso(self, off=None):
        t = self.h.base_ts + (off if off is not None else self.r.randint(-40 * 86400, 0))
        return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.") + "%03dZ" % self.r.randint(0, 999)

    # ==================================================================================
    # ~/.openclaw/openclaw.json and its .bak rotations
    # ==================================================================================
    def openclaw_json(self):
        h, r, g = self.h, self.r, self.g
        CTX = "openclaw_json"
        self.cfg_secrets = {}  # dotted path -> (kind, value)

        def S(path, kind):
            v = self.secret(kind)
            self.cfg_secrets[path] = (kind, v)
            return Raw(jd(self.P(v, kind, CTX, "json5_field")))

        gw_tok = self.secret("gateway_token")
        self.gateway_token = gw_tok
        self.cfg_secrets["gateway.auth.token"] = ("gateway_token", gw_tok)
        cfg = {}
        cfg["meta"] = {"lastTouchedVersion": "2026.9.6", "lastTouchedAt": self.ts_iso()}
        cfg["//env"] = C("provider keys the gateway exports to agents")
        env_vars = {}
        env_kind = r.sample(["mistral", "groq", "deepseek", "huggingface", "xai"], 2)
        for k in env_kind:
            name = KINDS[k][1][0]
            v = self.secret(k)
            self.cfg_secrets["env.vars." + name] = (k, v)
            env_vars[name] = Raw(jd(self.P(v, k, CTX, "json5_env_var")))
        env_vars["OPENAI_API_KEY"] = Raw(jd(self.D("${OPENAI_API_KEY}", "env_ref", CTX, "json5_env_var")))
        cfg["env"] = {"vars": env_vars, "shellEnv": {"enabled": True, "timeoutMs": 15000}}
        cfg["gateway"] = {
            "port": 18789, "bind": r.choice(["loopback", "lan", "tailnet"]), "mode": "local",
            "auth": {"mode": "token", "token": Raw(jd(self.P(gw_tok, "gateway_token", CTX, "json5_field")))},
            "remote": {"url": "wss://gw.%s.ts.net:18789" % r.choice(["tail4c2e", "tailf00d", "tail9a1b"]),
                       "token": Raw(jd(self.D("${OPENCLAW_GATEWAY_TOKEN}", "env_ref", CTX, "json5_field")))},
            "controlUi": {"enabled": True},
        }
        providers = {}
        mk = r.sample(["openrouter", "groq", "xai", "deepseek", "perplexity", "mistral"], 3)
        for k in mk:
            pid = PROVIDER_OF[k]
            providers[pid] = {"baseUrl": API_URL[k].rsplit("/", 1)[0], "api": "openai-completions",
                              "apiKey": S("models.providers.%s.apiKey" % pid, k)}
        providers["ollama"] = {"baseUrl": "http://127.0.0.1:11434", "api": "ollama",
                               "apiKey": Raw(jd(self.D("ollama-local", "local_placeholder", CTX, "json5_field")))}
        providers["lmstudio"] = {"baseUrl": "http://192.168.1.%d:1234/v1" % r.randint(2, 250),
                                 "api": "openai-completions",
                                 "apiKey": Raw(jd(self.D(r.choice(["lmstudio", "lm-studio"]), "local_placeholder", CTX, "json5_field")))}
        providers["vllm"] = {"baseUrl": "http://gpu-box.local:8000/v1", "api": "openai-completions",
                             "apiKey": Raw(jd(self.D(r.choice(["EMPTY", "not-needed", "none"]), "local_placeholder", CTX, "json5_field")))}
        providers["litellm"] = {"baseUrl": "http://localhost:4000/v1",
                                "apiKey": Raw(jd(self.D("LITELLM_KEY", "env_var_name", CTX, "json5_field")))}
        providers["openai"] = {"apiKey": Raw(j5({"source": "exec", "provider": "clawvault",
                                                 "id": self.D("main/openai:default", "secretref_object", CTX, "json5_secretref")}))}
        providers["anthropic"] = {"apiKey": Raw(j5({"source": "env", "provider": "default",
                                                    "id": self.D("ANTHROPIC_API_KEY", "secretref_object", CTX, "json5_secretref")}))}
        cp = {"baseUrl": "https://llm-proxy.%s.internal/v1" % r.choice(["acme", "corp", "lab"]),
              "api": "openai-responses",
              "headers": {"X-Proxy-Key": S("models.providers.corp-proxy.headers.X-Proxy-Key", "generic_token"),
                          "X-Tenant": "team-%d" % r.randint(1, 99)}}
        providers["corp-proxy"] = cp
        cfg["models"] = {"mode": "merge", "providers": providers}
        cfg["agents"] = {"defaults": {"workspace": "~/.openclaw/workspace",
                                      "model": {"primary": "anthropic/claude-sonnet-4-6",
                                                "fallbacks": ["openrouter/deepseek/deepseek-chat", "ollama/qwen3:14b"]}},
                         "entries": {a: {"identity": {"name": a.title()}} for a in self.agents}}
        # channels
        ch = {}
        ch["telegram"] = {"enabled": True, "botToken": S("channels.telegram.botToken", "telegram_bot"),
                          "webhookSecret": S("channels.telegram.webhookSecret", "generic_token"),
                          "dmPolicy": "pairing", "allowFrom": [g.digits(9, 10), g.digits(9, 10)]}
        ch["discord"] = {"enabled": True, "token": S("channels.discord.token", "discord_bot"),
                         "applicationId": g.snowflake(),
                         "publicKey": Raw(jd(self.D(g.sha256(), "public_key", CTX, "json5_field"))),
                         "guilds": {g.snowflake(): {"requireMention": True}}}
        ch["slack"] = {"enabled": r.random() < 0.7, "mode": "socket",
                       "botToken": S("channels.slack.botToken", "slack_bot"),
                       "appToken": S("channels.slack.appToken", "slack_app"),
                       "signingSecret": S("channels.slack.signingSecret", "slack_signing_secret"),
                       "userToken": Raw(jd(self.D("${SLACK_USER_TOKEN}", "env_ref", CTX, "json5_field")))}
        if r.random() < 0.7:
            ch["matrix"] = {"homeserver": "https://matrix.org", "userId": "@clawbot:matrix.org",
                            "accessToken": S("channels.matrix.accessToken", "matrix_token")}
        ch["irc"] = {"host": "irc.libera.chat", "nick": "claw-%s" % self.h.user,
                     "nickserv": {"password": S("channels.irc.nickserv.password", "password")}}
        ch["whatsapp"] = {"allowFrom": ["+1555%07d" % r.randint(0, 9999999)]}
        ch["sms"] = {"enabled": False, "accountSid": Raw(jd(self.D("AC" + g.rs(HEX, 32), "public_id", CTX, "json5_field"))),
                     "authToken": Raw(j5({"source": "exec", "provider": "clawvault",
                                          "id": self.D("config/channels/sms/authToken", "secretref_object", CTX, "json5_secretref")}))}
        cfg["channels"] = ch
        # plugins, web search
        pe = {}
        pe["brave"] = {"enabled": True, "config": {"webSearch": {"apiKey": S("plugins.entries.brave.config.webSearch.apiKey", "brave")}}}
        pe["tavily"] = {"enabled": True, "config": {"webSearch": {"apiKey": S("plugins.entries.tavily.config.webSearch.apiKey", "tavily")}}}
        pe["firecrawl"] = {"enabled": True, "config": {"webFetch": {"apiKey": S("plugins.entries.firecrawl.config.webFetch.apiKey", "firecrawl")}}}
        pe["perplexity"] = {"enabled": False, "config": {"webSearch": {
            "apiKey": Raw(jd(self.D(r.choice(["pplx-...", "PERPLEXITY_API_KEY_HERE"]), "doc_example", CTX, "json5_field")))}}}
        pe["exa"] = {"enabled": True, "config": {"webSearch": {
            "apiKey": Raw(jd(self.D("EXA_API_KEY", "env_var_name", CTX, "json5_field")))}}}
        pe["google"] = {"enabled": True, "config": {"webSearch": {"apiKey": S("plugins.entries.google.config.webSearch.apiKey", "google")}}}
        pe["voice-call"] = {"enabled": r.random() < 0.5, "config": {"twilio": {
            "accountSid": Raw(jd(self.D("AC" + g.rs(HEX, 32), "public_id", CTX, "json5_field"))), "authToken": S("plugins.entries.voice-call.config.twilio.authToken", "generic_token")}}}
        pe["imap"] = {"enabled": True, "config": {"accounts": {"personal": {
            "host": "imap.fastmail.com", "user": "%s@fastmail.com" % self.h.user,
            "password": S("plugins.entries.imap.config.accounts.personal.password", "password")}}}}
        cfg["plugins"] = {"entries": pe, "installs": {
            "matrix": {"source": "npm", "spec": "@openclaw/matrix@2026.9.2", "resolvedVersion": "2026.9.2",
                       "integrity": Raw(jd(self.D(g.integrity(), "npm_integrity", CTX, "json5_field"))),
                       "shasum": Raw(jd(self.D(g.sha1(), "git_sha", CTX, "json5_field"))),
                       "installedAt": self.ts_iso()},
            "team-reports": {"source": "git", "spec": "github:acme/openclaw-team-reports",
                             "commit": Raw(jd(self.D(g.sha1(), "git_sha", CTX, "json5_field")))}}}
        # skills
        sk = {}
        sk["image-lab"] = {"enabled": True, "apiKey": S("skills.entries.image-lab.apiKey", "google"),
                           "env": {"GEMINI_API_KEY": Raw(jd(self.D("GEMINI_API_KEY", "env_var_name", CTX, "json5_field")))}}
        sk["gh-triage"] = {"enabled": True, "env": {"GITHUB_TOKEN": S("skills.entries.gh-triage.env.GITHUB_TOKEN",
                                                                     r.choice(["github_pat", "github_fine"]))}}
        sk["hf-models"] = {"enabled": r.random() < 0.6, "env": {"HF_TOKEN": S("skills.entries.hf-models.env.HF_TOKEN", "huggingface")}}
        sk["peekaboo"] = {"enabled": True}
        cfg["skills"] = {"install": {"nodeManager": "pnpm"}, "entries": sk}
        cfg["talk"] = {"providers": {"elevenlabs": {"apiKey": S("talk.providers.elevenlabs.apiKey", "elevenlabs"),
                                                    "voiceId": g.rs(ALNUM, 20)}}}
        cfg["hooks"] = {"enabled": True, "path": "/hooks", "token": S("hooks.token", "generic_token"),
                        "presets": ["gmail"]}
        cfg["cron"] = {"enabled": True, "webhookToken": S("cron.webhookToken", "generic_token")}
        cfg["browser"] = {"profiles": {"remote": {
            "cdpUrl": Raw(jd("wss://production-sfo.browserless.io?token=" + self.P(
                self.secret("generic_token"), "generic_token", CTX, "url_query")))}}}
        cfg["secrets"] = {"providers": {"clawvault": {"source": "exec", "command": "/usr/local/bin/clawvault",
                                                      "args": ["resolve"], "passEnv": ["HOME", "PATH"]}}}
        cfg["logging"] = {"level": "info", "file": "~/.openclaw/logs/openclaw.jsonl",
                          "redactPatterns": ["ghp_[A-Za-z0-9]{36}"]}
        cfg["session"] = {"reset": {"mode": "daily", "atHour": 4}}
        text = "// OpenClaw config (%s)\n" % self.h.user + j5(cfg) + "\n"
        self.h.write(".openclaw/openclaw.json", text)
        self.cfg_tree = cfg

        # .bak rotations: written by OpenClaw as plain JSON; older states with rotated values
        nbak = r.randint(2, 4)
        names = ["openclaw.json.bak"] + ["openclaw.json.bak.%d" % i for i in range(1, nbak)]
        for i, name in enumerate(names):
            self.write_bak(name, i)

    def write_bak(self, name, age):
        """A JSON snapshot of an older config: some credentials the same, some older values."""
        h, r, g = self.h, self.r, self.g
        CTX = "openclaw_json_bak"
        ch = {}
        out = {"meta": {"lastTouchedVersion": "2026.%d.%d" % (r.randint(5, 8), r.randint(1, 28)),
                        "lastTouchedAt": self.ts_iso(-(age + 1) * 86400 * 3)}}
        keep = list(self.cfg_secrets.items())
        r.shuffle(keep)
        keep = keep[: r.randint(4, 8)]
        tree = {}
        for path, (kind, val) in sorted(keep):
            if r.random() < 0.35:  # an older value of the same credential
                val = self.secret(kind)
            parts = path.split(".")
            node = tree
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = self.P(val, kind, CTX, "json_field")
        # a couple of non-secret fields and decoys
        tree.setdefault("models", {}).setdefault("providers", {})["ollama"] = {
            "baseUrl": "http://127.0.0.1:11434",
            "apiKey": self.D(r.choice(LOCAL_PLACEHOLDERS), "local_placeholder", CTX, "json_field")}
        tree.setdefault("gateway", {})["port"] = 18789
        out.update(tree)
        self.h.write(".openclaw/" + name, jd(out, indent=2) + "\n")

    # ==================================================================================
    # auth-profiles.json (JSON era), archives, models.json, oauth.json, secrets.json
    # ==================================================================================
    def auth_profiles(self):
        r, g = self.r, self.g
        CTX = "auth_profiles"
        for ai, agent in enumerate(self.agents):
            profiles = {}
            order = {}
            n_api = r.randint(2, 4)
            kinds = r.sample(["openai", "openai_legacy", "anthropic", "openrouter", "google", "xai",
                              "groq", "deepseek", "mistral", "perplexity"], n_api)
            for k in kinds:
                prov = PROVIDER_OF[k]
                pid = "%s:%s" % (prov, r.choice(["default", "manual", "work", "personal"]))
                while pid in profiles:
                    pid += "2"
                profiles[pid] = {"type": "api_key", "provider": prov,
                                 "key": self.P(self.secret(k), k, CTX, "json_field")}
                order.setdefault(prov, []).append(pid)
            if ai == 0 or r.random() < 0.5:
                profiles["anthropic:setup"] = {"type": "token", "provider": "anthropic",
                                               "token": self.P(self.secret("anthropic_oauth"), "anthropic_oauth", CTX, "json_field"),
                                               "expires": (self.h.base_ts + 300 * 86400) * 1000}
            oauth = r.choice(["anthropic", "google", "codex"])
            if oauth == "anthropic":
                profiles["anthropic:%s@%s" % (self.h.user, "gmail.com")] = {
                    "type": "oauth", "provider": "anthropic",
                    "access": self.P(self.secret("anthropic_oauth"), "anthropic_oauth", CTX, "json_oauth"),
                    "refresh": self.P(self.secret("anthropic_oauth_refresh"), "anthropic_oauth_refresh", CTX, "json_oauth"),
                    "expires": (self.h.base_ts + 3600) * 1000, "email": "%s@gmail.com" % self.h.user}
            elif oauth == "google":
                profiles["google-gemini-cli:%s@gmail.com" % self.h.user] = {
                    "type": "oauth", "provider": "google-gemini-cli",
                    "access": self.P(self.secret("google_oauth_access"), "google_oauth_access", CTX, "json_oauth"),
                    "refresh": self.P(self.secret("google_oauth_refresh"), "google_oauth_refresh", CTX, "json_oauth"),
                    "expires": (self.h.base_ts + 3599) * 1000, "projectId": "gen-lang-client-%010d" % r.randint(0, 10 ** 10 - 1)}
            else:
                profiles["openai-codex:%s@gmail.com" % self.h.user] = {
                    "type": "oauth", "provider": "openai-codex",
                    "access": self.P(g.uniq(lambda: g.jwt("codex")), "jwt", CTX, "json_oauth"),
                    "refresh": self.P(self.secret("generic_token"), "generic_token", CTX, "json_oauth"),
                    "expires": (self.h.base_ts + 864000) * 1000, "accountId": g.uuid()}
            # refs (decoys)
            profiles["openrouter:vault"] = {"type": "api_key", "provider": "openrouter",
                                            "keyRef": {"source": "exec", "provider": "clawvault",
                                                       "id": self.D("%s/openrouter:vault" % agent, "secretref_object", CTX, "json_secretref")}}
            profiles["groq:env"] = {"type": "api_key", "provider": "groq",
                                    "keyRef": {"source": "env", "provider": "default",
                                               "id": self.D("GROQ_API_KEY", "secretref_object", CTX, "json_secretref")}}
            if r.random() < 0.6:
                profiles["ollama:local"] = {"type": "api_key", "provider": "ollama",
                                            "key": self.D(r.choice(["ollama-local", "ollama"]), "local_placeholder", CTX, "json_field")}
            doc = {"version": 1, "profiles": profiles, "order": order,
                   "lastGood": {p: v[0] for p, v in order.items()},
                   "usageStats": {pid: {"lastUsed": (self.h.base_ts - r.randint(0, 86400 * 9)) * 1000,
                                        "errorCount": r.randint(0, 3)} for pid in list(profiles)[:3]}}
            self.h.write(".openclaw/agents/%s/agent/auth-profiles.json" % agent, jd(doc, indent=2) + "\n")
            if ai == 1 or (ai == 0 and r.random() < 0.5):
                # a migration archive / backup of an older store
                CTXA = "auth_profiles_archive"
                old = {"version": 1, "profiles": {}}
                for k in r.sample(["anthropic", "openai", "openrouter", "google"], 2):
                    old["profiles"]["%s:default" % PROVIDER_OF[k]] = {
                        "type": "api_key", "provider": PROVIDER_OF[k],
                        "key": self.P(self.secret(k), k, CTXA, "json_field")}
                suffix = r.choice([".bak", ".migrated-2026-0%d-%02dT10-22-31Z" % (r.randint(6, 8), r.randint(1, 28))])
                self.h.write(".openclaw/agents/%s/agent/auth-profiles.json%s" % (agent, suffix), jd(old, indent=2) + "\n")
            self.models_json(agent)

    def models_json(self, agent):
        r, g = self.r, self.g
        CTX = "models_json"
        prov = {}
        prov["openrouter"] = {"baseUrl": "https://openrouter.ai/api/v1", "api": "openai-completions",
                              "apiKey": self.D("OPENROUTER_API_KEY", "env_var_name", CTX, "json_field"),
                              "models": [{"id": "deepseek/deepseek-chat", "name": "DeepSeek V3",
                                          "contextWindow": 163840, "maxTokens": 8192}]}
        prov["corp-proxy"] = {"baseUrl": "https://llm-proxy.internal/v1", "api": "openai-responses",
                              "apiKey": self.D("secretref-managed", "secretref_marker", CTX, "json_field"),
                              "headers": {"X-Proxy-Key": self.D("secretref-managed", "secretref_marker", CTX, "json_field"),
                                          "X-Org": self.D("secretref-env:CORP_ORG_TOKEN", "secretref_marker", CTX, "json_field")}}
        prov["ollama"] = {"baseUrl": "http://127.0.0.1:11434", "api": "ollama",
                          "apiKey": self.D("ollama-local", "local_placeholder", CTX, "json_field"),
                          "models": [{"id": "qwen3:14b", "contextWindow": 40960}]}
        k = r.choice(["groq", "xai", "deepseek", "mistral", "perplexity"])
        prov[PROVIDER_OF[k]] = {"baseUrl": API_URL[k].rsplit("/", 1)[0], "api": "openai-completions",
                                "apiKey": self.P(self.secret(k), k, CTX, "json_field"),
                                "models": [{"id": "%s-large" % PROVIDER_OF[k], "contextWindow": 131072}]}
        prov["lmstudio"] = {"baseUrl": "http://localhost:1234/v1",
                            "apiKey": self.D(r.choice(["lmstudio", "lm-studio", "not-needed"]), "local_placeholder", CTX, "json_field")}
        self.h.write(".openclaw/agents/%s/agent/models.json" % agent, jd({"providers": prov}, indent=2) + "\n")

    def oauth_json(self):
        r = self.r
        CTX = "oauth_json"
        doc = {"anthropic": {"access": self.P(self.secret("anthropic_oauth"), "anthropic_oauth", CTX, "json_oauth"),
                             "refresh": self.P(self.secret("anthropic_oauth_refresh"), "anthropic_oauth_refresh", CTX, "json_oauth"),
                             "expires": (self.h.base_ts - 86400 * 30) * 1000}}
        if r.random() < 0.6:
            doc["google-antigravity"] = {"access": self.P(self.secret("google_oauth_access"), "google_oauth_access", CTX, "json_oauth"),
                                         "refresh": self.P(self.secret("google_oauth_refresh"), "google_oauth_refresh", CTX, "json_oauth"),
                                         "expires": (self.h.base_ts - 86400 * 20) * 1000}
        self.h.write(".openclaw/credentials/oauth.json", jd(doc, indent=2) + "\n")

    def secrets_json(self):
        CTX = "secrets_json"
        doc = {"providers": {"openai": {"apiKey": self.P(self.secret("openai"), "openai", CTX, "json_field")}},
               "channels": {"discord": {"token": self.P(self.secret("discord_bot"), "discord_bot", CTX, "json_field")}},
               "smtp": {"password": self.P(self.secret("password"), "password", CTX, "json_field")}}
        self.h.write(".openclaw/secrets.json", jd(doc, indent=2) + "\n")

    def credentials_misc(self):
        r, g = self.r, self.g
        # channels.telegram.tokenFile: a bare token in a file
        self.h.write(".openclaw/credentials/telegram-%s.token" % r.choice(["bot", "main", "alerts"]),
                     self.P(self.secret("telegram_bot"), "telegram_bot", "token_file", "bare_value") + "\n")
        self.h.write(".openclaw/credentials/telegram-allowFrom.json",
                     jd({"version": 1, "allowFrom": [g.digits(9, 10) for _ in range(3)]}, indent=2) + "\n")
        # WhatsApp (Baileys) creds: key material in base64 under named fields
        CTX = "whatsapp_creds"
        def kp():
            return {"private": {"type": "Buffer", "data": g.wa_secret()},
                    "public": {"type": "Buffer", "data": g.wa_secret()}}
        doc = {"noiseKey": kp(), "pairingEphemeralKeyPair": kp(),
               "signedIdentityKey": kp(),
               "signedPreKey": {"keyPair": kp(), "signature": {"type": "Buffer", "data": base64.b64encode(bytes(r.getrandbits(8) for _ in range(64))).decode()}, "keyId": 1},
               "registrationId": r.randint(1, 16000),
               "advSecretKey": self.P(g.uniq(g.wa_secret), "whatsapp_private_key", CTX, "json_field"),
               "nextPreKeyId": 31, "firstUnuploadedPreKeyId": 31,
               "me": {"id": "1555%07d:12@s.whatsapp.net" % r.randint(0, 9999999), "name": self.h.user}}
        txt = jd(doc, indent=2)
        self.h.write(".openclaw/credentials/whatsapp/default/creds.json", self._label_wa(txt) + "\n")

    def _label_wa(self, txt):
        # every "private" key is key material (planted); public keys and signatures are not
        res = []
        where = None
        for line in txt.split("\n"):
            km = re.match(r'^\s*"(private|public|signature)": \{', line)
            if km:
                where = km.group(1)
            m = re.match(r'^(\s*"data": ")([A-Za-z0-9+/=]{44,88})(".*)$', line)
            if m:
                if where == "private":
                    line = m.group(1) + self.P(m.group(2), "whatsapp_private_key", "whatsapp_creds", "json_field") + m.group(3)
                else:
                    line = m.group(1) + self.D(m.group(2), "public_key", "whatsapp_creds", "json_field") + m.group(3)
                where = None
            res.append(line)
        return "\n".join(res)

    # ==================================================================================
    # .env files
    # ==================================================================================
    def env_line(self, kind, ctx, style=None, name=None):
        r = self.r
        name = name or self.h.env_name(kind)
        v = self.P(self.secret(kind), kind, ctx, "env_assign")
        style = style or r.choice(["plain", "plain", "dq", "sq", "export", "export_dq", "spaced_comment"])
        if style == "plain":
            return "%s=%s" % (name, v)
        if style == "dq":
            return '%s="%s"' % (name, v)
        if style == "sq":
            return "%s='%s'" % (name, v)
        if style == "export":
            return "export %s=%s" % (name, v)
        if style == "export_dq":
            return 'export %s="%s"' % (name, v)
        return "%s=%s  # rotated %s" % (name, v, self.ts_iso()[:10])

    def env_files(self):
        r = self.r
        CTX = "state_env"
        lines = ["# OpenClaw runtime env (loaded by the gateway)", ""]
        for k in r.sample(["openai", "anthropic", "openrouter", "gateway_token", "telegram_bot",
                           "discord_bot", "brave", "tavily", "elevenlabs", "groq", "mistral", "xai"], 7):
            lines.append(self.env_line(k, CTX))
            if r.random() < 0.3:
                lines.append("")
        lines.append("OLLAMA_API_KEY=" + self.D("ollama-local", "local_placeholder", CTX, "env_assign"))
        lines.append("OPENCLAW_LOG_LEVEL=info")
        lines.append("# SLACK_BOT_TOKEN=" + self.D(r.choice(["xoxb-...", "xoxb-xxxxxxxxxxxx-xxxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx"]), "doc_example", CTX, "env_assign"))
        self.h.write(".openclaw/.env", "\n".join(lines) + "\n")

        # ~/.env (the cwd .env when doctor runs with --cwd ~)
        CTX = "home_env"
        lines = ["# misc", "TZ=Europe/Berlin"]
        for k in [self.pick(), self.pick()]:
            lines.append(self.env_line(k, CTX))
        lines.append("LOCAL_LLM_KEY=" + self.D(r.choice(LOCAL_PLACEHOLDERS), "local_placeholder", CTX, "env_assign"))
        self.h.write(".env", "\n".join(lines) + "\n")

        # projects
        CTX = "project_env"
        for p in self.projects:
            base = "projects/%s/" % p
            lines = ["NODE_ENV=development", "PORT=%d" % r.choice([3000, 5173, 8080, 8000])]
            for _ in range(r.randint(2, 4)):
                k = self.pick()
                lines.append(self.env_line(k, CTX))
            if r.random() < 0.6:
                pw = self.P(self.secret("password"), "password", CTX, "url_userinfo")
                lines.append("DATABASE_URL=postgres://%s:%s@db.internal:5432/%s" % (p.replace("-", "_"), pw, p.replace("-", "_")))
            lines.append("SENTRY_RELEASE=" + self.D(self.g.sha1(), "git_sha", CTX, "env_assign"))
            self.h.write(base + r.choice([".env", ".env.local", ".env.production"]), "\n".join(lines) + "\n")
            ex = ["# copy to .env and fill in", "OPENAI_API_KEY=" + self.D(r.choice(["sk-...", "your-api-key-here", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]), "doc_example", "project_env_example", "env_assign"),
                  "TELEGRAM_BOT_TOKEN=" + self.D(r.choice(["123456789:ABCdefGhIJKlmNoPQRsTUVwxyZ", "your_telegram_bot_token_here", "<token>"]), "doc_example", "project_env_example", "env_assign"),
                  "ANTHROPIC_API_KEY=" + self.D("${ANTHROPIC_API_KEY}", "env_ref", "project_env_example", "env_assign"),
                  "SESSION_SECRET=" + self.D(r.choice(["changeme", "replace-me", "abcdef0123456789abcdef0123456789abcdef0123456789"]), "doc_example", "project_env_example", "env_assign"),
                  "LLM_API_KEY=" + self.D(r.choice(["EMPTY", "not-needed", "sk-no-key-required"]), "local_placeholder", "project_env_example", "env_assign")]
            self.h.write(base + ".env.example", "\n".join(ex) + "\n")

    # ==================================================================================
    # shell histories and rc files
    # ==================================================================================
    def cmd_with_secret(self, ctx, kind=None):
        """One shell command line that carries a secret (returns text with the label)."""
        r = self.r
        kind = kind or self.pick()
        v = self.secret(kind)
        env = self.h.env_name(kind)
        url = API_URL.get(kind, "https://api.example.net/v1/ping").format(
            org="acme", repo="infra", proj=self.g.rs(string.ascii_lowercase, 20))
        hdr = KINDS[kind][2]
        choices = ["export", "inline_env", "openclaw_set"]
        if hdr:
            choices += ["curl_header", "curl_header", "curl_header_sq"]
        if kind == "telegram_bot":
            choices = ["tg_url", "tg_url", "export", "openclaw_set"]
        if kind in ("slack_webhook", "discord_webhook"):
            choices = ["webhook_post", "export"]
        if kind in ("github_pat", "github_fine", "github_oauth"):
            choices += ["gh_login", "git_clone"]
        if kind == "huggingface":
            choices += ["hf_login"]
        if kind == "google":
            choices += ["google_query"]
        if kind == "stripe":
            choices += ["stripe_u"]
        if kind == "aws_secret_key":
            choices = ["aws_configure", "export"]
        if kind == "aws_access_key":
            choices = ["aws_configure_id", "export", "inline_env"]
        if kind in ("google_oauth_refresh", "anthropic_oauth_refresh"):
            choices = ["curl_refresh", "export"]
        if "openclaw_set" in choices and kind not in OPENCLAW_PATH and kind not in PROVIDER_OF:
            choices.remove("openclaw_set")
        if kind == "gateway_token":
            choices += ["dashboard", "openclaw_flag"]
        if kind == "password":
            choices = ["mysql", "export", "sshpass"]
        c = r.choice(choices)
        shape = {"export": "export", "inline_env": "inline_env", "openclaw_set": "cli_arg",
                 "curl_header": "curl_header", "curl_header_sq": "curl_header", "tg_url": "url_path",
                 "webhook_post": "url_path", "gh_login": "herestring", "git_clone": "url_userinfo",
                 "hf_login": "cli_arg", "google_query": "url_query", "stripe_u": "curl_user",
                 "aws_configure": "cli_arg", "dashboard": "url_fragment", "openclaw_flag": "cli_arg",
                 "mysql": "cli_arg", "sshpass": "cli_arg", "aws_configure_id": "cli_arg",
                 "curl_refresh": "form_field"}[c]
        L = self.P(v, kind, ctx, shape)
        if c == "export":
            return r.choice(["export %s=%s", "export %s='%s'", 'export %s="%s"']) % (env, L)
        if c == "inline_env":
            return "%s=%s %s" % (env, L, r.choice(["openclaw gateway run", "npm run dev", "python3 bot.py", "node scripts/smoke.mjs"]))
        if c == "openclaw_set":
            path = OPENCLAW_PATH.get(kind) or "models.providers.%s.apiKey" % PROVIDER_OF[kind]
            q = r.choice(['"%s"', "%s", "'%s'"])
            return "openclaw config set %s %s" % (path, q % L)
        if c in ("curl_header", "curl_header_sq"):
            H = hdr.format(L)
            q = '"' if c == "curl_header" else "'"
            return "curl -s %s -H %s%s%s | jq ." % (url, q, H, q) if r.random() < 0.5 else \
                "curl -sS -H %s%s%s %s" % (q, H, q, url)
        if c == "tg_url":
            meth = r.choice(["getMe", "getUpdates", "getWebhookInfo", "deleteWebhook", "sendMessage?chat_id=%s&text=hi" % self.g.digits(9, 10)])
            return r.choice(['curl -s "https://api.telegram.org/bot%s/%s"', "curl https://api.telegram.org/bot%s/%s | jq",
                             "wget -qO- https://api.telegram.org/bot%s/%s"]) % (L, meth)
        if c == "webhook_post":
            return "curl -X POST -H 'Content-Type: application/json' -d '{\"text\":\"deploy done\"}' %s" % L
        if c == "gh_login":
            return "gh auth login --with-token <<< %s" % L
        if c == "git_clone":
            return "git clone https://%s:%s@github.com/acme/%s.git" % (self.h.user, L, r.choice(["infra", "bot", "site"]))
        if c == "hf_login":
            return "huggingface-cli login --token %s" % L
        if c == "google_query":
            return 'curl "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key=%s" -d @req.json' % L
        if c == "stripe_u":
            return "curl https://api.stripe.com/v1/balance -u %s:" % L
        if c == "aws_configure_id":
            return "aws configure set aws_access_key_id %s" % L
        if c == "curl_refresh":
            if kind == "google_oauth_refresh":
                return ("curl -s https://oauth2.googleapis.com/token -d client_id=%s.apps.googleusercontent.com "
                        "-d client_secret=$GOOGLE_CLIENT_SECRET -d refresh_token=%s -d grant_type=refresh_token") % (self.g.digits(12, 12), L)
            return ("curl -s https://console.anthropic.com/v1/oauth/token -H 'content-type: application/json' "
                    "-d '{\"grant_type\":\"refresh_token\",\"refresh_token\":\"%s\"}'") % L
        if c == "aws_configure":
            return "aws configure set aws_secret_access_key %s --profile %s" % (L, r.choice(["default", "backup", "prod"]))
        if c == "dashboard":
            return 'xdg-open "http://127.0.0.1:18789/#token=%s"' % L
        if c == "openclaw_flag":
            return "openclaw gateway call health --token %s" % L
        if c == "mysql":
            return "mysql -h db.internal -u app -p%s app_prod" % L
        if c == "sshpass":
            return "sshpass -p '%s' ssh pi@192.168.1.%d" % (L, r.randint(2, 250))
        raise AssertionError(c)

    def decoy_cmd(self, ctx):
        r, g = self.r, self.g
        c = r.randint(0, 9)
        if c == 0:
            return "git checkout " + self.D(g.sha1(), "git_sha", ctx, "cli_arg")
        if c == 1:
            return "git revert --no-edit " + self.D(g.sha1(), "git_sha", ctx, "cli_arg")
        if c == 2:
            return "docker pull ghcr.io/openclaw/openclaw@sha256:" + self.D(g.sha256(), "sha256_digest", ctx, "cli_arg")
        if c == 3:
            return "echo '%s  openclaw-2026.9.6.tgz' | sha256sum -c" % self.D(g.sha256(), "sha256_digest", ctx, "cli_arg")
        if c == 4:
            return "export OPENAI_API_KEY=" + self.D(r.choice(["sk-...", "your-api-key-here", "example-openai-key-not-real"]), "doc_example", ctx, "export")
        if c == 5:
            return 'export OPENAI_API_KEY="%s"' % self.D("${OPENAI_API_KEY}", "env_ref", ctx, "export")
        if c == 6:
            return "export OLLAMA_API_KEY=" + self.D("ollama-local", "local_placeholder", ctx, "export")
        if c == 7:
            return "openclaw sessions show " + self.D(g.uuid(), "uuid", ctx, "cli_arg")
        if c == 8:
            return "openclaw config set models.providers.vllm.apiKey " + self.D(r.choice(["EMPTY", "not-needed", "none"]), "local_placeholder", ctx, "cli_arg")
        return "echo '{\"protocolVersion\":1,\"provider\":\"clawvault\",\"ids\":[\"%s\"]}' | clawvault resolve" % self.D("main/anthropic:default", "secretref_object", ctx, "cli_arg")

    PLAIN_CMDS = ["ls -la", "cd ~/projects/{p}", "git status", "git pull --rebase", "git log --oneline -5",
                  "openclaw status", "openclaw gateway status", "openclaw logs --follow", "openclaw doctor",
                  "openclaw models status", "openclaw channels status --probe", "systemctl --user restart openclaw-gateway",
                  "journalctl --user -u openclaw-gateway -n 200", "htop", "df -h", "du -sh ~/.openclaw",
                  "npm install", "pnpm dev", "python3 -m venv .venv", "source .venv/bin/activate",
                  "pip install -r requirements.txt", "vim ~/.openclaw/openclaw.json", "code .", "make test",
                  "cargo build --release", "tail -f ~/.openclaw/logs/gateway.log", "ssh pi@homelab.local",
                  "docker compose up -d", "docker compose logs -f openclaw", "ollama pull qwen3:14b",
                  "ollama list", "curl -s localhost:18789/health", "openclaw pairing list", "openclaw cron list",
                  "npm i -g openclaw@latest", "openclaw update", "tmux attach", "clear", "history | grep curl",
                  "grep -r TODO src/", "rg -n apiKey ~/.openclaw", "cat ~/.openclaw/openclaw.json | jq .gateway",
                  "openclaw agents list", "openclaw sessions list --agent main", "brew services list",
                  "sudo apt update && sudo apt upgrade -y", "nvm use 24", "node -v", "python3 --version"]

    def plain_cmd(self):
        return self.r.choice(self.PLAIN_CMDS).format(p=self.r.choice(self.projects))

    def histories(self):
        r = self.r
        budget = max(60_000, self.h.size_bytes // 60)
        # bash (sometimes with HISTTIMEFORMAT timestamps)
        CTX = "bash_history"
        cmds = []
        size = 0
        while size < budget:
            c = self.plain_cmd()
            cmds.append(c)
            size += len(c) + 1
        ins = [self.cmd_with_secret(CTX) for _ in range(r.randint(9, 12))] + [self.decoy_cmd(CTX) for _ in range(8)]
        for c in ins:
            cmds.insert(r.randint(len(cmds) // 10, len(cmds)), c)
        stamped = r.random() < 0.5
        t = self.h.base_ts - 90 * 86400
        step = max(10, 2 * 90 * 86400 // len(cmds))
        out = []
        for c in cmds:
            t += r.randint(5, step)
            if stamped:
                out.append("#%d" % t)
            out.append(c)
        self.h.write(".bash_history", "\n".join(out) + "\n")

        # zsh extended history, with multi-line commands (continuation lines)
        CTX = "zsh_history"
        cmds = []
        size = 0
        while size < budget:
            c = self.plain_cmd()
            cmds.append(c)
            size += len(c) + 20
        ins = [self.cmd_with_secret(CTX) for _ in range(r.randint(6, 9))] + [self.decoy_cmd(CTX) for _ in range(6)]
        # multi-line curl commands: the secret sits on a continuation line
        for _ in range(r.randint(2, 3)):
            k = r.choice([k for k in KINDS if KINDS[k][2]])
            H = KINDS[k][2].format(self.P(self.secret(k), k, CTX, "curl_header_continuation"))
            url = API_URL.get(k, "https://api.example.net/v1").format(org="acme", repo="infra", proj="abc")
            ins.append("curl -sS %s \\\n  -H \"%s\" \\\n  -H 'content-type: application/json'" % (url, H))
        for c in ins:
            cmds.insert(r.randint(len(cmds) // 10, len(cmds)), c)
        t = self.h.base_ts - 60 * 86400
        step = max(10, 2 * 60 * 86400 // len(cmds))
        out = []
        for c in cmds:
            t += r.randint(5, step)
            out.append(": %d:%d;%s" % (t, r.randint(0, 30), c))
        self.h.write(".zsh_history", "\n".join(out) + "\n")

        # fish
        CTX = "fish_history"
        out = []
        items = [self.plain_cmd() for _ in range(max(200, budget // 80))]
        ins = [self.cmd_with_secret(CTX) for _ in range(r.randint(3, 5))] + [self.decoy_cmd(CTX) for _ in range(3)]
        # fish's own syntax for env
        k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
        ins.append("set -gx %s %s" % (self.h.env_name(k), self.P(self.secret(k), k, CTX, "fish_set")))
        for c in ins:
            items.insert(r.randint(len(items) // 10, len(items)), c)
        t = self.h.base_ts - 30 * 86400
        step = max(10, 2 * 30 * 86400 // len(items))
        for c in items:
            t += r.randint(5, step)
            out.append("- cmd: " + c)
            out.append("  when: %d" % t)
        self.h.write(".local/share/fish/fish_history", "\n".join(out) + "\n")

        # rc files
        CTX = "shell_rc"
        rc = ["# ~/.bashrc", "[ -z \"$PS1\" ] && return", "HISTSIZE=100000", "HISTFILESIZE=200000",
              "export PATH=\"$HOME/.local/bin:$HOME/bin:$PATH\"", "alias ll='ls -alF'",
              "export NVM_DIR=\"$HOME/.nvm\"", "[ -s \"$NVM_DIR/nvm.sh\" ] && . \"$NVM_DIR/nvm.sh\""]
        for _ in range(r.randint(2, 3)):
            k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
            rc.append(self.env_line(k, CTX, style=r.choice(["export", "export_dq"])))
        rc.append("export OPENAI_BASE_URL=http://localhost:4000/v1")
        rc.append("export OPENAI_API_KEY=" + self.D(r.choice(["sk-no-key-required", "not-needed", "EMPTY"]), "local_placeholder", CTX, "export"))
        rc.append("# export ANTHROPIC_API_KEY=" + self.D("sk-ant-...", "doc_example", CTX, "export"))
        rc.append('eval "$(openclaw completion bash)"')
        self.h.write(".bashrc", "\n".join(rc) + "\n")
        zrc = ["# ~/.zshrc", "export ZSH=\"$HOME/.oh-my-zsh\"", "plugins=(git docker)",
               "setopt EXTENDED_HISTORY", "source $ZSH/oh-my-zsh.sh"]
        k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
        zrc.append(self.env_line(k, CTX, style="export"))
        self.h.write(".zshrc", "\n".join(zrc) + "\n")

    # ==================================================================================
    # systemd user units, launchd plists
    # ==================================================================================
    def units(self):
        r = self.r
        CTX = "systemd_unit"
        tok = self.gateway_token
        lines = ["[Unit]", "Description=OpenClaw Gateway (profile: default, v2026.9.6)",
                 "After=network-online.target", "Wants=network-online.target", "", "[Service]",
                 "ExecStart=/usr/bin/node %s/.npm-global/lib/node_modules/openclaw/dist/index.js gateway --port 18789" % self.h.uhome,
                 "Restart=always", "RestartSec=5", "KillMode=process",
                 "Environment=HOME=%s" % self.h.uhome,
                 "Environment=\"PATH=%s/.npm-global/bin:/usr/local/bin:/usr/bin:/bin\"" % self.h.uhome,
                 "Environment=OPENCLAW_GATEWAY_PORT=18789",
                 r.choice(["Environment=OPENCLAW_GATEWAY_TOKEN=%s", "Environment=\"OPENCLAW_GATEWAY_TOKEN=%s\""]) % self.P(tok, "gateway_token", CTX, "systemd_env"),
                 "Environment=OPENCLAW_SERVICE_MARKER=openclaw",
                 "Environment=OPENCLAW_SERVICE_KIND=gateway"]
        for _ in range(r.randint(1, 2)):
            k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
            q = r.choice(["Environment=%s=%s", "Environment=\"%s=%s\""])
            lines.append(q % (self.h.env_name(k), self.P(self.secret(k), k, CTX, "systemd_env")))
        lines.append("Environment=OLLAMA_API_KEY=" + self.D("ollama-local", "local_placeholder", CTX, "systemd_env"))
        lines.append("EnvironmentFile=-%s/.openclaw/.env" % self.h.uhome)
        lines += ["", "[Install]", "WantedBy=default.target"]
        self.h.write(".config/systemd/user/openclaw-gateway.service", "\n".join(lines) + "\n", 0o644)
        k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
        ov = ["[Service]", "Environment=\"%s=%s\"" % (self.h.env_name(k), self.P(self.secret(k), k, CTX, "systemd_env")),
              "Environment=NODE_OPTIONS=--max-old-space-size=2048"]
        self.h.write(".config/systemd/user/openclaw-gateway.service.d/override.conf", "\n".join(ov) + "\n", 0o644)
        k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
        other = ["[Unit]", "Description=tg digest bot", "", "[Service]", "Type=simple",
                 "WorkingDirectory=%s/projects/tg-digest" % self.h.uhome,
                 "ExecStart=%s/projects/tg-digest/.venv/bin/python bot.py" % self.h.uhome,
                 "Environment=%s=%s" % (self.h.env_name(k), self.P(self.secret(k), k, CTX, "systemd_env")),
                 "Environment=TELEGRAM_BOT_TOKEN=%s" % self.P(self.secret("telegram_bot"), "telegram_bot", CTX, "systemd_env"),
                 "", "[Install]", "WantedBy=default.target"]
        self.h.write(".config/systemd/user/tg-digest.service", "\n".join(other) + "\n", 0o644)

        CTX = "launchd_plist"
        entries = [("HOME", "/Users/%s" % self.h.user), ("PATH", "/opt/homebrew/bin:/usr/bin:/bin"),
                   ("OPENCLAW_GATEWAY_PORT", "18789"),
                   ("OPENCLAW_GATEWAY_TOKEN", self.P(tok, "gateway_token", CTX, "plist_string"))]
        for _ in range(r.randint(1, 2)):
            k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
            entries.append((self.h.env_name(k), self.P(self.secret(k), k, CTX, "plist_string")))
        entries.append(("OLLAMA_API_KEY", self.D(r.choice(["ollama-local", "ollama"]), "local_placeholder", CTX, "plist_string")))
        r.shuffle(entries)
        ev = "\n".join("      <key>%s</key>\n      <string>%s</string>" % kv for kv in entries)
        plist = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
  <dict>
    <key>Label</key>
    <string>ai.openclaw.gateway</string>
    <key>Comment</key>
    <string>OpenClaw Gateway (profile: default, v2026.9.6)</string>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <true/>
    <key>ProgramArguments</key>
    <array>
      <string>/opt/homebrew/bin/node</string>
      <string>/opt/homebrew/lib/node_modules/openclaw/dist/index.js</string>
      <string>gateway</string>
      <string>--port</string>
      <string>18789</string>
    </array>
    <key>StandardOutPath</key>
    <string>/Users/%s/.openclaw/logs/gateway.log</string>
    <key>StandardErrorPath</key>
    <string>/Users/%s/.openclaw/logs/gateway.err.log</string>
    <key>EnvironmentVariables</key>
    <dict>
%s
    </dict>
  </dict>
</plist>
""" % (self.h.user, self.h.user, ev)
        self.h.write("Library/LaunchAgents/ai.openclaw.gateway.plist", plist, 0o644)
        k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
        p2 = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>com.%s.backup</string>
	<key>ProgramArguments</key>
	<array>
		<string>/bin/sh</string>
		<string>-c</string>
		<string>%s=%s /usr/local/bin/restic backup ~/.openclaw</string>
	</array>
	<key>StartInterval</key>
	<integer>3600</integer>
</dict>
</plist>
""" % (self.h.user, self.h.env_name(k), self.P(self.secret(k), k, CTX, "plist_inline_env"))
        self.h.write("Library/LaunchAgents/com.%s.backup.plist" % self.h.user, p2, 0o644)

    # ==================================================================================
    # YAML / INI / TOML / docker-compose / dotfile credentials
    # ==================================================================================
    def configs(self):
        r, g = self.r, self.g
        CTX = "yaml"
        gh = ["github.com:", "    users:", "        %s:" % self.h.user,
              "            oauth_token: %s" % self.P(self.secret("github_oauth"), "github_oauth", CTX, "yaml_kv"),
              "    git_protocol: https",
              "    oauth_token: %s" % self.P(self.secret("github_oauth"), "github_oauth", CTX, "yaml_kv"),
              "    user: %s" % self.h.user]
        self.h.write(".config/gh/hosts.yml", "\n".join(gh) + "\n")
        k1 = self.pick(MODEL_KINDS + ["anthropic", "openai"])
        k2 = self.pick()
        cont = ["name: Local Assistant", "version: 1.0.0", "schema: v1", "models:",
                "  - name: Sonnet", "    provider: anthropic", "    model: claude-sonnet-4-6",
                "    apiKey: %s" % self.P(self.secret("anthropic"), "anthropic", CTX, "yaml_kv"),
                "  - name: Primary", "    provider: %s" % PROVIDER_OF.get(k1, "openai"), "    model: default",
                "    apiKey: \"%s\"" % self.P(self.secret(k1), k1, CTX, "yaml_kv"),
                "  - name: Qwen local", "    provider: ollama", "    model: qwen3:14b",
                "    apiKey: %s" % self.D(r.choice(["ollama", "ollama-local", "none"]), "local_placeholder", CTX, "yaml_kv"),
                "  - name: Groq", "    provider: groq", "    model: llama-3.3-70b",
                "    apiKeyEnv: %s" % self.D("GROQ_API_KEY", "env_var_name", CTX, "yaml_kv"),
                "context:", "  - provider: code", "  - provider: docs"]
        self.h.write(".continue/config.yaml", "\n".join(cont) + "\n")
        p = r.choice(self.projects)
        y = ["app:", "  name: %s" % p, "  env: production", "integrations:",
             "  %s:" % r.choice(["notifier", "search", "llm"]), "    enabled: true",
             "    %s: '%s'" % (r.choice(["api_key", "token", "secret"]), self.P(self.secret(k2), k2, CTX, "yaml_kv")),
             "  smtp:", "    host: smtp.fastmail.com", "    port: 587",
             "    password: \"%s\"" % self.P(self.secret("password"), "password", CTX, "yaml_kv"),
             "  cache:", "    key_prefix: %s" % p, "build:",
             "  commit: %s" % self.D(g.sha1(), "git_sha", CTX, "yaml_kv"),
             "  image: ghcr.io/acme/%s@sha256:%s" % (p, self.D(g.sha256(), "sha256_digest", CTX, "yaml_kv")),
             "  id: %s" % self.D(g.uuid(), "uuid", CTX, "yaml_kv")]
        self.h.write("projects/%s/config/production.yaml" % p, "\n".join(y) + "\n")

        CTX = "ini"
        aws = ["[default]",
               "aws_access_key_id = %s" % self.P(self.secret("aws_access_key"), "aws_access_key", CTX, "ini_kv"),
               "aws_secret_access_key = %s" % self.P(self.secret("aws_secret_key"), "aws_secret_key", CTX, "ini_kv"),
               "", "[backup]",
               "aws_access_key_id=%s" % self.P(self.secret("aws_access_key"), "aws_access_key", CTX, "ini_kv"),
               "aws_secret_access_key=%s" % self.P(self.secret("aws_secret_key"), "aws_secret_key", CTX, "ini_kv"),
               "", "[example]", "aws_access_key_id = " + self.D("AKIAIOSFODNN7EXAMPLE", "doc_example", CTX, "ini_kv"),
               "aws_secret_access_key = " + self.D("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "doc_example", CTX, "ini_kv")]
        self.h.write(".aws/credentials", "\n".join(aws) + "\n")
        self.h.write(".aws/config", "[default]\nregion = eu-central-1\noutput = json\n\n[profile backup]\nregion = eu-west-1\n")
        k = self.pick()
        rc = ["[b2]", "type = b2", "account = %s" % g.rs(HEX, 12),
              "key = %s" % self.P(self.secret("generic_token"), "generic_token", CTX, "ini_kv"),
              "hard_delete = true", "", "[nas]", "type = sftp", "host = nas.local", "user = %s" % self.h.user,
              "pass = %s" % self.P(self.secret("password"), "password", CTX, "ini_kv"), "",
              "[%s]" % r.choice(["notify", "llm", "alerts"]), "type = http",
              "%s = %s" % (r.choice(["token", "api_key", "secret"]), self.P(self.secret(k), k, CTX, "ini_kv"))]
        self.h.write(".config/rclone/rclone.conf", "\n".join(rc) + "\n")

        CTX = "toml"
        codex = ["model = \"gpt-5-codex\"", "model_provider = \"openrouter\"", "",
                 "[model_providers.openrouter]", "name = \"OpenRouter\"",
                 "base_url = \"https://openrouter.ai/api/v1\"",
                 "env_key = \"%s\"" % self.D("OPENROUTER_API_KEY", "env_var_name", CTX, "toml_kv"), "",
                 "[model_providers.ollama]", "base_url = \"http://localhost:11434/v1\"",
                 "api_key = \"%s\"" % self.D(r.choice(["ollama", "ollama-local", "not-needed"]), "local_placeholder", CTX, "toml_kv")]
        self.h.write(".codex/config.toml", "\n".join(codex) + "\n")
        self.h.write(".cargo/credentials.toml", "[registry]\ntoken = \"%s\"\n" % self.P(
            "cio" + g.uniq(lambda: g.rs(ALNUM, 32)), "crates_io", CTX, "toml_kv"))
        p = r.choice(self.projects)
        k = self.pick()
        t = ["[bot]", "name = \"%s\"" % p, "poll_interval = 30", "",
             "[telegram]", "token = \"%s\"" % self.P(self.secret("telegram_bot"), "telegram_bot", CTX, "toml_kv"),
             "chat_id = %s" % g.digits(9, 10), "",
             "[llm]", "provider = \"%s\"" % PROVIDER_OF.get(k, "custom"),
             "api_key = \"%s\"" % self.P(self.secret(k), k, CTX, "toml_kv"), "",
             "[llm.local]", "api_key = \"%s\"" % self.D(r.choice(LOCAL_PLACEHOLDERS), "local_placeholder", CTX, "toml_kv"),
             "", "[build]", "rev = \"%s\"" % self.D(g.sha1(), "git_sha", CTX, "toml_kv")]
        self.h.write("projects/%s/config.toml" % p, "\n".join(t) + "\n")

        CTX = "docker_compose"
        p = "openclaw-docker"
        k1, k2 = self.pick(), self.pick()
        dc = ["services:", "  openclaw:", "    image: ghcr.io/openclaw/openclaw:2026.9.6", "    restart: unless-stopped",
              "    ports:", "      - \"127.0.0.1:18789:18789\"", "    environment:",
              "      - OPENCLAW_GATEWAY_TOKEN=%s" % self.P(self.gateway_token, "gateway_token", CTX, "compose_env_list"),
              "      - %s=%s" % (self.h.env_name(k1), self.P(self.secret(k1), k1, CTX, "compose_env_list")),
              "      - OLLAMA_API_KEY=%s" % self.D("ollama-local", "local_placeholder", CTX, "compose_env_list"),
              "    volumes:", "      - ./state:/home/node/.openclaw", "  bot:",
              "    image: ghcr.io/acme/tg-digest@sha256:%s" % self.D(g.sha256(), "sha256_digest", CTX, "compose_image"),
              "    environment:",
              "      TELEGRAM_BOT_TOKEN: \"%s\"" % self.P(self.secret("telegram_bot"), "telegram_bot", CTX, "compose_env_map"),
              "      %s: %s" % (self.h.env_name(k2), self.P(self.secret(k2), k2, CTX, "compose_env_map")),
              "      POSTGRES_PASSWORD: %s" % self.P(self.secret("password"), "password", CTX, "compose_env_map"),
              "      OPENAI_API_KEY: ${OPENAI_API_KEY}", "  db:", "    image: postgres:16",
              "    environment:", "      POSTGRES_PASSWORD_FILE: /run/secrets/pg"]
        self.h.write("projects/%s/docker-compose.yml" % p, "\n".join(dc) + "\n")

        CTX = "dotfile_cred"
        self.h.write(".git-credentials", "https://%s:%s@github.com\nhttps://oauth2:%s@gitlab.com\n" % (
            self.h.user, self.P(self.secret(r.choice(["github_pat", "github_fine"])), "github_pat", CTX, "url_userinfo"),
            self.P(self.secret("gitlab"), "gitlab", CTX, "url_userinfo")))
        # fix kind label for fine-grained tokens
        for rec in self.h.recs[-2:]:
            if rec["value"].startswith("github_pat_"):
                rec["kind"] = "github_fine"
        self.h.write(".npmrc", "//registry.npmjs.org/:_authToken=%s\nfund=false\nsave-exact=true\n" % self.P(
            self.secret("npm"), "npm", CTX, "npmrc"))
        self.h.write(".netrc", "machine api.heroku.com\n  login %s@fastmail.com\n  password %s\nmachine nas.local login %s password %s\n" % (
            self.h.user, self.P(self.secret("generic_token"), "generic_token", CTX, "netrc"),
            self.h.user, self.P(self.secret("password"), "password", CTX, "netrc")))
        self.h.write(".pypirc", "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = %s\n" % self.P(
            "pypi-AgEIcHlwaS5vcmc" + g.uniq(lambda: g.rs(B64URL, 160)), "pypi", CTX, "ini_kv"))

    # ==================================================================================
    # scripts: heredocs, curl
    # ==================================================================================
    def scripts(self):
        r, g = self.r, self.g
        CTX = "heredoc_script"
        for i in range(r.randint(2, 3)):
            ks = [self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")]) for _ in range(r.randint(1, 2))]
            body = ["#!/usr/bin/env bash", "set -euo pipefail", "# bootstrap a fresh box", "",
                    "mkdir -p ~/.openclaw && chmod 700 ~/.openclaw",
                    "cat > ~/.openclaw/.env <<%s" % r.choice(["EOF", "'EOF'", "ENV"])]
            tag = body[-1].split("<<")[1].strip("'")
            for k in ks:
                body.append("%s=%s" % (self.h.env_name(k), self.P(self.secret(k), k, CTX, "heredoc_env")))
            body.append("OLLAMA_API_KEY=" + self.D("ollama-local", "local_placeholder", CTX, "heredoc_env"))
            body.append(tag)
            body += ["", "openclaw config patch <<'JSON5'", "{",
                     "  channels: { telegram: { botToken: \"%s\" } }," % self.P(self.secret("telegram_bot"), "telegram_bot", CTX, "heredoc_json5"),
                     "  gateway: { auth: { token: \"%s\" } }," % self.D("${OPENCLAW_GATEWAY_TOKEN}", "env_ref", CTX, "heredoc_json5"),
                     "}", "JSON5", "", "systemctl --user daemon-reload",
                     "systemctl --user enable --now openclaw-gateway"]
            self.h.write("bin/bootstrap-%d.sh" % i if i else "bin/bootstrap.sh", "\n".join(body) + "\n", 0o755)
        CTX = "curl_script"
        lines = ["#!/bin/sh", "# quick provider smoke tests", ""]
        for _ in range(r.randint(3, 5)):
            k = self.pick([k for k in KINDS if KINDS[k][2]])
            url = API_URL.get(k, "https://api.example.net/v1/ping").format(org="acme", repo="infra", proj=g.rs(string.ascii_lowercase, 20))
            H = KINDS[k][2].format(self.P(self.secret(k), k, CTX, "curl_header"))
            lines.append("echo '== %s'" % k)
            lines.append("curl -fsS %s \\" % url)
            lines.append("  -H \"%s\" \\" % H)
            lines.append("  -o /dev/null -w '%{http_code}\\n'")
        lines.append('curl -fsS "$API" -H "Authorization: Bearer $OPENROUTER_API_KEY"')
        self.h.write("bin/smoke.sh", "\n".join(lines) + "\n", 0o755)
        # notify script: webhook URLs
        CTX = "notify_script"
        n = ["#!/usr/bin/env bash", "msg=\"$1\"",
             "SLACK_HOOK=\"%s\"" % self.P(self.secret("slack_webhook"), "slack_webhook", CTX, "url_path"),
             "curl -s -X POST -H 'Content-type: application/json' --data \"{\\\"text\\\":\\\"$msg\\\"}\" \"$SLACK_HOOK\"",
             "curl -s -H 'Content-Type: application/json' -d \"{\\\"content\\\":\\\"$msg\\\"}\" %s" % self.P(self.secret("discord_webhook"), "discord_webhook", CTX, "url_path"),
             "curl -s \"https://api.telegram.org/bot%s/sendMessage\" -d chat_id=%s -d text=\"$msg\"" % (
                 self.P(self.secret("telegram_bot"), "telegram_bot", CTX, "url_path"), g.digits(9, 10))]
        self.h.write("bin/notify.sh", "\n".join(n) + "\n", 0o755)

    # ==================================================================================
    # source code, minified JS, notes
    # ==================================================================================
    def source_code(self):
        r, g = self.r, self.g
        CTX = "source_code"
        p = self.projects[0]
        k = self.pick(["openai", "openai_legacy", "anthropic", "groq", "openrouter", "google", "xai"])
        py = ["import os", "from openai import OpenAI", "", "# TODO: move to env before pushing",
              "client = OpenAI(", "    base_url=\"%s\"," % API_URL.get(k, "https://api.openai.com/v1").rsplit("/", 1)[0],
              "    api_key=\"%s\"," % self.P(self.secret(k), k, CTX, "py_kwarg"), ")", "",
              "TELEGRAM_TOKEN = \"%s\"" % self.P(self.secret("telegram_bot"), "telegram_bot", CTX, "py_assign"),
              "CHAT_ID = %s" % g.digits(9, 10),
              "LOCAL_KEY = \"%s\"  # lm studio ignores it" % self.D(r.choice(["lm-studio", "not-needed", "sk-no-key-required"]), "local_placeholder", CTX, "py_assign"),
              "BUILD_SHA = \"%s\"" % self.D(g.sha1(), "git_sha", CTX, "py_assign"),
              "", "def ask(q):", "    r = client.chat.completions.create(model=\"gpt-4.1-mini\", messages=[{\"role\": \"user\", \"content\": q}])",
              "    return r.choices[0].message.content", ""]
        self.h.write("projects/%s/bot.py" % p, "\n".join(py) + "\n")
        p2 = self.projects[1]
        k2 = self.pick(["anthropic", "openai", "deepseek", "mistral", "perplexity", "elevenlabs", "stripe"])
        ts = ["import Anthropic from '@anthropic-ai/sdk';", "",
              "const anthropic = new Anthropic({ apiKey: '%s' });" % self.P(self.secret("anthropic"), "anthropic", CTX, "js_object"),
              "const cfg = {",
              "  %s: process.env.%s ?? '%s'," % (r.choice(["apiKey", "token", "secretKey"]), self.h.env_name(k2), self.P(self.secret(k2), k2, CTX, "js_fallback")),
              "  endpoint: 'https://api.%s.example/v1'," % p2,
              "  requestId: '%s'," % self.D(g.uuid(), "uuid", CTX, "js_object"),
              "};", "", "export async function summarize(text: string) {",
              "  const msg = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: text }] });",
              "  return msg.content;", "}", ""]
        self.h.write("projects/%s/src/llm.ts" % p2, "\n".join(ts) + "\n")

    def minified_js(self):
        r, g = self.r, self.g
        # OpenClaw's own cache of its web assets: decoy identifiers only
        CTX = "cache_js"
        parts = []
        idents = ["apiKey:e.sessionKey", "token:t.token", "password:n.password", "authToken:o.authToken",
                  "secret:r.secret??\"\"", "Authorization:\"Bearer \"+e.token", "\"x-api-key\":s.apiKey",
                  "sessionKey:`agent:${e}:main`", "refreshToken:i.refreshToken", "apiKey:void 0",
                  "token:null", "clientSecret:a.clientSecret||\"\""]
        lines = []
        for i in range(r.randint(30, 60)):
            chunk = []
            for _ in range(r.randint(20, 60)):
                a, b = g.rs(string.ascii_letters, 2), g.rs(string.ascii_letters, 1)
                chunk.append(r.choice(["function %s(%s){return %s.%s}" % (a, b, b, r.choice(CODE_WORDS)),
                                       "var %s=%s.%s(%d)" % (a, b, r.choice(CODE_WORDS), r.randint(0, 999)),
                                       "const %s={%s:%s.%s}" % (a, r.choice(CODE_WORDS), b, r.choice(CODE_WORDS)),
                                       "%s.push(\"%s\")" % (a, r.choice(WORDS))]))
            if i % 3 == 0:
                chunk.insert(r.randint(0, len(chunk)), "const Ck={%s}" % self.D(r.choice(idents), "minified_js_ident", CTX, "minified_js"))
            elif i % 11 == 5:
                chunk.insert(r.randint(0, len(chunk)), "src:\"data:image/png;base64,%s\"" % self.D(png_b64(r), "base64_image", CTX, "data_uri"))
            elif i % 13 == 7:
                chunk.insert(r.randint(0, len(chunk)), "const Pf=\"%s\";e.startsWith(Pf)" % self.D(r.choice(["sk-ant-", "sk-or-v1-", "xoxb-", "ghp_", "AIza"]), "minified_js_ident", CTX, "minified_js"))
            lines.append(";".join(chunk))
        h8 = g.rs(B64URL, 8)
        self.h.write(".openclaw/cache/control-ui-assets/2026.9.6/assets/index-%s.js" % h8, "\n".join(lines) + "\n")
        # a built web app bundle in a project: identifiers and one hard-coded key
        CTX = "minified_js"
        lines = []
        k = self.pick(["openrouter", "google", "groq", "openai", "elevenlabs", "tavily"])
        hdr = KINDS[k][2] or "Authorization: Bearer {}"
        hname, hval = hdr.split(": ", 1)
        for i in range(r.randint(20, 40)):
            chunk = []
            for _ in range(r.randint(20, 50)):
                a, b = g.rs(string.ascii_letters, 2), g.rs(string.ascii_letters, 1)
                chunk.append(r.choice(["function %s(%s){return %s.%s}" % (a, b, b, r.choice(CODE_WORDS)),
                                       "var %s=%s.%s(%d)" % (a, b, r.choice(CODE_WORDS), r.randint(0, 999))]))
            if i == 7:
                chunk.insert(r.randint(0, len(chunk)), "fetch(\"%s\",{headers:{\"%s\":\"%s\"}})" % (
                    API_URL.get(k, "https://x/v1"), hname, hval.format(self.P(self.secret(k), k, CTX, "minified_js"))))
            if i % 4 == 2:
                chunk.insert(r.randint(0, len(chunk)), "const Qs={%s}" % self.D(r.choice(idents), "minified_js_ident", CTX, "minified_js"))
            lines.append(";".join(chunk))
        self.h.write("projects/%s/dist/assets/index-%s.js" % (self.projects[2], g.rs(B64URL, 8)), "\n".join(lines) + "\n")
        # package-lock with integrity hashes, and a git-resolved dependency
        CTX = "package_lock"
        pk = {"name": self.projects[2], "version": "0.3.1", "lockfileVersion": 3, "requires": True, "packages": {
            "": {"name": self.projects[2], "version": "0.3.1", "dependencies": {"openai": "^5.1.0"}}}}
        for name in r.sample(["openai", "zod", "undici", "ws", "yaml", "dotenv", "chalk", "commander", "vite",
                              "react", "react-dom", "esbuild", "rollup", "tslib", "nanoid", "debug", "ms"], 12):
            pk["packages"]["node_modules/" + name] = {
                "version": "%d.%d.%d" % (r.randint(0, 9), r.randint(0, 30), r.randint(0, 20)),
                "resolved": "https://registry.npmjs.org/%s/-/%s-1.0.0.tgz" % (name, name),
                "integrity": self.D(g.integrity(), "npm_integrity", CTX, "json_field"), "license": "MIT"}
        pk["packages"]["node_modules/internal-ui"] = {"version": "0.0.0",
            "resolved": "git+ssh://git@github.com/acme/internal-ui.git#" + self.D(g.sha1(), "git_sha", CTX, "json_field")}
        self.h.write("projects/%s/package-lock.json" % self.projects[2], jd(pk, indent=2) + "\n")
        # Cargo.lock / SHA256SUMS
        CTX = "checksums"
        sums = ["%s  %s" % (self.D(g.sha256(), "sha256_digest", CTX, "sha256sum"), f) for f in
                ["openclaw-2026.9.6.tgz", "node-v24.3.0-linux-x64.tar.xz", "clawvault-x86_64-unknown-linux-gnu.tar.gz"]]
        sums.append("%s  big.iso" % self.D(g.sha512(), "sha512_digest", CTX, "sha512sum"))
        self.h.write("Downloads/SHA256SUMS", "\n".join(sums) + "\n")
        cl = ["version = 4", ""]
        for name in ["serde", "tokio", "anyhow", "clap"]:
            cl += ["[[package]]", "name = \"%s\"" % name, "version = \"1.0.%d\"" % r.randint(0, 200),
                   "source = \"registry+https://github.com/rust-lang/crates.io-index\"",
                   "checksum = \"%s\"" % self.D(g.sha256(), "sha256_digest", CTX, "toml_kv"), ""]
        self.h.write("projects/%s/Cargo.lock" % self.projects[3], "\n".join(cl))

    def notes(self):
        r, g = self.r, self.g
        CTX = "markdown_notes"
        md = ["# OpenClaw setup notes", "", paragraph(r), "", "## Keys", "",
              "Docs say to use placeholders like `%s` in examples." % self.D("example-openai-key-not-real", "doc_example", CTX, "md_inline"),
              "", "```bash", "export OPENAI_API_KEY=%s" % self.D(r.choice(["sk-...", "your-api-key-here"]), "doc_example", CTX, "md_code"),
              "export ANTHROPIC_API_KEY=\"%s\"" % self.D("${ANTHROPIC_API_KEY}", "env_ref", CTX, "md_code"), "```", "",
              "- jwt.io sample for testing the webhook: `%s`" % self.D(JWT_IO, "doc_example", CTX, "md_inline"),
              "- aws example pair: %s" % self.D("AKIAIOSFODNN7EXAMPLE", "doc_example", CTX, "md_inline"),
              "- hex test vector: %s" % self.D(r.choice(["0123456789abcdef0123456789abcdef", "abcdef0123456789abcdef0123456789abcdef0123456789"]), "doc_example", CTX, "md_inline"),
              ""]
        k = self.pick()
        md += ["## Real ones (move to vault!!)", "",
               "- %s: `%s`" % (human(k), self.P(self.secret(k), k, CTX, "md_inline")),
               "- gateway token: %s" % self.P(self.gateway_token, "gateway_token", CTX, "md_inline"), ""]
        k = self.pick()
        md += ["```", "%s=%s" % (self.h.env_name(k), self.P(self.secret(k), k, CTX, "md_code")), "```", "",
               paragraph(r), "", "status output: `anthropic:default  %s  ok`" % self.D(redacted(self.h), "redacted", CTX, "md_inline"), ""]
        self.h.write("notes/openclaw-setup.md", "\n".join(md) + "\n")
        # a project README with a documented config example (doc placeholders only)
        CTX = "project_readme"
        ex = r.sample(DOC_EXAMPLES, 8)
        rd = ["# %s" % self.projects[1], "", paragraph(r), "", "## Configuration", "",
              "Put these in `.env` (see `.env.example`):", "", "```dotenv"]
        names = ["OPENAI_API_KEY", "OPENROUTER_API_KEY", "TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "GITHUB_TOKEN",
                 "AWS_ACCESS_KEY_ID", "WEBHOOK_SECRET", "GROQ_API_KEY"]
        for n, v in zip(names, ex[:5]):
            rd.append("%s=%s" % (n, self.D(v, "doc_example", CTX, "md_code")))
        rd += ["```", "", "or in `openclaw.json`:", "", "```json5", "{"]
        for v in ex[5:]:
            rd.append("  apiKey: \"%s\", // replace" % self.D(v, "doc_example", CTX, "md_code"))
        rd += ["  token: \"%s\"," % self.D(JWT_IO, "doc_example", CTX, "md_code"), "}", "```", "", paragraph(r), ""]
        self.h.write("projects/%s/README.md" % self.projects[1], "\n".join(rd) + "\n")
        # an html page with data URI images
        html = ["<!doctype html>", "<html><body>", "<h1>%s</h1>" % sentence(r)]
        for _ in range(3):
            html.append("<img alt=\"chart\" src=\"data:image/png;base64,%s\">" % self.D(png_b64(r, 16, 16), "base64_image", "html", "data_uri"))
            html.append("<p>%s</p>" % paragraph(r))
        html.append("</body></html>")
        self.h.write("notes/report.html", "\n".join(html) + "\n")

    def cron_jobs(self):
        r, g = self.r, self.g
        CTX = "cron_jobs"
        jobs = {"version": 1, "jobs": [
            {"id": g.uuid(), "name": "morning digest", "schedule": {"kind": "cron", "expr": "0 7 * * *", "tz": "Europe/Berlin"},
             "payload": {"kind": "agentTurn", "message": "Summarize my inbox and calendar"},
             "delivery": {"mode": "webhook", "to": self.P(self.secret("discord_webhook"), "discord_webhook", CTX, "url_path")},
             "enabled": True},
            {"id": g.uuid(), "name": "uptime ping", "schedule": {"kind": "every", "everyMs": 300000},
             "payload": {"kind": "systemEvent", "text": "ping"},
             "delivery": {"mode": "webhook", "to": self.P(self.secret("slack_webhook"), "slack_webhook", CTX, "url_path")},
             "enabled": r.random() < 0.5}]}
        self.h.write(".openclaw/cron/jobs.json", jd(jobs, indent=2) + "\n")

    # ==================================================================================
    # transcripts (session JSONL), logs, workspace memory: labelled entries + padding
    # ==================================================================================
    def transcript_labelled(self):
        """Labelled transcript entries (message dicts), spread over the agents' sessions."""
        r, g = self.r, self.g
        out = []
        # tool calls carrying a secret
        for _ in range(r.randint(8, 11)):
            CTX = "transcript_toolcall"
            c = self.cmd_with_secret(CTX)
            tid = "toolu_01" + g.rs(ALNUM, 22)
            out.append(("call", {"role": "assistant", "content": [
                {"type": "text", "text": r.choice(["Let me check that.", "Running it now.", "I'll verify the key works."])},
                {"type": "toolCall", "id": tid, "name": "exec", "arguments": {"command": c, "timeout": 30}}]}, tid))
        # write tool with a config snippet
        for _ in range(2):
            CTX = "transcript_toolcall"
            k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
            tid = "toolu_01" + g.rs(ALNUM, 22)
            content = "# written by agent\n%s=%s\nLOG_LEVEL=info\n" % (self.h.env_name(k), self.P(self.secret(k), k, CTX, "tool_write_content"))
            out.append(("call", {"role": "assistant", "content": [
                {"type": "toolCall", "id": tid, "name": "write", "arguments": {"path": "%s/projects/%s/.env" % (self.h.uhome, r.choice(self.projects)), "content": content}}]}, tid))
        # tool results carrying a secret
        for i in range(r.randint(8, 11)):
            CTX = "transcript_toolresult"
            tid = "toolu_01" + g.rs(ALNUM, 22)
            c = i % 6
            if c == 0:
                k = r.choice(["anthropic_oauth_refresh", "google_oauth_refresh"])
                v = self.P(self.secret(k), k, CTX, "tool_output_json")
                cmd = "jq '.[].refresh' ~/.openclaw/credentials/oauth.json"
                text = '"%s"\n' % v
            elif c == 1:
                k = r.choice(["google_oauth_refresh", "anthropic_oauth_refresh"])
                v = self.P(self.secret(k), k, CTX, "tool_output_json")
                cmd = "curl -s -X POST https://oauth2.googleapis.com/token -d grant_type=authorization_code ..."
                text = jd({"access_token": "(see keychain)", "expires_in": 3599, "refresh_token": "__V__",
                           "scope": "https://www.googleapis.com/auth/gmail.readonly", "token_type": "Bearer"}, indent=2).replace("__V__", v)
            elif c == 2:
                v = self.P(self.secret("github_oauth"), "github_oauth", CTX, "tool_output_bare")
                cmd = "gh auth token"
                text = v + "\n"
            elif c == 3:
                v = self.P(self.gateway_token, "gateway_token", CTX, "tool_output_bare")
                cmd = "openclaw gateway auth-token --show"
                text = v + "\n"
            elif c == 4:
                k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
                v = self.P(self.secret(k), k, CTX, "tool_output_env")
                cmd = "cat ~/projects/%s/.env" % r.choice(self.projects)
                text = "NODE_ENV=production\nPORT=3000\n%s=%s\nLOG_LEVEL=debug\n" % (self.h.env_name(k), v)
            else:
                k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
                v = self.P(self.secret(k), k, CTX, "tool_output_env")
                cmd = "printenv | grep -i key"
                text = "%s=%s\nKEYTIMEOUT=1\n" % (self.h.env_name(k), v)
            out.append(("result", cmd, text, tid))
        # user pastes a key, assistant repeats part of it redacted / whole
        for _ in range(r.randint(4, 6)):
            CTX = "transcript_text"
            k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook", "aws_secret_key", "password")])
            v = self.secret(k)
            out.append(("msg", {"role": "user", "content": [{"type": "text", "text": r.choice([
                "here is my new %s key: %s can you put it in the config?",
                "use this one: %s -> %s",
                "%s token is %s, save it"]) % (human(k), self.P(v, k, CTX, "chat_text"))}]}))
            if r.random() < 0.5:
                out.append(("msg", {"role": "assistant", "content": [{"type": "text", "text":
                    "Saved. I set `%s` to `%s` and restarted the gateway." % (self.h.env_name(k), self.P(v, k, CTX, "chat_text"))}]}))
        # decoys in transcripts
        for i in range(r.randint(10, 14)):
            CTX = "transcript_decoy"
            c = i % 7
            tid = "toolu_01" + g.rs(ALNUM, 22)
            if c == 0:
                out.append(("result", "git log -1", "commit %s\nAuthor: %s <%s@fastmail.com>\nDate:   Mon Aug 3 10:12:44 2026 +0200\n\n    fix retry\n" % (
                    self.D(g.sha1(), "git_sha", CTX, "tool_output"), self.h.user, self.h.user), tid))
            elif c == 1:
                out.append(("result", "sha256sum openclaw.tgz", "%s  openclaw.tgz\n" % self.D(g.sha256(), "sha256_digest", CTX, "tool_output"), tid))
            elif c == 2:
                out.append(("msg", {"role": "assistant", "content": [{"type": "text", "text":
                    "Your key `%s` is configured and the probe returned ok." % self.D(redacted(self.h), "redacted", CTX, "chat_text")}]}))
            elif c == 3:
                out.append(("msg", {"role": "assistant", "content": [{"type": "text", "text":
                    "Set it with `export OPENAI_API_KEY=%s` and restart." % self.D(r.choice(["your-api-key-here", "sk-...", "<your-key>"]), "doc_example", CTX, "chat_text")}]}))
            elif c == 4:
                out.append(("msg", {"role": "user", "content": [
                    {"type": "text", "text": "what is in this screenshot?"},
                    {"type": "image", "data": self.D(png_b64(r, 20, 12), "base64_image", CTX, "image_block"), "mimeType": "image/png"}]}))
            elif c == 5:
                out.append(("result", "openclaw models status --plain", "anthropic:default  api_key  %s  ok\nollama:local  api_key  marker(%s)  ok\n" % (
                    self.D(redacted(self.h), "redacted", CTX, "tool_output"), "ollama-local"), tid))
            else:
                out.append(("result", "cat ~/.openclaw/agents/main/agent/models.json | jq .providers.openrouter.apiKey",
                            "\"%s\"\n" % self.D("OPENROUTER_API_KEY", "env_var_name", CTX, "tool_output"), tid))
        r.shuffle(out)
        return out

    def log_labelled(self):
        r, g = self.r, self.g
        js, tx = [], []
        for i in range(r.randint(8, 11)):
            CTX = "json_log"
            c = i % 6
            if c == 0:
                tok = self.P(self.secret("telegram_bot"), "telegram_bot", CTX, "url_path")
                js.append(("tslog", "gateway/channels/telegram", "WARN",
                           "telegram: getUpdates failed: request to https://api.telegram.org/bot%s/getUpdates failed, reason: ETIMEDOUT" % tok))
            elif c == 1:
                js.append(("flat", {"level": "debug", "subsystem": "gateway/ws", "msg": "connect", "client": "control-ui",
                                    "auth": {"mode": "token", "token": self.P(self.gateway_token, "gateway_token", CTX, "json_nested_field")}}))
            elif c == 2:
                k = self.pick([k for k in KINDS if KINDS[k][2]])
                js.append(("flat", {"level": "debug", "subsystem": "plugins/http", "msg": "outbound request",
                                    "method": "POST", "url": API_URL.get(k, "https://api.example.net/v1"),
                                    "headers": {KINDS[k][2].split(": ")[0].lower(): KINDS[k][2].split(": ", 1)[1].format(
                                        self.P(self.secret(k), k, CTX, "json_header"))}}))
            elif c == 3:
                k = self.pick(["discord_bot", "slack_bot", "telegram_bot", "slack_app", "matrix_token"])
                path = {"discord_bot": "channels.discord.token", "slack_bot": "channels.slack.botToken",
                        "telegram_bot": "channels.telegram.botToken", "slack_app": "channels.slack.appToken",
                        "matrix_token": "channels.matrix.accessToken"}[k]
                js.append(("flat", {"level": "info", "subsystem": "gateway/reload", "msg": "config changed",
                                    "path": path, "to": self.P(self.secret(k), k, CTX, "json_field")}))
            elif c == 4:
                js.append(("tslog", "gateway", "INFO", "Dashboard: http://127.0.0.1:18789/#token=%s" % self.P(self.gateway_token, "gateway_token", CTX, "url_fragment")))
            else:
                k = self.pick([k for k in KINDS if k not in ("slack_webhook", "discord_webhook")])
                js.append(("tslog", "agent/embedded", "INFO", "exec: %s=%s node scripts/check.mjs (exit 0)" % (
                    self.h.env_name(k), self.P(self.secret(k), k, CTX, "json_message_text"))))
        for i in range(r.randint(5, 7)):
            CTX = "text_log"
            c = i % 4
            if c == 0:
                tx.append("[telegram] [default] starting provider (bot token https://api.telegram.org/bot%s/getMe)" % self.P(self.secret("telegram_bot"), "telegram_bot", CTX, "url_path"))
            elif c == 1:
                tx.append("[discord] login failed: 401 Unauthorized for token %s" % self.P(self.secret("discord_bot"), "discord_bot", CTX, "log_text"))
            elif c == 2:
                tx.append("[gateway] Control UI: http://127.0.0.1:18789/#token=%s" % self.P(self.gateway_token, "gateway_token", CTX, "url_fragment"))
            else:
                k = self.pick([k for k in KINDS if KINDS[k][2]])
                tx.append("[agent/embedded] tool exec: curl -H \"%s\" ... -> 200" % KINDS[k][2].format(self.P(self.secret(k), k, CTX, "log_text")))
        # decoys in logs
        for i in range(r.randint(8, 11)):
            CTX = "log_decoy"
            c = i % 5
            if c == 0:
                js.append(("flat", {"level": "info", "subsystem": "gateway/auth", "msg": "auth ok",
                                    "token": self.D(redacted(self.h), "redacted", CTX, "json_field")}))
            elif c == 1:
                js.append(("flat", {"level": "info", "subsystem": "agent", "msg": "run complete",
                                    "runId": self.D(g.uuid(), "uuid", CTX, "json_field"), "durationMs": r.randint(200, 90000)}))
            elif c == 2:
                js.append(("flat", {"level": "info", "subsystem": "update", "msg": "verified package",
                                    "integrity": self.D(g.integrity(), "npm_integrity", CTX, "json_field")}))
            elif c == 3:
                if r.random() < 0.5:
                    js.append(("flat", {"level": "info", "subsystem": "models", "msg": "provider ready",
                                        "provider": "ollama", "apiKey": self.D("ollama-local", "local_placeholder", CTX, "json_field")}))
                else:
                    js.append(("flat", {"level": "info", "subsystem": "models", "msg": "provider ready",
                                        "provider": "corp-proxy", "apiKey": self.D("marker(secretref-managed)", "secretref_marker", CTX, "json_field")}))
            else:
                tx.append("[update] installed openclaw@2026.9.6 (%s)" % self.D(g.sha1(), "git_sha", CTX, "log_text"))
        self.json_log_planted = js
        self.text_log_planted = tx

    # --- padding generators
    def pad_message(self, sess_kind):
        r, g = self.r, self.g
        c = r.random()
        if c < 0.3:
            return {"role": "user", "content": [{"type": "text", "text": paragraph(r, r.randint(1, 3))}]}
        if c < 0.6:
            return {"role": "assistant", "content": [{"type": "text", "text": paragraph(r, r.randint(2, 8))}],
                    "api": "anthropic-messages", "provider": "anthropic", "model": "claude-sonnet-4-6",
                    "usage": {"input": r.randint(1000, 90000), "output": r.randint(20, 3000), "cacheRead": r.randint(0, 80000),
                              "cacheWrite": 0, "totalTokens": r.randint(1000, 100000)},
                    "stopReason": "stop"}
        return None  # tool round trip

    def pad_tool(self):
        r, g = self.r, self.g
        tid = "toolu_01" + g.rs(ALNUM, 22)
        c = r.randint(0, 4)
        if c == 0:
            name, args = "read", {"path": "%s/projects/%s/%s" % (self.h.uhome, r.choice(self.projects), r.choice(["README.md", "src/index.ts", "bot.py", "notes.md"]))}
            out = "\n".join(("    " * r.randint(0, 2)) + " ".join(r.choices(CODE_WORDS + WORDS, k=r.randint(3, 12))) for _ in range(r.randint(5, 60)))
        elif c == 1:
            cmd = self.plain_cmd()
            name, args = "exec", {"command": cmd}
            out = "\n".join(" ".join(r.choices(WORDS, k=r.randint(2, 10))) for _ in range(r.randint(1, 30)))
        elif c == 2:
            name, args = "web_search", {"query": " ".join(r.choices(WORDS, k=r.randint(2, 6)))}
            out = jd({"results": [{"title": sentence(r, 6), "url": "https://%s.example/%s" % (r.choice(WORDS), r.choice(WORDS)),
                                   "snippet": sentence(r)} for _ in range(r.randint(3, 8))]})
        elif c == 3:
            name, args = "write", {"path": "%s/.openclaw/workspace/memory/%s.md" % (self.h.uhome, self.ts_iso()[:10]), "content": paragraph(r, 4)}
            out = "ok"
        else:
            name, args = "web_fetch", {"url": "https://%s.example/%s" % (r.choice(WORDS), r.choice(WORDS))}
            out = paragraph(r, r.randint(4, 20))
        call = {"role": "assistant", "content": [{"type": "toolCall", "id": tid, "name": name, "arguments": args}],
                "api": "anthropic-messages", "provider": "anthropic", "model": "claude-sonnet-4-6", "stopReason": "toolUse"}
        res = {"role": "toolResult", "toolCallId": tid, "toolName": name, "content": [{"type": "text", "text": out}], "isError": False}
        return [call, res]

    def write_session(self, agent, sid, msgs):
        r, g = self.r, self.g
        t0 = self.h.base_ts - r.randint(0, 60 * 86400)
        lines = [jd({"type": "session", "version": 3, "id": sid, "timestamp": self.ts_iso(t0 - self.h.base_ts),
                     "cwd": "%s/.openclaw/workspace" % self.h.uhome})]
        parent = None
        t = t0
        for m in msgs:
            eid = g.rs(HEX, 8)
            t += r.randint(1, 300)
            m = dict(m)
            m.setdefault("timestamp", t * 1000)
            lines.append(jd({"type": "message", "id": eid, "parentId": parent,
                             "timestamp": self.ts_iso(t - self.h.base_ts), "message": m}, separators=(",", ":")))
            parent = eid
        text = "\n".join(lines) + "\n"
        self.h.write(".openclaw/agents/%s/sessions/%s.jsonl" % (agent, sid), text)
        return len(text)

    def transcripts(self, budget):
        r, g = self.r, self.g
        labelled = self.transcript_labelled()
        # distribute labelled entries into the first sessions
        n_sessions = max(6, min(400, budget // 60000))
        per = [[] for _ in range(n_sessions)]
        for item in labelled:
            per[r.randrange(min(n_sessions, 12))].append(item)
        used = 0
        index = {}
        for si in range(n_sessions):
            agent = self.agents[si % len(self.agents)] if si >= 12 else r.choice(self.agents)
            sid = g.uuid()
            target = budget // n_sessions
            msgs = []
            size = 0
            while size < target:
                m = self.pad_message("x")
                if m is None:
                    pair = self.pad_tool()
                    msgs += pair
                    size += len(jd(pair))
                else:
                    msgs.append(m)
                    size += len(jd(m))
            for item in per[si]:
                pos = r.randint(1, len(msgs)) if msgs else 0
                while pos < len(msgs) and msgs[pos].get("role") == "toolResult":
                    pos += 1
                if item[0] == "call":
                    _, m, tid = item
                    res = {"role": "toolResult", "toolCallId": tid, "toolName": m["content"][-1]["name"],
                           "content": [{"type": "text", "text": "ok"}], "isError": False}
                    msgs[pos:pos] = [m, res]
                elif item[0] == "result":
                    _, cmd, text, tid = item
                    call = {"role": "assistant", "content": [{"type": "toolCall", "id": tid, "name": "exec", "arguments": {"command": cmd}}],
                            "stopReason": "toolUse"}
                    res = {"role": "toolResult", "toolCallId": tid, "toolName": "exec",
                           "content": [{"type": "text", "text": text}], "isError": False}
                    msgs[pos:pos] = [call, res]
                else:
                    msgs.insert(pos, item[1])
            used += self.write_session(agent, sid, msgs)
            index.setdefault(agent, {})["agent:%s:%s" % (agent, r.choice(["main", "telegram:direct:%s" % g.digits(9, 10)]))] = {
                "sessionId": sid, "updatedAt": (self.h.base_ts - r.randint(0, 86400 * 30)) * 1000}
        for agent, idx in index.items():
            self.h.write(".openclaw/agents/%s/sessions/sessions.json" % agent, jd(idx, indent=2) + "\n")
        return used

    def logs(self, budget_json, budget_text):
        r, g = self.r, self.g
        self.log_labelled()
        subs = ["gateway", "gateway/ws", "gateway/channels/telegram", "gateway/channels/discord", "agent/embedded",
                "cron", "plugins", "memory", "models", "gateway/health"]
        t = self.h.base_ts - 10 * 86400

        def tslog(sub, lvl, msg, tt):
            return jd({"0": jd({"subsystem": sub}), "1": msg,
                       "_meta": {"runtime": "node", "runtimeVersion": "24.3.0", "hostname": "unknown",
                                 "name": jd({"subsystem": sub}), "parentNames": ["openclaw"],
                                 "date": self.ts_iso(tt - self.h.base_ts), "logLevelId": {"DEBUG": 2, "INFO": 3, "WARN": 4}[lvl],
                                 "logLevelName": lvl},
                       "time": self.ts_iso(tt - self.h.base_ts)}, separators=(",", ":"))

        def flat(d, tt):
            d = dict(d)
            return jd(dict({"time": self.ts_iso(tt - self.h.base_ts)}, **d), separators=(",", ":"))

        def pad_json(tt):
            sub = r.choice(subs)
            c = r.random()
            if c < 0.6:
                return tslog(sub, r.choice(["INFO", "INFO", "DEBUG", "WARN"]), "%s: %s" % (sub.split("/")[-1], sentence(r, r.randint(4, 14))), tt)
            return flat({"level": "info", "subsystem": sub, "msg": sentence(r, r.randint(3, 8)),
                         "sessionKey": "agent:%s:main" % r.choice(self.agents), "durationMs": r.randint(1, 20000)}, tt)

        files = ["logs/openclaw.jsonl", "logs/openclaw.jsonl.1", "logs/openclaw.jsonl.2"]
        per = budget_json // len(files)
        planted = self.json_log_planted[:]
        r.shuffle(planted)
        buckets = [planted[i::len(files)] for i in range(len(files))]
        for fi, f in enumerate(files):
            lines = []
            size = 0
            while size < per:
                t += r.randint(1, 30)
                l = pad_json(t)
                lines.append(l)
                size += len(l) + 1
            for item in buckets[fi]:
                t += 1
                l = tslog(item[1], item[2], item[3], t) if item[0] == "tslog" else flat(item[1], t)
                lines.insert(r.randint(len(lines) // 5, len(lines)), l)
            self.h.write(".openclaw/" + f, "\n".join(lines) + "\n")
        # console logs (launchd/systemd stdout)
        lines = []
        size = 0
        while size < budget_text:
            t += r.randint(1, 60)
            l = "%s [%s] %s" % (self.ts_iso(t - self.h.base_ts), r.choice(subs).split("/")[-1], sentence(r, r.randint(4, 14)))
            lines.append(l)
            size += len(l) + 1
        for l in self.text_log_planted:
            lines.insert(r.randint(0, len(lines)), "%s %s" % (self.ts_iso(t - self.h.base_ts), l))
        self.h.write(".openclaw/logs/gateway.log", "\n".join(lines) + "\n")
        self.h.write(".openclaw/logs/gateway.err.log", "\n".join(
            "%s [gateway] %s" % (self.ts_iso(), sentence(r)) for _ in range(50)) + "\n")

    def workspace(self, budget):
        r, g = self.r, self.g
        ws = ".openclaw/workspace/"
        self.h.write(ws + "AGENTS.md", "# AGENTS.md\n\n" + "\n\n".join(paragraph(r) for _ in range(8)) + "\n")
        self.h.write(ws + "SOUL.md", "# SOUL\n\n" + "\n\n".join(paragraph(r) for _ in range(4)) + "\n")
        self.h.write(ws + "TOOLS.md", "# TOOLS\n\n- exec: allowed\n- browser: remote profile\n\n" + paragraph(r) + "\n")
        CTX = "workspace_memory"
        planted = []
        for _ in range(r.randint(3, 5)):
            k = self.pick([k for k in KINDS if k not in ("aws_secret_key",)])
            planted.append(r.choice(["- %s key for research: %s", "- saved %s token `%s` (user asked me to remember it)",
                                     "%s -> %s"]) % (human(k), self.P(self.secret(k), k, CTX, "md_text")))
        decoys = ["- gateway token lives in the vault (%s)" % self.D("secretref-managed", "secretref_marker", CTX, "md_text"),
                  "- ollama key is just `%s`" % self.D("ollama-local", "local_placeholder", CTX, "md_text"),
                  "- session %s was the long one" % self.D(g.uuid(), "uuid", CTX, "md_text")]
        items = planted + decoys
        n_files = max(3, budget // 40000)
        per = budget // n_files
        for i in range(n_files):
            day = self.ts_iso(-i * 86400)[:10]
            lines = ["# %s" % day, ""]
            size = 0
            while size < per:
                l = "- " + sentence(r) if r.random() < 0.7 else paragraph(r)
                lines.append(l)
                size += len(l) + 1
            for it in items[i::n_files]:
                lines.insert(r.randint(2, len(lines)), it)
            self.h.write(ws + "memory/%s.md" % day if i else ws + "MEMORY.md", "\n".join(lines) + "\n")

    def project_padding(self, budget):
        r, g = self.r, self.g
        used = 0
        i = 0
        while used < budget:
            p = self.projects[i % len(self.projects)]
            ext = r.choice(["py", "ts", "js", "md", "json"])
            lines = []
            for _ in range(r.randint(40, 400)):
                if ext == "md":
                    lines.append(paragraph(r))
                elif ext == "json":
                    lines.append("  %s: %s," % (jd(r.choice(WORDS)), jd(sentence(r, 4))))
                else:
                    lines.append(("    " * r.randint(0, 3)) + " ".join(r.choices(CODE_WORDS, k=r.randint(2, 10))))
            if ext == "json":
                lines = ["{"] + lines + ['  "end": true', "}"]
            text = "\n".join(lines) + "\n"
            self.h.write("projects/%s/src/%s_%d.%s" % (p, r.choice(CODE_WORDS), i, ext), text, 0o644)
            used += len(text)
            i += 1

    def build(self):
        h = self.h
        self.openclaw_json()
        self.auth_profiles()
        self.oauth_json()
        self.secrets_json()
        self.credentials_misc()
        self.env_files()
        self.units()
        self.configs()
        self.scripts()
        self.source_code()
        self.minified_js()
        self.notes()
        self.cron_jobs()
        self.histories()
        remaining = max(0, h.size_bytes - h.bytes)
        self.logs(int(remaining * 0.22), int(remaining * 0.05))
        self.workspace(int(remaining * 0.08))
        remaining2 = max(0, h.size_bytes - h.bytes)
        used = self.transcripts(int(remaining2 * 0.78))
        self.project_padding(max(0, h.size_bytes - h.bytes))
        # every label must have been placed in a file
        missing = [i for i, rec in enumerate(h.recs) if "line" not in rec]
        assert not missing, "labels never written: %s" % [h.recs[i]["kind"] for i in missing]


def verify(out, labels):
    """Each label's value sits on its line at its column; no two labels share a line;
    every planted value appears in its file exactly as often as it is labelled there."""
    by_file = {}
    for rec in labels:
        by_file.setdefault(rec["path"], []).append(rec)
    problems = []
    for path, recs in by_file.items():
        text = open(os.path.join(out, path), encoding="utf-8").read()
        lines = text.split("\n")
        seen = {}
        for rec in recs:
            l = lines[rec["line"] - 1]
            c = rec["col"] - 1
            if l[c:c + len(rec["value"])] != rec["value"]:
                problems.append("%s:%d value not at its column" % (path, rec["line"]))
            key = rec["line"]
            if key in seen:
                problems.append("%s:%d labelled twice (%s, %s)" % (path, key, seen[key]["kind"], rec["kind"]))
            seen[key] = rec
        counts = {}
        for rec in recs:
            if rec["planted"]:
                counts[rec["value"]] = counts.get(rec["value"], 0) + 1
        for v, n in counts.items():
            if text.count(v) != n:
                problems.append("%s: a planted %s value occurs %d times, labelled %d" % (
                    path, [x["kind"] for x in recs if x["value"] == v][0], text.count(v), n))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--size-mb", type=float, default=20)
    a = ap.parse_args()
    if os.path.exists(os.path.join(a.out, "home")):
        sys.exit("%s/home exists; remove it first" % a.out)
    os.makedirs(a.out, exist_ok=True)
    h = Host(a.out, a.seed, a.size_mb)
    b = Builder(h)
    b.build()
    problems = verify(a.out, h.labels)
    # planted values must not also appear unlabelled in files that carry no label
    if problems:
        for p in problems:
            print("label problem:", p, file=sys.stderr)
        sys.exit(1)

    def rec_out(rec):
        v = rec["value"]
        return {"path": rec["path"], "line": rec["line"], "col": rec["col"], "kind": rec["kind"],
                "context": rec["context"], "shape": rec["shape"], "len": len(v), "prefix": v[:4],
                "sha256": hashlib.sha256(v.encode()).hexdigest()}
    planted = [rec_out(x) for x in h.labels if x["planted"]]
    decoys = [dict(rec_out(x), value=x["value"] if len(x["value"]) <= 64 else x["value"][:24] + "...")
              for x in h.labels if not x["planted"]]
    key = lambda x: (x["path"], x["line"])
    with open(os.path.join(a.out, "planted.json"), "w") as f:
        json.dump(sorted(planted, key=key), f, indent=1)
    with open(os.path.join(a.out, "decoys.json"), "w") as f:
        json.dump(sorted(decoys, key=key), f, indent=1, ensure_ascii=False)
    os.chmod(os.path.join(a.out, "home"), 0o700)
    os.chmod(os.path.join(a.out, "home", ".openclaw"), 0o700)
    print("home: %.1f MB in %d files; %d planted (%d kinds, %d contexts), %d decoys (%d classes)" % (
        h.bytes / 1e6, h.files, len(planted), len({p["kind"] for p in planted}),
        len({p["context"] for p in planted}), len(decoys), len({d["kind"] for d in decoys})))


if __name__ == "__main__":
    main()
