//! The simulated tenant: a local HTTP server speaking the Graph and portal subsets oathbulk
//! uses, with fault knobs, for tests, benchmarks and dress rehearsals.
//!
//! It shares no client code (`http`, `backend`, `auth`, `engine`): it uses [`crate::otp`] (so
//! codes agree), [`crate::inventory`] (seeding from the vendor CSV), [`crate::limits`] (the
//! limit shapes), `record` (its ready line) and `diag`. URL layout under
//! `http://127.0.0.1:PORT`:
//!
//! - `/graph/beta/...`: the Microsoft Graph subset (docs/entra-oath-api.md §3);
//! - `/portal/api/MultifactorAuthentication/HardwareToken/...`: the legacy portal subset (§4);
//! - `/login/{tenant}/oauth2/v2.0/token` (and `/devicecode`): the token endpoint (client
//!   secrets, client assertions signed with a registered certificate — checked in
//!   `assertion.rs` from the specifications, never with the client's code —, device codes,
//!   refresh tokens);
//! - `/_sim/state`: the [`SimState`] snapshot as JSON (no auth, no faults, not counted).
//!
//! `SimConfig::record` (`--record FILE`) appends every Graph request to a file, one JSON line
//! each, without credentials or secrets (`recorder.rs`), for the SDK conformance suite.
//!
//! Strictness, from the beta CSDL: a `hashFunction` other than `hmacsha1`/`hmacsha256`, a
//! create without `serialNumber`, `manufacturer`, `model` or `timeIntervalInSeconds`, a
//! status filter in another case than the enum's (`'ACTIVATED'`) are 400; a Graph write with
//! a body not typed `application/json` is 415. Accepted as Graph documents it: a chunked body
//! (no 411), `PATCH` of one device (`displayName`), `userPrincipalName eq '…'` and `in (…)`.
//!
//! Seeding: each CSV row becomes a device, each distinct UPN (case-insensitive) a user. An
//! optional `sim_state` column (any header spelling that normalises to `simstate`) sets the
//! row's initial state: `available` (default), `assigned` (to the row's user), `activated`
//! (no `lastUsedDateTime`), `used` (activated, a code verified a day before seeding; every
//! code the simulator accepts sets `lastUsedDateTime` too),
//! `conflict` (assigned to a generated `other-N@<domain>`), `missing` (not in the tenant),
//! `wrong_secret` (the tenant holds another secret: the CSV's codes are refused), `failed`
//! (`failedActivation`, assigned to the row's user). Rows with an empty cell draw from
//! `assigned_fraction`/`activated_fraction`, deterministically by `seed` and serial.
//!
//! Every Graph/portal request passes, in order: counting, `latency_ms`, the fault roll
//! (`fail_rate` → 500/503; `drop_rate` → connection closed before, or after the handler ran
//! per `drop_after_share`), bearer auth (401), `forbidden` (403), the portal's
//! `x-ms-client-request-id` check (400), `rate_limit` (429 + `Retry-After`), the handler.
//! The token endpoint gets latency only. Every response carries `Date` from the simulator
//! clock (real clock + `clock_offset_secs`), against which codes are verified (one step either
//! side by default; `Readings::code_window`). A wrong code leaves the device's status as it
//! was; activating an activated device is refused and counted in `double_activation_attempts`.

#![allow(clippy::result_large_err)] // handlers answer errors as ready `Response`s

mod assertion;
mod graph;
mod hints;
mod http;
mod login;
mod portal;
mod recorder;
mod tenant;

pub use assertion::{registered_from_file, RegisteredCertificate};

use crate::inventory::Row;
use crate::record::SimulatorReady;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Which throttle hints a taken write carries (each a service's style; docs/pacing.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HintStyle {
    /// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds).
    Ratelimit,
    /// The IETF fields: `RateLimit-Policy` and `RateLimit: "limit";r=N;t=S`.
    Ietf,
    /// Graph's `x-ms-throttle-limit-percentage`, sent above 0.8 of a limit.
    Graph,
}

