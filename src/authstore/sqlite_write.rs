//! Writing one of OpenClaw's SQLite auth stores with OpenClaw's own rules: refuse
//! while a gateway runs (it caches the store), a busy timeout for OpenClaw's other
//! writers, the schema version checked, and one immediate transaction that re-reads
//! the row and writes it back (compact `JSON.stringify` form), unknown fields kept.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;
use crate::fsutil;
use crate::openclaw::sqlite::{
    has_table, live_gateway_lock, read_cell, sql_err, to_cell, StoreKind, BUSY_TIMEOUT,
    MAX_USER_VERSION,
};
use crate::openclaw::OpenClawError;
use crate::paths::StateDir;
use crate::profiles::ProfileDoc;

/// Read-modify-write the auth store `kind` in `db`. `f` returns `(value, changed)`;
/// nothing is written when `changed` is false. The shared store's row is created
/// when the table exists without it; a missing database or table is refused (its
/// schema is OpenClaw's to create).
pub fn modify<T>(
    state: &StateDir,
    kind: &StoreKind,
    db: &Path,
    f: impl FnOnce(&mut ProfileDoc) -> crate::profiles::Result<(T, bool)>,
) -> Result<T> {
    if !db.exists() {
        return Err(sql_err(
            db,
            "does not exist; create the first profile with `openclaw models auth paste-api-key` so OpenClaw creates its schema",
        )
        .into());
    }
    fsutil::refuse_symlink(db).map_err(|e| sql_err(db, e))?;
    if let Some(holder) = live_gateway_lock(state) {
        return Err(OpenClawError::InUse {
            what: db.display().to_string(),
            holder,
        }
        .into());
    }
    let mut c = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql_err(db, e))?;
    c.busy_timeout(BUSY_TIMEOUT).map_err(|e| sql_err(db, e))?;
    let uv: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| sql_err(db, e))?;
    if uv > MAX_USER_VERSION {
        return Err(sql_err(
            db,
            format!("its schema version {uv} is newer than clawvault knows ({MAX_USER_VERSION}); upgrade clawvault"),
        )
        .into());
    }
    c.execute_batch("PRAGMA secure_delete = ON")
        .map_err(|e| sql_err(db, e))?;
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| sql_err(db, format!("cannot take the write lock: {e}")))?;
    if !has_table(&tx, kind.table()).map_err(|e| sql_err(db, e))? {
        return Err(sql_err(
            db,
            format!(
                "has no {} table; let OpenClaw create its schema first (`openclaw doctor --fix`)",
                kind.table()
            ),
        )
        .into());
    }
    let current = read_cell(&tx, kind).map_err(|e| sql_err(db, e))?;
    let mut doc = match &current {
        Some(raw) => ProfileDoc::parse(db, raw.as_bytes())?,
        None => ProfileDoc::parse(db, br#"{"version":1,"profiles":{}}"#)?,
    };
    let (out, changed) = f(&mut doc)?;
    if !changed {
        return Ok(out);
    }
    let cell = to_cell(&doc);
    let now = fsutil::now_ms() as i64;
    let n = match (&current, kind) {
        (Some(raw), _) => tx
            .execute(kind.update_sql(), rusqlite::params![cell, now, raw])
            .map_err(|e| sql_err(db, e))?,
        (None, StoreKind::Shared) => tx
            .execute(
                "INSERT INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES ('authProfiles.store', ?1, ?2)",
                rusqlite::params![cell, now],
            )
            .map_err(|e| sql_err(db, e))?,
        (None, StoreKind::Agent(_)) => {
            return Err(sql_err(
                db,
                "has no auth store row; create the agent's first profile with `openclaw models auth paste-api-key --agent <id>`",
            )
            .into())
        }
    };
    if n != 1 {
        return Err(sql_err(
            db,
            "the auth store row changed while writing; nothing was changed",
        )
        .into());
    }
    fsutil::crash_point("authstore:before-commit");
    tx.commit().map_err(|e| sql_err(db, e))?;
    Ok(out)
}
