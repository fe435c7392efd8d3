//! `clawvault import-env`: move credentials out of `.env` files.
//!
//! OpenClaw's provider variables become profiles (`<provider>:default`; the first
//! variable present in OpenClaw's lookup order wins, `*_OAUTH_TOKEN` as `token`, the
//! rest `api_key`); other credential-looking names become generic vault secrets
//! `env/<NAME>`; everything else is left alone. Moved assignments are replaced by a
//! comment saying where the value went; every other byte stays.

use std::path::{Path, PathBuf};

use crate::auth::{is_our_ref, REF_PROVIDER};
use crate::backend::EntryName;
use crate::envfile::EnvFile;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::migrate::{self, Report};
use crate::paths::AgentTarget;
use crate::profiles::{Material, ProfileDoc, ProfileType, SecretRef};
use crate::providers;
use crate::secret::ExposeSecret;
use crate::vault::Vault;

/// The id prefix of generic secrets imported from `.env` files.
pub const ENV_PREFIX: &str = "env/";

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    pub force: bool,
    /// The install whose auth store receives provider profiles: its era decides
    /// where they are written (never a new `auth-profiles.json` on a SQLite-era
    /// install). `None`: the agent's `auth-profiles.json`.
    pub state: Option<crate::paths::StateDir>,
    /// Move only OpenClaw's provider variables (they become profiles OpenClaw
    /// resolves through a ref); report every other credential as kept, since only
    /// a process started through `clawvault exec` would see it again.
    pub providers_only: bool,
    /// Variables the OpenClaw config reads from the environment (`${NAME}`, env
    /// SecretRefs): kept in the file, reported, never moved.
    pub keep: Vec<String>,
}

/// Where one variable goes.
#[derive(Debug, Clone)]
enum Dest {
    Profile {
        provider: &'static str,
        ty: ProfileType,
        id: String,
    },
    Generic,
}

fn is_placeholder(v: &str) -> bool {
    let t = v.trim();
    t.is_empty()
        || (t.starts_with("${") && t.ends_with('}'))
        || (t.starts_with('<') && t.ends_with('>'))
}

/// Whether `import-env` moves variable `name` holding `value` into the vault:
/// OpenClaw's provider variables and credential names (`*_API_KEY`, `*_TOKEN`,
/// `*_SECRET`, `*_PASSWORD`), unless the value is empty or a template.
pub fn would_import(name: &str, value: &str) -> bool {
    !is_placeholder(value)
        && (providers::provider_of(name).is_some() || providers::is_credential_name(name))
}

/// Import `files` (missing default files are skipped by the caller).
pub fn import(
    vault: &Vault,
    agent: &AgentTarget,
    files: &[PathBuf],
    opts: &Options,
) -> Result<Report> {
    let mut report = Report::default();
    let mut journal = if opts.dry_run {
        migrate::Journal::default()
    } else {
        migrate::load_journal(vault)?
    };
    for path in files {
        import_one(vault, agent, path, opts, &mut journal, &mut report)?;
    }
    Ok(report)
}

