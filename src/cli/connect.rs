//! Tenant and credential options shared by every command that talks to a tenant (clap); the
//! code that turns them into a connected backend is `crate::commands::connect`.

use crate::backend::graph;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

use crate::backend::BackendKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PortalCloud {
    /// main.iam.ad.ext.azure.com
    Public,
    /// main.iam.ad.ext.azure.us
    Usgov,
}

/// A tenant and the credentials for it: every command that talks to a tenant flattens this,
/// and `commands::connect` turns it into a connected backend.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub tenant: TenantArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// A tenant to read, for the commands that only read it (`tenant`, `status`): a rehearsal
/// (`--simulate`) is seeded from a file of its own.
#[derive(Debug, Clone, Args)]
pub struct ReadTenantArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Seed file for --simulate: any file a command reads (a vendor CSV, a PSKC file, a
    /// password ZIP; a file without users seeds unassigned tokens).
    #[arg(long, value_name = "FILE", help_heading = "Tenant")]
    pub seed: Option<String>,
    /// How --seed is read.
    #[command(flatten)]
    pub read: super::args::ReadArgs,
}

/// Which tenant, through which API.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Tenant")]
pub struct TenantArgs {
    /// Which API to use.
    #[arg(long, value_enum, default_value_t = BackendKind::Graph)]
    pub backend: BackendKind,
    /// Graph base URL (https; plain http only for loopback).
    #[arg(long, value_name = "URL", default_value = graph::DEFAULT_URL)]
    pub graph_url: String,
    /// Portal base URL (overrides --portal-cloud).
    #[arg(long, value_name = "URL")]
    pub portal_url: Option<String>,
    /// Which cloud's portal host to use.
    #[arg(long, value_enum, default_value_t = PortalCloud::Public)]
    pub portal_cloud: PortalCloud,
    /// Dress rehearsal: run against an in-process simulated tenant seeded from the CSV.
    #[arg(long)]
    pub simulate: bool,
    /// The longest one request may take, its whole answer included. No answer in time is
    /// retried like a dropped connection; an answer that starts and does not finish in time
    /// stops the run (exit 4, resumable).
    #[arg(long, value_name = "SECONDS", default_value_t = crate::http::DEFAULT_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(crate::http::TIMEOUT_RANGE_SECS))]
    pub http_timeout: u64,
}

/// Where the bearer token comes from. Never a command-line value.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Credentials")]
pub struct AuthArgs {
    /// File holding the bearer token (default: ./AuthKey.txt when present). `Bearer ` prefix accepted.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Read the bearer token from the first line of standard input.
    #[arg(long, conflicts_with = "token_file")]
    pub token_stdin: bool,
    /// Sign in with a device code: the sign-in message goes to stderr; the token stays in memory.
    #[arg(long, conflicts_with_all = ["token_file", "token_stdin"])]
    pub device_code: bool,
    /// Tenant id or domain, for app-only sign-in (--client-id) or device-code sign-in [default: organizations].
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// App registration id: with --tenant, app-only sign-in (the secret comes from
    /// $OATHBULK_CLIENT_SECRET or --client-secret-file, or a certificate from --certificate);
    /// with --device-code, the public client to sign in with [default: Microsoft Graph Command
    /// Line Tools].
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// File holding the client secret.
    #[arg(long, value_name = "FILE", requires = "client_id")]
    pub client_secret_file: Option<PathBuf>,
    /// App-only sign-in with a certificate: a PEM file holding the certificate and its
    /// unencrypted RSA private key (PKCS#8 or PKCS#1), readable by you alone. Needs --tenant
    /// and --client-id; each token request sends a new assertion signed with the key.
    #[arg(
        long,
        value_name = "PEM",
        requires_all = ["client_id", "tenant"],
        conflicts_with_all = ["token_file", "token_stdin", "device_code", "client_secret_file"]
    )]
    pub certificate: Option<PathBuf>,
    /// App-only sign-in with a client assertion (a signed JWT) read from the first line of
    /// standard input, for callers that keep the key themselves (the PowerShell module signs
    /// with a certificate from the certificate store). Needs --tenant and --client-id; the
    /// token it gets is not renewed. Not with a CSV read from standard input (`-`).
    #[arg(
        long,
        requires_all = ["client_id", "tenant"],
        conflicts_with_all = ["token_file", "token_stdin", "device_code", "client_secret_file", "certificate"]
    )]
    pub client_assertion_stdin: bool,
    /// Identity platform authority.
    #[arg(long, value_name = "URL", default_value = "https://login.microsoftonline.com")]
    pub authority_url: String,
}
