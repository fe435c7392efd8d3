//! launchd property lists (XML): the `<key>NAME</key><string>VALUE</string>` pairs
//! of an `EnvironmentVariables` dict. A pair is removed as text, so the rest of the
//! plist stays byte for byte.

/// One pair: byte range from `<key>` to `</string>` and the unescaped value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub start: usize,
    pub end: usize,
    pub name: String,
    pub value: Vec<u8>,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The pairs inside the `EnvironmentVariables` dict.
pub fn environment_pairs(text: &str) -> Vec<Pair> {
    let Some(k) = text.find("<key>EnvironmentVariables</key>") else {
        return vec![];
    };
    let Some(open) = text[k..].find("<dict>").map(|i| k + i + "<dict>".len()) else {
        return vec![];
    };
    let Some(close) = text[open..].find("</dict>").map(|i| open + i) else {
        return vec![];
    };
    let body = &text[open..close];
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(ks) = body[pos..].find("<key>").map(|i| pos + i) {
        let Some(ke) = body[ks..].find("</key>").map(|i| ks + i) else {
            break;
        };
        let name = unescape(&body[ks + 5..ke]);
        let after = ke + "</key>".len();
        let rest = body[after..].trim_start();
        let ws = body[after..].len() - rest.len();
        if !rest.starts_with("<string>") {
            pos = after;
            continue;
        }
        let vs = after + ws + "<string>".len();
        let Some(ve) = body[vs..].find("</string>").map(|i| vs + i) else {
            break;
        };
        let end = ve + "</string>".len();
        out.push(Pair {
            start: open + ks,
            end: open + end,
            name,
            value: unescape(&body[vs..ve]).into_bytes(),
        });
        pos = end;
    }
    out
}

/// `text` without the pairs `drop`, and without the whitespace line each leaves.
pub fn without(text: &str, drop: &[&Pair]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut sorted: Vec<&&Pair> = drop.iter().collect();
    sorted.sort_by_key(|p| p.start);
    for p in sorted {
        // Take the indentation before the pair and the newline after it too.
        let line_start = text[..p.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let start = if text[line_start..p.start].trim().is_empty() {
            line_start
        } else {
            p.start
        };
        let mut end = p.end;
        if text[end..].starts_with('\n') {
            end += 1;
        }
        out.push_str(&text[pos..start]);
        pos = end;
    }
    out.push_str(&text[pos..]);
    out
}

/// Whether the job runs OpenClaw (its label or program arguments name it).
pub fn runs_openclaw(text: &str) -> bool {
    text.contains("openclaw")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLIST: &str = "<plist><dict>\n  <key>Label</key><string>ai.openclaw.gateway</string>\n  <key>EnvironmentVariables</key>\n  <dict>\n    <key>KEEP</key>\n    <string>v</string>\n    <key>TOKEN</key>\n    <string>a&amp;b</string>\n  </dict>\n</dict></plist>\n";

    #[test]
    fn finds_and_removes_a_pair() {
        let p = environment_pairs(PLIST);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].name, "TOKEN");
        assert_eq!(p[1].value, b"a&b");
        let out = without(PLIST, &[&p[1]]);
        assert!(
            !out.contains("TOKEN") && out.contains("<key>KEEP</key>"),
            "{out}"
        );
        assert!(out.contains("  </dict>\n</dict></plist>"), "{out}");
    }
}
