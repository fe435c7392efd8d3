//! clap arguments for `clawvault init --backend openbao`.

use std::path::PathBuf;

use super::*;

/// The `init` options for the OpenBao backend; `#[command(flatten)]` them.
#[derive(Debug, Clone, clap::Args)]
pub struct OpenbaoArgs {
    /// OpenBao / Vault address, e.g. https://bao.example:8200 [env: BAO_ADDR, VAULT_ADDR]
    #[arg(long, value_name = "URL")]
    pub addr: Option<String>,
    /// KV v2 mount path
    #[arg(long, value_name = "PATH", default_value = DEFAULT_MOUNT)]
    pub mount: String,
    /// Folder under the mount for this vault's secrets [default: clawvault/<vault-id>]
    #[arg(long, value_name = "PATH")]
    pub prefix: Option<String>,
    /// PEM file of CA certificates to trust for the server (instead of the web roots)
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// File holding the token (mode 600); BAO_TOKEN / VAULT_TOKEN take precedence
    #[arg(long, value_name = "FILE", conflicts_with_all = ["approle_role_id_file", "approle_secret_id_file"])]
    pub token_file: Option<PathBuf>,
    /// Keep the token in the OS keychain (Secret Service / Keychain / Credential
    /// Manager); `init` reads it from a hidden prompt or stdin
    #[arg(long, conflicts_with_all = ["token_file", "approle_role_id_file", "approle_secret_id_file"])]
    pub token_keychain: bool,
    /// AppRole role_id file, or credential:NAME for $CREDENTIALS_DIRECTORY/NAME
    #[arg(long, value_name = "FILE", requires = "approle_secret_id_file")]
    pub approle_role_id_file: Option<String>,
    /// AppRole secret_id file (mode 600), or credential:NAME for $CREDENTIALS_DIRECTORY/NAME
    #[arg(long, value_name = "FILE", requires = "approle_role_id_file")]
    pub approle_secret_id_file: Option<String>,
    /// AppRole auth mount path
    #[arg(long, value_name = "PATH", default_value = DEFAULT_APPROLE_MOUNT)]
    pub approle_mount: String,
    /// Allow plain http:// to a non-loopback address (sends the token unencrypted)
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// JWT auth: the role to log in as (with --jwt-file)
    #[arg(long, value_name = "ROLE", requires = "jwt_file", conflicts_with_all = ["token_file", "token_keychain", "approle_role_id_file", "kubernetes_role"])]
    pub jwt_role: Option<String>,
    /// Kubernetes auth: the role to log in as (the JWT is the pod's service-account
    /// token unless --jwt-file says otherwise)
    #[arg(long, value_name = "ROLE", conflicts_with_all = ["token_file", "token_keychain", "approle_role_id_file"])]
    pub kubernetes_role: Option<String>,
    /// The JWT file for --jwt-role / --kubernetes-role, re-read when it changes
    /// (or credential:NAME for $CREDENTIALS_DIRECTORY/NAME)
    #[arg(long, value_name = "FILE")]
    pub jwt_file: Option<String>,
    /// The JWT or Kubernetes auth mount [default: jwt / kubernetes]
    #[arg(long, value_name = "PATH")]
    pub login_mount: Option<String>,
    /// Vault Enterprise / OpenBao namespace sent as X-Vault-Namespace
    /// [default at run time: BAO_NAMESPACE, VAULT_NAMESPACE]
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
}

/// The same defaults as the command line's.
impl Default for OpenbaoArgs {
    fn default() -> Self {
        OpenbaoArgs {
            addr: None,
            mount: DEFAULT_MOUNT.into(),
            prefix: None,
            ca_file: None,
            token_file: None,
            token_keychain: false,
            approle_role_id_file: None,
            approle_secret_id_file: None,
            approle_mount: DEFAULT_APPROLE_MOUNT.into(),
            allow_insecure_http: false,
            jwt_role: None,
            kubernetes_role: None,
            jwt_file: None,
            login_mount: None,
            namespace: None,
        }
    }
}

impl OpenbaoArgs {
    /// The configuration for a new vault with this id. The address falls back to
    /// `BAO_ADDR`, then `VAULT_ADDR`.
    pub fn to_config(&self, vault_id: &str) -> std::result::Result<OpenBaoConfig, String> {
        let addr = self
            .addr
            .clone()
            .or_else(|| std::env::var("BAO_ADDR").ok())
            .or_else(|| std::env::var("VAULT_ADDR").ok())
            .filter(|a| !a.trim().is_empty())
            .ok_or("the openbao backend needs the server address: pass --addr https://HOST:8200 or set BAO_ADDR")?;
        let jwt_file = match &self.jwt_file {
            Some(f) => Some(CredentialSource::parse(f, "clawvault-bao-jwt")?),
            None => None,
        };
        let auth = match (&self.jwt_role, &self.kubernetes_role) {
            (Some(role), None) => Some(OpenBaoAuth::Jwt {
                mount: self
                    .login_mount
                    .clone()
                    .unwrap_or_else(|| DEFAULT_JWT_MOUNT.into()),
                role: role.clone(),
                jwt_file: jwt_file.ok_or("--jwt-role needs --jwt-file")?,
            }),
            (None, Some(role)) => Some(OpenBaoAuth::Kubernetes {
                mount: self
                    .login_mount
                    .clone()
                    .unwrap_or_else(|| DEFAULT_KUBERNETES_MOUNT.into()),
                role: role.clone(),
                jwt_file: jwt_file.unwrap_or_else(default_kubernetes_jwt),
            }),
            (Some(_), Some(_)) => {
                return Err("pass either --jwt-role or --kubernetes-role, not both".into())
            }
            (None, None) if self.jwt_file.is_some() || self.login_mount.is_some() => {
                return Err(
                    "--jwt-file and --login-mount need --jwt-role or --kubernetes-role".into(),
                )
            }
            (None, None) => None,
        };
        let auth = match auth {
            Some(a) => a,
            None => match (&self.approle_role_id_file, &self.approle_secret_id_file) {
                (Some(r), Some(s)) => OpenBaoAuth::Approle {
                    mount: self.approle_mount.clone(),
                    role_id: CredentialSource::parse(r, ROLE_ID_CREDENTIAL)?,
                    secret_id: CredentialSource::parse(s, SECRET_ID_CREDENTIAL)?,
                },
                (None, None) => OpenBaoAuth::Token {
                    token_file: match &self.token_file {
                        Some(p) => Some(
                            std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))?,
                        ),
                        None => None,
                    },
                    token_keychain: self
                        .token_keychain
                        .then(|| token_keychain_service(vault_id)),
                },
                _ => {
                    return Err(
                        "AppRole needs both --approle-role-id-file and --approle-secret-id-file"
                            .into(),
                    )
                }
            },
        };
        let ca_file = match &self.ca_file {
            Some(p) => Some(std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))?),
            None => None,
        };
        OpenBaoConfig {
            addr,
            mount: self.mount.clone(),
            prefix: self
                .prefix
                .clone()
                .unwrap_or_else(|| default_prefix(vault_id)),
            auth,
            ca_file,
            allow_insecure_http: self.allow_insecure_http,
            namespace: self.namespace.clone(),
            links: Default::default(),
        }
        .validated()
    }
}