fn import_one(
    vault: &Vault,
    agent: &AgentTarget,
    path: &Path,
    opts: &Options,
    j: &mut migrate::Journal,
    report: &mut Report,
) -> Result<()> {
    // Held for the whole import: another clawvault never interleaves with us, and a
    // lock left by a crashed run is cleared even when nothing is left to move.
    let _lock = fsutil::FileLock::acquire(path, fsutil::LOCK_WAIT)?;
    let bytes = fsutil::read_private(path)?
        .ok_or_else(|| Error::Usage(format!("{} does not exist", path.display())))?;
    let file = EnvFile::parse(path, bytes).map_err(|e| Error::Usage(e.to_string()))?;
    let (effective, dups) = file.effective();
    for d in &dups {
        report.add(
            path,
            d,
            "duplicate",
            "set more than once; the last value wins and every copy is moved",
        );
    }
    // Pick destinations: per provider, the first variable in lookup order.
    let mut best: std::collections::HashMap<&str, (usize, String)> = Default::default();
    for e in &effective {
        if is_placeholder(&e.value) {
            continue;
        }
        if let Some((p, rank)) = providers::provider_of(&e.name) {
            let cur = best.entry(p).or_insert((rank, e.name.clone()));
            if rank < cur.0 {
                *cur = (rank, e.name.clone());
            }
        }
    }
    let store = match &opts.state {
        Some(state) => Some(crate::authstore::write_store(state, agent)?),
        None => None,
    };
    let doc = match (&opts.state, &store) {
        (Some(state), Some(crate::authstore::Store::Sqlite { .. })) => {
            crate::authstore::effective_doc(state, agent)?.0
        }
        _ => ProfileDoc::load(&agent.profiles_path())?,
    };
    let backend = vault.backend()?;
    let mut plan: Vec<(String, Dest, EntryName, zeroize::Zeroizing<String>)> = Vec::new();
    for e in &effective {
        if is_placeholder(&e.value) {
            continue;
        }
        if opts.keep.iter().any(|k| k == &e.name) {
            report.add(
                path,
                &e.name,
                "kept",
                "openclaw.json reads this variable from the environment (`${NAME}` or an env SecretRef); replace that with a clawvault ref, then run `clawvault import-env`",
            );
            continue;
        }
        let dest = match providers::provider_of(&e.name) {
            Some((p, _)) if best.get(p).map(|b| b.1 == e.name).unwrap_or(false) => Dest::Profile {
                provider: p,
                ty: if providers::is_token_var(&e.name) {
                    ProfileType::Token
                } else {
                    ProfileType::ApiKey
                },
                id: format!("{p}:default"),
            },
            Some(_) | None if opts.providers_only && would_import(&e.name, &e.value) => {
                report.add(
                    path,
                    &e.name,
                    "kept",
                    "not a variable OpenClaw resolves through an auth profile: only a program started by `clawvault exec` would see it once moved; run `clawvault import-env` if that is how it runs",
                );
                continue;
            }
            Some(_) => Dest::Generic,
            None if providers::is_credential_name(&e.name) => Dest::Generic,
            // A token by its format under a name that does not say so: `exec` admits
            // variables by name only (a hostile `.env` must not get it to set any
            // variable through a token-shaped value), so it stays, and says why.
            None if crate::doctor::detect::is_known_token(&e.value) => {
                report.add(
                    path,
                    &e.name,
                    "kept",
                    "a token by its format, but the name does not say so and `clawvault exec` sets variables by name only (*_API_KEY, *_TOKEN, *_SECRET, *_PASSWORD): rename it, here and where it is read, then run `clawvault import-env`",
                );
                continue;
            }
            None => continue,
        };
        let name = match &dest {
            Dest::Profile { id, .. } => EntryName::for_profile(&agent.id, id),
            Dest::Generic => EntryName::new(&format!("{ENV_PREFIX}{}", e.name)),
        };
        let Ok(name) = name else {
            report.add(
                path,
                &e.name,
                "skipped",
                "the name cannot be used as an exec id",
            );
            continue;
        };
        // Conflicts: an existing different value is not overwritten without --force.
        let mut conflict = None;
        if let Dest::Profile { id, ty, .. } = &dest {
            if let Some(p) = doc.get(id) {
                let pt = p.profile_type();
                if pt != *ty && pt != ProfileType::Other {
                    conflict = Some(format!("profile {id} exists with type {}", pt.as_str()));
                } else {
                    match p.material() {
                        Material::Inline(_) if p.inline_secret() != Some(e.value.as_str()) => {
                            conflict = Some(format!("profile {id} already holds a different value"))
                        }
                        Material::Ref(r) if is_our_ref(&r) && r.id != name.as_str() => {
                            conflict = Some(format!(
                                "profile {id} points at another vault entry ({})",
                                r.id
                            ))
                        }
                        _ => {}
                    }
                }
            }
        }
        if conflict.is_none() && backend.contains(&name)? {
            match backend.get(&name) {
                Ok(v) => {
                    let same = v
                        .map(|v| v.expose_secret() == e.value.as_bytes())
                        .unwrap_or(false);
                    if !same {
                        conflict = Some(format!(
                            "the vault already holds a different value for {name}"
                        ));
                    }
                }
                // A dry run on a locked vault still shows its plan.
                Err(crate::backend::BackendError::Locked) if opts.dry_run => {
                    conflict = Some(format!(
                        "the vault already holds {name}; unlock it to compare the values"
                    ));
                }
                Err(err) => return Err(err.into()),
            }
        }
        if let Some(why) = conflict {
            if !opts.force {
                report.add(
                    path,
                    &e.name,
                    "conflict",
                    format!("{why}; left in the file (use --force to overwrite)"),
                );
                continue;
            }
            report.add(path, &e.name, "forced", why);
        }
        plan.push((
            e.name.clone(),
            dest,
            name,
            zeroize::Zeroizing::new(e.value.to_string()),
        ));
    }
    if plan.is_empty() {
        return Ok(());
    }
    if opts.dry_run {
        for (var, _, name, _) in &plan {
            report.add(path, var, "would-move", format!("to {name}"));
        }
        return Ok(());
    }
    let ji = migrate::begin(vault, j, path)?;
    let profiles_path = agent.profiles_path();
    let sqlite_store = match &store {
        Some(st @ crate::authstore::Store::Sqlite { .. }) => Some(st.clone()),
        _ => None,
    };
    // A SQLite store is changed in one transaction by the auth-store layer; the
    // journal restores plain files only (a rollback restores the `.env`, and the
    // profile's ref keeps resolving from the vault).
    let jp = if sqlite_store.is_none() && plan.iter().any(|p| matches!(p.1, Dest::Profile { .. })) {
        Some(migrate::begin(vault, j, &profiles_path)?)
    } else {
        None
    };
    for (_, _, name, value) in &plan {
        migrate::store_verified(vault, name, value)?;
        if !j.entries[ji].stored.contains(&name.to_string()) {
            j.entries[ji].stored.push(name.to_string());
        }
    }
    migrate::save_journal(vault, j)?;
    let set_refs = |doc: &mut ProfileDoc| {
        for (_, dest, name, _) in &plan {
            if let Dest::Profile { provider, ty, id } = dest {
                doc.set_ref(
                    id,
                    *ty,
                    provider,
                    &SecretRef::exec(REF_PROVIDER, name.as_str()),
                );
            }
        }
        Ok(((), true))
    };
    if let (Some(st), Some(state)) = (&sqlite_store, &opts.state) {
        if plan.iter().any(|p| matches!(p.1, Dest::Profile { .. })) {
            st.modify(state, set_refs)?;
        }
    } else if jp.is_some() {
        ProfileDoc::modify(&profiles_path, set_refs)?;
    }
    fsutil::crash_point("import-env:after-profiles");
    let moved: Vec<String> = plan.iter().map(|p| p.0.clone()).collect();
    let dest_of = |var: &str| {
        plan.iter()
            .find(|p| p.0 == var)
            .map(|p| p.2.to_string())
            .unwrap_or_default()
    };
    let out = file.rewrite(&moved, |var| {
        format!(
            "# {var} moved to clawvault ({}); `clawvault exec -- CMD` sets it",
            dest_of(var)
        )
    });
    // Refuse to clobber a file an editor changed since we read it.
    let now = fsutil::read_private(path)?.unwrap_or_default();
    if now != file.bytes.as_slice() {
        return Err(Error::Other(format!(
            "{} changed while importing; the values are in the vault, run import-env again to finish",
            path.display()
        )));
    }
    fsutil::write_atomic(path, &out)?;
    for (var, _, name, _) in &plan {
        report.add(path, var, "moved", format!("to {name}"));
    }
    if let Some(jp) = jp {
        migrate::finish(vault, j, jp)?;
    }
    migrate::finish(vault, j, ji)
}

