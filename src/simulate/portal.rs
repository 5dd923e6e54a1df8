//! The legacy portal subset, under `/portal/api/MultifactorAuthentication/HardwareToken`.

use super::http::{decode_skip, encode_skip, json_response, portal_error, query_pairs, Ctx};
use super::tenant::{Refusal, Status, Tenant};
use super::Shared;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{json, Value};
use std::sync::Arc;

type Reply = Result<Response, Response>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/users", get(list)).route("/enable", post(enable))
}

fn item(t: &Tenant, d: usize, u: usize) -> Value {
    let dev = &t.devices[d];
    let user = &t.users[u];
    json!({
        "oathId": dev.id,
        "objectId": user.id,
        "upn": user.upn,
        "displayName": user.display_name,
        "serialNumber": dev.serial,
        "enabled": dev.status == Status::Activated,
        "timeInterval": dev.period,
        "manufacturer": dev.manufacturer,
        "model": dev.model,
    })
}

async fn list(State(sim): State<Arc<Shared>>, Extension(_ctx): Extension<Ctx>, RawQuery(raw): RawQuery) -> Reply {
    let mut skip = None;
    let mut upn = None;
    let mut enabled = None;
    for (k, v) in query_pairs(raw.as_deref()) {
        let v = v.trim().to_string();
        match k.to_ascii_lowercase().as_str() {
            "skiptoken" if !v.is_empty() => skip = Some(v),
            "upn" if !v.is_empty() => upn = Some(v.to_lowercase()),
            "enabledfilter" if !v.is_empty() => {
                enabled = Some(match v.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(portal_error(
                            StatusCode::BAD_REQUEST,
                            "InvalidEnabledFilter",
                            "enabledFilter must be empty, true or false.",
                        ))
                    }
                })
            }
            _ => {}
        }
    }
    let start = match &skip {
        None => 0,
        Some(s) => decode_skip(s)
            .ok_or_else(|| portal_error(StatusCode::BAD_REQUEST, "InvalidSkipToken", "The skipToken is not valid."))?,
    };
    let page = sim.config.portal_page_size;
    let t = sim.lock();
    let mut items = Vec::new();
    let mut next = None;
    for d in start..t.devices.len() {
        let dev = &t.devices[d];
        let Some(u) = dev.assigned else { continue };
        if upn.as_deref().is_some_and(|want| t.users[u].upn.to_lowercase() != want) {
            continue;
        }
        if enabled.is_some_and(|want| (dev.status == Status::Activated) != want) {
            continue;
        }
        if items.len() == page {
            next = Some(d);
            break;
        }
        items.push(item(&t, d, u));
    }
    Ok(json_response(StatusCode::OK, json!({ "items": items, "skipToken": next.map(encode_skip) })))
}

async fn enable(State(sim): State<Arc<Shared>>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Reply {
    let bad = |code: &str, message: &str| portal_error(StatusCode::BAD_REQUEST, code, message);
    let body: Value = serde_json::from_slice(&body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| bad("InvalidRequest", "The request body must be a JSON object."))?;
    let action = body.get("@enableAction").or_else(|| body.get("enableAction")).and_then(Value::as_str);
    if !action.is_some_and(|a| a.eq_ignore_ascii_case("activate")) {
        return Err(bad("InvalidEnableAction", "Only the 'Activate' action is supported."));
    }
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let oath_id = field("oathId").ok_or_else(|| bad("InvalidRequest", "oathId is required."))?;
    let object_id = field("objectId").ok_or_else(|| bad("InvalidRequest", "objectId is required."))?;
    let code = field("verificationCode").ok_or_else(|| bad("InvalidRequest", "verificationCode is required."))?;
    let mut t = sim.lock();
    let not_found = || portal_error(StatusCode::NOT_FOUND, "OathTokenNotFound", "The hardware token was not found.");
    let d = t.find_device(oath_id).ok_or_else(not_found)?;
    let Some(holder) = t.devices[d].assigned else { return Err(not_found()) };
    if t.find_user(object_id) != Some(holder) {
        t.note_conflict();
        return Err(bad("OathTokenUserMismatch", "The hardware token is not assigned to this user."));
    }
    match t.activate(holder, d, code, ctx.now, None) {
        Ok(_) => Ok(json_response(StatusCode::OK, json!({}))),
        Err(Refusal::AlreadyActivated) => {
            Err(bad("OathTokenAlreadyEnabled", "The hardware token is already activated."))
        }
        Err(Refusal::BadCode) => {
            Err(bad("OathCodeIncorrect", "The verification code is incorrect. Wait for the next code and try again."))
        }
        Err(_) => Err(not_found()),
    }
}
