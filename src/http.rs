//! Where a request is sent: the one HTTP layer both backends use. It attaches the bearer
//! token and request-id headers, feeds `Date` headers to the [`ServerClock`], counts
//! requests, and turns transport failures into [`ApiError`]s. One call is one attempt:
//! retrying, pacing and waiting belong to the request engine (`crate::engine`). It decides
//! nothing about rows and knows no backend.

use crate::api_error::{ApiError, RequestIds};
use crate::auth::TokenProvider;
use crate::clock::ServerClock;
use anyhow::{bail, Result};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// Accept `https://` anywhere, plain `http://` only for loopback hosts (the simulator).
pub fn validate_base_url(text: &str, what: &str) -> Result<Url> {
    let url = Url::parse(text).map_err(|e| anyhow::anyhow!("{what} '{text}' is not a URL: {e}"))?;
    // `https://graph.microsoft.com@evil.example/` goes to evil.example: a user name or
    // password in a base URL is a disguise (and would be a credential in argv), never meant.
    if !url.username().is_empty() || url.password().is_some() {
        let host = url.host_str().unwrap_or_default();
        bail!(
            "{what} carries a user name or password before '@': the request would go to '{host}', not to the \
             name before the '@'. Give the API's address alone (https://host/path)"
        );
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
                Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
                None => false,
            };
            if !loopback {
                bail!("{what} '{text}' uses plain http; only https is allowed except for loopback hosts (127.0.0.1, ::1, localhost)");
            }
        }
        other => bail!("{what} '{text}' has scheme '{other}'; use https"),
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{what} '{text}' must not carry a query or fragment");
    }
    Ok(url)
}

use crate::engine::Engine;
pub use crate::engine::Stats;
use crate::throttle_hint::Hint;

/// Map a non-2xx reply to an [`ApiError`], with the API's own code/message extraction, and
/// the reply's request ids.
pub fn classify(reply: &Reply, code: String, message: String) -> ApiError {
    let status = reply.status.as_u16();
    let mut message = crate::api_error::Message::from(message);
    message.ids = reply.request_ids();
    match status {
        401 | 403 => ApiError::Auth { status, code, message },
        429 => ApiError::Throttled { status, retry_after: reply.retry_after },
        503 if reply.retry_after.is_some() => ApiError::Throttled { status, retry_after: reply.retry_after },
        500..=599 => ApiError::Unavailable { status, code, message },
        _ => ApiError::Rejected { status, code, message, body: reply.text() },
    }
}

/// Which request-id headers an API wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStyle {
    /// Graph: `client-request-id`.
    Graph,
    /// Legacy portal: `x-ms-client-request-id` and `x-ms-correlation-id`.
    Portal,
}

/// A non-transport answer: any HTTP status, with its body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub retry_after: Option<Duration>,
    /// The id we sent, for support cases.
    pub client_request_id: String,
    /// The server's id for this answer (`request-id`; the portal's `x-ms-request-id`).
    pub request_id: Option<String>,
}

impl Reply {
    /// Both ids, for a failure about this answer.
    pub fn request_ids(&self) -> RequestIds {
        RequestIds { server: self.request_id.clone(), client: Some(self.client_request_id.clone()) }
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// This reply when it says success; else the API's error, as `error` reads the reply.
    pub fn success_or(self, error: impl FnOnce(&Reply) -> ApiError) -> Result<Reply, ApiError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(error(&self))
        }
    }
}

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    tokens: TokenProvider,
    clock: Arc<ServerClock>,
    stats: Arc<Stats>,
    style: HeaderStyle,
    /// The configured API's origin: the only place the bearer token is sent.
    origin: Option<crate::http_guard::Origin>,
    /// The whole-response deadline the client was built with (`--http-timeout`), for errors.
    deadline: Duration,
    /// The run's engine, when the client was built for a run ([`ApiClient::retrying_reads`]):
    /// it retries reads and is stopped by an answer that stalls. `None`: one attempt each.
    run: Option<Arc<Engine>>,
}

/// `--http-timeout`'s default: a Graph page of 999 tokens takes well under a second.
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// The range `--http-timeout` accepts: below 1 s a sound request may not fit; above 10 min a
/// stalled one costs more than re-running with `--resume`.
pub const TIMEOUT_RANGE_SECS: std::ops::RangeInclusive<u64> = 1..=600;

/// The reqwest client every backend uses: no redirects to other hosts, bounded waits, the
/// environment's proxy for real hosts and never one for loopback hosts. Every request,
/// connection to the last byte of the answer, ends within `deadline`.
pub fn build_http(deadline: Duration) -> Result<reqwest::Client> {
    build_http_with(deadline, crate::proxy::ProxyEnv::from_env())
}