/// Where one variable of `clawvault exec`'s environment comes from.
pub enum ExecValue {
    /// A profile still holding its material inline (not yet migrated).
    Inline(zeroize::Zeroizing<String>),
    /// A vault entry, fetched later in one batch.
    Entry(EntryName),
}

/// The environment `clawvault exec` sets, before any secret is read: for each
/// provider with profiles, the first profile in its `order` (else
/// `<provider>:default`) under OpenClaw's variable name, then every generic
/// `env/<NAME>` secret. Needs no unlock (listing entries reads no secret).
pub fn exec_plan(vault: &Vault, doc: &ProfileDoc) -> Result<Vec<(String, ExecValue)>> {
    let backend = vault.backend()?;
    let mut out: Vec<(String, ExecValue)> = Vec::new();
    let mut done = std::collections::HashSet::new();
    // Later OpenClaw releases keep `order` in auth-state.json beside the profiles.
    let state = crate::profiles::AuthState::load(&crate::profiles::AuthState::beside(doc.path()))?;
    for provider in doc.profiles().map(|p| p.provider()).collect::<Vec<_>>() {
        if !done.insert(provider.clone()) {
            continue;
        }
        let vars = providers::vars_of(&provider);
        if vars.is_empty() {
            continue;
        }
        let order = match &state {
            Some(st) => st.order(&provider),
            None => doc.order(&provider),
        };
        let candidates: Vec<String> = order
            .unwrap_or_default()
            .into_iter()
            .chain(std::iter::once(format!("{provider}:default")))
            .collect();
        let Some(p) = candidates.iter().find_map(|id| doc.get(id)) else {
            continue;
        };
        let value = match p.material() {
            Material::Inline(_) => p
                .inline_secret()
                .map(|s| ExecValue::Inline(zeroize::Zeroizing::new(s.to_string()))),
            Material::Ref(r) if is_our_ref(&r) => EntryName::new(&r.id).ok().map(ExecValue::Entry),
            _ => None,
        };
        let Some(value) = value else { continue };
        let var = if p.profile_type() == ProfileType::Token {
            vars.iter()
                .find(|v| providers::is_token_var(v))
                .or_else(|| vars.first())
        } else {
            vars.iter().find(|v| !providers::is_token_var(v))
        };
        if let Some(var) = var {
            out.push((var.to_string(), value));
        }
    }
    for name in backend.list()? {
        if let Some(var) = name.as_str().strip_prefix(ENV_PREFIX) {
            // An entry anyone who can write the store planted must not become
            // `BASH_ENV`, `LD_PRELOAD` or `NODE_OPTIONS` in the child.
            if exec_may_set(var) {
                out.push((var.to_string(), ExecValue::Entry(name.clone())));
            }
        }
    }
    Ok(out)
}