/// Every knob of the simulated tenant. `Default` is a healthy tenant: no faults, no latency,
/// any bearer token accepted.
#[derive(Clone)]
pub struct SimConfig {
    /// Delay added to every request (Graph, portal and token endpoint), milliseconds.
    pub latency_ms: u64,
    /// Write requests (POST) per second; token bucket with a burst of one second's worth
    /// (at least 1). Exceeded → 429 with `Retry-After`. `None`: unlimited.
    pub rate_limit: Option<f64>,
    /// Also count GETs against `rate_limit`.
    pub rate_limit_reads: bool,
    /// The bucket's size (`None`: one second's worth, at least 1).
    pub rate_burst: Option<f64>,
    /// Further limits, every one applied (`--limit`): buckets, fixed or sliding windows,
    /// a concurrency limit ([`limits`]).
    pub limits: Vec<crate::limits::Shape>,
    /// Another app takes a share of every limit for a while (`--limit-shared`).
    pub limit_shared: Option<crate::limits::SharedPeriod>,
    /// Throttle hints on writes the limits took (`--throttle-hints`; none by default, as
    /// nothing promises them).
    pub throttle_hints: Option<HintStyle>,
    /// Share (0..=1) of Graph/portal requests answered 503 or 500 before anything is applied.
    pub fail_rate: f64,
    /// Share (0..=1) of Graph/portal requests whose connection is closed without a response.
    pub drop_rate: f64,
    /// Among dropped requests, the share dropped AFTER the request was applied (the ambiguous
    /// case); the rest are dropped before anything happens. Default 0.5.
    pub drop_after_share: f64,
    /// The simulator's clock minus the real clock, seconds (codes and `Date` headers use it).
    pub clock_offset_secs: i64,
    /// Seed for every random choice (ids, secrets of `wrong_secret` rows, fractions, faults).
    pub seed: u64,
    /// Largest Graph page, whatever `$top` asks (`$top` itself must be 1..=999). Default 999.
    pub page_size_max: usize,
    /// Items per portal page. Default 25 (the real endpoint's).
    pub portal_page_size: usize,
    /// Share of rows without a `sim_state` column value seeded as `assigned`.
    pub assigned_fraction: f64,
    /// Share of rows without a `sim_state` column value seeded as `activated`.
    pub activated_fraction: f64,
    /// The static bearer token accepted besides the ones the simulator issues itself.
    /// `None`: any non-empty bearer is accepted (said on stderr unless `quiet`).
    pub expected_token: Option<String>,
    /// After this many authenticated requests with the static token, it is "expired" (401).
    pub expire_token_after_requests: Option<u64>,
    /// Every authenticated Graph/portal request gets 403 `Authorization_RequestDenied`.
    pub forbidden: bool,
    /// Client credentials the token endpoint accepts. `None`: any non-empty value.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Certificates registered on the app (public parts only): the token endpoint accepts a
    /// client assertion signed by one of them. When some are registered and no
    /// `client_secret` is, client secrets are refused (a certificate-only app).
    pub client_certificates: Vec<RegisteredCertificate>,
    /// Lifetime of tokens the simulator issues, seconds of simulator clock. Default 3600.
    pub issued_token_lifetime_secs: u64,
    /// The tenant id (`tid`). `None`: a GUID derived from `seed`.
    pub tenant_id: Option<String>,
    /// Hardware OATH methods a user may hold. Default 5 (the documented limit).
    pub max_methods_per_user: usize,
    /// Say nothing on stderr.
    pub quiet: bool,
    /// What successive token polls for one device code answer: `authorization_pending`,
    /// `slow_down`, `success`, `authorization_declined`, `expired_token`,
    /// `bad_verification_code`. Once the list is exhausted its last entry repeats. Default
    /// `["authorization_pending", "success"]` (approved on the second poll).
    pub device_code_flow: Vec<String>,
    /// `interval` the devicecode endpoint hands out, seconds. Default 1 (real: 5).
    pub device_code_interval_secs: u64,
    /// `expires_in` of device codes, seconds of simulator clock. Default 900.
    pub device_code_expires_in_secs: u64,
    /// Seconds the simulator expects a client to add to the interval after each `slow_down`
    /// (the spec's 5); used only to count polls that came too fast
    /// (`Counters::device_code_polls_too_fast`), never sent to the client.
    pub slow_down_increment_secs: u64,
    /// `scp` of issued delegated tokens (device code, refresh). `None`: the full set,
    /// `UserAuthenticationMethod.ReadWrite.All Policy.ReadWrite.AuthenticationMethod`.
    pub issued_scopes: Option<String>,
    /// `roles` of issued app-only tokens (client credentials). Default: the two permissions
    /// above.
    pub issued_roles: Vec<String>,
    /// `wids` of issued delegated tokens. Default: Authentication Administrator and
    /// Authentication Policy Administrator.
    pub issued_wids: Vec<String>,
    /// `aud` of issued tokens. Default `https://graph.microsoft.com`.
    pub issued_audience: String,
    /// The hardware OATH authentication method policy: `enabled` (default) or `disabled`.
    /// While disabled, activations are refused (400 `hardwareOathPolicyDisabled`).
    pub policy_state: String,
    /// The bulk-create `PATCH …/hardwareOathDevices` fails as a whole (400), so clients
    /// must fall back to one `POST` per device.
    pub bulk_create_fails: bool,
    /// Largest bulk-create payload (items); more → 400. Default 100.
    pub bulk_create_max: usize,
    /// The bulk create (either verb) answers 403, while one `POST` per device is allowed: a
    /// refused bulk verb is not a refused credential.
    pub bulk_create_forbidden: bool,
    /// The readings of Microsoft's docs the client must survive (docs/graph-api.md).
    pub readings: Readings,
    /// Append one JSON line per Graph request here (`--record`; no `Authorization`, every
    /// `secretKey` redacted): the SDK conformance suite checks the bodies against the CSDL.
    pub record: Option<std::path::PathBuf>,
}

