//! OpenClaw's shared secret store (2026.8+): the `secret_store_entries` table of
//! `state/openclaw.sqlite`, whose values OpenClaw's own docs say "are not encrypted
//! at rest" (`docs/gateway/secrets/secret-store-and-egress.md`).
//!
//! What `migrate` does with each entry:
//! - a `secret` entry a SecretRef uses (`{source: "store", id: NAME}` in
//!   `openclaw.json` or an auth profile), bound to no egress host: the value moves
//!   into the vault, `secrets apply` switches every ref to clawvault, and the row is
//!   deleted (encrypted backup first; OpenClaw's own `store rm` only soft-deletes and
//!   keeps the value for 30 days);
//! - a `secret` bound to egress hosts: OpenClaw's proxy reads it from this table
//!   only, so it stays (reported);
//! - an `env` entry: OpenClaw injects it into agent commands by design (reported);
//! - a `secret` no ref uses: inert, left (reported with how to move it);
//! - a soft-deleted row whose value the vault holds: purged.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use zeroize::Zeroizing;

use super::config_secrets::ConfigSecret;
use super::sqlite::{has_table, open_read_only, sql_err, ScrubVault};
use super::Result;
use crate::fsutil;

pub const TABLE: &str = "secret_store_entries";

/// Vault entries (and exec ids) of values moved out of the store: `store/<NAME>`.
pub const STORE_PREFIX: &str = "store/";

/// One row. `value` is zeroized on drop and never printed.
pub struct StoreEntry {
    pub scope_kind: String,
    pub scope_id: String,
    pub name: String,
    /// `secret` or `env`.
    pub kind: String,
    pub allowed_hosts: Vec<String>,
    pub deleted: bool,
    pub value: Zeroizing<String>,
}

impl std::fmt::Debug for StoreEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreEntry")
            .field("scope_kind", &self.scope_kind)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("deleted", &self.deleted)
            .finish_non_exhaustive()
    }
}

impl StoreEntry {
    pub fn is_team(&self) -> bool {
        self.scope_kind == "team" && self.scope_id.is_empty()
    }

    /// A live team `secret` with no egress binding: the only kind `migrate` moves.
    pub fn movable(&self) -> bool {
        self.is_team() && !self.deleted && self.kind == "secret" && self.allowed_hosts.is_empty()
    }

    /// The vault entry its value moves to.
    pub fn vault_entry(&self) -> String {
        format!("{STORE_PREFIX}{}", self.name)
    }
}

/// `allowed_hosts` is a JSON array of host names (or NULL).
fn hosts(cell: Option<String>) -> Vec<String> {
    cell.and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok())
        .unwrap_or_default()
}