/// Variables that change how a program, its loader, shell or runtime behaves: never
/// set from a vault entry, whatever the entry is called.
const NEVER_SET: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "IFS",
    "ENV",
    "BASH_ENV",
    "CDPATH",
    "PS4",
    "PROMPT_COMMAND",
    "NODE_OPTIONS",
    "NODE_PATH",
    "NODE_EXTRA_CA_CERTS",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EXEC_PATH",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "TMPDIR",
    "TZDIR",
    "LOCPATH",
    "GCONV_PATH",
    "HOSTALIASES",
    "RESOLV_HOST_CONF",
    "MALLOC_CHECK_",
    "OPENSSL_CONF",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "DBUS_SESSION_BUS_ADDRESS",
];
/// Prefixes of the same kind (loaders, interpreters, clawvault's own unlock settings).
const NEVER_SET_PREFIX: &[&str] = &[
    "LD_",
    "DYLD_",
    "PYTHON",
    "PERL",
    "LUA_",
    "GCONV_",
    "GLIBC_",
    "MALLOC_",
    "NPM_CONFIG_",
    "CLAWVAULT_",
    "BASH_FUNC_",
    "GIT_CONFIG",
];

/// Whether `clawvault exec` may set variable `name` from a generic `env/<NAME>`
/// entry: `^[A-Z][A-Z0-9_]*$`, named like a credential (OpenClaw's provider
/// variables, `*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASSWORD`...), and never a
/// loader, shell or runtime variable.
pub fn exec_may_set(name: &str) -> bool {
    let b = name.as_bytes();
    let shape = !b.is_empty()
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_');
    shape
        && !NEVER_SET.contains(&name)
        && !NEVER_SET_PREFIX.iter().any(|p| name.starts_with(p))
        && (providers::provider_of(name).is_some() || providers::is_credential_name(name))
}

