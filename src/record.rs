//! The wire format: every JSON-lines record the binary prints, as one serde-tagged enum.
//!
//! `docs/json-lines.md` specifies each field. Field names are a contract: the PowerShell
//! module, the journal and users' automation parse them. Add fields; never rename them.
//! Optional fields are omitted when absent (never `null`), so consumers test for presence.

use crate::otp::HashFunction;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One line of output. `"type"` names the variant in snake_case.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A CSV row (`list`).
    Token(Token),
    /// A computed code (`otp`).
    Otp(Otp),
    /// A row that could not be used; the other rows go on.
    RowError(RowErrorRecord),
    /// A problem `check` found in an otherwise readable file (duplicates, weak seeds, …).
    Finding(Finding),
    /// The final result of one row in `activate`.
    Activation(Activation),
    /// A token in the tenant's inventory (`tenant`).
    TenantToken(TenantToken),
    /// A run-wide warning (clock offset, token near expiry, …).
    Warning(Warning),
    /// Progress of a long run (`--progress json`, on stderr only).
    Progress(Progress),
    /// A diagnostic line (`--progress json`, on stderr only): what a person would read there.
    Diagnostic(Diagnostic),
    /// One user of the CSV with their tokens (`users`).
    User(UserRecord),
    /// One preflight finding (`doctor`): pass, warn or fail, with a fix.
    Check(CheckRecord),
    /// One row's result in `import` (seed file → tenant inventory).
    Import(ImportRecord),
    /// One lifecycle change (`deactivate`, `unassign`, `remove`, `undo`).
    Change(ChangeRecord),
    /// `oathbulk simulate` is listening (first line it prints).
    Simulator(SimulatorReady),
    /// Always last on stdout.
    Summary(Summary),
    /// First line of every journal (never on stdout): which run wrote it.
    JournalHeader(JournalHeader),
    /// A helpdesk's view of one token or user (`status`): its state and the next step.
    TokenStatus(TokenStatus),
    /// A journal line (never on stdout): the tenant throttled a request (429, or 503 with
    /// `Retry-After`), or a later run resumed the journal. `report` draws them.
    RunEvent(RunEvent),
}

/// What a [`RunEvent`] marks.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RunEventKind {
    /// A later run appends to the journal (`--resume`, or the same journal again); the
    /// first run's start is the header's `time`.
    Resumed,
    /// The tenant answered 429 (or 503 with `Retry-After`).
    Throttled,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct RunEvent {
    pub event: RunEventKind,
    /// RFC 3339, local clock, when it happened.
    pub time: String,
    /// `throttled`: the answer's status (429 or 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// `throttled`: the `Retry-After` the tenant asked for, milliseconds (absent: none given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// `resumed`: the command (`activate`, `import`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// The mark of an intent line, journaled just before a write is sent (an activation's
/// `error_code`, a change's `reason`, with `not_attempted`): a write that lands and is then
/// killed before its result is journaled is still known. `undo` and an interrupted undo's
/// resume ask the tenant whether it landed; `--resume` of a run ignores intents (the tenant
/// decides).
pub const IN_FLIGHT: &str = "in_flight";

/// Entra's limit on a user's hardware OATH methods ("at most 5 OATH methods per user").
pub const OATH_METHODS_LIMIT: u64 = 5;

/// One token (or one user without any) as a helpdesk needs it (`status`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct TokenStatus {
    /// What was asked: a serial or a UPN.
    pub query: String,
    /// The `--csv` line that asked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// `not_found` (not in the tenant), `available`, `assigned` (not activated),
    /// `failedActivation`, `activated` (Graph spelling); for a UPN: `no_tokens` (the user holds
    /// none), `user_not_found`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The holder (UPN when known, else the name or id the tenant gives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// `lastUsedDateTime` when the tenant fills it (Graph does not update it reliably:
    /// absent means unknown, not unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    /// Hardware OATH methods the holder has (absent without a holder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<u64>,
    /// Entra's limit per user: 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods_limit: Option<u64>,
    /// What to do next, as a person reads it (with the command to run, when there is one).
    pub next_step: String,
}