/// Where Microsoft's Graph docs leave a detail open or contradict themselves, the simulator
/// can answer each way; a client that assumes one reading breaks on a tenant with another.
/// `Default` is the closest to what Graph does today: `length_required` is on, and the
/// inventory honours `$expand=assignTo` (the OData reading of the beta CSDL, which declares
/// `assignTo` a navigation property to `user`; no doc shows the list expanding it, hence
/// `expand-refused` and `expand-ignored`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readings {
    /// A POST/PATCH/PUT without `Content-Length` gets 411 Length Required (Graph's front ends).
    pub length_required: bool,
    /// Method ids differ from device ids (the docs' create example), so
    /// `…/hardwareOathMethods/{deviceId}/…` is 404 and the method id must be looked up.
    pub distinct_method_ids: bool,
    /// Only some methods' ids differ from their devices' (every other token, as if added
    /// through another path): a client cannot learn one rule for the whole tenant.
    pub some_distinct_method_ids: bool,
    /// A bulk-create `PATCH` answers as the docs show: 201, `value[]` of methods each with a
    /// nested `device`, no `@contentId`.
    pub documented_bulk_answer: bool,
    /// `$top` above this is refused with 400 (the docs state no maximum for the inventory).
    pub top_limit: Option<usize>,
    /// The policy read answers `{"value": [policy]}` (the docs' example) instead of the
    /// flat resource.
    pub policy_value_wrapped: bool,
    /// What the inventory list does with `$expand=assignTo(…)`.
    pub expand_assign_to: ExpandAssignTo,
    /// The inventory list's items are methods, each holding its device under `device`
    /// (all three examples of "List hardwareOathDevices"), not the devices themselves.
    pub list_nested: bool,
    /// A single resource (a device GET, the policy GET) comes as `{"value": {…}}`, as the
    /// docs' examples show it.
    pub value_object: bool,
    /// Bulk create only as the update page's example and Microsoft's SDK have it: `POST`
    /// of the delta body; a `PATCH` of the collection is 405.
    pub bulk_post_only: bool,
    /// `$filter=serialNumber eq '…'` compares serials case-sensitively (the docs do not say;
    /// serials themselves are unique whatever their case).
    pub serial_case_sensitive: bool,
    /// A method id that names none of the user's methods is answered 400 `BadRequest`
    /// ("Invalid object identifier '…'.", Graph's wording for a malformed or unknown key)
    /// instead of 404: the docs name no status for it.
    pub wrong_method_400: bool,
    /// The inventory list ignores `$filter` and answers the whole list (a proxy or an API
    /// version that drops the query): a client must pick its serials out of what it gets.
    pub filter_ignored: bool,
    /// The steps around the current one whose codes are accepted. The docs say "about one
    /// step either side" and call the window unverified: `window-strict` accepts only the
    /// current step's code, `window-past-only` the one before too but never the next.
    pub code_window: CodeWindow,
}

/// Which steps' codes the tenant accepts, counted from the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeWindow {
    pub back: u64,
    pub ahead: u64,
}

impl Default for CodeWindow {
    /// One step either side (the how-to: "a 30 s token leaves about a minute").
    fn default() -> Self {
        Self { back: 1, ahead: 1 }
    }
}

