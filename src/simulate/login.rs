//! The token endpoint, under `/login/{tenant}/oauth2/v2.0/`: client credentials (a client
//! secret, or a client assertion signed with a registered certificate: `assertion.rs`), a
//! self-approving device-code flow, and refresh tokens.

use super::http::{json_response, rfc3339, Ctx};
use super::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

type Reply = Result<Response, Response>;

pub(crate) const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
pub(crate) const ROLES: [&str; 2] = ["UserAuthenticationMethod.ReadWrite.All", "Policy.ReadWrite.AuthenticationMethod"];
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 7523 §2.2, spelled here from the RFC (not borrowed from the client).
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// What a device-code poll may answer (`SimConfig::device_code_flow`).
pub(crate) const FLOW_STEPS: [&str; 6] = [
    "authorization_pending",
    "slow_down",
    "success",
    "authorization_declined",
    "expired_token",
    "bad_verification_code",
];

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode))
}

fn oauth_error(ctx: &Ctx, status: StatusCode, error: &str, codes: u32, description: &str) -> Response {
    json_response(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{codes}: {description} Trace ID: {} Correlation ID: {} Timestamp: {}",
                ctx.request_id, ctx.client_request_id, rfc3339(ctx.now)),
            "error_codes": [codes],
            "timestamp": rfc3339(ctx.now),
            "trace_id": ctx.request_id,
            "correlation_id": ctx.client_request_id,
        }),
    )
}

fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Issue a JWT-shaped token (fake signature) and remember its expiry.
fn issue(sim: &Shared, ctx: &Ctx, appid: &str, delegated: bool) -> (String, u64) {
    let lifetime = sim.config.issued_token_lifetime_secs;
    let exp = ctx.now + lifetime;
    let mut t = sim.lock();
    let jti = t.new_guid();
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "oathbulk-simulator"});
    let mut payload = json!({
        "aud": sim.config.issued_audience,
        "iss": format!("https://sts.windows.net/{}/", sim.tenant_id),
        "iat": ctx.now,
        "nbf": ctx.now,
        "exp": exp,
        "tid": sim.tenant_id,
        "appid": appid,
        "uti": jti,
        "ver": "1.0",
    });
    if delegated {
        payload["scp"] = json!(scopes(sim));
        payload["upn"] = json!("admin@simulated.example");
        payload["unique_name"] = json!("admin@simulated.example");
        payload["wids"] = json!(sim.config.issued_wids);
    } else {
        payload["roles"] = json!(sim.config.issued_roles);
    }
    let token = format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        b64(b"oathbulk-simulator-signature")
    );
    t.issued.insert(token.clone(), exp);
    t.counters.tokens_issued += 1;
    (token, lifetime)
}

fn scopes(sim: &Shared) -> String {
    sim.config.issued_scopes.clone().unwrap_or_else(|| super::DEFAULT_SCOPES.to_string())
}

fn matches(configured: &Option<String>, given: Option<&String>) -> bool {
    match (configured, given.map(|s| s.as_str()).filter(|s| !s.is_empty())) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(want), Some(got)) => want == got,
    }
}

/// The token endpoint: client credentials (a secret or a certificate's assertion), a device
/// code's poll, or a refresh token.
async fn token(
    State(sim): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Reply {
    let f = form(&body);
    let client_id = f.get("client_id").cloned().unwrap_or_default();
    match f.get("grant_type").map(String::as_str) {
        Some("client_credentials") => client_credentials(&sim, &ctx, &f, &client_id, &tenant),
        Some(DEVICE_CODE_GRANT) => device_code_poll(&sim, &ctx, &f, &client_id),
        Some("refresh_token") => {
            let known = f.get("refresh_token").is_some_and(|r| sim.lock().refresh_tokens.contains_key(r));
            if !known {
                return Err(oauth_error(
                    &ctx,
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    9002313,
                    "Invalid request. Request is malformed or invalid.",
                ));
            }
            Ok(delegated_reply(&sim, &ctx, &client_id))
        }
        other => Err(oauth_error(
            &ctx,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{}'.", other.unwrap_or("")),
        )),
    }
}

/// The refusal of a request without its `client_id`.
fn missing_client_id(ctx: &Ctx) -> Response {
    oauth_error(
        ctx,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'client_id'.",
    )
}

/// An app's own sign-in: the configured app, with its secret or a certificate's assertion.
fn client_credentials(sim: &Shared, ctx: &Ctx, f: &HashMap<String, String>, client_id: &str, tenant: &str) -> Reply {
    if client_id.is_empty() {
        return Err(missing_client_id(ctx));
    }
    if !matches(&sim.config.client_id, f.get("client_id")) {
        return Err(oauth_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory."),
        ));
    }
    if f.contains_key("client_assertion") || f.contains_key("client_assertion_type") {
        check_assertion(sim, ctx, f, client_id, tenant)?;
    } else if !secret_accepted(&sim.config, f.get("client_secret")) {
        return Err(oauth_error(ctx, StatusCode::UNAUTHORIZED, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."));
    }
    let (token, lifetime) = issue(sim, ctx, client_id, false);
    Ok(json_response(
        StatusCode::OK,
        json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}),
    ))
}

