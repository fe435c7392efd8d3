//! Per-file findings: what a hit in each kind of file means, and the command that
//! fixes it (`advice`, `file_findings`, the `.env` fix hints).

use super::*;

pub(super) struct Advice {
    check_id: &'static str,
    place: &'static str,
    fix: String,
}

/// A state directory other than the current one, and how to write it in a command.
pub(super) struct StateRoot {
    pub(super) dir: PathBuf,
    pub(super) shown: String,
}

/// `dir` for a command line: `~/.clawdbot` under `home`, else quoted.
pub(super) fn show_dir(dir: &Path, home: Option<&Path>) -> String {
    if let Some(rest) = home.and_then(|h| dir.strip_prefix(h).ok()) {
        let q = checks::shell_quote(rest);
        if !rest.as_os_str().is_empty() && !q.starts_with('\'') {
            return format!("~/{q}");
        }
    }
    checks::shell_quote(dir)
}

pub(super) fn advice(cat: Category, path: &Path, other: Option<&StateRoot>) -> Advice {
    let q = checks::shell_quote(path);
    let agent = agent_of(path).unwrap_or_else(|| crate::paths::DEFAULT_AGENT.into());
    // `migrate` reads the current state directory only.
    let sd = other
        .map(|o| format!("--state-dir {} ", o.shown))
        .unwrap_or_default();
    match cat {
        Category::AuthProfiles => Advice {
            check_id: "plaintext.auth-profile",
            place: "stored inline in an auth profile",
            fix: format!("run `clawvault {sd}migrate --agent {agent}` to move it into the vault behind a keyRef"),
        },
        Category::AuthArchive => Advice {
            check_id: "plaintext.auth-archive",
            place: "left in an auth-profiles archive",
            fix: format!("after `clawvault {sd}migrate`, delete this plaintext copy (rm {q}) and rotate the key if it was ever backed up"),
        },
        Category::LegacyAuth => Advice {
            check_id: "plaintext.legacy-auth",
            place: "in a legacy auth.json",
            fix: format!("run `clawvault {sd}migrate --agent {agent}` (it reads legacy auth.json), then delete {q}"),
        },
        Category::OAuthStore => Advice {
            check_id: "oauth.profile",
            place: "in the OAuth credential store",
            fix: "OpenClaw rotates OAuth tokens itself: keep this file 0600 in a 0700 directory".into(),
        },
        Category::Config => Advice {
            check_id: "plaintext.config",
            place: "in openclaw.json",
            fix: "move it into the vault and put a SecretRef in its place ({\"source\":\"exec\",\"provider\":\"clawvault\",\"id\":...})".into(),
        },
        Category::ModelsJson => Advice {
            check_id: "plaintext.models-json",
            place: "in a generated models.json",
            fix: "remove the key from openclaw.json (use a SecretRef), then delete this generated file so OpenClaw regenerates it".into(),
        },
        Category::EnvFile => Advice {
            check_id: "plaintext.env-file",
            place: "in a .env file",
            fix: format!("run `clawvault import-env {q}`, then delete the line"),
        },
        Category::Sqlite => Advice {
            check_id: "plaintext.sqlite",
            place: "in a SQLite store (deleted rows linger in free pages and the -wal)",
            fix: "run `clawvault openclaw plan` (moves the values into the vault) and the `openclaw secrets apply` it prints, then stop the gateway and run `clawvault openclaw scrub` (replaces leftovers, vacuums and checkpoints)".into(),
        },
        Category::Transcript => Advice {
            check_id: "plaintext.transcript",
            place: "in a session transcript",
            fix: "rotate this credential (it reached a model transcript), then redact or delete the session file".into(),
        },
        Category::Log => Advice {
            check_id: "plaintext.log",
            place: "in a log file",
            fix: "rotate this credential, then delete or redact the log".into(),
        },
        Category::ShellHistory => Advice {
            check_id: "plaintext.shell-history",
            place: "in shell history",
            fix: "rotate it; `clawvault doctor --fix` scrubs the line and keeps an encrypted backup".into(),
        },
        Category::ServiceUnit => Advice {
            check_id: "plaintext.service-unit",
            place: "in a service definition (Environment=/EnvironmentVariables)",
            fix: "remove it from the unit; let OpenClaw resolve it through clawvault, or use an EnvironmentFile= kept 0600".into(),
        },
        Category::StateFile | Category::Given => Advice {
            check_id: "plaintext.file",
            place: "in a file",
            fix: "rotate this credential and remove it from the file".into(),
        },
        Category::HomeFile => Advice {
            check_id: "plaintext.home-file",
            place: "in a file under your home directory",
            fix: "remove it from the file and rotate it; a key OpenClaw uses belongs in the vault (`clawvault models auth paste-api-key`), another tool's in that tool's own credential store".into(),
        },
    }
}

pub(super) const STRUCT_MAX: u64 = 16 << 20;

