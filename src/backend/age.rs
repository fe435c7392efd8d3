//! The `age` backend: one standard age file per secret under `<vault>/blobs/`,
//! encrypted to the vault's X25519 recipient.
//!
//! Writing needs only the recipient (no passphrase); reading needs the identity.
//! Each blob is a plain age file: `age -d -i identity.txt blobs/<name>.age` reads it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Backend, BackendError, EntryName, Result};
use crate::fsutil;
use crate::secret::{secret_bytes, SecretBytes};

/// The stanza tag that binds a blob to its entry name. It carries no key material:
/// stock age skips stanza types it does not know, and age's header MAC covers every
/// stanza, so the name cannot be changed without breaking decryption. A blob copied
/// or swapped onto another entry's file name is then caught and named.
pub const NAME_STANZA: &str = "clawvault-name";

/// An X25519 recipient that also writes the entry name into the header.
struct NamedRecipient<'a> {
    inner: &'a age::x25519::Recipient,
    name: &'a str,
}

impl age::Recipient for NamedRecipient<'_> {
    fn wrap_file_key(
        &self,
        file_key: &age_core::format::FileKey,
    ) -> std::result::Result<
        (
            Vec<age_core::format::Stanza>,
            std::collections::HashSet<String>,
        ),
        age::EncryptError,
    > {
        let (mut stanzas, labels) = self.inner.wrap_file_key(file_key)?;
        stanzas.push(age_core::format::Stanza {
            tag: NAME_STANZA.into(),
            args: vec![self.name.to_string()],
            body: vec![],
        });
        Ok((stanzas, labels))
    }
}

/// The entry name recorded in a blob's header, if any (read before decrypting;
/// trusted only after decryption has verified the header MAC).
fn header_name(blob: &[u8]) -> Option<String> {
    let prefix = format!("-> {NAME_STANZA} ");
    for line in blob.split(|&b| b == b'\n').skip(1) {
        if line.starts_with(b"---") {
            break;
        }
        if let Some(rest) = line.strip_prefix(prefix.as_bytes()) {
            return std::str::from_utf8(rest).ok().map(str::to_string);
        }
    }
    None
}

pub struct AgeBackend {
    dir: PathBuf,
    recipient: age::x25519::Recipient,
    identity: Option<Arc<age::x25519::Identity>>,
}

/// Whether blob file names escape upper case: where file names compare without
/// regard to case (Windows; macOS, whose default APFS volumes are case-insensitive),
/// `case:A` and `case:a` would otherwise be one file and one would overwrite the
/// other. Linux file names are case-sensitive and keep the names they always had.
const ESCAPE_UPPER: bool = cfg!(any(windows, target_os = "macos"));

/// Whether blob file names avoid Windows device names (`con.age`).
const AVOID_DEVICE_NAMES: bool = cfg!(windows);

/// `main/openai:default` -> `main%2Fopenai%3Adefault.age`. Reversible, portable to
/// Windows (no `:`), and readable enough to tell which profile a blob holds. Where
/// file names are case-insensitive upper case is escaped too (`env/X` ->
/// `env%2F%58.age`), and on Windows a device-name stem (`con`) is escaped.
pub fn blob_file_name(name: &EntryName) -> String {
    encode_file_name(name.as_str(), ESCAPE_UPPER, AVOID_DEVICE_NAMES)
}

/// The name a blob had before upper case was escaped ([`ESCAPE_UPPER`]), where that
/// differs from [`blob_file_name`]: what an earlier clawvault on macOS, or a vault
/// copied from Linux, left on disk. `None` on Linux and for names without upper case.
pub fn legacy_blob_file_name(name: &EntryName) -> Option<String> {
    let old = encode_file_name(name.as_str(), false, false);
    (ESCAPE_UPPER && old != blob_file_name(name)).then_some(old)
}

