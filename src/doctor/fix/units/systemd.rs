//! systemd unit files and drop-ins: the assignments of `Environment=` lines, split
//! the way systemd splits them (whitespace between words, `"…"` / `'…'` quoting,
//! backslash escapes), so one assignment can leave a line and the others stay
//! byte for byte.

/// One `NAME=VALUE` word of an `Environment=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Byte range of the whole word (quotes included) in the line.
    pub start: usize,
    pub end: usize,
    pub name: String,
    /// The unquoted value.
    pub value: Vec<u8>,
}

/// The words after `Environment=` on `line`, or `None` when it is not such a line.
pub fn environment_words(line: &str) -> Option<Vec<Assignment>> {
    let trimmed = line.trim_start();
    let lead = line.len() - trimmed.len();
    let rest = trimmed.strip_prefix("Environment")?;
    let rest_trim = rest.trim_start();
    let eq = rest_trim.strip_prefix('=')?;
    let mut pos = line.len() - eq.len();
    let _ = lead;
    let b = line.as_bytes();
    let mut out = Vec::new();
    loop {
        while pos < b.len() && b[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= b.len() {
            break;
        }
        let start = pos;
        let mut word: Vec<u8> = Vec::new();
        while pos < b.len() && !b[pos].is_ascii_whitespace() {
            match b[pos] {
                q @ (b'"' | b'\'') => {
                    pos += 1;
                    while pos < b.len() && b[pos] != q {
                        if b[pos] == b'\\' && q == b'"' && pos + 1 < b.len() {
                            pos += 1;
                        }
                        word.push(b[pos]);
                        pos += 1;
                    }
                    pos += 1; // the closing quote (or the end)
                }
                b'\\' if pos + 1 < b.len() => {
                    word.push(b[pos + 1]);
                    pos += 2;
                }
                c => {
                    word.push(c);
                    pos += 1;
                }
            }
        }
        let end = pos.min(b.len());
        if let Some(eq) = word.iter().position(|&c| c == b'=') {
            let name = String::from_utf8_lossy(&word[..eq]).into_owned();
            out.push(Assignment {
                start,
                end,
                name,
                value: word[eq + 1..].to_vec(),
            });
        }
    }
    Some(out)
}

/// `line` without the words `drop` (ranges from [`environment_words`]); `None` when
/// no assignment is left, so the caller removes the whole line.
pub fn without(line: &str, drop: &[&Assignment], all: &[Assignment]) -> Option<String> {
    let kept: Vec<&Assignment> = all.iter().filter(|a| !drop.contains(a)).collect();
    if kept.is_empty() {
        return None;
    }
    let head_end = all.first().map(|a| a.start).unwrap_or(line.len());
    let mut out = line[..head_end].to_string();
    let words: Vec<&str> = kept.iter().map(|a| &line[a.start..a.end]).collect();
    out.push_str(&words.join(" "));
    Some(out)
}

/// Whether the unit starts OpenClaw (an `ExecStart=` naming `openclaw`).
pub fn runs_openclaw(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("ExecStart") && l.contains("openclaw")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_systemd() {
        let l = r#"Environment="A=one two" B=x 'C=it''s' D=a\ b"#;
        let w = environment_words(l).unwrap();
        let names: Vec<_> = w.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C", "D"]);
        assert_eq!(w[0].value, b"one two");
        assert_eq!(w[1].value, b"x");
        assert_eq!(w[3].value, b"a b");
        assert!(environment_words("ExecStart=/bin/true").is_none());
        assert!(environment_words("EnvironmentFile=/x").is_none());
    }

    #[test]
    fn removes_one_word_and_keeps_the_rest_byte_for_byte() {
        let l = r#"Environment="A=one two" B=secret 'C=c'"#;
        let w = environment_words(l).unwrap();
        assert_eq!(
            without(l, &[&w[1]], &w).unwrap(),
            r#"Environment="A=one two" 'C=c'"#
        );
        assert_eq!(without(l, &[&w[0], &w[1], &w[2]], &w), None);
    }
}