/// [`build_http`] with these proxy settings ([`crate::proxy::ProxyEnv::direct`] for the
/// in-process simulator). reqwest's own reading of the proxy variables is switched off: it
/// would send plain-http loopback traffic (the bearer token, the client secret, seeds) to
/// a proxy; [`crate::proxy::ProxyEnv::proxy_for`] decides instead.
pub fn build_http_with(deadline: Duration, proxies: crate::proxy::ProxyEnv) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("oathbulk/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(deadline)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .no_proxy();
    if proxies.any() {
        builder = builder.proxy(reqwest::Proxy::custom(move |url| proxies.proxy_for(url).map(|p| p.url)));
    }
    Ok(builder.build()?)
}

impl ApiClient {
    pub fn new(
        http: reqwest::Client,
        tokens: TokenProvider,
        clock: Arc<ServerClock>,
        stats: Arc<Stats>,
        style: HeaderStyle,
    ) -> Self {
        let deadline = Duration::from_secs(DEFAULT_TIMEOUT_SECS);
        Self { http, tokens, clock, stats, style, origin: None, deadline, run: None }
    }

    /// Retry every read (GET, safe to repeat) under `engine`'s one policy — throttling, 5xx,
    /// dropped connections — request by request, so a listing of many pages never restarts
    /// from page one and planners call backend reads directly: one retry loop, never two.
    /// Composed where the client is built, as a middleware would be; writes stay one attempt.
    pub fn retrying_reads(mut self, engine: Arc<Engine>) -> Self {
        self.run = Some(engine);
        self
    }

    /// The deadline `http` was built with, so that errors can name it.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Send the bearer token to `base`'s origin (scheme, host, port) and nowhere else: a
    /// next link, `Location` or upload link elsewhere ends the read with an error.
    pub fn pinned_to(mut self, base: &Url) -> Self {
        self.origin = crate::http_guard::Origin::of(base);
        self
    }