/// The encoding itself: letters, digits, `.`, `_` and `-` are kept (upper-case
/// letters only unless `escape_upper`), everything else is `%XX`; with
/// `avoid_devices` the first byte of a device-name stem is escaped as well. Every
/// form decodes with [`entry_from_file_name`].
fn encode_file_name(name: &str, escape_upper: bool, avoid_devices: bool) -> String {
    let keep = |b: u8| {
        b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || (b.is_ascii_uppercase() && !escape_upper)
            || b == b'.'
            || b == b'_'
            || b == b'-'
    };
    let device = avoid_devices && reserved_stem(name);
    let mut out = String::with_capacity(name.len() + 8);
    for (i, &b) in name.as_bytes().iter().enumerate() {
        if keep(b) && !(i == 0 && device) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str(".age");
    out
}

/// Whether the part before the first dot is a Windows device name (`con`, `nul`,
/// `com1`...), which no file may be called whatever its extension.
fn reserved_stem(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").to_ascii_lowercase();
    matches!(stem.as_str(), "con" | "prn" | "aux" | "nul")
        || (stem.len() == 4
            && (stem.starts_with("com") || stem.starts_with("lpt"))
            && stem.as_bytes()[3].is_ascii_digit())
}

/// The inverse of [`blob_file_name`]; `None` for files that are not blobs.
pub fn entry_from_file_name(file: &str) -> Option<EntryName> {
    let stem = file.strip_suffix(".age")?;
    let bytes = stem.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    EntryName::new(&String::from_utf8(out).ok()?).ok()
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> BackendError {
    BackendError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

impl AgeBackend {
    /// A backend writing to `dir` (created 0700 on first write).
    pub fn new(dir: PathBuf, recipient: age::x25519::Recipient) -> AgeBackend {
        AgeBackend {
            dir,
            recipient,
            identity: None,
        }
    }

    /// The same backend, able to read.
    pub fn with_identity(mut self, identity: Arc<age::x25519::Identity>) -> AgeBackend {
        self.identity = Some(identity);
        self
    }

    pub fn blob_path(&self, name: &EntryName) -> PathBuf {
        self.dir.join(blob_file_name(name))
    }

    /// Move the blob of `name` from its [`legacy_blob_file_name`] to its current name,
    /// when only the legacy file exists and its header names `name`. The header
    /// decides because on a case-insensitive file system the legacy name of `Case`
    /// (`Case.age`) also reaches the blob of `case`; a file naming another entry is
    /// left where it is. (The name is read before decryption, as in [`Backend::get`],
    /// which checks it again once age has verified the header MAC.)
    fn adopt_legacy_blob(&self, name: &EntryName) -> Result<()> {
        let Some(old) = legacy_blob_file_name(name) else {
            return Ok(());
        };
        let path = self.blob_path(name);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path, e)),
            Ok(_) => return Ok(()),
        }
        let old = self.dir.join(old);
        let blob = match fsutil::read_private(&old) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(()),
            Err(e) => return Err(io_err(&old, e)),
        };
        if header_name(&blob).as_deref() != Some(name.as_str()) {
            return Ok(());
        }
        fsutil::replace(&old, &path).map_err(|e| io_err(&path, e))?;
        fsutil::sync_dir(&self.dir).map_err(|e| io_err(&self.dir, e))
    }

    /// Encrypt `value` to `recipient` as a binary age file whose header names `name`.
    pub fn encrypt_named(
        recipient: &age::x25519::Recipient,
        name: &EntryName,
        value: &[u8],
    ) -> Result<Vec<u8>> {
        use std::io::Write;
        let r = NamedRecipient {
            inner: recipient,
            name: name.as_str(),
        };
        let fail =
            |e: &dyn std::fmt::Display| BackendError::Other(format!("age encryption failed: {e}"));
        let enc = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
            .map_err(|e| fail(&e))?;
        let mut out = Vec::with_capacity(value.len() + 256);
        let mut w = enc.wrap_output(&mut out).map_err(|e| fail(&e))?;
        w.write_all(value).map_err(|e| fail(&e))?;
        w.finish().map_err(|e| fail(&e))?;
        Ok(out)
    }

    /// Encrypt `value` to `recipient` as a binary age file.
    pub fn encrypt(recipient: &age::x25519::Recipient, value: &[u8]) -> Result<Vec<u8>> {
        age::encrypt(recipient, value)
            .map_err(|e| BackendError::Other(format!("age encryption failed: {e}")))
    }
}