/// Every row of the table, read-only. Empty when the database or table is absent.
pub fn read(db: &Path) -> Result<Vec<StoreEntry>> {
    if !db.is_file() {
        return Ok(vec![]);
    }
    fsutil::refuse_symlink(db).map_err(|e| sql_err(db, e))?;
    let c = open_read_only(db)?;
    if !has_table(&c, TABLE).map_err(|e| sql_err(db, e))? {
        return Ok(vec![]);
    }
    let mut st = c
        .prepare(
            "SELECT scope_kind, scope_id, name, value, kind, deleted_at_ms, allowed_hosts \
             FROM secret_store_entries ORDER BY scope_kind, scope_id, name",
        )
        .map_err(|e| sql_err(db, e))?;
    let rows = st
        .query_map([], |r| {
            Ok(StoreEntry {
                scope_kind: r.get(0)?,
                scope_id: r.get(1)?,
                name: r.get(2)?,
                value: Zeroizing::new(r.get::<_, String>(3)?),
                kind: r.get(4)?,
                deleted: r.get::<_, Option<i64>>(5)?.is_some(),
                allowed_hosts: hosts(r.get(6)?),
            })
        })
        .map_err(|e| sql_err(db, e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sql_err(db, e))
}

/// The store name a SecretRef object points at, when its source is `store`.
pub fn store_ref_name(v: &Value) -> Option<&str> {
    let o = v.as_object()?;
    (o.get("source")?.as_str()? == "store")
        .then(|| o.get("id")?.as_str())
        .flatten()
}

/// Every store name any SecretRef in `doc` uses, wherever it sits (config paths
/// clawvault does not move, plugin sections, auth profiles): a row some ref still
/// needs is never deleted.
pub fn names_used(doc: &Value, out: &mut BTreeSet<String>) {
    match doc {
        Value::Object(o) => {
            if let Some(n) = store_ref_name(doc) {
                out.insert(n.to_string());
            }
            for v in o.values() {
                names_used(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| names_used(v, out)),
        _ => {}
    }
}

/// Delete the live team rows named in `names` and the soft-deleted rows, each only
/// when the vault holds its value byte for byte (nothing is lost). One immediate transaction after an encrypted backup of every
/// row it deletes; `secure_delete` zeroes the freed cells. Returns the names deleted.
pub fn delete_moved(
    db: &Path,
    names: &BTreeSet<String>,
    vault: &dyn ScrubVault,
) -> Result<Vec<String>> {
    let entries = read(db)?;
    let secrets = vault.all_secrets();
    let doomed: Vec<&StoreEntry> = entries
        .iter()
        .filter(|e| {
            let held = e.value.len() >= 8 && secrets.iter().any(|s| *s == e.value.as_bytes());
            held && ((e.deleted && e.is_team()) || (e.movable() && names.contains(&e.name)))
        })
        .collect();
    if doomed.is_empty() {
        return Ok(vec![]);
    }
    let mut c = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql_err(db, e))?;
    c.busy_timeout(super::sqlite::BUSY_TIMEOUT)
        .map_err(|e| sql_err(db, e))?;
    c.execute_batch("PRAGMA secure_delete = ON")
        .map_err(|e| sql_err(db, e))?;
    let backup_doc = Value::Array(
        doomed
            .iter()
            .map(|e| {
                serde_json::json!({
                    "database": db.display().to_string(),
                    "table": TABLE,
                    "scopeKind": e.scope_kind,
                    "scopeId": e.scope_id,
                    "name": e.name,
                    "kind": e.kind,
                    "deleted": e.deleted,
                    "allowedHosts": e.allowed_hosts,
                    "value": e.value.as_str(),
                })
            })
            .collect(),
    );
    let backup_bytes =
        Zeroizing::new(serde_json::to_vec_pretty(&backup_doc).expect("JSON serializes"));
    drop(backup_doc);
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| sql_err(db, format!("cannot take the write lock: {e}")))?;
    vault
        .backup("openclaw-secret-store", &backup_bytes)
        .map_err(|e| sql_err(db, format!("cannot write the encrypted backup: {e}")))?;
    fsutil::crash_point("store:after-backup");
    let mut gone = Vec::new();
    for e in doomed {
        // Only the row as read: a value changed meanwhile stays.
        let n = tx
            .execute(
                "DELETE FROM secret_store_entries WHERE scope_kind = ?1 AND scope_id = ?2 \
                 AND name = ?3 AND value = ?4",
                rusqlite::params![e.scope_kind, e.scope_id, e.name, e.value.as_str()],
            )
            .map_err(|err| sql_err(db, err))?;
        if n == 1 {
            gone.push(e.name.clone());
        }
    }
    tx.commit().map_err(|e| sql_err(db, e))?;
    Ok(gone)
}

/// Config paths whose SecretRef names a movable entry: one [`ConfigSecret`] each,
/// carrying the store's value under the vault entry `store/<NAME>`, so the plan
/// switches the ref to clawvault.
pub fn config_uses(config: &Value, rows: &[StoreEntry]) -> Vec<ConfigSecret> {
    super::config_secrets::store_refs(config)
        .into_iter()
        .filter_map(|(ty, segments, name)| {
            let row = rows.iter().find(|e| e.movable() && e.name == name)?;
            crate::backend::EntryName::new(&row.vault_entry()).ok()?;
            Some(ConfigSecret {
                target_type: ty,
                segments,
                entry: row.vault_entry(),
                secret: Zeroizing::new(row.value.to_string()),
            })
        })
        .collect()
}

/// Why `migrate` leaves a row, or `None` when it is one it moves (or purges).
pub fn kept_reason(e: &StoreEntry, used: bool) -> Option<String> {
    if !e.is_team() {
        return Some("an identity-scoped entry: clawvault moves team entries only".into());
    }
    if e.deleted {
        return Some("deleted with `openclaw secrets store rm`, which keeps the value unencrypted for 30 days; no vault entry holds it".into());
    }
    if e.kind != "secret" {
        return Some("an agent-readable `env` entry: OpenClaw injects it into agent commands by design, so it must stay in OpenClaw's store".into());
    }
    if !e.allowed_hosts.is_empty() {
        return Some(format!(
            "OpenClaw's egress proxy substitutes it for {} and reads it from its own store only",
            e.allowed_hosts.join(", ")
        ));
    }
    if !used {
        return Some(format!(
            "no SecretRef uses it (inert until one does, but unencrypted at rest): delete it with `openclaw secrets store rm {}` if it is stale, or reference it and run `clawvault migrate` again",
            e.name
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names_are_found_everywhere() {
        let doc = serde_json::json!({
            "models": {"providers": {"openai": {"apiKey": {"source": "store", "provider": "default", "id": "OPENAI_API_KEY"}}}},
            "plugins": {"entries": {"x": {"config": {"k": [{"source": "store", "id": "X_KEY"}]}}}},
            "other": {"source": "exec", "id": "NOT_STORE"}
        });
        let mut out = BTreeSet::new();
        names_used(&doc, &mut out);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            ["OPENAI_API_KEY", "X_KEY"]
        );
    }

    #[test]
    fn hosts_parse_and_debug_hides_the_value() {
        assert_eq!(
            hosts(Some(r#"["api.openai.com"]"#.into())),
            ["api.openai.com"]
        );
        assert!(hosts(None).is_empty());
        let e = StoreEntry {
            scope_kind: "team".into(),
            scope_id: String::new(),
            name: "K".into(),
            kind: "secret".into(),
            allowed_hosts: vec![],
            deleted: false,
            value: Zeroizing::new("sk-VISIBLE".into()),
        };
        assert!(e.movable());
        assert!(!format!("{e:?}").contains("VISIBLE"));
    }
}