/// The inventory list's answer to `$expand=assignTo(…)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExpandAssignTo {
    /// Each device carries its holder as `assignTo: {id, userPrincipalName, …}` (an inner
    /// `$select` honoured; `null` for an available token), on every page.
    #[default]
    Honoured,
    /// 400 `BadRequest` whenever `$expand` is present (reading `expand-refused`).
    Refused,
    /// `$expand` is silently ignored: devices as without it (reading `expand-ignored`).
    Ignored,
}

impl ExpandAssignTo {
    /// The names of `oathbulk simulate --expand-assign-to`.
    pub const NAMES: [&'static str; 3] = ["honoured", "refused", "ignored"];

    pub fn named(name: &str) -> Result<Self> {
        Ok(match name {
            "honoured" => Self::Honoured,
            "refused" => Self::Refused,
            "ignored" => Self::Ignored,
            other => bail!("unknown $expand=assignTo answer '{other}' (known: {})", Self::NAMES.join(", ")),
        })
    }
}

impl Default for Readings {
    fn default() -> Self {
        Self {
            length_required: true,
            distinct_method_ids: false,
            some_distinct_method_ids: false,
            documented_bulk_answer: false,
            top_limit: None,
            policy_value_wrapped: false,
            expand_assign_to: ExpandAssignTo::Honoured,
            list_nested: false,
            value_object: false,
            bulk_post_only: false,
            serial_case_sensitive: false,
            wrong_method_400: false,
            filter_ignored: false,
            code_window: CodeWindow::default(),
        }
    }
}

impl Readings {
    /// The named readings, for `oathbulk simulate --reading` and the suites that loop over them.
    pub const NAMES: [&'static str; 17] = [
        "default",
        "distinct-method-ids",
        "some-distinct-method-ids",
        "documented-bulk-answer",
        "top-limit",
        "policy-value-wrapped",
        "expand-refused",
        "expand-ignored",
        "window-strict",
        "window-past-only",
        "list-nested",
        "value-object",
        "bulk-post-only",
        "serial-case-sensitive",
        "wrong-method-400",
        "filter-ignored",
        "all",
    ];

