//! `oathbulk login` / `oathbulk logout`: a sign-in that lasts across runs. `login` signs in
//! once (device code, or an app's client credentials: a secret or a certificate) and keeps
//! what renews it in the OS credential store (`auth::store`: a refresh token, the secret, or
//! the certificate's path and thumbprint); later commands sign in silently. `logout` forgets it.

use super::connect::{self, AuthArgs, BackendKind};
use crate::auth::{self, store};
use crate::diag::{Diag, ProgressMode};
use crate::http::build_http;
use anyhow::{bail, Result};
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
    fn auth_args(&self, device_code: bool) -> AuthArgs {
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

    fn named(&self) -> bool {
        self.tenant.is_some() || self.client_id.is_some()
    }
}

pub fn run_login(args: LoginArgs) -> Result<i32> {
    let diag = Diag::new(args.progress);
    let app_only = !args.device_code
        && (args.client_secret_file.is_some()
            || args.certificate.is_some()
            || args.client_assertion_stdin
            || std::env::var_os(auth::CLIENT_SECRET_ENV).is_some())
        && args.sign_in.client_id.is_some();
    if app_only && args.sign_in.tenant.is_none() {
        bail!("app-only sign-in (--client-id with a client secret) needs --tenant");
    }
    let auth = AuthArgs {
        client_secret_file: args.client_secret_file.clone(),
        certificate: args.certificate.clone(),
        client_assertion_stdin: args.client_assertion_stdin,
        ..args.sign_in.auth_args(!app_only)
    };
    let key = connect::store_key(&auth)?;
    let rt = connect::runtime()?;
    rt.block_on(async {
        let http = build_http(std::time::Duration::from_secs(crate::http::DEFAULT_TIMEOUT_SECS))?;
        // A fresh sign-in, never the kept one: login is how a refused or stale one is replaced.
        let provider = if app_only {
            connect::credentials(&auth, args.backend, &http, &diag).await?
        } else {
            connect::device_code_sign_in(&key, args.backend, &http, &diag).await?
        };
        if args.client_assertion_stdin {
            diag.info(&format!(
                "signed in to tenant {} as app {} with the client assertion from standard input; nothing is \
                 kept: the caller signs a new assertion for every command",
                key.tenant, key.client_id
            ));
            return Ok(super::exit::OK);
        }
        let store = store::Store::open(&diag);
        let kept = store::require_kept(store::keep(&store, &key, &provider, &diag).await, &store)?;
        let what = match kept {
            store::Kind::RefreshToken => format!(
                "a refresh token (valid until {} days pass without use, or until revoked)",
                store::REFRESH_TOKEN_DAYS
            ),
            store::Kind::ClientSecret => "the client secret (valid until it expires in the app registration)".into(),
            store::Kind::Certificate => format!(
                "where the certificate is ({}: the path and thumbprint, never the key; valid until the \
                 certificate expires in the app registration or the file changes)",
                provider.source()
            ),
        };
        diag.info(&format!(
            "signed in to tenant {} as app {}; {} keeps {what}: later commands sign in without a prompt. \
             `oathbulk logout` forgets it.",
            key.tenant,
            key.client_id,
            store.describe()
        ));
        Ok(super::exit::OK)
    })
}

pub fn run_logout(args: LogoutArgs) -> Result<i32> {
    let diag = Diag::new(args.progress);
    let store = store::Store::open(&diag);
    let key = if args.sign_in.named() {
        Some(connect::store_key(&args.sign_in.auth_args(false))?)
    } else {
        store.last_login()?
    };
    // Local only: Entra has no per-token revocation for public clients; an admin revokes
    // every session with Graph's revokeSignInSessions.
    match key {
        Some(key) if store.delete(&key)? => {
            diag.info(&format!("forgot the sign-in for tenant {} and app {}", key.tenant, key.client_id))
        }
        _ => diag.info("no kept sign-in to forget"),
    }
    Ok(super::exit::OK)
}
