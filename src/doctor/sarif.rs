//! `doctor --format sarif`: the findings as a SARIF 2.1.0 log, so editors and code
//! scanning jump to the secret itself (path, line, column). Rule ids are the finding
//! codes; messages are the redacted ones the text output prints; no snippet, no
//! region text, nothing but the redacted preview leaves the host.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_sarif::sarif;

use super::{DoctorError, Finding, Report, Severity};

const INFO_URI: &str = "https://github.com/clawvault/clawvault#doctor";

/// A `file://` URI for an absolute path (percent-encoded; `/` kept).
pub fn file_uri(path: &Path) -> String {
    #[cfg(unix)]
    let (mut s, bytes) = {
        use std::os::unix::ffi::OsStrExt;
        (
            String::from("file://"),
            path.as_os_str().as_bytes().to_vec(),
        )
    };
    // Windows: `file:///C:/dir/file`, UTF-8 percent-encoded, `\\?\` dropped.
    #[cfg(windows)]
    let (mut s, bytes) = {
        let p = path.to_string_lossy();
        let p = p.strip_prefix(r"\\?\").unwrap_or(&p).replace('\\', "/");
        let mut s = String::from("file:///");
        // The drive (`C:`) stays as it is; the rest is encoded like a Unix path.
        let rest = match p.as_bytes() {
            [d, b':', ..] if d.is_ascii_alphabetic() => {
                s.push_str(&p[..2]);
                &p[2..]
            }
            _ => &p[..],
        };
        (s, rest.as_bytes().to_vec())
    };
    for &b in &bytes {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn level(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Error => sarif::ResultLevel::Error,
        Severity::Warn => sarif::ResultLevel::Warning,
        Severity::Info => sarif::ResultLevel::Note,
    }
}

fn location(f: &Finding) -> sarif::Location {
    let artifact = sarif::ArtifactLocation::builder()
        .uri(file_uri(&f.abs_path))
        .build();
    let physical = match f.line {
        Some(line) => {
            let region = match f.column {
                Some(c) => sarif::Region::builder()
                    .start_line(line as i64)
                    .start_column(c as i64)
                    .build(),
                None => sarif::Region::builder().start_line(line as i64).build(),
            };
            sarif::PhysicalLocation::builder()
                .artifact_location(artifact)
                .region(region)
                .build()
        }
        None => sarif::PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    };
    sarif::Location::builder()
        .physical_location(physical)
        .build()
}

/// The SARIF log for `report`.
pub fn log(report: &Report) -> sarif::Sarif {
    let mut rule_index: BTreeMap<&str, i64> = BTreeMap::new();
    for f in &report.findings {
        let n = rule_index.len() as i64;
        rule_index.entry(f.check_id.as_str()).or_insert(n);
    }
    let mut rules: Vec<(&str, i64)> = rule_index.iter().map(|(k, v)| (*k, *v)).collect();
    rules.sort_by_key(|r| r.1);
    let rules: Vec<sarif::ReportingDescriptor> = rules
        .into_iter()
        .map(|(id, _)| {
            sarif::ReportingDescriptor::builder()
                .id(id)
                .name(id)
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(super::checks::rule_description(id))
                        .build(),
                )
                .build()
        })
        .collect();
    let results: Vec<sarif::Result> = report
        .findings
        .iter()
        .map(|f| {
            let mut fp = BTreeMap::new();
            fp.insert("clawvault/v1".to_string(), f.fingerprint.clone());
            sarif::Result::builder()
                .rule_id(f.check_id.clone())
                .rule_index(rule_index[f.check_id.as_str()])
                .level(level(f.severity))
                .message(
                    sarif::Message::builder()
                        .text(format!("{} Fix: {}", f.message, f.fix_hint))
                        .build(),
                )
                .locations(vec![location(f)])
                .partial_fingerprints(fp)
                .build()
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name("clawvault doctor")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri(INFO_URI)
        .rules(rules)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(serde_json::Value::String("unicodeCodePoints".into()))
        .build();
    sarif::Sarif::builder()
        .version(sarif::Version::V2_1_0.to_string())
        .schema(sarif::SCHEMA_URL)
        .runs(vec![run])
        .build()
}

pub fn render(report: &Report, out: &mut dyn Write) -> Result<(), DoctorError> {
    serde_json::to_writer_pretty(&mut *out, &log(report)).map_err(std::io::Error::other)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(windows)]
    fn uris_are_percent_encoded() {
        assert_eq!(
            file_uri(Path::new(r"C:\Users\a b\.openclaw\x#1.json")),
            "file:///C:/Users/a%20b/.openclaw/x%231.json"
        );
        assert_eq!(file_uri(Path::new(r"\\?\D:\x")), "file:///D:/x");
    }

    #[test]
    #[cfg(unix)]
    fn uris_are_percent_encoded() {
        assert_eq!(
            file_uri(Path::new("/home/a b/.openclaw/x#1.json")),
            "file:///home/a%20b/.openclaw/x%231.json"
        );
    }
}