/// Batches at least this large are decrypted in parallel.
const PARALLEL_BATCH: usize = 32;

impl Backend for AgeBackend {
    fn kind(&self) -> &'static str {
        "age"
    }

    fn describe(&self) -> String {
        format!("age files in {}", self.dir.display())
    }

    fn set(&self, name: &EntryName, value: &[u8]) -> Result<()> {
        fsutil::ensure_private_dir(&self.dir).map_err(|e| BackendError::Io {
            path: self.dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let blob = Self::encrypt_named(&self.recipient, name, value)?;
        // A legacy blob of this entry is moved first and then replaced, not left
        // behind as a second, stale copy.
        self.adopt_legacy_blob(name)?;
        let path = self.blob_path(name);
        fsutil::write_atomic(&path, &blob).map_err(|e| BackendError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Large batches are decrypted on every core (X25519 + ChaCha20 per blob is the
    /// cost). Each worker scrubs its stack before it exits, as the agent does: the
    /// key passes through it by value, and exited threads' stacks are cached for
    /// reuse, not unmapped.
    fn get_many(&self, names: &[EntryName]) -> Vec<Result<Option<SecretBytes>>> {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8);
        if names.len() < PARALLEL_BATCH || workers < 2 {
            return names.iter().map(|n| self.get(n)).collect();
        }
        let chunk = names.len().div_ceil(workers);
        std::thread::scope(|s| {
            let handles: Vec<_> = names
                .chunks(chunk)
                .map(|c| {
                    s.spawn(move || {
                        crate::secret::with_scrubbed_stack(|| {
                            c.iter().map(|n| self.get(n)).collect::<Vec<_>>()
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    }

    fn get(&self, name: &EntryName) -> Result<Option<SecretBytes>> {
        let identity = self.identity.as_ref().ok_or(BackendError::Locked)?;
        self.adopt_legacy_blob(name)?;
        let path = self.blob_path(name);
        let blob = match fsutil::read_private(&path) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(None),
            Err(e) => return Err(io_err(&path, e)),
        };
        match age::decrypt(identity.as_ref(), &blob) {
            Ok(plain) => match header_name(&blob) {
                Some(n) if n != name.as_str() => Err(BackendError::Corrupt {
                    name: name.to_string(),
                    reason: format!(
                        "{} holds the secret of {n}, not of {name}: blobs were swapped or copied; restore it from a backup or paste the credential again",
                        path.display()
                    ),
                }),
                Some(_) => Ok(Some(secret_bytes(plain))),
                // Every blob clawvault writes names its entry. A file without the
                // name (a backup, another tool's age file) copied in here must not
                // be served under whatever name it was given.
                None => Err(BackendError::Corrupt {
                    name: name.to_string(),
                    reason: format!(
                        "{} does not name the entry it belongs to (it was not written by clawvault for {name}: a copied backup or another age file?); remove it and paste the credential again",
                        path.display()
                    ),
                }),
            },
            Err(e) => Err(BackendError::Corrupt {
                name: name.to_string(),
                reason: format!(
                    "{} could not be decrypted with this vault's identity ({e}); restore it from a backup or paste the credential again",
                    path.display()
                ),
            }),
        }
    }

    fn contains(&self, name: &EntryName) -> Result<bool> {
        self.adopt_legacy_blob(name)?;
        let path = self.blob_path(name);
        match fs::symlink_metadata(&path) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn delete(&self, name: &EntryName) -> Result<bool> {
        self.adopt_legacy_blob(name)?;
        let path = self.blob_path(name);
        match fs::remove_file(&path) {
            Ok(()) => {
                if let Ok(d) = fs::File::open(&self.dir) {
                    let _ = d.sync_all();
                }
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn list(&self) -> Result<Vec<EntryName>> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(io_err(&self.dir, e)),
        };
        let mut names: Vec<EntryName> = rd
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(entry_from_file_name))
            .collect();
        names.sort();
        // A legacy blob next to its current one (written by hand) is one entry.
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(any(windows, target_os = "macos"))]
    use crate::secret::ExposeSecret;

    #[test]
    fn file_names_round_trip() {
        for s in ["main/openai:default", "env/X", "a#b", "x.y_z-w", "A/B:C"] {
            let n = EntryName::new(s).unwrap();
            let f = blob_file_name(&n);
            assert!(!f.contains('/') && !f.contains(':'), "{f}");
            assert_eq!(entry_from_file_name(&f), Some(n));
        }
        assert_eq!(entry_from_file_name("notes.txt"), None);
        assert_eq!(entry_from_file_name("bad%zz.age"), None);
    }

    #[test]
    fn file_name_escaping_keeps_case_only_where_names_are_case_sensitive() {
        let n = |s: &str| EntryName::new(s).unwrap();
        // Escaped: names that differ only by case get file names that differ by more.
        let up = encode_file_name("case:A", true, false);
        let low = encode_file_name("case:a", true, false);
        assert_eq!(
            (up.as_str(), low.as_str()),
            ("case%3A%41.age", "case%3Aa.age")
        );
        // Not escaped (Linux): the names existing vaults have on disk.
        assert_eq!(encode_file_name("env/X", false, false), "env%2FX.age");
        for s in ["con", "NUL.x", "com1", "lpt9", "aux.b"] {
            let f = encode_file_name(s, true, true);
            assert!(f.starts_with('%'), "{f}");
            assert_eq!(entry_from_file_name(&f), Some(n(s)));
        }
        assert_eq!(encode_file_name("lpt9x", true, true), "lpt9x.age");
        assert_eq!(encode_file_name("con", true, false), "con.age");
        for s in [
            "main/openai:default",
            "env/OPENAI_API_KEY",
            "A/B:C",
            "x.y_z-w",
            "Z9#z",
        ] {
            for (upper, devices) in [(false, false), (true, false), (true, true)] {
                let f = encode_file_name(s, upper, devices);
                assert_eq!(entry_from_file_name(&f), Some(n(s)), "{f}");
                if upper {
                    assert!(
                        !f.bytes().any(|b| b.is_ascii_uppercase() && b > b'F'),
                        "{f}"
                    );
                }
            }
        }
        // What this platform does: Windows and macOS escape, Linux keeps its names.
        let x = n("env/X");
        if cfg!(any(windows, target_os = "macos")) {
            assert_eq!(blob_file_name(&x), "env%2F%58.age");
            assert_eq!(legacy_blob_file_name(&x).as_deref(), Some("env%2FX.age"));
        } else {
            assert_eq!(blob_file_name(&x), "env%2FX.age");
            assert_eq!(legacy_blob_file_name(&x), None);
        }
        assert_eq!(legacy_blob_file_name(&n("main/openai:default")), None);
        assert_eq!(
            blob_file_name(&n("con")).starts_with('%'),
            cfg!(windows),
            "device names are escaped on Windows only"
        );
    }

    /// A blob an earlier clawvault wrote under the unescaped name (or a vault copied
    /// from Linux) is found and moved to the escaped name; a legacy name that reaches
    /// another entry's blob (case-insensitively) is left alone.
    #[test]
    #[cfg(any(windows, target_os = "macos"))]
    fn a_blob_under_its_legacy_name_is_adopted() {
        let d = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let b = AgeBackend::new(d.path().join("blobs"), id.to_public()).with_identity(Arc::new(id));
        let up = EntryName::new("env/OPENAI_API_KEY").unwrap();
        b.set(&up, b"value-up").unwrap();
        let legacy = d
            .path()
            .join("blobs")
            .join(legacy_blob_file_name(&up).unwrap());
        fs::rename(b.blob_path(&up), &legacy).unwrap();
        assert_eq!(b.list().unwrap(), std::slice::from_ref(&up));
        assert!(b.contains(&up).unwrap());
        assert!(b.blob_path(&up).exists() && !legacy.exists());
        fs::rename(b.blob_path(&up), &legacy).unwrap();
        assert_eq!(b.get(&up).unwrap().unwrap().expose_secret(), b"value-up");
        assert!(b.blob_path(&up).exists() && !legacy.exists());
        // `env/X`'s legacy name `env%2FX.age` is `env%2Fx.age` on a case-insensitive
        // file system: the blob of `env/x`, which `env/X` must not take.
        let low = EntryName::new("env/x").unwrap();
        let big = EntryName::new("env/X").unwrap();
        b.set(&low, b"value-low").unwrap();
        assert!(b.get(&big).unwrap().is_none());
        assert!(!b.contains(&big).unwrap());
        b.set(&big, b"value-big").unwrap();
        assert_eq!(b.get(&low).unwrap().unwrap().expose_secret(), b"value-low");
        assert_eq!(b.get(&big).unwrap().unwrap().expose_secret(), b"value-big");
        assert_eq!(b.list().unwrap(), [up, big, low]);
    }

    #[test]
    fn locked_backend_refuses_reads_but_writes() {
        let d = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let b = AgeBackend::new(d.path().join("blobs"), id.to_public());
        let n = EntryName::new("main/a:b").unwrap();
        b.set(&n, b"v").unwrap();
        assert!(b.contains(&n).unwrap());
        assert!(matches!(b.get(&n), Err(BackendError::Locked)));
    }

    #[test]
    fn swapped_blob_is_caught_and_named() {
        let d = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let b = AgeBackend::new(d.path().join("blobs"), id.to_public()).with_identity(Arc::new(id));
        let a = EntryName::new("main/anthropic:default").unwrap();
        let o = EntryName::new("main/openai:default").unwrap();
        b.set(&a, b"value-a").unwrap();
        b.set(&o, b"value-o").unwrap();
        fs::copy(b.blob_path(&o), b.blob_path(&a)).unwrap();
        let err = match b.get(&a) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a swapped blob must not be served"),
        };
        assert!(
            err.contains("main/anthropic:default") && err.contains("main/openai:default"),
            "{err}"
        );
        // Editing the name in the header breaks age's header MAC.
        let mut blob = fs::read(b.blob_path(&o)).unwrap();
        let pos = blob.windows(7).position(|w| w == b"openai:").unwrap();
        blob[pos] = b'x';
        fs::write(b.blob_path(&o), &blob).unwrap();
        assert!(matches!(b.get(&o), Err(BackendError::Corrupt { .. })));
    }

    #[test]
    fn blob_from_another_vault_is_reported_with_its_name() {
        let d = tempfile::tempdir().unwrap();
        let ours = age::x25519::Identity::generate();
        let theirs = age::x25519::Identity::generate();
        let n = EntryName::new("main/anthropic:default").unwrap();
        let other = AgeBackend::new(d.path().join("blobs"), theirs.to_public());
        other.set(&n, b"sk-test-value-123").unwrap();
        let b =
            AgeBackend::new(d.path().join("blobs"), ours.to_public()).with_identity(Arc::new(ours));
        let err = match b.get(&n) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a foreign blob must not decrypt"),
        };
        assert!(err.contains("main/anthropic:default"), "{err}");
        assert!(!err.contains("sk-test-value-123"), "{err}");
    }
}