/// The first line of a journal. `undo` and `--resume` refuse a file without one.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct JournalHeader {
    /// Always `oathbulk`.
    pub tool: String,
    /// The version that created the journal.
    pub version: String,
    /// A fresh UUID per journal.
    pub run_id: String,
    /// `activate` | `import` | `deactivate` | `unassign` | `remove` | `undo`.
    pub command: String,
    /// `graph` | `portal`.
    pub backend: String,
    /// The tenant: the token's `tid` when it names one, else `--tenant` (id or domain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Where the run's requests went: `scheme://host:port` of the API's base URL.
    /// Absent only in journals written before it was recorded (`--resume` refuses those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// `true` for a `--simulate` rehearsal (an in-process simulated tenant). Absent only in
    /// journals written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated: Option<bool>,
    pub time: String,
}

/// A token of a user, as `users` reports it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct UserToken {
    pub serial: String,
    pub line: u64,
    /// Tenant status (with `--tenant`): `available` | `assigned` | `activated` | `failedActivation` | `not_found`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Who holds it in the tenant, when not this user (with `--tenant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct UserRecord {
    pub upn: String,
    /// Number of tokens in the CSV for this user.
    pub count: u64,
    pub tokens: Vec<UserToken>,
    /// Set when the user would hold more than Entra's five OATH methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct CheckRecord {
    /// Stable name: `api_reachable`, `token_expiry`, `token_audience`, `permissions`,
    /// `policy_enabled`, `clock_offset`, `csv`, `tenant_tokens`.
    pub check: String,
    pub status: CheckStatus,
    pub message: String,
    /// What to do about it (warn/fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// What `import` did with a row.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Created in the tenant by this run.
    Created,
    /// Already in the tenant (by serial): not duplicated.
    Exists,
    /// `--dry-run`: would be created.
    WouldCreate,
    Failed,
    NotAttempted,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ImportRecord {
    pub line: u64,
    pub upn: String,
    pub serial: String,
    pub status: ImportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Assigned to `upn` by this run (`--assign`).
    #[serde(default)]
    pub assigned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    pub time: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOperation {
    Deactivate,
    Unassign,
    Remove,
    /// `undo` of an `unassign`: the token goes back to the user it was taken from.
    Assign,
    /// `undo` of a `deactivate`: activated again with a code from the seed (`undo --csv`).
    Activate,
    /// `undo` of a `remove`: never done (a deleted token is re-imported from its seed file,
    /// `import --assign`); always `refused` with `error_code` `not_reversible`.
    Import,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    Done,
    /// `--dry-run`.
    WouldDo,
    /// The token is not in the state this change expects (or the run did not change it): untouched.
    Refused,
    NotFound,
    Failed,
    NotAttempted,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ChangeRecord {
    pub operation: ChangeOperation,
    pub status: ChangeStatus,
    pub serial: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// CSV line, or journal line for `undo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    pub time: String,
}

/// Where a running simulator can be reached. Tests read this line to learn the port.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct SimulatorReady {
    /// `host:port` actually bound (port 0 in `--listen` picks a free one).
    pub listen: String,
    /// Pass as `--graph-url`.
    pub graph_url: String,
    /// Pass as `--portal-url`.
    pub portal_url: String,
    /// Pass as `--authority-url` (client-credentials and device-code endpoints).
    pub authority_url: String,
    /// Devices seeded.
    pub devices: u64,
    pub users: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct Token {
    pub line: u64,
    pub upn: String,
    pub serial: String,
    pub manufacturer: String,
    pub model: String,
    pub time_interval: u32,
    pub hash: HashFunction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Seed size in bits (so audits can spot 80-bit seeds without seeing them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_bits: Option<usize>,
    /// Canonical Base32; only with `--reveal-secrets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Columns the tool does not know, by original header.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct Otp {
    pub line: u64,
    pub upn: String,
    pub serial: String,
    /// Zero-padded six digits: always a string.
    pub code: String,
    /// TOTP counter (`floor(unix / time_interval)`).
    pub step: u64,
    pub time_interval: u32,
    pub hash: HashFunction,
    /// Seconds the code stays valid from `at`.
    pub valid_for: u32,
    /// The instant used, Unix seconds (after `--clock-offset`).
    pub at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct RowErrorRecord {
    pub line: u64,
    /// Stable code: `missing_serial`, `invalid_secret`, `script_error`, …
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    /// `duplicate_serial`, `too_many_tokens`, `weak_secret`, …
    pub code: String,
    pub message: String,
    /// The lines involved (several for duplicates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

/// What happened to a row in `activate`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[serde(rename_all = "snake_case")]
pub enum ActivationStatus {
    /// The tenant accepted the code: the token is active now.
    Activated,
    /// It was active before this run: nothing sent.
    AlreadyActive,
    /// `--dry-run`: what would be done (see `action`).
    WouldActivate,
    /// Assigned to another user: left untouched.
    Conflict,
    /// No token with this serial in the tenant.
    NotFound,
    /// The tenant refused (rejected code, other error): see `error_*`.
    Failed,
    /// Settled by an earlier run (`--resume`); the journal has its record.
    Skipped,
    /// Not attempted because the run stopped (auth failure, interrupt).
    #[default]
    NotAttempted,
}

impl ActivationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activated => "activated",
            Self::AlreadyActive => "already_active",
            Self::WouldActivate => "would_activate",
            Self::Conflict => "conflict",
            Self::NotFound => "not_found",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::NotAttempted => "not_attempted",
        }
    }
    /// Final in the journal sense: a re-run with `--resume` does not retry it.
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Activated | Self::AlreadyActive | Self::Conflict)
    }
    /// Counts as a row error for the exit code.
    pub fn is_error(self) -> bool {
        matches!(self, Self::Conflict | Self::NotFound | Self::Failed | Self::NotAttempted)
    }
}

