//! `init`, `passwd`, `identity`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use clawvault::secret::{ExposeSecret, SecretString};
use clawvault::unlock::{self, read_passphrase_fd, read_passphrase_file};
use clawvault::vault::keywrap::KdfParams;
use clawvault::vault::{BackendChoice, Vault};
use clawvault::{Error, Result};

use super::{prompt, Ctx};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BackendArg {
    /// The OS keychain when a real one answers a probe, else age
    Auto,
    /// age-encrypted files in the vault directory
    Age,
    /// The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager)
    Keychain,
    /// A KV v2 engine on an OpenBao or HashiCorp Vault server (see docs/openbao.md)
    Openbao,
}

#[derive(Debug, Clone, Args)]
pub struct KdfArgs {
    /// Argon2id memory in MiB
    #[arg(long, value_name = "MIB", default_value_t = KdfParams::DEFAULT_MEMORY_KIB / 1024)]
    pub kdf_memory_mib: u32,
    /// Argon2id passes
    #[arg(long, value_name = "N", default_value_t = KdfParams::DEFAULT_ITERATIONS)]
    pub kdf_iterations: u32,
    /// Argon2id lanes
    #[arg(long, value_name = "N", default_value_t = KdfParams::DEFAULT_PARALLELISM)]
    pub kdf_parallelism: u32,
    /// Accept Argon2id parameters below OWASP's minimum (19 MiB, 2 passes) and a
    /// passphrase shorter than 12 characters (tests, throwaway vaults)
    #[arg(long)]
    pub force_weak: bool,
}

/// OWASP's minimum for Argon2id: m = 19 MiB, t = 2, p = 1.
pub const MIN_KDF_MEMORY_MIB: u32 = 19;
pub const MIN_KDF_ITERATIONS: u32 = 2;
/// Shorter passphrases are refused without `--force-weak`.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// Refuse (or, with `--force-weak`, warn about) a short new passphrase.
fn check_passphrase_strength(pass: &SecretString, force_weak: bool) -> Result<()> {
    let n = pass.expose_secret().chars().count();
    if n >= MIN_PASSPHRASE_CHARS {
        return Ok(());
    }
    if force_weak {
        eprintln!(
            "clawvault: warning: the passphrase has {n} characters (fewer than {MIN_PASSPHRASE_CHARS}): an offline guesser with a copy of vault.json will find it quickly"
        );
        return Ok(());
    }
    Err(Error::Usage(format!(
        "the passphrase has {n} characters; use at least {MIN_PASSPHRASE_CHARS} (a few random words), or add --force-weak to accept it anyway"
    )))
}

