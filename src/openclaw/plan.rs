//! `openclaw secrets apply` plans for SQLite-era installs.
//!
//! A plan moves nothing by itself: clawvault first stores each inline credential
//! in the vault (and reads it back), then the plan tells OpenClaw to replace the
//! plaintext with `{source: exec, provider: <alias>, id: <agent>/<profileId>}`.

use serde::Serialize;
use serde_json::{Map, Value};

use super::config::ProviderSpec;
use super::sqlite::AuthStore;
use crate::auth::validate_profile_id;
use crate::profiles::{Material, ProfileType, SecretRef};

/// One credential to migrate. `secret` is the inline material (zeroized on drop).
pub struct Candidate {
    pub agent_id: String,
    pub profile_id: String,
    pub provider: String,
    pub ty: ProfileType,
    pub secret: zeroize::Zeroizing<String>,
    /// Where it was found (for messages).
    pub store: String,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("agent_id", &self.agent_id)
            .field("profile_id", &self.profile_id)
            .field("provider", &self.provider)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Candidate {
    pub fn entry(&self) -> String {
        format!("{}/{}", self.agent_id, self.profile_id)
    }
}

/// A profile the plan leaves alone, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub agent_id: String,
    pub profile_id: String,
    pub store: String,
    pub reason: String,
}

/// Sort every profile of `stores` into candidates and skips. A profile that is
/// already a reference is neither. The same `<agent>/<id>` found in two stores
/// with the same plaintext is one candidate; with different plaintext, a skip.
pub fn collect(stores: &[AuthStore]) -> (Vec<Candidate>, Vec<Skipped>) {
    let mut cands: Vec<Candidate> = Vec::new();
    let mut skipped = Vec::new();
    for s in stores {
        let agent = s.kind.agent_id().to_string();
        let where_ = format!("{} ({})", s.kind.describe(), s.db_path.display());
        for p in s.doc.profiles() {
            let skip = |reason: &str| Skipped {
                agent_id: agent.clone(),
                profile_id: p.id.to_string(),
                store: where_.clone(),
                reason: reason.to_string(),
            };
            match (p.profile_type(), p.material()) {
                (ProfileType::OAuth, _) => skipped.push(skip(
                    "OAuth profile: OpenClaw refreshes it itself and cannot read it through a SecretRef",
                )),
                (ty @ (ProfileType::ApiKey | ProfileType::Token), Material::Inline(_)) => {
                    if let Err(e) = validate_profile_id(&agent, p.id) {
                        skipped.push(skip(&e.to_string()));
                        continue;
                    }
                    if p.id.contains('.') {
                        skipped.push(skip(
                            "the id holds '.', which a `secrets apply` target path cannot address",
                        ));
                        continue;
                    }
                    let secret = zeroize::Zeroizing::new(
                        p.inline_secret().unwrap_or_default().to_string(),
                    );
                    if let Some(i) = cands
                        .iter()
                        .position(|c| c.agent_id == agent && c.profile_id == p.id)
                    {
                        if *cands[i].secret != *secret {
                            // Migrating either would lose the other: migrate neither.
                            let other = cands.remove(i);
                            let reason = format!(
                                "{} and {} hold different plaintext for this profile; keep one and run plan again",
                                other.store, where_
                            );
                            skipped.push(skip(&reason));
                        }
                        continue;
                    }
                    cands.push(Candidate {
                        agent_id: agent.clone(),
                        profile_id: p.id.to_string(),
                        provider: p.provider(),
                        ty,
                        secret,
                        store: where_.clone(),
                    });
                }
                _ => {}
            }
        }
    }
    (cands, skipped)
}

/// Profiles whose `keyRef`/`tokenRef` names an entry of OpenClaw's unencrypted
/// store (`source: "store"`) that `migrate` may move: one candidate each, carrying
/// the store's value, so the plan switches the ref to clawvault.
pub fn collect_store_refs(
    stores: &[AuthStore],
    rows: &[super::secret_store::StoreEntry],
) -> Vec<Candidate> {
    let mut cands: Vec<Candidate> = Vec::new();
    for s in stores {
        let agent = s.kind.agent_id().to_string();
        for p in s.doc.profiles() {
            let ty = p.profile_type();
            if !matches!(ty, ProfileType::ApiKey | ProfileType::Token) {
                continue;
            }
            let Material::Ref(r) = p.material() else {
                continue;
            };
            if r.source != "store"
                || p.id.contains('.')
                || validate_profile_id(&agent, p.id).is_err()
            {
                continue;
            }
            let Some(row) = rows.iter().find(|e| e.movable() && e.name == r.id) else {
                continue;
            };
            if cands
                .iter()
                .any(|c| c.agent_id == agent && c.profile_id == p.id)
            {
                continue;
            }
            cands.push(Candidate {
                agent_id: agent.clone(),
                profile_id: p.id.to_string(),
                provider: p.provider(),
                ty,
                secret: zeroize::Zeroizing::new(row.value.to_string()),
                store: format!(
                    "{} ({}), through OpenClaw's store entry {}",
                    s.kind.describe(),
                    s.db_path.display(),
                    row.name
                ),
            });
        }
    }
    cands
}

