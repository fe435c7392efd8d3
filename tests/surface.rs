//! The credential surface compiled into clawvault (`src/openclaw/surface.rs`, generated
//! by `scripts/gen-surface.py`) must equal the installed OpenClaw's own matrix, so a
//! new OpenClaw release that adds a credential path fails here until it is regenerated.

mod common;

use std::collections::BTreeSet;

use clawvault::openclaw::surface::CONFIG_SURFACE;
use common::openclaw::*;

#[test]
fn surface_table_matches_the_installed_openclaw_matrix() {
    let Some(oc) = openclaw_or_skip("surface") else {
        return;
    };
    // <prefix>/node_modules/.bin/openclaw -> <prefix>/node_modules/openclaw/docs/...
    let modules = oc.bin.parent().unwrap().parent().unwrap();
    let matrix =
        modules.join("openclaw/docs/reference/secretref-user-supplied-credentials-matrix.json");
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&matrix).unwrap_or_else(|e| panic!("{}: {e}", matrix.display())),
    )
    .unwrap();
    let theirs: BTreeSet<(String, String)> = m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["configFile"] == "openclaw.json")
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ours: BTreeSet<(String, String)> = CONFIG_SURFACE
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let missing: Vec<_> = theirs.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&theirs).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "src/openclaw/surface.rs is out of date (run scripts/gen-surface.py): missing {missing:?}, extra {extra:?}"
    );
    // The auth-profile half of the matrix is what plan.rs writes.
    let auth: BTreeSet<&str> = m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["configFile"] == "auth-profile-store")
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        auth,
        BTreeSet::from(["auth-profiles.api_key.key", "auth-profiles.token.token"])
    );
}
