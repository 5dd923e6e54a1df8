//! The arguments of `oathbulk login` / `oathbulk logout` (clap); what it does is `crate::commands::login`.

use super::connect::AuthArgs;
use crate::backend::BackendKind;
use crate::diag::ProgressMode;
use clap::Args;
use std::path::PathBuf;

/// Which sign-in: the options `Connect-MgGraph` users know, named as the other commands name them.
#[derive(Debug, Clone, Args)]
pub struct SignInArgs {
    /// Tenant id or domain [default: organizations].
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// App registration id [default: Microsoft Graph Command Line Tools, for device code].
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Identity platform authority.
    #[arg(long, value_name = "URL", default_value = "https://login.microsoftonline.com")]
    pub authority_url: String,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub sign_in: SignInArgs,
    /// Sign in with a device code (the default unless a client secret is given).
    #[arg(long)]
    pub device_code: bool,
    /// App-only sign-in: file holding the client secret (or set $OATHBULK_CLIENT_SECRET); needs
    /// --tenant and --client-id. The secret is kept in the credential store.
    #[arg(long, value_name = "FILE", requires = "client_id", conflicts_with = "device_code")]
    pub client_secret_file: Option<PathBuf>,
    /// App-only sign-in with a certificate: a PEM file holding the certificate and its RSA
    /// private key, readable by you alone; needs --tenant and --client-id. Only the file's path
    /// and the certificate's thumbprint are kept (the key stays in its file).
    #[arg(
        long,
        value_name = "PEM",
        requires_all = ["client_id", "tenant"],
        conflicts_with_all = ["device_code", "client_secret_file"]
    )]
    pub certificate: Option<PathBuf>,
    /// Check an app-only sign-in with a client assertion read from standard input (the
    /// PowerShell module's certificate sign-in); nothing is kept: the caller signs a new
    /// assertion for every command.
    #[arg(
        long,
        requires_all = ["client_id", "tenant"],
        conflicts_with_all = ["device_code", "client_secret_file", "certificate"]
    )]
    pub client_assertion_stdin: bool,
    /// The API the delegated sign-in asks consent for.
    #[arg(long, value_enum, default_value_t = BackendKind::Graph)]
    pub backend: BackendKind,
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Forget this sign-in [default: the last `oathbulk login`].
    #[command(flatten)]
    pub sign_in: SignInArgs,
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

impl SignInArgs {
    /// The sign-in options of the other commands, without the app's credential.
    pub fn auth_args(&self, device_code: bool) -> AuthArgs {
        AuthArgs {
            token_file: None,
            token_stdin: false,
            device_code,
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            client_secret_file: None,
            certificate: None,
            client_assertion_stdin: false,
            authority_url: self.authority_url.clone(),
        }
    }

    pub fn named(&self) -> bool {
        self.tenant.is_some() || self.client_id.is_some()
    }
}
