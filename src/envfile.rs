//! `.env` files: parse what real ones hold, and rewrite them changing only the
//! lines whose values moved into the vault.
//!
//! Supported: `export NAME=value`, single quotes (literal, may span lines), double
//! quotes (escapes `\n \r \t \" \\ \$`, may span lines: PEM keys), unquoted values
//! with ` #` comments, comments, blank lines, CRLF, duplicate names (last wins,
//! reported). Anything else is an error naming the file and line; values are never
//! quoted in errors.

use std::ops::Range;
use std::path::{Path, PathBuf};

use thiserror::Error;
use zeroize::Zeroizing;

#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvError {
    #[error("{path}:{line}: not valid UTF-8; fix the encoding of that line (nothing was changed)")]
    Utf8 { path: PathBuf, line: usize },
    #[error("{path}:{line}: {what} (nothing was changed)")]
    Syntax {
        path: PathBuf,
        line: usize,
        what: &'static str,
    },
}

/// One assignment. `value` is the decoded value (a secret, possibly).
pub struct EnvEntry {
    pub name: String,
    pub value: Zeroizing<String>,
    /// 1-based line where the assignment starts.
    pub line: usize,
    /// Byte range of the assignment in the file, from its first byte to the end of its
    /// last line (excluding the line terminator).
    pub span: Range<usize>,
}

impl std::fmt::Debug for EnvEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvEntry")
            .field("name", &self.name)
            .field("line", &self.line)
            .field("value", &"<redacted>")
            .finish()
    }
}

