//! The arguments of `oathbulk simulate` (clap); what it does is `crate::commands::simulate`.

use crate::simulate::{ExpandAssignTo, Readings};
use anyhow::Result;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Where to listen: loopback only (127.0.0.0/8 or ::1). Port 0 picks a free port; the
    /// ready line on stdout says which.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Write the final state (devices, users, counters) as JSON here on exit.
    #[arg(long, value_name = "FILE")]
    pub state_out: Option<PathBuf>,
    /// Keep running when stdin reaches EOF (by default EOF stops the simulator, so it dies
    /// with the process that started it).
    #[arg(long)]
    pub no_stdin_watch: bool,
    /// Say nothing on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Append one JSON line per Graph request to FILE (method, path, query, Content-Type,
    /// Accept, body; never the Authorization header; every secretKey redacted). For tests.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    #[command(flatten)]
    pub seed: SeedArgs,
    #[command(flatten)]
    pub faults: FaultArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub tenant: TenantStateArgs,
}

/// Tenant settings and lifecycle knobs.
#[derive(Debug, Args)]
#[command(next_help_heading = "Tenant")]
pub struct TenantStateArgs {
    /// The hardware OATH authentication method policy at start.
    #[arg(long, value_name = "STATE", default_value = "enabled", value_parser = ["enabled", "disabled"])]
    pub policy_state: String,
    /// The bulk-create PATCH fails as a whole (clients must fall back to one POST per device).
    #[arg(long)]
    pub bulk_create_fails: bool,
    /// Start from a named reading of the Graph docs (docs/graph-api.md): default,
    /// distinct-method-ids, some-distinct-method-ids, documented-bulk-answer, top-limit,
    /// policy-value-wrapped, expand-refused, expand-ignored, window-strict, window-past-only,
    /// list-nested, value-object, bulk-post-only, serial-case-sensitive, wrong-method-400, all.
    /// The flags below add to it.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub reading: String,
    /// Accept a POST/PATCH without Content-Length (Graph answers 411; so does the simulator by default).
    #[arg(long)]
    pub allow_no_content_length: bool,
    /// Method ids differ from device ids (the docs' create example).
    #[arg(long)]
    pub distinct_method_ids: bool,
    /// Only every other token's method id differs from its device id.
    #[arg(long)]
    pub some_distinct_method_ids: bool,
    /// Bulk create answers as the docs show: 201, methods with a nested device, no @contentId.
    #[arg(long)]
    pub documented_bulk_answer: bool,
    /// Refuse (400) a $top above this on the inventory.
    #[arg(long, value_name = "N")]
    pub top_limit: Option<usize>,
    /// The policy read answers {"value": [policy]} (the docs' example).
    #[arg(long)]
    pub policy_value_wrapped: bool,
    /// What the inventory does with $expand=assignTo(…): honoured (the holder's UPN on each
    /// device), refused (400) or ignored. Overrides the reading's.
    #[arg(long, value_name = "ANSWER", value_parser = ExpandAssignTo::NAMES)]
    pub expand_assign_to: Option<String>,
}

impl TenantStateArgs {
    pub fn readings(&self) -> Result<Readings> {
        let mut r = Readings::named(&self.reading)?;
        r.length_required &= !self.allow_no_content_length;
        r.distinct_method_ids |= self.distinct_method_ids;
        r.some_distinct_method_ids |= self.some_distinct_method_ids;
        r.documented_bulk_answer |= self.documented_bulk_answer;
        r.top_limit = self.top_limit.or(r.top_limit);
        r.policy_value_wrapped |= self.policy_value_wrapped;
        if let Some(answer) = &self.expand_assign_to {
            r.expand_assign_to = ExpandAssignTo::named(answer)?;
        }
        Ok(r)
    }
}

/// What the tenant holds at start.
#[derive(Debug, Args)]
#[command(next_help_heading = "Seed")]
pub struct SeedArgs {
    /// Seed file to seed the tenant from: any file a command reads (a vendor CSV, a PSKC file,
    /// a password ZIP; a file without users seeds unassigned tokens). An optional `sim_state`
    /// column sets each row's initial state: available, assigned, activated, conflict,
    /// missing, wrong_secret, failed.
    #[arg(long, value_name = "FILE")]
    pub csv: String,
    /// How the seed file is read (the flags every command reading one takes).
    #[command(flatten)]
    pub read: super::args::ReadArgs,
    /// Share of rows without `sim_state` seeded as assigned to their user.
    #[arg(long, value_name = "0..1", default_value_t = 0.0)]
    pub assigned_fraction: f64,
    /// Share of rows without `sim_state` seeded as assigned and activated.
    #[arg(long, value_name = "0..1", default_value_t = 0.0)]
    pub activated_fraction: f64,
    /// Seed for every random choice (ids, fractions, faults).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Largest Graph page, whatever `$top` asks.
    #[arg(long, value_name = "N", default_value_t = 999)]
    pub page_size_max: usize,
}