/// A device code's poll, answered per `SimConfig::device_code_flow`: tokens on success, the
/// flow's error otherwise (a final one forgets the code).
fn device_code_poll(sim: &Shared, ctx: &Ctx, f: &HashMap<String, String>, client_id: &str) -> Reply {
    let code = f.get("device_code").cloned().unwrap_or_default();
    let Some(step) = next_device_code_step(sim, ctx, &code) else {
        return Err(oauth_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "expired_token",
            70020,
            "The provided value for the input parameter 'device_code' is not valid.",
        ));
    };
    let (codes, description) = match step.as_str() {
        "success" => {
            sim.lock().device_codes.remove(&code);
            return Ok(delegated_reply(sim, ctx, client_id));
        }
        "authorization_pending" => (70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling."),
        "slow_down" => (70016, "OAuth 2.0 device flow error. Polling too fast: slow down."),
        "authorization_declined" => (70000, "The user declined the sign-in request."),
        "expired_token" => (70020, "The device code has expired."),
        _ => (70019, "The verification code entered is not valid."),
    };
    if matches!(step.as_str(), "authorization_declined" | "expired_token" | "bad_verification_code") {
        sim.lock().device_codes.remove(&code);
    }
    Err(oauth_error(ctx, StatusCode::BAD_REQUEST, &step, codes, description))
}

/// Count a poll of `code` and give its step of the flow (`None` for a code never issued);
/// a `slow_down` widens the gap the next poll must keep.
fn next_device_code_step(sim: &Shared, ctx: &Ctx, code: &str) -> Option<String> {
    let mut t = sim.lock();
    let now = std::time::Instant::now();
    let increment = sim.config.slow_down_increment_secs;
    let dc = t.device_codes.get_mut(code)?;
    dc.polls += 1;
    let too_fast = dc
        .last_poll
        .is_some_and(|last| now.duration_since(last).as_millis() + 500 < u128::from(dc.required_gap_secs) * 1000);
    dc.last_poll = Some(now);
    let expired = ctx.now >= dc.expires_at;
    let flow = &sim.config.device_code_flow;
    let i = (dc.polls as usize - 1).min(flow.len().saturating_sub(1));
    let step =
        if expired { "expired_token".to_string() } else { flow.get(i).cloned().unwrap_or_else(|| "success".into()) };
    if step == "slow_down" {
        dc.required_gap_secs += increment;
    }
    t.counters.device_code_polls += 1;
    if too_fast {
        t.counters.device_code_polls_too_fast += 1;
    }
    Some(step)
}

/// A client secret is accepted when it is the configured one; with none configured, any
/// non-empty one, unless the app is registered with certificates only.
fn secret_accepted(config: &super::SimConfig, given: Option<&String>) -> bool {
    if config.client_secret.is_none() && !config.client_certificates.is_empty() {
        return false;
    }
    matches(&config.client_secret, given)
}

/// The client assertion of a client-credentials request (certificate credentials).
fn check_assertion(
    sim: &Shared,
    ctx: &Ctx,
    f: &HashMap<String, String>,
    client_id: &str,
    tenant: &str,
) -> Result<(), Response> {
    if f.contains_key("client_secret") {
        return Err(oauth_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90014,
            "Send either client_secret or client_assertion, not both.",
        ));
    }
    if f.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER_ASSERTION) {
        return Err(oauth_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90014,
            &format!(
                "The request body must contain client_assertion_type '{JWT_BEARER_ASSERTION}' and a client_assertion."
            ),
        ));
    }
    let audience = format!("{}/login/{tenant}/oauth2/v2.0/token", sim.base);
    let expected = super::assertion::Expected { client_id, audience: &audience, now: ctx.now as i64 };
    let assertion = f.get("client_assertion").map(String::as_str).unwrap_or("");
    match super::assertion::verify(assertion, &sim.config.client_certificates, &expected) {
        Ok(accepted) => {
            let mut t = sim.lock();
            t.counters.client_assertions_accepted += 1;
            if !t.assertion_ids.insert(accepted.jti) {
                t.counters.client_assertion_jti_reused += 1;
            }
            Ok(())
        }
        Err(refusal) => {
            sim.lock().counters.client_assertions_refused += 1;
            Err(oauth_error(ctx, StatusCode::UNAUTHORIZED, "invalid_client", refusal.code, &refusal.description))
        }
    }
}

fn delegated_reply(sim: &Shared, ctx: &Ctx, client_id: &str) -> Response {
    let (token, lifetime) = issue(sim, ctx, client_id, true);
    let refresh = {
        let mut t = sim.lock();
        let r = format!("sim-refresh-{}", t.new_guid());
        t.refresh_tokens.insert(r.clone(), ());
        r
    };
    json_response(
        StatusCode::OK,
        json!({
            "token_type": "Bearer",
            "scope": scopes(sim)
                .split_whitespace()
                .map(|s| if s.contains("://") || s == "offline_access" { s.to_string() } else { format!("{GRAPH_AUDIENCE}/{s}") })
                .collect::<Vec<_>>()
                .join(" "),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
            "refresh_token": refresh,
        }),
    )
}

/// Device authorization: polls answer per `SimConfig::device_code_flow`.
async fn devicecode(
    State(sim): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(_tenant): Path<String>,
    body: Bytes,
) -> Reply {
    let f = form(&body);
    if f.get("client_id").is_none_or(|c| c.is_empty()) {
        return Err(missing_client_id(&ctx));
    }
    let (device_code, user_code) = {
        let mut t = sim.lock();
        let device_code = format!("sim-device-{}", t.new_guid());
        let user_code: String = t.new_guid().chars().filter(char::is_ascii_alphanumeric).take(9).collect();
        let dc = super::tenant::DeviceCode {
            polls: 0,
            last_poll: None,
            required_gap_secs: sim.config.device_code_interval_secs,
            expires_at: ctx.now + sim.config.device_code_expires_in_secs,
        };
        t.device_codes.insert(device_code.clone(), dc);
        (device_code, user_code.to_uppercase())
    };
    let uri = format!("{}/login/device", sim.base);
    Ok(json_response(
        StatusCode::OK,
        json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": uri,
            "expires_in": sim.config.device_code_expires_in_secs,
            "interval": sim.config.device_code_interval_secs,
            "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate. (Simulated: approved automatically.)"),
        }),
    ))
}