#[derive(Debug)]
pub struct EnvFile {
    pub path: PathBuf,
    pub bytes: Zeroizing<Vec<u8>>,
    pub entries: Vec<EnvEntry>,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

impl EnvFile {
    /// Parse (untrusted input: a fuzz target).
    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<EnvFile, EnvError> {
        let bytes = Zeroizing::new(bytes);
        // Line starts, and a UTF-8 check that names the bad line.
        let mut line_starts = vec![0usize];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        for (n, &start) in line_starts.iter().enumerate() {
            let end = line_starts.get(n + 1).copied().unwrap_or(bytes.len());
            if std::str::from_utf8(&bytes[start..end]).is_err() {
                return Err(EnvError::Utf8 {
                    path: path.to_path_buf(),
                    line: n + 1,
                });
            }
        }
        let text = std::str::from_utf8(&bytes).expect("checked per line");
        let b = text.as_bytes();
        let line_of = |pos: usize| line_starts.partition_point(|&s| s <= pos);
        let syntax = |pos: usize, what: &'static str| EnvError::Syntax {
            path: path.to_path_buf(),
            line: line_of(pos),
            what,
        };
        let mut entries = Vec::new();
        let mut i = 0;
        while i < b.len() {
            // Leading whitespace.
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            // Blank line or comment: skip to the next line.
            if i >= b.len() || b[i] == b'\n' || b[i] == b'\r' || b[i] == b'#' {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                i += 1;
                continue;
            }
            let stmt_start = i;
            if text[i..].starts_with("export ") || text[i..].starts_with("export\t") {
                i += 7;
                while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                    i += 1;
                }
            }
            if i >= b.len() || !is_name_start(b[i]) {
                return Err(syntax(
                    i.min(b.len().saturating_sub(1)),
                    "expected NAME=value",
                ));
            }
            let name_start = i;
            while i < b.len() && is_name_byte(b[i]) {
                i += 1;
            }
            let name = text[name_start..i].to_string();
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            if i >= b.len() || b[i] != b'=' {
                return Err(syntax(name_start, "expected '=' after the variable name"));
            }
            i += 1;
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            let mut value = Zeroizing::new(String::new());
            if i < b.len() && (b[i] == b'\'' || b[i] == b'"') {
                let q = b[i];
                let open = i;
                i += 1;
                let mut closed = false;
                while i < b.len() {
                    let c = b[i];
                    if c == q {
                        closed = true;
                        i += 1;
                        break;
                    }
                    if q == b'"' && c == b'\\' && i + 1 < b.len() {
                        let e = b[i + 1];
                        match e {
                            b'n' => value.push('\n'),
                            b'r' => value.push('\r'),
                            b't' => value.push('\t'),
                            b'"' | b'\\' | b'$' | b'\'' | b'`' => value.push(e as char),
                            b'\n' => {}
                            _ => {
                                value.push('\\');
                                let ch = text[i + 1..].chars().next().expect("in bounds");
                                value.push(ch);
                                i += 1 + ch.len_utf8();
                                continue;
                            }
                        }
                        i += 2;
                        continue;
                    }
                    if c == b'\r' && b.get(i + 1) == Some(&b'\n') {
                        // CRLF inside a multi-line value reads as LF.
                        i += 1;
                        continue;
                    }
                    let ch = text[i..].chars().next().expect("in bounds");
                    value.push(ch);
                    i += ch.len_utf8();
                }
                if !closed {
                    return Err(syntax(open, "a quoted value is never closed"));
                }
                // Only whitespace or a comment may follow on the line.
                while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                    i += 1;
                }
                if i < b.len() && b[i] == b'\r' {
                    i += 1;
                }
                if i < b.len() && b[i] != b'\n' && b[i] != b'#' {
                    return Err(syntax(i, "unexpected text after a quoted value"));
                }
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                let mut span_end = i;
                if span_end > 0 && b[span_end - 1] == b'\r' {
                    span_end -= 1;
                }
                entries.push(EnvEntry {
                    name,
                    value,
                    line: line_of(stmt_start),
                    span: stmt_start..span_end,
                });
            } else {
                let vstart = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                let mut line_end = i;
                if line_end > vstart && b[line_end - 1] == b'\r' {
                    line_end -= 1;
                }
                let raw = &text[vstart..line_end];
                // ` #` starts a comment in an unquoted value.
                let cut = raw
                    .char_indices()
                    .find(|&(k, c)| {
                        c == '#' && k > 0 && raw.as_bytes()[k - 1].is_ascii_whitespace()
                    })
                    .map(|(k, _)| k)
                    .unwrap_or(raw.len());
                value.push_str(raw[..cut].trim_end());
                entries.push(EnvEntry {
                    name,
                    value,
                    line: line_of(stmt_start),
                    span: stmt_start..line_end,
                });
            }
            i += 1;
        }
        Ok(EnvFile {
            path: path.to_path_buf(),
            bytes,
            entries,
        })
    }

    /// The effective value of each name (last wins), in first-appearance order, and
    /// the names that appear more than once.
    pub fn effective(&self) -> (Vec<&EnvEntry>, Vec<String>) {
        let mut order: Vec<&str> = Vec::new();
        let mut last: std::collections::HashMap<&str, &EnvEntry> = Default::default();
        let mut dups = Vec::new();
        for e in &self.entries {
            if last.insert(e.name.as_str(), e).is_some() {
                if !dups.contains(&e.name) {
                    dups.push(e.name.clone());
                }
            } else {
                order.push(e.name.as_str());
            }
        }
        (order.iter().map(|n| last[n]).collect(), dups)
    }

    /// The file with every assignment of a name in `moved` replaced by
    /// `comment(name)`; every other byte unchanged.
    pub fn rewrite(
        &self,
        moved: &[String],
        comment: impl Fn(&str) -> String,
    ) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(self.bytes.len()));
        let mut pos = 0;
        for e in &self.entries {
            if !moved.contains(&e.name) {
                continue;
            }
            out.extend_from_slice(&self.bytes[pos..e.span.start]);
            out.extend_from_slice(comment(&e.name).as_bytes());
            pos = e.span.end;
        }
        out.extend_from_slice(&self.bytes[pos..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> EnvFile {
        EnvFile::parse(Path::new(".env"), s.as_bytes().to_vec()).unwrap()
    }

    fn val<'a>(f: &'a EnvFile, name: &str) -> &'a str {
        f.effective()
            .0
            .into_iter()
            .find(|e| e.name == name)
            .unwrap()
            .value
            .as_str()
    }

    #[test]
    fn parses_real_world_shapes() {
        let f = parse(concat!(
            "# comment\n",
            "\n",
            "export OPENAI_API_KEY=sk-proj-abc # trailing comment\r\n",
            "A='single # not comment'\n",
            "B=\"double \\\"q\\\" \\n x\"\n",
            "PEM=\"-----BEGIN KEY-----\nabc\n-----END KEY-----\"\n",
            "URL=http://x/#frag\n",
            "EMPTY=\n",
            "  SPACED = value  \n",
            "DUP=1\n",
            "DUP=2\n",
        ));
        assert_eq!(val(&f, "OPENAI_API_KEY"), "sk-proj-abc");
        assert_eq!(val(&f, "A"), "single # not comment");
        assert_eq!(val(&f, "B"), "double \"q\" \n x");
        assert_eq!(
            val(&f, "PEM"),
            "-----BEGIN KEY-----\nabc\n-----END KEY-----"
        );
        assert_eq!(val(&f, "URL"), "http://x/#frag");
        assert_eq!(val(&f, "EMPTY"), "");
        assert_eq!(val(&f, "SPACED"), "value");
        assert_eq!(val(&f, "DUP"), "2");
        assert_eq!(f.effective().1, vec!["DUP".to_string()]);
        let pem = f.entries.iter().find(|e| e.name == "PEM").unwrap();
        assert_eq!(pem.line, 6);
    }

    #[test]
    fn rewrite_changes_only_moved_assignments() {
        let src = "A=1\r\nexport KEY=\"multi\nline\"  # c\nB=2\nKEY=again\n";
        let f = parse(src);
        let out = f.rewrite(&["KEY".into()], |n| format!("# {n} moved"));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "A=1\r\n# KEY moved\nB=2\n# KEY moved\n"
        );
        assert_eq!(&f.rewrite(&[], |_| String::new())[..], src.as_bytes());
    }

    #[test]
    fn errors_name_the_line_and_never_the_value() {
        let e = EnvFile::parse(Path::new("/x/.env"), b"A=1\nB=\xff\xfe\n".to_vec()).unwrap_err();
        assert_eq!(
            e,
            EnvError::Utf8 {
                path: "/x/.env".into(),
                line: 2
            }
        );
        let e = EnvFile::parse(
            Path::new(".env"),
            b"A=1\nB=\"sk-unterminated-secret\n".to_vec(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":2:") && !e.contains("sk-unterminated"), "{e}");
        let e = EnvFile::parse(Path::new(".env"), b"just words\n".to_vec()).unwrap_err();
        assert!(matches!(e, EnvError::Syntax { line: 1, .. }));
    }
}