impl KdfArgs {
    fn params(&self) -> Result<KdfParams> {
        if self.kdf_memory_mib == 0 || self.kdf_memory_mib > 4096 {
            return Err(Error::Usage(
                "--kdf-memory-mib must be between 1 and 4096".into(),
            ));
        }
        if self.kdf_iterations == 0 || self.kdf_parallelism == 0 {
            return Err(Error::Usage(
                "--kdf-iterations and --kdf-parallelism must be at least 1".into(),
            ));
        }
        if !self.force_weak
            && (self.kdf_memory_mib < MIN_KDF_MEMORY_MIB
                || self.kdf_iterations < MIN_KDF_ITERATIONS)
        {
            return Err(Error::Usage(format!(
                "Argon2id with {} MiB and {} pass(es) is below the minimum of {MIN_KDF_MEMORY_MIB} MiB and {MIN_KDF_ITERATIONS} passes; raise --kdf-memory-mib/--kdf-iterations, or add --force-weak to accept it anyway",
                self.kdf_memory_mib, self.kdf_iterations
            )));
        }
        Ok(KdfParams::new_random(
            self.kdf_memory_mib * 1024,
            self.kdf_iterations,
            self.kdf_parallelism,
        ))
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where secrets are stored
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    #[command(flatten)]
    pub kdf: KdfArgs,
    #[command(flatten, next_help_heading = "OpenBao backend (--backend openbao)")]
    pub openbao: clawvault::backend::openbao::OpenbaoArgs,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the new passphrase from this file (mode 0600)
    #[arg(long, value_name = "FILE")]
    pub new_passphrase_file: Option<PathBuf>,
    /// Read the new passphrase from this inherited file descriptor
    #[arg(long, value_name = "N")]
    pub new_passphrase_fd: Option<i32>,
    #[command(flatten)]
    pub kdf: KdfArgs,
}

#[derive(Debug, Subcommand)]
pub enum IdentityCmd {
    /// Print the vault's age identity (refuses a terminal unless --yes)
    Export {
        /// Print it even though stdout is a terminal
        #[arg(long)]
        yes: bool,
    },
    /// Print the vault's public age recipient
    Recipient,
}

/// A new passphrase: explicit sources first, else a prompt asked twice.
fn new_passphrase(ctx: &Ctx) -> Result<SecretString> {
    match unlock::explicit_passphrase(&ctx.unlock_options()).map_err(Error::Usage)? {
        Some((_, p)) => Ok(p),
        None => prompt::new_passphrase_twice().unwrap_or_else(|| {
            Err(Error::Usage(
                "a passphrase is needed and no terminal is attached: give --passphrase-file F (mode 0600), CLAWVAULT_PASSPHRASE_FILE or --passphrase-fd N".into(),
            ))
        }),
    }
}

pub fn init(ctx: &Ctx, a: InitArgs) -> Result<ExitCode> {
    let dir = ctx.vault_dir();
    if Vault::exists(&dir) {
        return Err(clawvault::vault::VaultError::AlreadyInitialized { dir }.into());
    }
    let kdf = a.kdf.params()?;
    let choice = match a.backend {
        BackendArg::Auto => Some(BackendChoice::Auto),
        BackendArg::Age => Some(BackendChoice::Age),
        BackendArg::Keychain => Some(BackendChoice::Keychain),
        BackendArg::Openbao => None,
    };
    if choice.is_some() && a.openbao.addr.is_some() {
        return Err(Error::Usage(
            "--addr is for the OpenBao backend: add --backend openbao".into(),
        ));
    }
    let pass = new_passphrase(ctx)?;
    check_passphrase_strength(&pass, a.kdf.force_weak)?;
    let (vault, report) = match choice {
        Some(choice) => Vault::init(&dir, choice, &pass, kdf)?,
        None => {
            let token = if a.openbao.token_keychain {
                let t = prompt::read_secret("OpenBao token")?;
                let t = std::str::from_utf8(&t).expect("read_secret checks UTF-8");
                Some(SecretString::from(t.trim().to_string()))
            } else {
                None
            };
            Vault::init_openbao_with_token(&dir, &a.openbao, &pass, kdf, token.as_ref())?
        }
    };
    println!(
        "created vault {} at {} with the {} backend: {}",
        vault.id(),
        dir.display(),
        report.backend,
        report.reason
    );
    Ok(ExitCode::SUCCESS)
}

pub fn passwd(ctx: &Ctx, a: PasswdArgs) -> Result<ExitCode> {
    let mut vault = ctx.open_vault()?;
    let opts = ctx.unlock_options();
    let old = match unlock::explicit_passphrase(&opts).map_err(Error::Usage)? {
        Some((_, p)) => p,
        None => match prompt::TtyPromptOnce::ask("Current vault passphrase: ") {
            Some(p) => p?,
            None => {
                return Err(Error::Usage(
                    "the current passphrase is needed: give --passphrase-file F or --passphrase-fd N, or run in a terminal".into(),
                ))
            }
        },
    };
    let new = if let Some(f) = &a.new_passphrase_file {
        read_passphrase_file(f).map_err(Error::Usage)?
    } else if let Some(fd) = a.new_passphrase_fd {
        read_passphrase_fd(fd).map_err(Error::Usage)?
    } else {
        prompt::new_passphrase_twice().unwrap_or_else(|| {
            Err(Error::Usage(
                "the new passphrase is needed: give --new-passphrase-file F or --new-passphrase-fd N, or run in a terminal".into(),
            ))
        })?
    };
    let kdf = a.kdf.params()?;
    check_passphrase_strength(&new, a.kdf.force_weak)?;
    vault.change_passphrase(&old, &new, kdf)?;
    println!(
        "changed the passphrase of the vault at {}",
        vault.dir().display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn identity(ctx: &Ctx, c: IdentityCmd) -> Result<ExitCode> {
    match c {
        IdentityCmd::Recipient => {
            let v = ctx.open_vault()?;
            println!("{}", v.manifest().recipient);
        }
        IdentityCmd::Export { yes } => {
            if prompt::stdout_is_tty() && !yes {
                return Err(Error::Usage(
                    "refusing to print the vault identity to a terminal; redirect it to a file (e.g. > identity.txt) or pass --yes".into(),
                ));
            }
            let v = ctx.unlocked_vault()?;
            let id = v.identity_string()?;
            let mut out = std::io::stdout().lock();
            let text = zeroize::Zeroizing::new(format!(
                "# clawvault vault {}\n# public key: {}\n{}\n",
                v.id(),
                v.manifest().recipient,
                id.expose_secret()
            ));
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| Error::Other(format!("cannot write the identity: {e}")))?;
            clawvault::access_log::append(
                v.dir(),
                clawvault::access_log::Key::of(&v).as_ref(),
                &clawvault::access_log::Record::new(
                    "identity-export",
                    "local",
                    clawvault::access_log::Proc::me(),
                    &[],
                    "ok",
                ),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