    /// The default readings plus the named one (`all`: every one at once).
    pub fn named(name: &str) -> Result<Readings> {
        let mut r = Readings::default();
        match name {
            "default" => {}
            "distinct-method-ids" => r.distinct_method_ids = true,
            "some-distinct-method-ids" => r.some_distinct_method_ids = true,
            "documented-bulk-answer" => r.documented_bulk_answer = true,
            "top-limit" => r.top_limit = Some(TOP_LIMIT_READING),
            "policy-value-wrapped" => r.policy_value_wrapped = true,
            "expand-refused" => r.expand_assign_to = ExpandAssignTo::Refused,
            "expand-ignored" => r.expand_assign_to = ExpandAssignTo::Ignored,
            "window-strict" => r.code_window = CodeWindow { back: 0, ahead: 0 },
            "window-past-only" => r.code_window = CodeWindow { back: 1, ahead: 0 },
            "list-nested" => r.list_nested = true,
            "value-object" => r.value_object = true,
            "bulk-post-only" => r.bulk_post_only = true,
            "serial-case-sensitive" => r.serial_case_sensitive = true,
            "wrong-method-400" => r.wrong_method_400 = true,
            "filter-ignored" => r.filter_ignored = true,
            "all" => {
                r.wrong_method_400 = true;
                r.serial_case_sensitive = true;
                r.bulk_post_only = true;
                r.list_nested = true;
                r.value_object = true;
                r.distinct_method_ids = true;
                r.documented_bulk_answer = true;
                r.top_limit = Some(TOP_LIMIT_READING);
                r.policy_value_wrapped = true;
                // The harder of the two: a refusal costs a request and must not stop the read.
                r.expand_assign_to = ExpandAssignTo::Refused;
            }
            other => bail!("unknown reading '{other}' (known: {})", Self::NAMES.join(", ")),
        }
        Ok(r)
    }
}

/// The `$top` limit of the `top-limit` reading: below the client's 999, above Graph's
/// usual default page of 100.
pub const TOP_LIMIT_READING: usize = 500;

/// Default `wids` of issued delegated tokens.
pub const DEFAULT_WIDS: [&str; 2] = ["c4e39bd9-1100-46d3-8c65-fb160da0071f", "0526716b-113d-4c15-b2c8-68e3c22b9f80"];
/// Default `scp` of issued delegated tokens.
pub const DEFAULT_SCOPES: &str = "UserAuthenticationMethod.ReadWrite.All Policy.ReadWrite.AuthenticationMethod";

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            rate_limit: None,
            rate_limit_reads: false,
            rate_burst: None,
            limits: Vec::new(),
            limit_shared: None,
            throttle_hints: None,
            fail_rate: 0.0,
            drop_rate: 0.0,
            drop_after_share: 0.5,
            clock_offset_secs: 0,
            seed: 0,
            page_size_max: 999,
            portal_page_size: 25,
            assigned_fraction: 0.0,
            activated_fraction: 0.0,
            expected_token: None,
            expire_token_after_requests: None,
            forbidden: false,
            client_id: None,
            client_secret: None,
            client_certificates: Vec::new(),
            issued_token_lifetime_secs: 3600,
            tenant_id: None,
            max_methods_per_user: 5,
            quiet: false,
            device_code_flow: vec!["authorization_pending".into(), "success".into()],
            device_code_interval_secs: 1,
            device_code_expires_in_secs: 900,
            slow_down_increment_secs: 5,
            issued_scopes: None,
            issued_roles: login::ROLES.iter().map(|r| r.to_string()).collect(),
            issued_wids: DEFAULT_WIDS.iter().map(|w| w.to_string()).collect(),
            issued_audience: login::GRAPH_AUDIENCE.into(),
            policy_state: "enabled".into(),
            bulk_create_fails: false,
            bulk_create_max: 100,
            bulk_create_forbidden: false,
            readings: Readings::default(),
            record: None,
        }
    }
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("SimConfig")
            .field("latency_ms", &self.latency_ms)
            .field("rate_limit", &self.rate_limit)
            .field("rate_limit_reads", &self.rate_limit_reads)
            .field("rate_burst", &self.rate_burst)
            .field("limits", &self.limits)
            .field("limit_shared", &self.limit_shared)
            .field("throttle_hints", &self.throttle_hints)
            .field("fail_rate", &self.fail_rate)
            .field("drop_rate", &self.drop_rate)
            .field("drop_after_share", &self.drop_after_share)
            .field("clock_offset_secs", &self.clock_offset_secs)
            .field("seed", &self.seed)
            .field("page_size_max", &self.page_size_max)
            .field("portal_page_size", &self.portal_page_size)
            .field("assigned_fraction", &self.assigned_fraction)
            .field("activated_fraction", &self.activated_fraction)
            .field("expected_token", &redact(&self.expected_token))
            .field("expire_token_after_requests", &self.expire_token_after_requests)
            .field("forbidden", &self.forbidden)
            .field("client_id", &self.client_id)
            .field("client_secret", &redact(&self.client_secret))
            .field("client_certificates", &self.client_certificates)
            .field("issued_token_lifetime_secs", &self.issued_token_lifetime_secs)
            .field("tenant_id", &self.tenant_id)
            .field("max_methods_per_user", &self.max_methods_per_user)
            .field("quiet", &self.quiet)
            .field("device_code_flow", &self.device_code_flow)
            .field("device_code_interval_secs", &self.device_code_interval_secs)
            .field("device_code_expires_in_secs", &self.device_code_expires_in_secs)
            .field("slow_down_increment_secs", &self.slow_down_increment_secs)
            .field("issued_scopes", &self.issued_scopes)
            .field("issued_roles", &self.issued_roles)
            .field("issued_wids", &self.issued_wids)
            .field("issued_audience", &self.issued_audience)
            .field("policy_state", &self.policy_state)
            .field("bulk_create_fails", &self.bulk_create_fails)
            .field("bulk_create_max", &self.bulk_create_max)
            .field("bulk_create_forbidden", &self.bulk_create_forbidden)
            .field("readings", &self.readings)
            .field("record", &self.record)
            .finish()
    }
}

impl SimConfig {
    /// Every write limit: `--rate-limit` (a bucket) and each `--limit`.
    pub fn limit_shapes(&self) -> Vec<crate::limits::Shape> {
        let bucket = self
            .rate_limit
            .map(|rate| crate::limits::Shape::Bucket { rate, burst: self.rate_burst.unwrap_or(rate).max(1.0) });
        bucket.into_iter().chain(self.limits.iter().copied()).collect()
    }

    fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("fail_rate", self.fail_rate),
            ("drop_rate", self.drop_rate),
            ("drop_after_share", self.drop_after_share),
            ("assigned_fraction", self.assigned_fraction),
            ("activated_fraction", self.activated_fraction),
        ] {
            if !(0.0..=1.0).contains(&v) {
                bail!("{name} must be between 0 and 1 (got {v})");
            }
        }
        if self.fail_rate + self.drop_rate > 1.0 {
            bail!("fail_rate + drop_rate must not exceed 1");
        }
        if self.assigned_fraction + self.activated_fraction > 1.0 {
            bail!("assigned_fraction + activated_fraction must not exceed 1");
        }
        if let Some(r) = self.rate_limit {
            if !(r.is_finite() && r > 0.0) {
                bail!("rate_limit must be a positive number of requests per second (got {r})");
            }
        }
        if self.page_size_max == 0 || self.portal_page_size == 0 {
            bail!("page sizes must be at least 1");
        }
        if self.expected_token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            bail!("the expected token is empty");
        }
        for step in &self.device_code_flow {
            if !login::FLOW_STEPS.contains(&step.as_str()) {
                bail!("device code flow step '{step}' is not one of {}", login::FLOW_STEPS.join(", "));
            }
        }
        if !matches!(self.policy_state.as_str(), "enabled" | "disabled") {
            bail!("policy_state must be 'enabled' or 'disabled' (got '{}')", self.policy_state);
        }
        if self.readings.top_limit == Some(0) {
            bail!("the $top limit must be at least 1");
        }
        if self.bulk_create_max == 0 {
            bail!("bulk_create_max must be at least 1");
        }
        Ok(())
    }
}

/// Server-side counters: what really happened, for tests to assert on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Counters {
    /// Requests to the Graph, portal and token endpoints (`/_sim` excluded), faults included.
    pub requests: u64,
    /// The same per route (`graph.list_devices`, `graph.activate`, `portal.enable`, `login.token`, …).
    pub requests_by_route: BTreeMap<String, u64>,
    /// POST/PATCH/PUT/DELETE requests to Graph and portal.
    pub writes: u64,
    /// 429 answers.
    pub throttled: u64,
    /// `faults_5xx + drops_before + drops_after`.
    pub faults: u64,
    pub faults_5xx: u64,
    /// Connections closed before the request was applied.
    pub drops_before: u64,
    /// Connections closed after the request was applied (the write happened).
    pub drops_after: u64,
    /// 401 answers.
    pub unauthorized: u64,
    /// 403 answers.
    pub forbidden: u64,
    /// 411 answers (a write without `Content-Length`).
    #[serde(default)]
    pub length_required: u64,
    /// 400 answers to a `$top` above the `top_limit` reading.
    #[serde(default)]
    pub top_refused: u64,
    /// 400 answers to an inventory read with `$expand` (reading `expand-refused`).
    #[serde(default)]
    pub expand_refused: u64,
    /// Writes to `…/hardwareOathMethods/{id}…` naming no method of that user (404): with
    /// distinct ids, the price of trying the device id first.
    #[serde(default)]
    pub method_not_found: u64,
    /// Successful activations (Graph or portal).
    pub activations: u64,
    /// Successful assignments (including the assign half of assign-and-activate).
    pub assignments: u64,
    /// Attempts to activate a device already active.
    pub double_activation_attempts: u64,
    /// Verification codes refused.
    pub rejected_codes: u64,
    /// Codes accepted from the step after the tenant's current one (`code_window.ahead`).
    pub codes_from_next_step: u64,
    /// Writes that touched a device assigned to another user (a client must report, not fix).
    pub conflict_attempts: u64,
    /// Activations addressed to a user's method the user does not hold (404, nothing
    /// changed): how a client that writes first learns a token is someone else's.
    #[serde(default)]
    pub foreign_method_writes: u64,
    /// Tokens issued by the token endpoint.
    pub tokens_issued: u64,
    /// Devices created (`POST`, bulk `PATCH` items, portal uploads).
    pub creates: u64,
    /// Bulk-create `PATCH` requests answered (whether or not their items succeeded).
    pub bulk_create_requests: u64,
    /// Devices deleted from the inventory.
    pub deletes: u64,
    /// Successful deactivations (activated → assigned).
    pub deactivations: u64,
    /// Successful unassignments (→ available).
    pub unassignments: u64,
    /// Policy changes (`PATCH …/hardwareOath`).
    pub policy_changes: u64,
    /// Portal CSV uploads accepted.
    pub uploads: u64,
    /// Token polls with a device code.
    pub device_code_polls: u64,
    /// Device-code polls sooner than the interval (plus `slow_down` increments) allows.
    pub device_code_polls_too_fast: u64,
    /// Client assertions (certificate credentials) accepted by the token endpoint.
    #[serde(default)]
    pub client_assertions_accepted: u64,
    /// Client assertions refused (bad signature, unknown key, audience, issuer, time).
    #[serde(default)]
    pub client_assertions_refused: u64,
    /// Accepted assertions whose `jti` an earlier accepted one already carried (a client
    /// must sign a new assertion for every request).
    #[serde(default)]
    pub client_assertion_jti_reused: u64,
}