pub(super) fn file_findings(
    det: &Detector,
    t: &Target,
    hits: &[FileHit],
    other_root: Option<&StateRoot>,
    out: &mut Vec<Finding>,
    migrations: &mut Vec<MigrationItem>,
) {
    let adv = advice(t.category, &t.path, other_root);
    // `.env` files: which assignment each hit sits in, and whether import-env
    // would move it (it leaves names it does not know alone).
    let env = (t.category == Category::EnvFile && !hits.is_empty())
        .then(|| env_assignments(&t.path, t.size));
    let mut env_importable = false;
    let structured = t.category.is_structured() && t.size <= STRUCT_MAX;
    let (bytes, st) = if structured {
        match std::fs::read(&t.path) {
            Ok(b) => {
                let st = checks::structure(det, t.category, &b);
                (b, st)
            }
            Err(_) => (Vec::new(), None),
        }
    } else {
        (Vec::new(), None)
    };
    if channel_sessions::is_whatsapp_creds(&t.path) && t.size <= STRUCT_MAX {
        let bytes = std::fs::read(&t.path).unwrap_or_default();
        // Exposure is judged with the file's permissions (`check_path`); the key
        // itself cannot move, so it is information.
        for (key, line) in channel_sessions::private_keys(&bytes) {
            out.push(Finding::new(
                channel_sessions::CHECK_ID.into(),
                Severity::Info,
                format!("WhatsApp linked-device private key ({key}) kept by OpenClaw's WhatsApp channel"),
                &t.path,
                Some(line),
                channel_sessions::FIX_HINT.into(),
            ));
        }
        // The rest of the file is the same session state (`advSecretKey`, ...).
        for h in hits {
            let mut f = Finding::new(
                channel_sessions::CHECK_ID.into(),
                Severity::Info,
                format!(
                    "WhatsApp session secret {} kept by OpenClaw's WhatsApp channel",
                    h.hit.redacted
                ),
                &t.path,
                Some(h.line),
                channel_sessions::FIX_HINT.into(),
            );
            f.column = Some(h.column);
            out.push(f);
        }
        return;
    }
    let line_for = |h: &FileHit| t.category.has_lines().then_some(h.line);
    let column_for = |h: &FileHit| t.category.has_lines().then_some(h.column);
    let mut claimed: HashSet<[u8; 32]> = HashSet::new();
    let mut per_line: HashSet<([u8; 32], u64)> = HashSet::new();
    let mut device: Option<HashSet<[u8; 32]>> = None;
    let mut any_inline = false;
    if let Some(st) = &st {
        #[cfg(unix)]
        let tight = std::fs::metadata(&t.path)
            .map(|m| std::os::unix::fs::MetadataExt::mode(&m) & 0o077 == 0)
            .unwrap_or(false);
        #[cfg(windows)]
        let tight = matches!(crate::trust::check_private(&t.path), Ok(None));
        for (id, provider, needle) in &st.oauth {
            let line = checks::line_of(&bytes, needle);
            out.push(Finding::new(
                "oauth.profile".into(),
                if tight { Severity::Info } else { Severity::Warn },
                format!("OAuth token {id} ({provider}) is kept in this file; OpenClaw rotates it itself and cannot read it through a SecretRef"),
                &t.path,
                (line > 0).then_some(line),
                "nothing to migrate: keep this file 0600 in a 0700 directory (`clawvault doctor --fix` tightens it)".into(),
            ));
        }
        claimed.extend(st.oauth_hashes.iter().copied());
        for it in &st.inline {
            let hit = hits.iter().find(|h| h.hit.hash == it.hash);
            let line = match hit {
                Some(h) => line_for(h),
                None => {
                    let l = checks::line_of(&bytes, &it.needle);
                    (l > 0).then_some(l)
                }
            };
            let kind = match hit {
                Some(h) if h.hit.kind != Kind::NamedCredential => h.hit.kind,
                _ => it.kind,
            };
            let (check, sev) = if kind == Kind::VaultSecret {
                ("vault.secret-copy", Severity::Error)
            } else {
                (adv.check_id, Severity::Error)
            };
            let column = hit.and_then(column_for);
            let mut f = Finding::new(
                check.into(),
                sev,
                format!(
                    "{} {} {} ({})",
                    kind_label(kind, hit.map(|h| &h.hit)),
                    it.redacted,
                    adv.place,
                    it.place
                ),
                &t.path,
                line,
                adv.fix.clone(),
            );
            f.column = column;
            f.secret_hash = Some(it.hash);
            out.push(f);
            claimed.insert(it.hash);
            any_inline = true;
        }
    }
    for h in hits {
        // A value the structure already reported is not reported again; a value
        // repeated on several lines is reported at each (each line is a copy).
        if claimed.contains(&h.hit.hash) || !per_line.insert((h.hit.hash, h.line)) {
            continue;
        }
        if t.category == Category::Sqlite
            && device
                .get_or_insert_with(|| device_tokens::device_token_hashes(&t.path))
                .contains(&h.hit.hash)
        {
            let mut f = Finding::new(
                device_tokens::CHECK_ID.into(),
                Severity::Info,
                format!(
                    "OpenClaw's own device auth token {} (device_auth_tokens) {}",
                    h.hit.redacted, adv.place
                ),
                &t.path,
                line_for(h),
                device_tokens::FIX_HINT.into(),
            );
            f.column = column_for(h);
            f.secret_hash = Some(h.hit.hash);
            out.push(f);
            continue;
        }
        let kind = h.hit.kind;
        let what = match (&h.hit.copy_of, &h.hit.name) {
            (Some(o), _) => format!(" (the value of {o})"),
            (None, Some(n)) if kind != Kind::VaultSecret => format!(" assigned to {n}"),
            _ => String::new(),
        };
        let env_fix = env.as_ref().map(|e| env_fix(e, h.hit.start, &t.path));
        env_importable |= env_fix.as_ref().is_some_and(|(_, moves)| *moves);
        let (check, fix) = if kind == Kind::VaultSecret {
            (
                "vault.secret-copy",
                "this copy defeats the vault: remove it, and rotate the secret if the file was shared or backed up".to_string(),
            )
        } else if let Some((fix, _)) = env_fix {
            (adv.check_id, fix)
        } else {
            (adv.check_id, adv.fix.clone())
        };
        let mut f = Finding::new(
            check.into(),
            Severity::Error,
            format!(
                "{} {}{what} {}",
                kind_label(kind, Some(&h.hit)),
                h.hit.redacted,
                adv.place
            ),
            &t.path,
            line_for(h),
            fix,
        );
        f.column = column_for(h);
        f.secret_hash = Some(h.hit.hash);
        if t.category == Category::ShellHistory {
            f.action = Some(FixAction::ScrubHistory {
                path: t.path.clone(),
                lines: vec![h.line],
            });
        }
        out.push(f);
        any_inline = true;
    }
    if any_inline {
        match t.category {
            Category::AuthProfiles | Category::LegacyAuth => migrations.push(MigrationItem {
                kind: MigrationKind::AuthProfiles,
                path: t.path.clone(),
                agent: agent_of(&t.path),
                state_dir: other_root.map(|o| o.dir.clone()),
                state_dir_shown: other_root.map(|o| o.shown.clone()),
            }),
            Category::EnvFile if env_importable => migrations.push(MigrationItem {
                kind: MigrationKind::EnvFile,
                path: t.path.clone(),
                agent: None,
                state_dir: None,
                state_dir_shown: None,
            }),
            _ => {}
        }
    }
}

