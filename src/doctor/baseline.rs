//! `--baseline FILE`: accepted findings, by fingerprint (never a value).

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{DoctorError, Report};
use crate::fsutil;

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    accepted: Vec<BaselineEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaselineEntry {
    fingerprint: String,
    check_id: String,
    path: String,
}

pub(super) fn read_baseline(path: &Path) -> Result<HashSet<String>, DoctorError> {
    let bad = |reason: String| DoctorError::Baseline {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Err(bad(format!("cannot read the baseline: {e}"))),
    };
    let b: BaselineFile = serde_json::from_slice(&bytes).map_err(|e| {
        bad(format!(
            "not a doctor baseline (line {}): write one with --update-baseline",
            e.line()
        ))
    })?;
    Ok(b.accepted.into_iter().map(|e| e.fingerprint).collect())
}

/// Write every finding of `report` to a baseline file (fingerprints, never values).
pub fn write_baseline(path: &Path, report: &Report) -> Result<(), DoctorError> {
    let b = BaselineFile {
        version: 1,
        accepted: report
            .findings
            .iter()
            .map(|f| BaselineEntry {
                fingerprint: f.fingerprint.clone(),
                check_id: f.check_id.clone(),
                path: f.path.clone(),
            })
            .collect(),
    };
    let mut s = serde_json::to_vec_pretty(&b).map_err(|e| DoctorError::Baseline {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    s.push(b'\n');
    fsutil::write_atomic(path, &s)?;
    Ok(())
}