/// An answer the simulator sent (Graph, portal, sign-in), with the request ids it carried:
/// what a client's error log should quote.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Answered {
    /// As in `Counters::requests_by_route` (`graph.activate`, `portal.enable`, …).
    pub route: String,
    pub status: u16,
    /// The server's id (`request-id`; the portal's `x-ms-request-id`).
    pub request_id: String,
    /// The client's `client-request-id` (`x-ms-client-request-id`), or one made up when it sent none.
    pub client_request_id: String,
    /// When it was answered, milliseconds after the simulator started (a run's timeline:
    /// `benches/activate-bench.sh` with `KEEP=1` keeps the state to read it).
    #[serde(default)]
    pub at_ms: u64,
}

/// One device of the tenant, as the simulator sees it (never its secret).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DeviceState {
    pub id: String,
    pub serial_number: String,
    pub display_name: Option<String>,
    pub manufacturer: String,
    pub model: String,
    pub time_interval_in_seconds: u32,
    /// `hmacsha1` | `hmacsha256`.
    pub hash_function: String,
    /// `available` | `assigned` | `activated` | `failedActivation`.
    pub status: String,
    pub assigned_user_id: Option<String>,
    pub assigned_upn: Option<String>,
    /// The seeded state: `available`, `assigned`, `activated`, `conflict`, `wrong_secret`, `failed`.
    pub seeded_as: String,
    /// Successful activations during this run (seeded `activated` devices start at 0).
    pub activations: u64,
    pub double_activation_attempts: u64,
    pub rejected_codes: u64,
    /// The TOTP counter of the code that activated it.
    pub last_code_step: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UserState {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    /// Made up by the simulator (holders of `conflict` tokens), not from the CSV.
    pub generated: bool,
}

/// A snapshot of the tenant: devices, users and counters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SimState {
    pub listen: String,
    pub tenant_id: String,
    /// The simulator clock at the snapshot, Unix seconds.
    pub now_unix: u64,
    pub clock_offset_secs: i64,
    pub counters: Counters,
    /// In seeding order.
    pub devices: Vec<DeviceState>,
    pub users: Vec<UserState>,
    /// Serials of `missing` rows (not in the tenant).
    pub missing_serials: Vec<String>,
    /// The hardware OATH policy: `enabled` | `disabled`.
    #[serde(default)]
    pub policy_state: String,
    /// Serials of devices deleted during the run (not in `devices` any more).
    #[serde(default)]
    pub deleted_serials: Vec<String>,
    /// Every answer sent, in order (a dropped connection is none).
    #[serde(default)]
    pub answers: Vec<Answered>,
}

impl SimState {
    /// The device with this serial number (case-insensitive).
    pub fn device(&self, serial: &str) -> Option<&DeviceState> {
        self.devices.iter().find(|d| d.serial_number.eq_ignore_ascii_case(serial))
    }
    /// The user with this UPN (case-insensitive).
    pub fn user(&self, upn: &str) -> Option<&UserState> {
        self.users.iter().find(|u| u.user_principal_name.eq_ignore_ascii_case(upn))
    }
    /// Devices per status.
    pub fn status_counts(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for d in &self.devices {
            *m.entry(d.status.clone()).or_default() += 1;
        }
        m
    }
}

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    /// `http://127.0.0.1:PORT`
    pub(crate) base: String,
    pub(crate) listen: String,
    pub(crate) tenant_id: String,
    pub(crate) tenant: Mutex<tenant::Tenant>,
    /// `--record`: every Graph request, one JSON line each.
    pub(crate) recorder: Option<recorder::Recorder>,
}

