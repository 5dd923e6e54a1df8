//! A failed API call, classified once for every layer: the HTTP layer makes these from
//! transport failures and answers (`http::classify`), the engine decides on them. A leaf
//! module (it imports nothing from the crate), so no layer imports upwards.

use std::time::Duration;

/// A failed API call, classified for the executor.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 429, or 503 with `Retry-After`: wait and send again.
    Throttled { status: u16, retry_after: Option<Duration> },
    /// 5xx: the service failed. For writes the change may or may not have been applied.
    Unavailable { status: u16, code: String, message: Message },
    /// No HTTP answer (connection refused, reset, timeout).
    Transport { maybe_applied: bool, message: Message },
    /// 401/403: the token is wrong, expired or lacks a permission. Stops the run.
    Auth { status: u16, code: String, message: Message },
    /// Any other 4xx: the service refused this request (wrong code, conflict, unknown user…).
    Rejected { status: u16, code: String, message: Message, body: String },
}

/// The ids that find one request in the service's logs, for support cases: the server's
/// (Graph's `request-id`, the portal's `x-ms-request-id`) and the one we sent
/// (`client-request-id` / `x-ms-client-request-id`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestIds {
    pub server: Option<String>,
    pub client: Option<String>,
}

/// A failure's text, and the request it is about. Made from any string (`"…".into()`); the
/// HTTP layer and `http::classify` attach the ids of the answer (or of the request that got none).
/// The ids ride here, inside the variants' one shared field, so that every place that builds
/// or matches an `ApiError` keeps its shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    text: String,
    pub ids: RequestIds,
}

impl Message {
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self { text, ids: RequestIds::default() }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        text.to_string().into()
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
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
    /// The `http_status`, `error_code` and `error_message` a result record shows for this error.
    pub fn record_fields(&self) -> (Option<u16>, Option<String>, Option<String>) {
        (self.status(), Some(self.code()), Some(self.message()))
    }
    pub fn message(&self) -> String {
        match self {
            ApiError::Throttled { status, retry_after } => {
                format!("throttled (HTTP {status}, retry after {:?})", retry_after.unwrap_or_default())
            }
            ApiError::Transport { message, .. }
            | ApiError::Unavailable { message, .. }
            | ApiError::Auth { message, .. }
            | ApiError::Rejected { message, .. } => message.to_string(),
        }
    }

    fn message_mut(&mut self) -> Option<&mut Message> {
        match self {
            ApiError::Throttled { .. } => None,
            ApiError::Transport { message, .. }
            | ApiError::Unavailable { message, .. }
            | ApiError::Auth { message, .. }
            | ApiError::Rejected { message, .. } => Some(message),
        }
    }

    /// The ids of the request this failure is about (empty when unknown, or throttled).
    pub fn request_ids(&self) -> RequestIds {
        match self {
            ApiError::Throttled { .. } => RequestIds::default(),
            ApiError::Transport { message, .. }
            | ApiError::Unavailable { message, .. }
            | ApiError::Auth { message, .. }
            | ApiError::Rejected { message, .. } => message.ids.clone(),
        }
    }

    /// The same failure, about the request with these ids.
    pub fn with_request_ids(mut self, ids: RequestIds) -> Self {
        if let Some(m) = self.message_mut() {
            m.ids = ids;
        }
        self
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
