//! The directory APIs, behind one trait. A backend turns "activate this token for this
//! user with this code" into HTTP and maps the answer to [`ApiError`]; it never decides
//! what to do with a row (that is `activate`'s job). A new backend is one file.

pub mod any;
pub mod graph;
pub mod portal;

use crate::inventory::SecretKey;
use crate::otp::HashFunction;
use crate::record::TenantToken;
use std::future::Future;

pub use crate::api_error::ApiError;
pub use crate::http::classify;

/// A token's state in the tenant, as the planner needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Available,
    Assigned,
    Activated,
    FailedActivation,
    Unknown,
}

impl DeviceStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            "available" => Self::Available,
            "assigned" => Self::Assigned,
            "activated" => Self::Activated,
            "failedActivation" => Self::FailedActivation,
            _ => Self::Unknown,
        }
    }
}

/// A tenant token with what the backend knows of its holder.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub token: TenantToken,
    pub status: DeviceStatus,
    /// The holder's UPN when the API says it (portal); Graph gives only an id and a name.
    pub owner_upn: Option<String>,
}

impl Device {
    /// The token's id for a record; `None` when the backend gave none.
    pub fn known_id(&self) -> Option<String> {
        Some(self.token.id.clone()).filter(|id| !id.is_empty())
    }
}

/// What a backend can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Can assign an available token to a user (Graph yes, portal no).
    pub assign: bool,
}

/// A token to add to the tenant's inventory. The secret goes to the tenant and nowhere else:
/// `Debug` redacts it, and backends Base32-encode it only into the request body.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub serial: String,
    pub secret: SecretKey,
    pub time_interval: u32,
    pub hash: HashFunction,
    pub manufacturer: String,
    pub model: String,
    pub display_name: Option<String>,
    /// Assign to this user (UPN) on creation. The portal backend always assigns, so it needs one.
    pub assign_to: Option<String>,
}

/// What became of one [`NewDevice`] (same order as the input).
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// Created by this call (also: found in the tenant after an ambiguous failure of this
    /// call's write — callers only ask to create serials they saw absent).
    Created(Device),
    /// The tenant already holds this serial; nothing created.
    Exists(Option<Device>),
    /// Refused or failed. An `ApiError::Auth` here means the run must stop; items after it
    /// were not sent and carry the same error.
    Failed(ApiError),
}

/// A directory user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    pub id: String,
    pub upn: String,
}

/// Why the tenant refused a write, as the activation planner acts on it: the one list,
/// matched as this type (never as strings). A backend gives the first two as
/// `ApiError::Rejected` codes ([`Refusal::code`], the records' `error_code`); the planner
/// tells the third from the step the code was sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The write was addressed to a user's method that the user does not hold (Graph's 404,
    /// explained by one read of the user's methods): someone else's token, a conflict, not a
    /// failure.
    NotUsersMethod,
    /// The code was refused in the middle of its step: a wrong secret key, unless the token
    /// changed meanwhile (someone activated or removed it). The tenant's own error code is kept.
    CodeRefused,
}

impl Refusal {
    /// The `ApiError::Rejected` code a backend gives this refusal; `None` for a refused code,
    /// which keeps the tenant's.
    pub const fn code(self) -> Option<&'static str> {
        match self {
            Refusal::NotUsersMethod => Some("not_users_method"),
            Refusal::CodeRefused => None,
        }
    }

    /// The refusal a backend named in `err`, if it named one.
    pub fn named_in(err: &ApiError) -> Option<Refusal> {
        let ApiError::Rejected { code, .. } = err else { return None };
        [Refusal::NotUsersMethod].into_iter().find(|r| r.code() == Some(code.as_str()))
    }

    /// The error a backend answers with for this refusal.
    pub fn rejected(self, status: u16, message: String) -> ApiError {
        ApiError::Rejected {
            status,
            code: self.code().unwrap_or("rejected").into(),
            message: message.into(),
            body: String::new(),
        }
    }
}

/// The error of an operation a backend cannot do.
pub fn not_supported(backend: &str, what: &str) -> ApiError {
    ApiError::Rejected {
        status: 400,
        code: "not_supported".into(),
        message: format!("{what} is not supported by the {backend} backend; use --backend graph").into(),
        body: String::new(),
    }
}

/// The answer of a write a backend cannot do, as the trait's methods return it.
fn unsupported<T: Send>(backend: &str, what: &str) -> std::future::Ready<Result<T, ApiError>> {
    std::future::ready(Err(not_supported(backend, what)))
}

/// What an activation writes: a code from `device`'s token for `upn` (and the name the method
/// is given, if any). One argument for both ways to activate, so each is said once.
#[derive(Debug, Clone, Copy)]
pub struct CodeWrite<'a> {
    pub upn: &'a str,
    pub device: &'a Device,
    pub code: &'a str,
    pub display_name: Option<&'a str>,
}