/// Misbehaviour to inject.
#[derive(Debug, Args)]
#[command(next_help_heading = "Faults")]
pub struct FaultArgs {
    /// Delay added to every request, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Write requests per second (token bucket, one second's burst); more → 429 + Retry-After.
    #[arg(long, value_name = "PER_SEC")]
    pub rate_limit: Option<f64>,
    /// The bucket's size for --rate-limit [default: one second's worth].
    #[arg(long, value_name = "REQUESTS", requires = "rate_limit")]
    pub rate_burst: Option<f64>,
    /// A write limit, in any shape Graph's "N requests per W seconds" may take; repeat it to
    /// layer limits (a write must pass every one): bucket:RATE[:BURST],
    /// fixed-window:N:SECS, sliding-window:N:SECS (Retry-After: the seconds until the
    /// window takes a write), concurrency:K (more than K requests in flight → 429).
    #[arg(long = "limit", value_name = "SHAPE")]
    pub limits: Vec<crate::limits::Shape>,
    /// Another app takes SHARE of every limit from FROM to UNTIL seconds after the first
    /// limited request (e.g. 8:20:0.5).
    #[arg(long, value_name = "FROM:UNTIL:SHARE")]
    pub limit_shared: Option<crate::limits::SharedPeriod>,
    /// On writes the limits took, tell how much is left (the client heeds these where they
    /// come and never needs them): ratelimit (RateLimit-Remaining/-Reset), ietf (RateLimit,
    /// RateLimit-Policy) or graph (x-ms-throttle-limit-percentage above 0.8). Default: none.
    #[arg(long, value_name = "STYLE")]
    pub throttle_hints: Option<crate::simulate::HintStyle>,
    /// Count reads (GET) against --rate-limit too.
    #[arg(long)]
    pub rate_limit_reads: bool,
    /// Share of requests answered 503/500 before anything is applied.
    #[arg(long, value_name = "0..1", default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Share of requests whose connection is closed without a response.
    #[arg(long, value_name = "0..1", default_value_t = 0.0)]
    pub drop_rate: f64,
    /// Among dropped requests, the share dropped after the write was applied.
    #[arg(long, value_name = "0..1", default_value_t = 0.5)]
    pub drop_after_share: f64,
    /// Seconds the simulator's clock is ahead of the real one (negative: behind).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true, default_value_t = 0)]
    pub clock_offset: i64,
}

/// Credentials the tenant accepts.
#[derive(Debug, Args)]
#[command(next_help_heading = "Auth")]
pub struct AuthArgs {
    /// File holding the bearer token to accept (a leading `Bearer ` is stripped). Without
    /// it any non-empty bearer token is accepted.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The static token expires (401) after this many authenticated requests.
    #[arg(long = "expire-token-after", value_name = "REQUESTS")]
    pub expire_token_after: Option<u64>,
    /// Answer every authenticated request with 403 Authorization_RequestDenied.
    #[arg(long)]
    pub forbidden: bool,
    /// Client id the token endpoint accepts (default: any).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// File holding the client secret the token endpoint accepts (default: any; none at all
    /// when only --client-certificate is given).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// A certificate registered on the app (PEM; only its certificates are read, never a
    /// key): the token endpoint accepts client assertions signed with it. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub client_certificate: Vec<PathBuf>,
    /// Lifetime of tokens the simulator issues, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub issued_token_lifetime: u64,
    /// What successive device-code polls answer, comma-separated (the last repeats):
    /// authorization_pending, slow_down, success, authorization_declined, expired_token,
    /// bad_verification_code.
    #[arg(long, value_name = "STEPS", value_delimiter = ',', default_value = "authorization_pending,success")]
    pub device_code_flow: Vec<String>,
    /// `interval` the devicecode endpoint hands out, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    pub device_code_interval: u64,
    /// `expires_in` of device codes, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub device_code_expires_in: u64,
    /// `scp` of issued delegated tokens (space-separated) [default: UserAuthenticationMethod.ReadWrite.All Policy.ReadWrite.AuthenticationMethod].
    #[arg(long, value_name = "SCOPES")]
    pub issued_scopes: Option<String>,
    /// `roles` of issued app-only tokens, comma-separated [default: the two permissions above].
    #[arg(long, value_name = "ROLES", value_delimiter = ',')]
    pub issued_roles: Option<Vec<String>>,
    /// `wids` of issued delegated tokens, comma-separated (empty: none) [default: Authentication Administrator, Authentication Policy Administrator].
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub issued_wids: Option<Vec<String>>,
    /// `aud` of issued tokens.
    #[arg(long, value_name = "AUDIENCE", default_value = "https://graph.microsoft.com")]
    pub issued_audience: String,
}