impl Shared {
    /// The simulator clock (real clock + offset).
    pub(crate) fn now(&self) -> std::time::SystemTime {
        let real = std::time::SystemTime::now();
        let off = std::time::Duration::from_secs(self.config.clock_offset_secs.unsigned_abs());
        if self.config.clock_offset_secs >= 0 {
            real + off
        } else {
            real - off
        }
    }
    pub(crate) fn now_unix(&self) -> u64 {
        self.now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }
    pub(crate) fn graph_url(&self) -> String {
        format!("{}/graph/beta", self.base)
    }
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, tenant::Tenant> {
        // A panicking handler must not wedge the whole simulator.
        self.tenant.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn snapshot(&self) -> SimState {
        let t = self.lock();
        t.snapshot(&self.listen, &self.tenant_id, self.now_unix(), self.config.clock_offset_secs)
    }
}

/// A running simulated tenant. Dropping it stops the server too (without waiting).
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    devices: u64,
    users: u64,
}

impl Simulator {
    /// Seed the tenant from `seed` and listen on `listen` (loopback only; port 0 picks one).
    pub async fn start(config: SimConfig, seed: Vec<Row>, listen: SocketAddr) -> Result<Simulator> {
        config.validate()?;
        if !listen.ip().is_loopback() {
            bail!("the simulator listens on loopback only (127.0.0.0/8 or ::1), not {}", listen.ip());
        }
        let mut tenant = tenant::Tenant::seed(&config, seed)?;
        let tenant_id = config.tenant_id.clone().unwrap_or_else(|| tenant.new_guid());
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        if !config.quiet {
            if config.expected_token.is_none() {
                crate::diag::stderr_line(
                    "oathbulk simulate: no expected token configured: accepting any non-empty bearer token",
                );
            }
            if config.client_id.is_none() || (config.client_secret.is_none() && config.client_certificates.is_empty()) {
                crate::diag::stderr_line(
                    "oathbulk simulate: client credentials not fully configured: the token endpoint accepts any non-empty value for the missing ones",
                );
            }
        }
        let (devices, users) = (tenant.devices.len() as u64, tenant.users.len() as u64);
        let recorder = config.record.as_deref().map(recorder::Recorder::open).transpose()?;
        let shared = Arc::new(Shared {
            config,
            base,
            listen: addr.to_string(),
            tenant_id,
            tenant: Mutex::new(tenant),
            recorder,
        });
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let router = http::router(shared.clone());
        let task = tokio::spawn(http::serve(listener, router, stop_rx));
        Ok(Simulator { shared, addr, stop, task: Some(task), devices, users })
    }

    /// The bound address (the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The ready record (`oathbulk simulate` prints it as its first line).
    pub fn ready(&self) -> SimulatorReady {
        SimulatorReady {
            listen: self.addr.to_string(),
            graph_url: self.graph_url(),
            portal_url: self.portal_url(),
            authority_url: self.authority_url(),
            devices: self.devices,
            users: self.users,
        }
    }

    /// `http://127.0.0.1:PORT/graph/beta`
    pub fn graph_url(&self) -> String {
        self.shared.graph_url()
    }

    /// `http://127.0.0.1:PORT/portal` (append `/api/MultifactorAuthentication/HardwareToken/...`).
    pub fn portal_url(&self) -> String {
        format!("{}/portal", self.shared.base)
    }

    /// `http://127.0.0.1:PORT/login` (append `/{tenant}/oauth2/v2.0/token`).
    pub fn authority_url(&self) -> String {
        format!("{}/login", self.shared.base)
    }

    /// The tenant id issued tokens carry (`tid`).
    pub fn tenant_id(&self) -> &str {
        &self.shared.tenant_id
    }

    /// Revoke every refresh token issued so far (an admin's revokeSignInSessions): the next
    /// refresh-token grant is refused with `invalid_grant`.
    pub fn revoke_refresh_tokens(&self) {
        self.shared.lock().refresh_tokens.clear();
    }

    /// A snapshot of devices, users and counters.
    pub fn state(&self) -> SimState {
        self.shared.snapshot()
    }

    /// Stop listening, let in-flight requests finish (up to 2 s), and return the final state.
    pub async fn shutdown(mut self) -> SimState {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.shared.snapshot()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