/// A `.env` file's assignments: byte span, name, and whether `import-env` moves
/// the name (judged on its effective value). `Err` when it does not parse.
pub(super) type EnvAssignments = Result<Vec<(std::ops::Range<usize>, String, bool)>, String>;

pub(super) fn env_assignments(path: &Path, size: u64) -> EnvAssignments {
    if size > STRUCT_MAX {
        return Err("too large to parse".into());
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let file = crate::envfile::EnvFile::parse(path, bytes).map_err(|e| e.to_string())?;
    let (effective, _) = file.effective();
    let moves: HashMap<&str, bool> = effective
        .iter()
        .map(|e| {
            (
                e.name.as_str(),
                crate::importenv::would_import(&e.name, &e.value),
            )
        })
        .collect();
    Ok(file
        .entries
        .iter()
        .map(|e| {
            let m = moves.get(e.name.as_str()).copied().unwrap_or(false);
            (e.span.clone(), e.name.clone(), m)
        })
        .collect())
}

/// The fix for a hit at byte `at` of a `.env` file, and whether `import-env`
/// would move it.
pub(super) fn env_fix(env: &EnvAssignments, at: usize, path: &Path) -> (String, bool) {
    let q = checks::shell_quote(path);
    let entries = match env {
        Ok(e) => e,
        Err(why) => {
            return (
                format!("`clawvault import-env` cannot read this file ({why}): rotate this credential and remove it from the file, or fix the file and run `clawvault import-env {q}`"),
                false,
            )
        }
    };
    match entries.iter().find(|(span, _, _)| span.contains(&at)) {
        Some((_, _, true)) => (
            format!("run `clawvault import-env {q}`, then delete the line"),
            true,
        ),
        Some((_, name, false)) => (
            format!("`clawvault import-env` moves only provider variables and names ending in _API_KEY, _TOKEN, _SECRET or _PASSWORD, so it leaves {name} alone: move it into the vault by hand (rename it, e.g. to {name}_SECRET, here and where it is read, so that `clawvault import-env {q}` moves it), or rotate it and delete the line"),
            false,
        ),
        None => (
            "not in a NAME=value assignment `clawvault import-env` can move: rotate this credential and delete it from the file".into(),
            false,
        ),
    }
}

pub(super) fn kind_label(kind: Kind, hit: Option<&detect::Hit>) -> String {
    match (kind, hit.and_then(|h| h.name.as_deref())) {
        (Kind::VaultSecret, Some(n)) => format!("copy of a vault secret ({n})"),
        _ => {
            let l = kind.label();
            if l.starts_with("xAI") {
                return l.to_string();
            }
            let mut c = l.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        }
    }
}
