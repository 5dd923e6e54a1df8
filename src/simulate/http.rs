//! The server: our own accept loop (so a request can close its connection without an HTTP
//! response), the gate every request passes (latency, faults, auth, throttling, `Date`), and
//! response helpers.

use super::{Answered, Shared};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;

pub(crate) const PORTAL_PREFIX: &str = "/portal/api/MultifactorAuthentication/HardwareToken";

/// Put into every request: notifying it closes the connection at once, with no response.
#[derive(Clone)]
struct ConnAbort(Arc<Notify>);

/// Per-request facts handlers need (inserted by the gate).
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub(crate) request_id: String,
    pub(crate) client_request_id: String,
    /// Simulator clock, Unix seconds.
    pub(crate) now: u64,
    api: Api,
    route: &'static str,
    /// Counted against the write limits (its answer may carry throttle hints).
    limited: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Api {
    Graph,
    Portal,
    Login,
    Control,
}

fn api_of(path: &str) -> Api {
    if path.starts_with("/graph/") {
        Api::Graph
    } else if path.starts_with("/portal/") {
        Api::Portal
    } else if path.starts_with("/login/") {
        Api::Login
    } else {
        Api::Control
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest("/graph/beta", super::graph::routes())
        .nest(PORTAL_PREFIX, super::portal::routes())
        .nest("/login", super::login::routes())
        .route("/_sim/state", get(sim_state))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

async fn sim_state(State(sim): State<Arc<Shared>>) -> Response {
    Json(sim.snapshot()).into_response()
}

async fn not_found(State(_sim): State<Arc<Shared>>, ctx: Option<axum::Extension<Ctx>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    match (api_of(&path), ctx) {
        (Api::Graph, Some(axum::Extension(ctx))) => graph_error(
            &ctx,
            StatusCode::NOT_FOUND,
            "Request_UnsupportedQuery",
            &format!("Unsupported segment in '{path}' (the simulator serves only the hardware OATH subset)."),
        ),
        (Api::Portal, _) => portal_error(StatusCode::NOT_FOUND, "NotFound", "No such portal endpoint."),
        _ => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

/// Accept connections until `stop` turns true, then let open connections finish (≤ 2 s).
pub(crate) async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve_conn(stream, router.clone(), stop.clone()));
                }
                // EMFILE and friends: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(3), drain).await.is_err() {
        conns.abort_all();
    }
}

async fn serve_conn(stream: tokio::net::TcpStream, router: Router, mut stop: watch::Receiver<bool>) {
    let abort = Arc::new(Notify::new());
    let handle = ConnAbort(abort.clone());
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(handle.clone());
        key_form_to_segment(&mut req);
        router.clone().oneshot(req.map(Body::new))
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        // Dropping the connection closes the socket: the client gets no response.
        _ = abort.notified() => {}
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = abort.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    }
}

