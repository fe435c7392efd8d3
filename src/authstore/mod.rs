//! One auth-store layer, two formats: OpenClaw's JSON document (`auth-profiles.json`,
//! up to 2026.5) and its SQLite stores (2026.6+: the shared
//! `state/openclaw.sqlite` row `authProfiles.store`, and each agent's
//! `agents/<id>/agent/openclaw-agent.sqlite`). The era is detected per install
//! ([`detect`]); reads and writes go to the document OpenClaw itself reads, with its
//! concurrency rules (the lock file for JSON; busy timeout, one immediate
//! transaction, `user_version` check and refusal while a gateway runs for SQLite).
//! On a SQLite-era install nothing here ever creates `auth-profiles.json`.

pub mod detect;
pub mod ops;
pub mod sqlite_write;

use std::path::PathBuf;

use crate::error::Result;
use crate::openclaw::sqlite::{self, StoreKind};
use crate::paths::{AgentTarget, StateDir, DEFAULT_AGENT};
use crate::profiles::ProfileDoc;

pub use detect::{era, Era};

/// Where one agent's profiles are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// `auth-profiles.json` (JSON era).
    Json(PathBuf),
    /// A SQLite auth store (SQLite era).
    Sqlite { kind: StoreKind, db: PathBuf },
}

impl Store {
    /// The file to name in messages (`auth-profiles.json` or the database).
    pub fn path(&self) -> &std::path::Path {
        match self {
            Store::Json(p) => p,
            Store::Sqlite { db, .. } => db,
        }
    }

    /// Change the document under the format's concurrency rules. `f` returns
    /// `(value, changed)`; nothing is written when `changed` is false.
    pub fn modify<T>(
        &self,
        state: &StateDir,
        f: impl FnOnce(&mut ProfileDoc) -> crate::profiles::Result<(T, bool)>,
    ) -> Result<T> {
        match self {
            Store::Json(p) => Ok(ProfileDoc::modify(p, f)?),
            Store::Sqlite { kind, db } => sqlite_write::modify(state, kind, db, f),
        }
    }
}

/// The store `models auth paste-*`/`logout` write for `agent`: on a SQLite-era
/// install the agent's own store when it has one, else the shared store for the
/// main agent (where `openclaw models auth` writes it); never a new JSON file.
pub fn write_store(state: &StateDir, agent: &AgentTarget) -> Result<Store> {
    match era(state) {
        Era::Json => Ok(Store::Json(agent.profiles_path())),
        Era::Sqlite => {
            let own = sqlite::agent_db_path(state, &agent.id);
            if sqlite::read_store(StoreKind::Agent(agent.id.clone()), &own)?.is_some() {
                return Ok(Store::Sqlite {
                    kind: StoreKind::Agent(agent.id.clone()),
                    db: own,
                });
            }
            if agent.id == DEFAULT_AGENT {
                return Ok(Store::Sqlite {
                    kind: StoreKind::Shared,
                    db: sqlite::shared_db_path(state),
                });
            }
            Err(crate::error::Error::Usage(format!(
                "agent {} has no auth store of its own in {} yet, and clawvault does not create OpenClaw's SQLite schema; create the first profile with `openclaw models auth paste-api-key --agent {}` (then move it with `clawvault migrate`), or use --agent {DEFAULT_AGENT}",
                agent.id,
                own.display(),
                agent.id
            )))
        }
    }
}

/// The profiles OpenClaw resolves for `agent`, and the file they came from. On a
/// SQLite-era install: the agent's own store, then (inherited) every profile of
/// the shared store it does not define itself.
pub fn effective_doc(state: &StateDir, agent: &AgentTarget) -> Result<(ProfileDoc, PathBuf)> {
    match era(state) {
        Era::Json => {
            let p = agent.profiles_path();
            Ok((ProfileDoc::load(&p)?, p))
        }
        Era::Sqlite => {
            let own_path = sqlite::agent_db_path(state, &agent.id);
            let own = sqlite::read_store(StoreKind::Agent(agent.id.clone()), &own_path)?;
            let shared_path = sqlite::shared_db_path(state);
            let shared = sqlite::read_store(StoreKind::Shared, &shared_path)?;
            match (own, shared) {
                (Some(o), None) => Ok((o.doc, own_path)),
                (None, Some(s)) => Ok((s.doc, shared_path)),
                (None, None) => Ok((ProfileDoc::empty(&shared_path), shared_path)),
                (Some(o), Some(s)) => {
                    let mut doc = o.doc;
                    for p in s.doc.profiles() {
                        if doc.get(p.id).is_none() {
                            if let Some(obj) = s.doc.root()["profiles"][p.id].as_object() {
                                doc.insert_profile(p.id, obj.clone());
                            }
                        }
                    }
                    Ok((doc, own_path))
                }
            }
        }
    }
}
