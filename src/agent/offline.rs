//! The agent's offline cache (`agent run --offline-grace DURATION`): the last value it
//! served for each id from a server backend (OpenBao / Vault), kept in
//! `<vault>/cache/offline.age`, a standard age file encrypted to the vault's recipient.
//! When the server is unreachable or sealed, the agent answers from it, for values no
//! older than the grace period, only while it holds the vault identity (so `clawvault
//! lock` makes the cache unreadable), and every such answer is marked stale: in the
//! access log, the agent's log and `agent status`. Nothing is cached in plaintext on
//! disk; the in-memory copy is zeroized on drop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::fsutil;
use crate::resolve::Response;

pub struct Cache {
    path: PathBuf,
    grace_ms: u64,
    recipient: age::x25519::Recipient,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Whether the file's entries were merged in (needs the identity).
    loaded: bool,
    /// id -> (value, when the server last gave it, ms).
    entries: BTreeMap<String, (Zeroizing<String>, u64)>,
    stale_served: u64,
    last_stale_ms: Option<u64>,
    /// When the file was last written (ms); 0 = never by this agent.
    persisted_ms: u64,
}

/// What `agent status` shows of the cache.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub grace_secs: u64,
    pub stale_served: u64,
    pub last_stale_ms: Option<u64>,
}

pub fn path(vault_dir: &Path) -> PathBuf {
    vault_dir.join("cache").join("offline.age")
}

impl Cache {
    pub fn new(
        vault_dir: &Path,
        grace: std::time::Duration,
        recipient: age::x25519::Recipient,
    ) -> Cache {
        Cache {
            path: path(vault_dir),
            grace_ms: grace.as_millis() as u64,
            recipient,
            state: Mutex::new(State::default()),
        }
    }

    fn load(&self, st: &mut State, identity: &str) {
        if st.loaded {
            return;
        }
        st.loaded = true;
        let Ok(ct) = std::fs::read(&self.path) else {
            return;
        };
        let Ok(id) = identity.parse::<age::x25519::Identity>() else {
            return;
        };
        let Ok(pt) = age::decrypt(&id, &ct).map(Zeroizing::new) else {
            eprintln!(
                "clawvault agent: the offline cache {} cannot be read with this vault's identity; it will be rewritten",
                self.path.display()
            );
            return;
        };
        let Ok(map) = serde_json::from_slice::<BTreeMap<String, (String, u64)>>(&pt) else {
            return;
        };
        for (k, (v, t)) in map {
            let v = Zeroizing::new(v);
            st.entries.entry(k).or_insert((v, t));
        }
    }

    fn persist(&self, st: &State) {
        let cap = 64
            + st.entries
                .iter()
                .map(|(k, (v, _))| 2 * (k.len() + v.len()) + 48)
                .sum::<usize>();
        let mut json = Zeroizing::new(Vec::with_capacity(cap));
        let view: BTreeMap<&str, (&str, u64)> = st
            .entries
            .iter()
            .map(|(k, (v, t))| (k.as_str(), (v.as_str(), *t)))
            .collect();
        if serde_json::to_writer(&mut *json, &view).is_err() {
            return;
        }
        let Ok(ct) = age::encrypt(&self.recipient, &json) else {
            return;
        };
        let dir = self.path.parent().expect("cache/ has a parent");
        if let Err(e) = fsutil::ensure_private_dir(dir)
            .map_err(|e| e.to_string())
            .and_then(|_| fsutil::write_atomic(&self.path, &ct).map_err(|e| e.to_string()))
        {
            eprintln!(
                "clawvault agent: cannot write the offline cache {}: {e}",
                self.path.display()
            );
        }
    }

    /// Keep what the server just served. Without the identity the file cannot be
    /// merged, so it is rewritten only once it was loaded (or does not exist yet).
    pub fn remember(&self, identity: Option<&str>, resp: &Response) {
        let now = fsutil::now_ms();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match identity {
            Some(id) => self.load(&mut st, id),
            // Locked, with a cache on disk it cannot merge: keep nothing in memory
            // either (a locked agent holds no cached value).
            None if !st.loaded && self.path.exists() => return,
            None => {}
        }
        let mut changed = false;
        for (k, v) in resp.values() {
            let fresh = st.entries.get(k).is_none_or(|(old, _)| old.as_str() != v);
            st.entries
                .insert(k.to_string(), (Zeroizing::new(v.to_string()), now));
            changed |= fresh;
        }
        // Write when a value changed, and otherwise now and then so the times on disk
        // (what the grace period is measured from after a restart) stay recent; not on
        // every batch, which would put an encryption and a rename on the hot path.
        let refresh = (self.grace_ms / 4).clamp(1_000, 300_000);
        let due = changed || now.saturating_sub(st.persisted_ms) >= refresh;
        if due && (st.loaded || !self.path.exists()) {
            self.persist(&st);
            st.persisted_ms = now;
        }
    }

    /// Answer `ids` from the cache (the server is unreachable). `None` when no id has
    /// a value within the grace period. The second value is the oldest age served.
    pub fn serve(&self, identity: &str, ids: &[String]) -> Option<(Response, u64)> {
        let now = fsutil::now_ms();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.load(&mut st, identity);
        let (mut values, mut missing, mut oldest) = (Vec::new(), Vec::new(), 0u64);
        for id in ids {
            match st.entries.get(id) {
                Some((v, t)) if now.saturating_sub(*t) <= self.grace_ms => {
                    oldest = oldest.max(now.saturating_sub(*t));
                    values.push((id.clone(), v.clone()));
                }
                _ => missing.push(id.clone()),
            }
        }
        if values.is_empty() {
            return None;
        }
        st.stale_served += 1;
        st.last_stale_ms = Some(now);
        Some((Response::from_parts(values, missing), oldest))
    }

    /// On lock: drop every cached value from memory (zeroized); the file stays, and
    /// is read again once the identity is back.
    pub fn forget(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.entries.clear();
        st.loaded = false;
    }

    pub fn stats(&self) -> Stats {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Stats {
            grace_secs: self.grace_ms / 1000,
            stale_served: st.stale_served,
            last_stale_ms: st.last_stale_ms,
        }
    }
}