/// Graph addresses a user as `/users/{key}` or in the OData key form `/users('{key}')`
/// (quotes doubled inside). The router knows one shape: the key form becomes the segment
/// `'{key}'`, quotes kept, so handlers can tell it from a bare `$…` segment (which Graph
/// reads as a system segment and refuses).
fn key_form_to_segment<B>(req: &mut hyper::Request<B>) {
    let uri = req.uri();
    let path = uri.path();
    let Some(at) = path.find("/users(") else { return };
    let rest = &path[at + "/users(".len()..];
    let Some(close) = rest.find(')') else { return };
    let inner = &rest[..close];
    let segment = format!("/users/{}", encode_query_value(&percent_decode(inner)));
    let mut new = format!("{}{segment}{}", &path[..at], &rest[close + 1..]);
    if let Some(q) = uri.query() {
        new.push('?');
        new.push_str(q);
    }
    if let Ok(u) = new.parse() {
        *req.uri_mut() = u;
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        match (bytes[i], bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b))) {
            (b'%', Some(h), Some(l)) => {
                out.push(h * 16 + l);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    // Not holding the borrow guard across awaits keeps the future `Send`.
    let _ = stop.wait_for(|s| *s).await;
}

/// Close the request's connection without answering; never returns.
async fn drop_connection(abort: Option<ConnAbort>) -> Response {
    match abort {
        Some(ConnAbort(n)) => {
            n.notify_one();
            std::future::pending::<Response>().await
        }
        // Served some other way (no accept loop of ours): the closest thing is a bare 502.
        None => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// A name per route for the counters, from the method and path.
fn route_name(api: Api, method: &Method, path: &str) -> &'static str {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let post = method == Method::POST;
    let (patch, delete) = (method == Method::PATCH, method == Method::DELETE);
    let last = segs.last().copied().unwrap_or("");
    let before = segs.len().checked_sub(2).map_or("", |i| segs[i]);
    match api {
        Api::Graph => match (last, before) {
            ("hardwareOathDevices", _) if post => "graph.create_device",
            ("hardwareOathDevices", _) if patch => "graph.bulk_create",
            ("hardwareOathDevices", _) => "graph.list_devices",
            (_, "hardwareOathDevices") if delete => "graph.delete_device",
            (_, "hardwareOathDevices") => "graph.get_device",
            ("hardwareOathMethods", _) if post => "graph.assign",
            ("hardwareOathMethods", _) => "graph.list_methods",
            ("assignAndActivate", _) => "graph.assign_and_activate",
            ("assignAndActivateBySerialNumber", _) => "graph.assign_and_activate_by_serial",
            ("activate", _) => "graph.activate",
            ("deactivate", _) => "graph.deactivate",
            (_, "hardwareOathMethods") if delete => "graph.unassign",
            (_, "hardwareOathMethods") => "graph.get_method",
            ("users", _) => "graph.list_users",
            (_, "users") => "graph.get_user",
            ("hardwareOath", _) if patch => "graph.update_policy",
            ("hardwareOath", _) => "graph.get_policy",
            _ => "graph.other",
        },
        Api::Portal => match last {
            "users" => "portal.list",
            "enable" => "portal.enable",
            "upload" => "portal.upload",
            "listUploads" => "portal.list_uploads",
            _ => "portal.other",
        },
        Api::Login => match last {
            "token" => "login.token",
            "devicecode" => "login.devicecode",
            _ => "login.other",
        },
        Api::Control => "control",
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty())
}

/// What the configured faults do to one request.
enum Fate {
    Normal,
    Fail(StatusCode),
    DropBefore,
    DropAfter,
}

/// Every request passes here (`/_sim` only gets its `Date`): counted, given its fault, held
/// to the tenant's limits and the request rules, then handled.
async fn gate(State(sim): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let api = api_of(req.uri().path());
    if api == Api::Control {
        return finish(&sim, None, next.run(req).await);
    }
    let method = req.method().clone();
    if api == Api::Graph {
        if let Some(recorder) = &sim.recorder {
            req = record(recorder, req).await;
        }
    }
    let is_write = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let route = route_name(api, &method, req.uri().path());
    let client_request_id = match api {
        Api::Portal => header_str(req.headers(), "x-ms-client-request-id"),
        _ => header_str(req.headers(), "client-request-id"),
    }
    .map(str::to_string);
    let ctx = Ctx {
        request_id: uuid::Uuid::new_v4().to_string(),
        client_request_id: client_request_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        now: sim.now_unix(),
        api,
        route,
        limited: false,
    };
    let abort = req.extensions().get::<ConnAbort>().cloned();
    let cfg = &sim.config;
    let body = BodyFacts::of(&method, req.headers());
    let fate = count_and_roll(&sim, api, route, is_write);
    let limited = matches!(api, Api::Graph | Api::Portal) && (is_write || cfg.rate_limit_reads);
    let in_flight = limited.then(|| InFlight::enter(&sim));
    if cfg.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(cfg.latency_ms)).await;
    }
    // Refresh the clock after the delay: handlers verify codes against it.
    let ctx = Ctx { now: sim.now_unix(), limited, ..ctx };
    let ctx = &ctx;
    match fate {
        Fate::Fail(status) => return finish(&sim, Some(ctx), injected_failure(api, ctx, status)),
        Fate::DropBefore => return drop_connection(abort).await,
        _ => {}
    }
    if let Some(resp) = refused_body(&sim, api, ctx, &body) {
        return answer(&sim, ctx, fate, abort, resp).await;
    }
    if let Some(secs) = in_flight.as_ref().and_then(|f| f.refused) {
        sim.lock().counters.throttled += 1;
        return finish(&sim, Some(ctx), throttled(api, ctx, secs));
    }
    if matches!(api, Api::Graph | Api::Portal) {
        if let Err(resp) = check_request(&sim, api, ctx, req.headers(), is_write, client_request_id.is_some()) {
            return answer(&sim, ctx, fate, abort, resp).await;
        }
    }
    req.extensions_mut().insert(ctx.clone());
    let resp = next.run(req).await;
    answer(&sim, ctx, fate, abort, resp).await
}

