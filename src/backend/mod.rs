//! The directory APIs, behind one trait. A backend turns "activate this token for this
//! user with this code" into HTTP and maps the answer to [`ApiError`]; it never decides
//! what to do with a row (that is `activate`'s job). A new backend is one file.

pub mod graph;
pub mod portal;

use crate::record::TenantToken;
use std::future::Future;
use std::time::Duration;

/// A failed API call, classified for the executor.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 429, or 503 with `Retry-After`: wait and send again.
    Throttled { status: u16, retry_after: Option<Duration> },
    /// 5xx: the service failed. For writes the change may or may not have been applied.
    Unavailable { status: u16, code: String, message: String },
    /// No HTTP answer (connection refused, reset, timeout).
    Transport { maybe_applied: bool, message: String },
    /// 401/403: the token is wrong, expired or lacks a permission. Stops the run.
    Auth { status: u16, code: String, message: String },
    /// Any other 4xx: the service refused this request (wrong code, conflict, unknown user…).
    Rejected { status: u16, code: String, message: String, body: String },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Throttled { status, .. }
            | ApiError::Unavailable { status, .. }
            | ApiError::Auth { status, .. }
            | ApiError::Rejected { status, .. } => Some(*status),
            ApiError::Transport { .. } => None,
        }
    }
    pub fn code(&self) -> String {
        match self {
            ApiError::Throttled { .. } => "throttled".into(),
            ApiError::Transport { .. } => "transport".into(),
            ApiError::Unavailable { code, .. } | ApiError::Auth { code, .. } | ApiError::Rejected { code, .. } => {
                code.clone()
            }
        }
    }
    pub fn message(&self) -> String {
        match self {
            ApiError::Throttled { status, retry_after } => {
                format!("throttled (HTTP {status}, retry after {:?})", retry_after.unwrap_or_default())
            }
            ApiError::Transport { message, .. } => message.clone(),
            ApiError::Unavailable { message, .. } | ApiError::Auth { message, .. } | ApiError::Rejected { message, .. } => {
                message.clone()
            }
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status() {
            Some(s) => write!(f, "HTTP {s} {}: {}", self.code(), self.message()),
            None => write!(f, "{}", self.message()),
        }
    }
}

impl std::error::Error for ApiError {}

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

/// What a backend can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Can assign an available token to a user (Graph yes, portal no).
    pub assign: bool,
}

/// One directory API.
pub trait Backend: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn capabilities(&self) -> Capabilities;

    /// Every token in the tenant (every page).
    fn list_all(&self) -> impl Future<Output = Result<Vec<Device>, ApiError>> + Send;

    /// The tenant's tokens for these rows (`(serial, upn)` pairs). A backend picks the
    /// cheapest way: per-serial queries for a few rows, the whole inventory for many.
    fn find(&self, wanted: &[(String, String)]) -> impl Future<Output = Result<Vec<Device>, ApiError>> + Send;

    /// Device ids of the tokens `upn` holds: tells "assigned to this user" from a conflict
    /// when the inventory names holders only by id.
    fn device_ids_of_user(&self, upn: &str) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;

    /// Re-read one token (after an ambiguous failure). `Ok(None)`: gone.
    fn get(&self, device: &Device) -> impl Future<Output = Result<Option<Device>, ApiError>> + Send;

    /// Activate a token already assigned to `upn`.
    fn activate(
        &self,
        upn: &str,
        device: &Device,
        code: &str,
        display_name: Option<&str>,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Assign an available token to `upn` and activate it, in one request where possible.
    fn assign_and_activate(
        &self,
        upn: &str,
        device: &Device,
        code: &str,
        display_name: Option<&str>,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// Map a non-2xx reply to an [`ApiError`], with the API's own code/message extraction.
pub fn classify(reply: &crate::http::Reply, code: String, message: String) -> ApiError {
    let status = reply.status.as_u16();
    match status {
        401 | 403 => ApiError::Auth { status, code, message },
        429 => ApiError::Throttled { status, retry_after: reply.retry_after },
        503 if reply.retry_after.is_some() => ApiError::Throttled { status, retry_after: reply.retry_after },
        500..=599 => ApiError::Unavailable { status, code, message },
        _ => ApiError::Rejected { status, code, message, body: reply.text() },
    }
}
