//! `clawvault log --verify`: walk the chain and check every MAC.

use std::path::PathBuf;

use super::{line_hash, signed_bytes, Key, Record};

/// What the walk found.
#[derive(Debug, Default)]
pub struct Verdict {
    pub lines: usize,
    pub keyed: usize,
    pub unkeyed: usize,
    /// `path:line: what is wrong`, one per break.
    pub breaks: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// Check `lines` (as [`super::read_all`] returns them) with `key`.
pub fn verify(lines: &[(PathBuf, usize, Vec<u8>)], key: &Key) -> Verdict {
    let mut v = Verdict::default();
    let mut prev_hash = String::new();
    for (i, (path, n, bytes)) in lines.iter().enumerate() {
        v.lines += 1;
        let at = format!("{}:{n}", path.display());
        match serde_json::from_slice::<Record>(bytes) {
            Err(_) => v.breaks.push(format!("{at}: not a log line (edited?)")),
            Ok(line) => {
                // The first line of the oldest file kept may chain to a line rotated
                // away; every later one must chain to the line before it.
                if i > 0 && line.prev != prev_hash {
                    v.breaks.push(format!(
                        "{at}: does not follow the line before it (a line was removed or edited)"
                    ));
                }
                match &line.mac {
                    None => v.unkeyed += 1,
                    Some(m) => {
                        if *m == key.mac(&signed_bytes(&line)) {
                            v.keyed += 1;
                        } else {
                            v.breaks.push(format!(
                                "{at}: its MAC does not verify (the line was edited, or written for another vault)"
                            ));
                        }
                    }
                }
            }
        }
        prev_hash = line_hash(bytes);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::super::{append, path, read_all, Proc, Record};
    use super::*;

    fn rec(id: &str) -> Record {
        Record::new("resolve", "local", Proc::me(), &[id.to_string()], "ok")
    }

    #[test]
    fn a_removed_or_edited_line_breaks_the_chain() {
        let d = tempfile::tempdir().unwrap();
        let key = Key::from_identity("AGE-SECRET-KEY-TEST", "vault-1");
        for id in ["a", "b", "c"] {
            append(d.path(), Some(&key), &rec(id));
        }
        append(d.path(), None, &rec("d"));
        let lines = read_all(d.path()).unwrap();
        let v = verify(&lines, &key);
        assert!(v.ok(), "{:?}", v.breaks);
        assert_eq!((v.lines, v.keyed, v.unkeyed), (4, 3, 1));
        // Another vault's key verifies nothing.
        let other = Key::from_identity("AGE-SECRET-KEY-OTHER", "vault-1");
        assert_eq!(verify(&lines, &other).breaks.len(), 3);

        let text = std::fs::read_to_string(path(d.path())).unwrap();
        let kept: Vec<&str> = text.lines().collect();
        std::fs::write(
            path(d.path()),
            format!("{}\n{}\n{}\n", kept[0], kept[2], kept[3]),
        )
        .unwrap();
        let v = verify(&read_all(d.path()).unwrap(), &key);
        assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
        assert!(v.breaks[0].contains(":2:"), "{:?}", v.breaks);

        let edited = text.replacen("\"ids\":[\"b\"]", "\"ids\":[\"x\"]", 1);
        assert_ne!(edited, text);
        std::fs::write(path(d.path()), edited).unwrap();
        let v = verify(&read_all(d.path()).unwrap(), &key);
        assert!(v.breaks.iter().any(|b| b.contains("MAC")), "{:?}", v.breaks);
    }

    #[test]
    fn rotation_keeps_the_chain() {
        let d = tempfile::tempdir().unwrap();
        let key = Key::from_identity("AGE-SECRET-KEY-TEST", "vault-1");
        append(d.path(), Some(&key), &rec("a"));
        // A long (unkeyed, well-chained) line fills the file; the next append rotates
        // it, and the new file's first line chains to the rotated file's last.
        let text = std::fs::read_to_string(path(d.path())).unwrap();
        let mut filler = Record::new(
            "resolve",
            "local",
            Proc::me(),
            &[],
            &"x".repeat(super::super::MAX_BYTES as usize),
        );
        filler.prev = super::super::line_hash(text.trim_end().as_bytes());
        let mut full = text.clone();
        full.push_str(&serde_json::to_string(&filler).unwrap());
        full.push('\n');
        std::fs::write(path(d.path()), &full).unwrap();
        append(d.path(), Some(&key), &rec("b"));
        assert!(super::super::rotated(d.path()).exists());
        let cur = std::fs::read_to_string(path(d.path())).unwrap();
        assert_eq!(cur.lines().count(), 1);
        let v = verify(&read_all(d.path()).unwrap(), &key);
        assert!(v.ok(), "{:?}", v.breaks);
        assert_eq!(v.unkeyed, 1);
        assert_eq!(v.keyed, 2);
    }
}