/// The answer as sent, or none when the fault drops the connection after handling.
async fn answer(sim: &Shared, ctx: &Ctx, fate: Fate, abort: Option<ConnAbort>, resp: Response) -> Response {
    match fate {
        Fate::DropAfter => drop_connection(abort).await,
        _ => finish(sim, Some(ctx), resp),
    }
}

/// What a request's headers say of its body.
struct BodyFacts {
    /// POST, PATCH or PUT.
    is_body_write: bool,
    /// A body write saying neither its length nor that it is chunked.
    lacks_length: bool,
    has_body: bool,
    json_typed: bool,
}

impl BodyFacts {
    fn of(method: &Method, headers: &HeaderMap) -> Self {
        let is_body_write = matches!(*method, Method::POST | Method::PATCH | Method::PUT);
        // Graph's 411 text asks for a length or a chunked body: either states where the body ends.
        let chunked = header_str(headers, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let lacks_length = is_body_write && headers.get(header::CONTENT_LENGTH).is_none() && !chunked;
        let has_body =
            chunked || header_str(headers, "content-length").and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n > 0);
        let json_typed = header_str(headers, "content-type")
            .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
        Self { is_body_write, lacks_length, has_body, json_typed }
    }
}

/// Count the request, and roll its fault (`--fail-rate`, `--drop-rate`; never on sign-in).
fn count_and_roll(sim: &Shared, api: Api, route: &str, is_write: bool) -> Fate {
    let cfg = &sim.config;
    let mut t = sim.lock();
    t.counters.requests += 1;
    *t.counters.requests_by_route.entry(route.to_string()).or_default() += 1;
    if is_write && api != Api::Login {
        t.counters.writes += 1;
    }
    if api == Api::Login || (cfg.fail_rate <= 0.0 && cfg.drop_rate <= 0.0) {
        return Fate::Normal;
    }
    let r = t.roll();
    if r < cfg.fail_rate {
        t.counters.faults += 1;
        t.counters.faults_5xx += 1;
        Fate::Fail(if t.roll() < 0.5 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::INTERNAL_SERVER_ERROR })
    } else if r < cfg.fail_rate + cfg.drop_rate {
        t.counters.faults += 1;
        if t.roll() < cfg.drop_after_share {
            t.counters.drops_after += 1;
            Fate::DropAfter
        } else {
            t.counters.drops_before += 1;
            Fate::DropBefore
        }
    } else {
        Fate::Normal
    }
}

