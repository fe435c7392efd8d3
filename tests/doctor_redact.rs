//! `doctor --fix --redact` on transcripts: credentials overwritten in place, JSON
//! lines stay valid, the encrypted backup restores the original byte for byte.

use clawvault::doctor::detect::Detector;
use clawvault::doctor::fix::redact::redact_file;
use clawvault::secret::secret_bytes;

#[test]
fn redacted_transcript_keeps_json_and_backup_restores_original() {
    let tmp = tempfile::tempdir().unwrap();
    let key = "sk-proj-RdQ7v2Lk9Xw4Tz8Hm3Pn6Rb1Yc5Jd0Gf2Vs7Ke4";
    let path = tmp.path().join("s1.jsonl");
    let mut orig = String::new();
    orig.push_str("{\"role\":\"user\",\"content\":\"my key is ");
    orig.push_str(key);
    orig.push_str("\"}\n{\"role\":\"assistant\",\"content\":\"ok\"}\nplain log line ");
    orig.push_str(key);
    orig.push('\n');
    std::fs::write(&path, &orig).unwrap();
    let id = age::x25519::Identity::generate();
    let det = Detector::new(&[secret_bytes(key.as_bytes().to_vec())]);
    let backups = tmp.path().join("backups");
    let r = redact_file(&path, &det, &id.to_public(), &backups)
        .unwrap()
        .expect("credentials found");
    assert_eq!(r.occurrences, 2);
    let after = std::fs::read(&path).unwrap();
    assert_eq!(after.len(), orig.len());
    assert!(!after.windows(key.len()).any(|w| w == key.as_bytes()));
    let text = String::from_utf8(after).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    serde_json::from_str::<serde_json::Value>(lines[0]).unwrap();
    serde_json::from_str::<serde_json::Value>(lines[1]).unwrap();
    assert!(lines[0].contains("clawvault-redacted"));
    let blob = std::fs::read(&r.backup).unwrap();
    let plain = age::decrypt(&id, &blob).unwrap();
    assert_eq!(plain, orig.as_bytes());
}

#[test]
fn concurrent_appender_lines_survive_redaction() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let key = "sk-proj-ApW3q8Zr5Nx2Lv7Bk4Ht9Md6Fy1Cs0Jp3Gw8Ue5";
    let path = tmp.path().join("s2.jsonl");
    let mut orig = String::new();
    for i in 0..4000 {
        orig.push_str(&format!("{{\"n\":{i},\"content\":\"key {key}\"}}\n"));
    }
    std::fs::write(&path, &orig).unwrap();
    let id = age::x25519::Identity::generate();
    let det = Detector::new(&[secret_bytes(key.as_bytes().to_vec())]);
    let p2 = path.clone();
    let appender = std::thread::spawn(move || {
        for i in 0..200 {
            let mut f = std::fs::OpenOptions::new().append(true).open(&p2).unwrap();
            f.write_all(format!("{{\"appended\":{i}}}\n").as_bytes())
                .unwrap();
        }
    });
    redact_file(&path, &det, &id.to_public(), &tmp.path().join("b"))
        .unwrap()
        .unwrap();
    appender.join().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(key));
    for i in 0..200 {
        assert!(
            text.contains(&format!("{{\"appended\":{i}}}\n")),
            "line {i} lost"
        );
    }
    for l in text.lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
}