/// One directory API.
pub trait Backend: Send + Sync + 'static {
    /// Which API this is: its name and what it can do are facts of the kind.
    fn kind(&self) -> BackendKind;

    /// The API's name in records and messages.
    fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// What it can do.
    fn capabilities(&self) -> Capabilities {
        self.kind().capabilities()
    }

    /// Every token in the tenant (every page).
    fn list_all(&self) -> impl Future<Output = Result<Vec<Device>, ApiError>> + Send;

    /// The tenant's tokens for these rows (`(serial, upn)` pairs). A backend picks the
    /// cheapest way: per-serial queries for a few rows, the whole inventory for many.
    fn find(&self, wanted: &[(String, String)]) -> impl Future<Output = Result<Vec<Device>, ApiError>> + Send;

    /// Name each held token's user by UPN (`owner_upn`) where the inventory gave only an
    /// object id (`tenant`). By default nothing: the portal names holders by UPN.
    fn name_holders_by_id(&self, devices: &mut [Device]) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = devices;
        async { Ok(()) }
    }

    /// Device ids of the tokens `upn` holds: tells "assigned to this user" from a conflict
    /// when the inventory names holders only by id.
    fn device_ids_of_user(&self, upn: &str) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;

    /// Re-read one token (after an ambiguous failure). `Ok(None)`: gone.
    fn get(&self, device: &Device) -> impl Future<Output = Result<Option<Device>, ApiError>> + Send;

    /// Activate a token already assigned to `w.upn`.
    fn activate(&self, w: CodeWrite<'_>) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Assign an available token to `w.upn` and activate it, in one request where possible.
    fn assign_and_activate(&self, w: CodeWrite<'_>) -> impl Future<Output = Result<(), ApiError>> + Send;

    // Lifecycle (import, deactivate, unassign, remove, undo). Defaults: not supported.

    /// The hardware OATH policy's state (`enabled` | `disabled`); `Ok(None)`: this API
    /// cannot tell.
    fn policy_state(&self) -> impl Future<Output = Result<Option<String>, ApiError>> + Send {
        async { Ok(None) }
    }

    /// Create tokens in the inventory; one outcome per input, in order. Transient failures
    /// and throttling are handled inside (re-reading the tenant before re-sending, so
    /// nothing is created twice). `Err`: nothing was attempted.
    fn create_devices(
        &self,
        devices: &[NewDevice],
    ) -> impl Future<Output = Result<Vec<CreateOutcome>, ApiError>> + Send {
        let _ = devices;
        unsupported(self.name(), "creating tokens")
    }

    /// Assign an available token to `upn` (without activating it).
    fn assign(&self, upn: &str, device: &Device) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (upn, device);
        unsupported(self.name(), "assigning tokens")
    }

    /// Deactivate `upn`'s active token (it stays assigned). `upn` may be a user id.
    fn deactivate(&self, upn: &str, device: &Device) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (upn, device);
        unsupported(self.name(), "deactivating tokens")
    }

    /// Take the token from `upn` (back to `available`). `upn` may be a user id.
    fn unassign(&self, upn: &str, device: &Device) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (upn, device);
        unsupported(self.name(), "unassigning tokens")
    }

    /// Delete an unassigned token from the inventory.
    fn delete(&self, device: &Device) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = device;
        unsupported(self.name(), "deleting tokens")
    }

    /// A user by id or UPN. `Ok(None)`: no such user (or this API cannot look users up).
    fn lookup_user(&self, id_or_upn: &str) -> impl Future<Output = Result<Option<UserRef>, ApiError>> + Send {
        let _ = id_or_upn;
        async { Ok(None) }
    }
}

/// Which directory API a run talks to, and the domain facts that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// Microsoft Graph (documented; default).
    Graph,
    /// The legacy Azure portal endpoint (undocumented; user tokens only).
    Portal,
}

/// The portal's documented limit: 200 activations per 5 minutes.
pub const PORTAL_RATE: f64 = 200.0 / 300.0;

impl BackendKind {
    /// The API's name in records and messages.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Graph => "graph",
            BackendKind::Portal => "portal",
        }
    }

    /// What this API can do: Graph assigns tokens, the portal cannot.
    pub fn capabilities(self) -> Capabilities {
        Capabilities { assign: self == BackendKind::Graph }
    }

    /// Whether a token's `aud` claim is this API's.
    pub fn accepts_audience(self, aud: &str) -> bool {
        match self {
            BackendKind::Graph => crate::auth::jwt::GRAPH_AUDIENCES.contains(&aud),
            BackendKind::Portal => aud == crate::auth::jwt::PORTAL_AUDIENCE,
        }
    }

    /// How writes are paced when the user names no rate: Graph's limits are undocumented
    /// per tenant and shared with other apps, so the pace is found while the run goes; the
    /// portal documents its limit, so it is kept exactly.
    pub fn default_pace(self, ceiling: Option<f64>) -> crate::engine::PaceMode {
        match self {
            BackendKind::Graph => crate::engine::PaceMode::Adaptive { ceiling },
            BackendKind::Portal => {
                crate::engine::PaceMode::Fixed(ceiling.unwrap_or(PORTAL_RATE).min(PORTAL_RATE * 10.0))
            }
        }
    }

    /// A pace for estimating a run's length before it starts (token-expiry warnings).
    pub fn planning_rate(self, ceiling: Option<f64>) -> f64 {
        match self.default_pace(ceiling) {
            crate::engine::PaceMode::Fixed(r) => r,
            _ => ceiling.unwrap_or(crate::engine::pacer::START_RATE),
        }
    }
}