/// The 5xx answer of a `--fail-rate` fault (a 503 says when to retry).
fn injected_failure(api: Api, ctx: &Ctx, status: StatusCode) -> Response {
    let mut resp = match api {
        Api::Portal => portal_error(status, "InternalServerError", "The service is temporarily unavailable."),
        _ if status == StatusCode::SERVICE_UNAVAILABLE => graph_error(
            ctx,
            status,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry later.",
        ),
        _ => graph_error(ctx, status, "generalException", "General exception while processing."),
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// Graph's refusal of a write's body framing: no length (411, reading `length-required`) or
/// a body that is not said to be JSON (415).
fn refused_body(sim: &Shared, api: Api, ctx: &Ctx, body: &BodyFacts) -> Option<Response> {
    if api != Api::Graph {
        return None;
    }
    if body.lacks_length && sim.config.readings.length_required {
        // Graph's front ends refuse a write that does not say its length, body or not.
        sim.lock().counters.length_required += 1;
        return Some(graph_error(ctx, StatusCode::LENGTH_REQUIRED, "LengthRequired", "Length Required"));
    }
    if body.is_body_write && body.has_body && !body.json_typed {
        // A JSON write must say so (the CSDL's bodies are JSON; Graph reads nothing else).
        return Some(graph_error(
            ctx,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "A request body must be sent with Content-Type: application/json.",
        ));
    }
    None
}

/// Writes the request to the record and hands it on with its body (read whole; 16 MiB at most).
async fn record(recorder: &super::recorder::Recorder, req: Request) -> Request {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
    let path = parts.uri.path().strip_prefix("/graph/beta").unwrap_or(parts.uri.path());
    recorder.record(parts.method.as_str(), path, parts.uri.query(), &parts.headers, &bytes);
    Request::from_parts(parts, Body::from(bytes))
}

/// Auth, privileges, portal headers and throttling, in that order.
fn check_request(
    sim: &Shared,
    api: Api,
    ctx: &Ctx,
    headers: &HeaderMap,
    is_write: bool,
    has_client_request_id: bool,
) -> Result<(), Response> {
    let cfg = &sim.config;
    let error = |status: StatusCode, code: &str, message: &str| match api {
        Api::Portal => portal_error(status, code, message),
        _ => graph_error(ctx, status, code, message),
    };
    let unauthorized = |message: &str| {
        let mut r = error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"\", error=\"invalid_token\""));
        r
    };
    let bearer = header_str(headers, "authorization").and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
    });
    let mut t = sim.lock();
    let Some(token) = bearer else {
        t.counters.unauthorized += 1;
        return Err(unauthorized("Access token is empty."));
    };
    if let Some(&exp) = t.issued.get(token) {
        if ctx.now >= exp {
            t.counters.unauthorized += 1;
            return Err(unauthorized("Lifetime validation failed, the token is expired."));
        }
    } else {
        if cfg.expected_token.as_deref().is_some_and(|expected| expected != token) {
            t.counters.unauthorized += 1;
            return Err(unauthorized("Access token validation failure. Invalid audience."));
        }
        if cfg.expire_token_after_requests.is_some_and(|limit| t.static_uses >= limit) {
            t.counters.unauthorized += 1;
            return Err(unauthorized("Lifetime validation failed, the token is expired."));
        }
        t.static_uses += 1;
    }
    if cfg.forbidden {
        t.counters.forbidden += 1;
        return Err(error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ));
    }
    if api == Api::Portal && !has_client_request_id {
        return Err(portal_error(
            StatusCode::BAD_REQUEST,
            "MissingClientRequestId",
            "x-ms-client-request-id is required.",
        ));
    }
    if api == Api::Portal && uuid::Uuid::parse_str(&ctx.client_request_id).is_err() {
        return Err(portal_error(
            StatusCode::BAD_REQUEST,
            "InvalidClientRequestId",
            "x-ms-client-request-id must be a GUID.",
        ));
    }
    if is_write || cfg.rate_limit_reads {
        if let Err(secs) = t.take_limited() {
            t.counters.throttled += 1;
            return Err(throttled(api, ctx, secs));
        }
    }
    Ok(())
}

