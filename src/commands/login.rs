//! `oathbulk login` / `oathbulk logout`: a sign-in that lasts across runs. `login` signs in
//! once (device code, or an app's client credentials: a secret or a certificate) and keeps
//! what renews it in the OS credential store (`auth::store`: a refresh token, the secret, or
//! the certificate's path and thumbprint); later commands sign in silently. `logout` forgets it.

use super::connect::{self};
use crate::auth::{self, store};
use crate::cli::connect::AuthArgs;
use crate::cli::login::{LoginArgs, LogoutArgs};
use crate::diag::Diag;
use crate::http::build_http;
use crate::stop::ExitCode;
use anyhow::{bail, Result};

pub fn run_login(args: LoginArgs) -> Result<ExitCode> {
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
    // Where the sign-in will be kept is known before anyone completes a device code for it
    // (a client assertion is checked, never kept).
    let store = store::Store::open(&diag);
    if !args.client_assertion_stdin {
        store.check_usable()?;
    }
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
            return Ok(ExitCode::Ok);
        }
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
        Ok(ExitCode::Ok)
    })
}

pub fn run_logout(args: LogoutArgs) -> Result<ExitCode> {
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
    Ok(ExitCode::Ok)
}