/// The entries an [`exec_plan`] needs, each once.
pub fn plan_entries(plan: &[(String, ExecValue)]) -> Vec<EntryName> {
    let mut seen = std::collections::HashSet::new();
    plan.iter()
        .filter_map(|(_, v)| match v {
            ExecValue::Entry(n) if seen.insert(n.as_str().to_string()) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// Turn a plan into variables, given the fetched entries (by entry name). An
/// entry that is missing or not UTF-8 leaves its variable unset.
pub fn fill_plan(
    plan: Vec<(String, ExecValue)>,
    fetched: &std::collections::HashMap<String, zeroize::Zeroizing<String>>,
) -> Vec<(String, zeroize::Zeroizing<String>)> {
    plan.into_iter()
        .filter_map(|(var, v)| match v {
            ExecValue::Inline(s) => Some((var, s)),
            ExecValue::Entry(n) => fetched.get(n.as_str()).map(|s| (var, s.clone())),
        })
        .collect()
}

/// Read every entry of a plan from the (unlocked) vault, in one batch.
/// [`fetch_local`], recorded in the access log as a local read by `cmd`.
pub fn fetch_local_logged(
    vault: &Vault,
    names: &[EntryName],
    cmd: &str,
) -> Result<std::collections::HashMap<String, zeroize::Zeroizing<String>>> {
    let r = fetch_local(vault, names);
    if !names.is_empty() {
        let ids: Vec<String> = names.iter().map(|n| n.as_str().to_string()).collect();
        let outcome = match &r {
            Ok(m) if m.len() == ids.len() => "ok".to_string(),
            Ok(m) => format!("{} served, {} not found", m.len(), ids.len() - m.len()),
            Err(e) => format!("failed: {e}"),
        };
        crate::access_log::append(
            vault.dir(),
            crate::access_log::Key::of(vault).as_ref(),
            &crate::access_log::Record::new(
                cmd,
                "local",
                crate::access_log::Proc::me(),
                &ids,
                &outcome,
            ),
        );
    }
    r
}

pub fn fetch_local(
    vault: &Vault,
    names: &[EntryName],
) -> Result<std::collections::HashMap<String, zeroize::Zeroizing<String>>> {
    let backend = vault.backend()?;
    let mut out = std::collections::HashMap::new();
    for (name, got) in names.iter().zip(backend.get_many(names)) {
        if let Some(v) = got? {
            if let Ok(s) = std::str::from_utf8(v.expose_secret()) {
                out.insert(
                    name.as_str().to_string(),
                    zeroize::Zeroizing::new(s.to_string()),
                );
            }
        }
    }
    Ok(out)
}

/// The environment `clawvault exec` sets, read from an unlocked vault.
pub fn exec_env(
    vault: &Vault,
    doc: &ProfileDoc,
) -> Result<Vec<(String, zeroize::Zeroizing<String>)>> {
    let plan = exec_plan(vault, doc)?;
    let fetched = fetch_local(vault, &plan_entries(&plan))?;
    Ok(fill_plan(plan, &fetched))
}