/// 429 with the whole seconds to wait, as Graph words it.
fn throttled(api: Api, ctx: &Ctx, secs: u64) -> Response {
    let (status, code) = (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
    let message = "Too many requests, please retry after the time in the Retry-After header.";
    let mut r = match api {
        Api::Portal => portal_error(status, code, message),
        _ => graph_error(ctx, status, code, message),
    };
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r.headers_mut().insert("x-ms-throttle-limit-percentage", HeaderValue::from_static("1.0"));
    r
}

/// A request counted against the concurrency limits while it is served (from before its
/// latency until its answer, whichever way it ends).
struct InFlight {
    sim: Arc<Shared>,
    /// Refused on arrival: too many in flight (the seconds to wait).
    refused: Option<u64>,
}

impl InFlight {
    fn enter(sim: &Arc<Shared>) -> Self {
        let refused = sim.lock().limits.enter().err();
        Self { sim: sim.clone(), refused }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.refused.is_none() {
            self.sim.lock().limits.leave();
        }
    }
}

/// `Date` from the simulator clock, and on every answer of an API (errors included) the
/// request ids as that API names them: Graph (and the identity platform) `request-id` and
/// `client-request-id`, the portal `x-ms-request-id` and `x-ms-client-request-id`. Each answer
/// is kept in the state (`answers`), so a test can tell which ids a client was given.
fn finish(sim: &Shared, ctx: Option<&Ctx>, mut resp: Response) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(sim.now())) {
        h.insert(header::DATE, v);
    }
    let Some(ctx) = ctx else { return resp };
    if ctx.limited && resp.status() != StatusCode::TOO_MANY_REQUESTS {
        if let Some(style) = sim.config.throttle_hints {
            let headroom = sim.lock().limits_headroom();
            if let Some(room) = headroom {
                super::hints::insert(resp.headers_mut(), style, room);
            }
        }
    }
    let h = resp.headers_mut();
    let (server, client) = match ctx.api {
        Api::Portal => ("x-ms-request-id", "x-ms-client-request-id"),
        _ => ("request-id", "client-request-id"),
    };
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        h.insert(server, v);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.client_request_id) {
        h.insert(client, v);
    }
    let mut t = sim.lock();
    let at_ms = t.age().as_millis() as u64;
    t.answers.push(Answered {
        at_ms,
        route: ctx.route.to_string(),
        status: resp.status().as_u16(),
        request_id: ctx.request_id.clone(),
        client_request_id: ctx.client_request_id.clone(),
    });
    resp
}

/// RFC 3339 UTC for Unix seconds.
pub(crate) fn rfc3339(unix: u64) -> String {
    chrono::DateTime::from_timestamp(unix as i64, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The Graph error envelope.
pub(crate) fn graph_error(ctx: &Ctx, status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": rfc3339(ctx.now),
                "request-id": ctx.request_id,
                "client-request-id": ctx.client_request_id,
            }
        }
    });
    (status, Json(body)).into_response()
}

/// The portal's error body.
pub(crate) fn portal_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "message": message, "errorCode": code }))).into_response()
}

pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Query string pairs, percent-decoded (`+` is a space).
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect()
}

/// Percent-encode a query value (RFC 3986 unreserved characters stay).
pub(crate) fn encode_query_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An opaque paging token for a position in the device list.
pub(crate) fn encode_skip(index: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sim1:{index}"))
}

pub(crate) fn decode_skip(token: &str) -> Option<usize> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    std::str::from_utf8(&raw).ok()?.strip_prefix("sim1:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_tokens_round_trip() {
        assert_eq!(decode_skip(&encode_skip(1234)), Some(1234));
        assert_eq!(decode_skip("garbage"), None);
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query_value("serialNumber eq 'A B'"), "serialNumber%20eq%20%27A%20B%27");
    }
}
