//! The legacy portal subset, under `/portal/api/MultifactorAuthentication/HardwareToken`.

use super::http::{decode_skip, encode_skip, json_response, portal_error, query_pairs, Ctx};
use super::tenant::{CodeSent, NewDevice, Refusal, Status, Tenant, Upload, WriteRefusal};
use super::Shared;
use crate::inventory::{Inventory, ReadOptions, SecretFormat};
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
    Router::new()
        .route("/users", get(list))
        .route("/enable", post(enable))
        .route("/upload", post(upload))
        .route("/listUploads", get(list_uploads))
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
        if dev.deleted {
            continue;
        }
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

/// The portal's 400, with its error code.
fn bad(code: &str, message: &str) -> Response {
    portal_error(StatusCode::BAD_REQUEST, code, message)
}

/// A request body that must be one JSON object (the portal refuses anything else).
fn json_object(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| bad("InvalidRequest", "The request body must be a JSON object."))
}

async fn enable(State(sim): State<Arc<Shared>>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Reply {
    let body = json_object(&body)?;
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
    match t.activate(holder, d, CodeSent { code, now: ctx.now, display_name: None }) {
        Ok(_) => Ok(json_response(StatusCode::OK, json!({}))),
        Err(Refusal::AlreadyActivated) => {
            Err(bad("OathTokenAlreadyEnabled", "The hardware token is already activated."))
        }
        Err(Refusal::BadCode) => {
            Err(bad("OathCodeIncorrect", "The verification code is incorrect. Wait for the next code and try again."))
        }
        Err(Refusal::PolicyDisabled) => Err(bad(
            "HardwareOathPolicyDisabled",
            "The hardware OATH authentication method policy is disabled for this tenant.",
        )),
        Err(_) => Err(not_found()),
    }
}

/// `POST …/upload` `{id:null, name:"<guid>.csv", content:"<csv text>", mimeType}`: the file is
/// checked now and applied when it completes (the second `listUploads` that sees it).
async fn upload(State(sim): State<Arc<Shared>>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Reply {
    let body = json_object(&body)?;
    let name = body.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty());
    let name = name.ok_or_else(|| bad("InvalidRequest", "name is required."))?.to_string();
    let content = body.get("content").and_then(Value::as_str).filter(|c| !c.trim().is_empty());
    let content = content.ok_or_else(|| bad("InvalidRequest", "content is required."))?.to_string();
    let options = ReadOptions { secret_format: SecretFormat::Base32, require_secret: true, ..Default::default() };
    let inventory = Inventory::from_reader(std::io::Cursor::new(content.into_bytes()), options)
        .map_err(|e| bad("InvalidFile", &format!("The file could not be read: {e}")))?;
    let mut t = sim.lock();
    let mut pending = Vec::new();
    let mut errors = Vec::new();
    let mut total = 0;
    for row in inventory {
        total += 1;
        match row {
            Err(e) => errors.push((e.line, e.serial.unwrap_or_default(), "InvalidRow".to_string(), e.message)),
            Ok(row) => pending.push((
                row.upn.clone(),
                NewDevice {
                    serial: row.serial.clone(),
                    secret: row.secret.as_ref().map(|s| s.bytes().to_vec()).unwrap_or_default(),
                    period: row.time_interval,
                    hash: row.hash,
                    manufacturer: row.manufacturer.clone(),
                    model: row.model.clone(),
                    display_name: row.display_name.clone(),
                },
                row.line,
            )),
        }
    }
    let id = t.new_guid();
    t.counters.uploads += 1;
    let pending = pending.into_iter().map(|(upn, new, line)| (format!("{line}\t{upn}"), new)).collect();
    t.uploads.push(Upload {
        id: id.clone(),
        name: name.clone(),
        uploaded: ctx.now,
        polls: 0,
        pending,
        total,
        errors,
        done: false,
    });
    Ok(json_response(StatusCode::OK, json!({ "id": id, "name": name })))
}

/// Apply a completed upload's rows: each creates a token assigned to its user, not enabled.
fn apply_upload(t: &mut Tenant, i: usize, now: u64) {
    let pending = std::mem::take(&mut t.uploads[i].pending);
    let mut errors = Vec::new();
    for (key, new) in pending {
        let (line, upn) = key.split_once('\t').unwrap_or(("0", key.as_str()));
        let line: u64 = line.parse().unwrap_or(0);
        let serial = new.serial.clone();
        let Some(u) = t.find_user(upn) else {
            errors.push((line, serial, "UserNotFound".to_string(), format!("User {upn} was not found.")));
            continue;
        };
        match t.create(new, Some(u), now) {
            Ok(_) => {}
            Err(WriteRefusal::SerialExists(_)) => errors.push((
                line,
                serial.clone(),
                "DuplicateSerialNumber".into(),
                format!("A hardware token with serial number {serial} already exists."),
            )),
            Err(WriteRefusal::Assign(_)) => errors.push((
                line,
                serial,
                "TooManyTokens".into(),
                "The user already has the maximum number of hardware tokens.".into(),
            )),
            Err(WriteRefusal::Invalid(m)) => errors.push((line, serial, "InvalidRow".into(), m)),
            Err(other) => errors.push((line, serial, "Error".into(), format!("{other:?}"))),
        }
    }
    let upload = &mut t.uploads[i];
    upload.errors.extend(errors);
    upload.done = true;
}

/// `GET …/listUploads`: every upload, newest first. An upload is `InProgress` on the first
/// poll that sees it, then completed (and applied).
async fn list_uploads(State(sim): State<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> Reply {
    let mut t = sim.lock();
    for i in 0..t.uploads.len() {
        t.uploads[i].polls += 1;
        if t.uploads[i].polls >= 2 && !t.uploads[i].done {
            apply_upload(&mut t, i, ctx.now);
        }
    }
    let items: Vec<Value> = t
        .uploads
        .iter()
        .rev()
        .map(|u| {
            let status = if !u.done {
                "InProgress"
            } else if u.errors.is_empty() {
                "CompletedWithNoErrors"
            } else {
                "CompletedWithErrors"
            };
            json!({
                "id": u.id,
                "name": u.name,
                "fileProcessingStatus": status,
                "uploadedDateTime": super::http::rfc3339(u.uploaded),
                "totalRecords": u.total,
                "failedRecords": if u.done { u.errors.len() } else { 0 },
                "errors": if u.done {
                    u.errors.iter().map(|(line, serial, code, message)| json!({
                        "lineNumber": line, "serialNumber": serial, "errorCode": code, "message": message,
                    })).collect::<Vec<_>>()
                } else { vec![] },
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, json!(items)))
}