    pub fn tokens(&self) -> &TokenProvider {
        &self.tokens
    }
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }
    pub fn clock(&self) -> &Arc<ServerClock> {
        &self.clock
    }

    /// Send one request. HTTP errors come back as `Ok(Reply)`; only transport failures are
    /// `Err`. A write is sent once: whether to send it again is its planner's decision, after
    /// asking the tenant. A read is retried when the client was built to
    /// ([`ApiClient::retrying_reads`]). A 401 on a renewable credential (app-only, device
    /// code) renews it and sends again, once: that is sign-in, not a retry.
    pub async fn send(&self, method: Method, url: &str, body: Option<&serde_json::Value>) -> Result<Reply, ApiError> {
        if let (true, Some(engine)) = (method == Method::GET, &self.run) {
            return self.read(engine, url).await;
        }
        self.send_renewing(method, url, body).await
    }

    async fn send_renewing(
        &self,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, ApiError> {
        let reply = self.send_once(method.clone(), url, body).await?;
        if reply.status == StatusCode::UNAUTHORIZED
            && self.tokens.can_refresh()
            && self.tokens.force_refresh().await.is_ok()
        {
            return self.send_once(method, url, body).await;
        }
        Ok(reply)
    }

    /// A GET through the engine: a throttled or failed answer is an error for the engine's
    /// policy to retry; the last answer goes back as it came once the policy gives up, so
    /// the backend classifies it as it would any other.
    async fn read(&self, engine: &Engine, url: &str) -> Result<Reply, ApiError> {
        let last = std::sync::Mutex::new(None::<Reply>);
        let result = engine
            .read(|| async {
                let reply = self.send_renewing(Method::GET, url, None).await?;
                let throttled = reply.status == StatusCode::TOO_MANY_REQUESTS
                    || (reply.status == StatusCode::SERVICE_UNAVAILABLE && reply.retry_after.is_some());
                let error = if throttled {
                    ApiError::Throttled { status: reply.status.as_u16(), retry_after: reply.retry_after }
                } else if reply.status.is_server_error() {
                    let status = reply.status.as_u16();
                    ApiError::Unavailable { status, code: String::new(), message: reply.text().into() }
                        .with_request_ids(reply.request_ids())
                } else {
                    return Ok(reply);
                };
                *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(reply);
                Err(error)
            })
            .await;
        match result {
            Ok(reply) => Ok(reply),
            Err(e @ ApiError::Transport { .. }) => Err(e),
            Err(e) => last.into_inner().unwrap_or_else(|p| p.into_inner()).map(Ok).unwrap_or(Err(e)),
        }
    }

    async fn send_once(&self, method: Method, url: &str, body: Option<&serde_json::Value>) -> Result<Reply, ApiError> {
        if let Some(origin) = &self.origin {
            crate::http_guard::same_origin(origin, url)?;
        }
        let token = self.tokens.bearer().await.map_err(|e| ApiError::Auth {
            status: 401,
            code: "token_refresh_failed".into(),
            message: format!("{e:#}").into(),
        })?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut req = self
            .http
            .request(method.clone(), url)
            .bearer_auth(token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        req = match self.style {
            HeaderStyle::Graph => req.header("client-request-id", &id).header("return-client-request-id", "true"),
            HeaderStyle::Portal => req
                .header("x-ms-client-request-id", &id)
                .header("x-ms-correlation-id", uuid::Uuid::new_v4().to_string()),
        };
        req = match body {
            Some(b) => req.json(b),
            // Graph's front ends answer a bodyless POST/PATCH without a length with 411 Length
            // Required: every write states its (empty) length.
            None if method != Method::GET && method != Method::HEAD => req
                .header(reqwest::header::CONTENT_LENGTH, "0")
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(Vec::<u8>::new()),
            None => req,
        };
        Stats::bump(&self.stats.requests);
        let sent = SystemTime::now();
        let mut ids = RequestIds { server: None, client: Some(id.clone()) };
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(self.no_answer(&method).with_request_ids(ids)),
            Err(e) => return Err(transport_error(&e, &method).with_request_ids(ids)),
        };
        let received = SystemTime::now();
        self.stats.record_latency(received.duration_since(sent).unwrap_or_default());
        if let Some(date) = resp.headers().get(reqwest::header::DATE).and_then(|v| v.to_str().ok()) {
            if let Ok(d) = httpdate::parse_http_date(date) {
                self.clock.observe(d, sent, received);
            }
        }
        let status = resp.status();
        let retry_after =
            resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        if let Some(wait) =
            retry_after.filter(|_| status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE)
        {
            // The progress bar says why the run stands still (the engine does the waiting).
            crate::diag::tenant_asked_wait(wait);
        }
        if let (Some(engine), false) = (&self.run, method == Method::GET || status == StatusCode::TOO_MANY_REQUESTS) {
            // A write the tenant answered: what it says of its limits goes to the pace.
            let headers = resp.headers();
            if let Some(hint) = Hint::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok())) {
                engine.told(hint);
            }
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        ids.server = server_request_id(resp.headers());
        let body = self.read_capped(resp, &method).await.map_err(|e| e.with_request_ids(ids.clone()))?;
        crate::http_guard::check_json_body(status.as_u16(), &content_type, &body)
            .map_err(|e| e.with_request_ids(ids.clone()))?;
        Ok(Reply { status, body, retry_after, client_request_id: id, request_id: ids.server })
    }
}

impl ApiClient {
    /// No answer within the deadline: like a dropped connection, a transient failure the
    /// engine's policy may retry (a busy server answers the next attempt).
    fn no_answer(&self, method: &Method) -> ApiError {
        ApiError::Transport {
            maybe_applied: method != Method::GET,
            message: format!("no answer within {} s (--http-timeout)", self.deadline.as_secs()).into(),
        }
    }

    /// The server answered, then did not finish within the deadline (a slow drip): sending
    /// the request again would cost the whole deadline each time, so the run stops here
    /// (network, exit 4; rows not reached are `not_attempted`, `--resume` picks them up).
    /// Commands without a run engine (`tenant`, `doctor`) make one attempt and report it.
    fn unfinished_answer(&self, method: &Method) -> ApiError {
        let message = format!(
            "the server started its answer but did not finish it within {} s (--http-timeout); stopped waiting",
            self.deadline.as_secs()
        );
        if let Some(engine) = &self.run {
            engine.abort(
                crate::stop::StopReason::Network,
                format!("{message}. Run again with --resume (with a larger --http-timeout if the link is slow)"),
            );
        }
        ApiError::Transport { maybe_applied: method != Method::GET, message: message.into() }
    }

    /// The body, at most [`crate::http_guard::MAX_BODY_BYTES`] of it: an endless or huge
    /// answer is an error, not a memory exhaustion; one that does not end in time too.
    async fn read_capped(&self, mut resp: reqwest::Response, method: &Method) -> Result<Vec<u8>, ApiError> {
        let status = resp.status().as_u16();
        let cap = crate::http_guard::MAX_BODY_BYTES;
        if resp.content_length().is_some_and(|n| n > cap as u64) {
            return Err(crate::http_guard::too_large(status));
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > cap {
                        return Err(crate::http_guard::too_large(status));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) if e.is_timeout() => return Err(self.unfinished_answer(method)),
                Err(e) => return Err(transport_error(&e, method)),
            }
        }
    }
}