/// Which write a row needs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    #[default]
    None,
    Activate,
    AssignAndActivate,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct Activation {
    pub line: u64,
    pub upn: String,
    pub serial: String,
    pub status: ActivationStatus,
    pub action: Action,
    /// Write requests sent for this row (retries included).
    pub attempts: u32,
    /// Tenant device/token id, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// TOTP counter of the code that was accepted (or last sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u64>,
    /// For conflicts: who holds the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// RFC 3339, when the result was settled.
    pub time: String,
}

#[cfg(test)]
impl Activation {
    /// An activation of line 2's token by `a@contoso.com`, sent once: what tests vary.
    pub fn test_row() -> Self {
        Activation { line: 2, upn: "a@contoso.com".into(), action: Action::Activate, attempts: 1, ..Default::default() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct TenantToken {
    pub id: String,
    pub serial: String,
    /// `available` | `assigned` | `activated` | `failedActivation` (Graph spelling).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_interval: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashFunction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Object id of the user holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to_id: Option<String>,
    /// The user holding it as the API names them: the display name on Graph, the UPN on the
    /// portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    /// UPN of the user holding it (`tenant`): from `$expand=assignTo` where the tenant expands
    /// it, else looked up by `assigned_to_id`; absent when the tenant does not know the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Warning {
    /// `clock_offset`, `token_expiring`, `token_file_permissions`, …
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct Progress {
    /// `resolve` | `activate` | …
    pub phase: String,
    pub done: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Diagnostic {
    /// `error` | `warn` | `info`
    pub level: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A fatal condition that stopped the run early.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Fatal {
    /// Why the run stopped (`crate::stop::StopReason`: one list, one exit code each).
    pub code: crate::stop::StopReason,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
pub struct Summary {
    /// The subcommand (`list`, `otp`, `check`, `activate`, `tenant`).
    pub command: String,
    /// Rows read from the CSV (records from the tenant for `tenant`).
    pub rows: u64,
    /// Rows that produced their record without error.
    pub ok: u64,
    /// Rows that ended in an error record or an error status.
    pub errors: u64,
    /// Rows `--lines`, a script's `filter` or `--where` left out (omitted when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtered: Option<u64>,
    /// Records per `status`/`code` (`activated: 120`, `not_found: 2`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, u64>,
    pub elapsed_ms: u64,
    /// The process exit code this run ends with.
    pub exit_code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fatal: Option<Fatal>,
    /// HTTP requests sent (network commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    /// Times the run waited on 429/503 `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled: Option<u64>,
    /// Write requests per second the run's pace settled on (found, or the fixed rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pace: Option<f64>,
    /// Server clock minus local clock, milliseconds (from `Date` headers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}
