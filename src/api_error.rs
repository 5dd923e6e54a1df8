//! A failed API call, classified once for every layer: the HTTP layer makes these from
//! transport failures, the backends from HTTP answers ([`classify`]), the engine decides on
//! them. A leaf module (it knows only the HTTP reply type), so no layer imports upwards.

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
            ApiError::Unavailable { message, .. }
            | ApiError::Auth { message, .. }
            | ApiError::Rejected { message, .. } => message.clone(),
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