/// The server's id for an answer: Graph's `request-id`, the portal's `x-ms-request-id`. A
/// value longer than any request id is not one (it would only bloat the error log).
fn server_request_id(headers: &reqwest::header::HeaderMap) -> Option<String> {
    ["request-id", "x-ms-request-id"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_string)
}

/// `Retry-After`: delta-seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v.trim()).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or_default())
}

fn transport_error(e: &reqwest::Error, method: &Method) -> ApiError {
    // Before the connection was made nothing reached the server; after, a write may
    // have been applied even though we saw no answer.
    let maybe_applied = !e.is_connect() && !e.is_builder() && method != Method::GET;
    // reqwest's Display never includes headers; the URL carries no secret either.
    let mut message = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        message.push_str(": ");
        message.push_str(&s.to_string());
        src = s.source();
    }
    ApiError::Transport { maybe_applied, message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(validate_base_url("https://graph.microsoft.com/beta", "--graph-url").is_ok());
        assert!(validate_base_url("http://127.0.0.1:8080/graph/beta", "--graph-url").is_ok());
        assert!(validate_base_url("http://127.9.9.9:1/x", "--graph-url").is_ok());
        assert!(validate_base_url("http://[::1]:8080/x", "--graph-url").is_ok());
        assert!(validate_base_url("http://localhost:8080/x", "--graph-url").is_ok());
        assert!(validate_base_url("http://graph.microsoft.com/beta", "--graph-url").is_err());
        assert!(validate_base_url("http://10.0.0.1/beta", "--graph-url").is_err());
        assert!(validate_base_url("ftp://127.0.0.1/beta", "--graph-url").is_err());
    }

    #[test]
    fn userinfo_in_a_base_url_is_refused() {
        for bad in [
            "https://graph.microsoft.com@evil.example/beta",
            "https://graph.microsoft.com:443@evil.example/beta",
            "https://user:pass@graph.microsoft.com/beta",
            "http://graph.microsoft.com@127.0.0.1:8080/beta",
        ] {
            let e = validate_base_url(bad, "--graph-url").unwrap_err().to_string();
            assert!(e.contains("before '@'"), "{bad}: {e}");
            assert!(!e.contains("user:pass"), "the password is not repeated: {e}");
        }
        assert!(validate_base_url("https://graph.microsoft.com/beta/users/a@b.c", "--graph-url").is_ok());
    }

    #[test]
    fn the_server_request_id_is_read_under_either_api_name() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(server_request_id(&h), None);
        h.insert("x-ms-request-id", "portal-1".parse().unwrap());
        assert_eq!(server_request_id(&h).as_deref(), Some("portal-1"));
        h.insert("request-id", " graph-1 ".parse().unwrap());
        assert_eq!(server_request_id(&h).as_deref(), Some("graph-1"));
        h.insert("request-id", "x".repeat(200).parse().unwrap());
        assert_eq!(server_request_id(&h), None, "not an id: left out");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert!(parse_retry_after("soon").is_none());
    }

    fn reply(status: u16) -> Reply {
        Reply {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body: br#"{"error":{"code":"x"}}"#.to_vec(),
            retry_after: None,
            client_request_id: "ours-1".into(),
            request_id: Some("theirs-1".into()),
        }
    }

    #[test]
    fn a_classified_failure_names_the_request_it_is_about() {
        let both = RequestIds { server: Some("theirs-1".into()), client: Some("ours-1".into()) };
        for status in [400, 401, 404, 500] {
            let e = classify(&reply(status), "x".into(), "refused".into());
            assert_eq!(e.request_ids(), both, "HTTP {status}");
            assert_eq!(e.message(), "refused");
        }
        // A throttled answer is waited out and sent again, never logged: it keeps no ids.
        let throttled = classify(&reply(429), "x".into(), "slow".into()).with_request_ids(both.clone());
        assert_eq!(throttled.request_ids(), RequestIds::default());
        let made_here: ApiError = ApiError::Transport { maybe_applied: true, message: "reset".into() };
        assert_eq!(made_here.clone().with_request_ids(both.clone()).request_ids(), both);
        assert_eq!(made_here.request_ids(), RequestIds::default());
    }
}