/// One `targets[]` entry.
pub fn target(c: &Candidate, alias: &str) -> Value {
    let (ty, field) = match c.ty {
        ProfileType::Token => ("auth-profiles.token.token", "token"),
        _ => ("auth-profiles.api_key.key", "key"),
    };
    let mut m = Map::new();
    m.insert("type".into(), ty.into());
    m.insert(
        "path".into(),
        format!("profiles.{}.{field}", c.profile_id).into(),
    );
    m.insert(
        "pathSegments".into(),
        Value::Array(vec![
            "profiles".into(),
            c.profile_id.clone().into(),
            field.into(),
        ]),
    );
    m.insert("agentId".into(), c.agent_id.clone().into());
    m.insert("authProfileProvider".into(), c.provider.clone().into());
    m.insert("ref".into(), SecretRef::exec(alias, &c.entry()).to_value());
    Value::Object(m)
}

/// One `targets[]` entry for a credential in `openclaw.json`.
pub fn config_target(c: &super::config_secrets::ConfigSecret, alias: &str) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), c.target_type.clone().into());
    m.insert("path".into(), c.path().into());
    m.insert(
        "pathSegments".into(),
        Value::Array(c.segments.iter().map(|s| s.clone().into()).collect()),
    );
    m.insert("ref".into(), SecretRef::exec(alias, &c.entry).to_value());
    Value::Object(m)
}

/// [`build`] plus the `openclaw.json` targets.
pub fn build_all(
    spec: &ProviderSpec,
    cands: &[&Candidate],
    config: &[&super::config_secrets::ConfigSecret],
) -> Value {
    let mut plan = build(spec, cands);
    if let Some(t) = plan["targets"].as_array_mut() {
        t.extend(config.iter().map(|c| config_target(c, &spec.alias)));
    }
    plan
}

/// The whole plan: `providerUpserts` declaring clawvault, one target per candidate.
pub fn build(spec: &ProviderSpec, cands: &[&Candidate]) -> Value {
    let mut upserts = Map::new();
    upserts.insert(spec.alias.clone(), spec.to_value());
    let mut m = Map::new();
    m.insert("version".into(), 1.into());
    m.insert("protocolVersion".into(), 1.into());
    m.insert("providerUpserts".into(), Value::Object(upserts));
    m.insert(
        "targets".into(),
        Value::Array(cands.iter().map(|c| target(c, &spec.alias)).collect()),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::sqlite::StoreKind;
    use crate::profiles::ProfileDoc;
    use std::path::Path;

    fn store(kind: StoreKind, json: &str) -> AuthStore {
        AuthStore {
            kind,
            db_path: "/s/db.sqlite".into(),
            doc: ProfileDoc::parse(Path::new("/s/db.sqlite"), json.as_bytes()).unwrap(),
            raw: json.into(),
        }
    }

    #[test]
    fn plan_has_openclaw_target_shape() {
        let s = store(
            StoreKind::Shared,
            r#"{"version":1,"profiles":{
              "anthropic:default":{"type":"api_key","provider":"anthropic","key":"K1"},
              "anthropic:manual":{"type":"token","provider":"anthropic","token":"T1","expires":1},
              "openai:me":{"type":"oauth","provider":"openai","access":"a","refresh":"r","expires":1},
              "openrouter:default":{"type":"api_key","provider":"openrouter","keyRef":{"source":"exec","provider":"clawvault","id":"main/openrouter:default"}},
              "x:a.b":{"type":"api_key","provider":"x","key":"K2"}}}"#,
        );
        let (c, skipped) = collect(&[s]);
        assert_eq!(c.len(), 2);
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(skipped[0].reason.contains("OAuth"));
        let spec = ProviderSpec {
            alias: "clawvault".into(),
            command: "/bin/cv".into(),
            args: vec!["resolve".into()],
            pass_env: vec![],
            timeout_ms: 5000,
        };
        let plan = build(&spec, &c.iter().collect::<Vec<_>>());
        assert_eq!(plan["providerUpserts"]["clawvault"]["command"], "/bin/cv");
        assert_eq!(
            plan["targets"][0],
            serde_json::json!({"type":"auth-profiles.api_key.key","path":"profiles.anthropic:default.key",
              "pathSegments":["profiles","anthropic:default","key"],"agentId":"main",
              "authProfileProvider":"anthropic",
              "ref":{"source":"exec","provider":"clawvault","id":"main/anthropic:default"}})
        );
        assert_eq!(plan["targets"][1]["type"], "auth-profiles.token.token");
        assert_eq!(
            plan["targets"][1]["path"],
            "profiles.anthropic:manual.token"
        );
        assert!(!plan.to_string().contains("K1") && !plan.to_string().contains("T1"));
        assert!(!format!("{c:?}").contains("K1"));
    }

    #[test]
    fn same_profile_in_two_stores() {
        let a = store(
            StoreKind::Shared,
            r#"{"version":1,"profiles":{"p:default":{"type":"api_key","provider":"p","key":"K"}}}"#,
        );
        let b = store(
            StoreKind::Agent("main".into()),
            r#"{"version":1,"profiles":{"p:default":{"type":"api_key","provider":"p","key":"K"}}}"#,
        );
        let (c, s) = collect(&[a.clone(), b]);
        assert_eq!((c.len(), s.len()), (1, 0));
        let b2 = store(
            StoreKind::Agent("main".into()),
            r#"{"version":1,"profiles":{"p:default":{"type":"api_key","provider":"p","key":"OTHER"}}}"#,
        );
        let (c, s) = collect(&[a, b2]);
        assert_eq!((c.len(), s.len()), (0, 1));
        assert!(!s[0].reason.contains("OTHER"));
    }
}
