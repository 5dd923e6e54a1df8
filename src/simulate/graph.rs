//! The Microsoft Graph (beta) subset, under `/graph/beta`.

use super::http::{
    decode_skip, encode_query_value, encode_skip, graph_error, json_response, query_pairs, rfc3339, Ctx,
};
use super::tenant::{Refusal, Status, Tenant};
use super::Shared;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{json, Value};
use std::sync::Arc;

type Sim = State<Arc<Shared>>;
type Reply = Result<Response, Response>;

const DEVICES: &str = "/directory/authenticationMethodDevices/hardwareOathDevices";
const METHODS: &str = "/users/{user}/authentication/hardwareOathMethods";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(DEVICES, get(list_devices))
        .route(&format!("{DEVICES}/{{id}}"), get(get_device))
        .route("/users/{user}", get(get_user))
        .route(METHODS, get(list_methods).post(assign))
        .route(&format!("{METHODS}/assignAndActivate"), post(assign_and_activate))
        .route(&format!("{METHODS}/assignAndActivateBySerialNumber"), post(assign_and_activate_by_serial))
        .route(&format!("{METHODS}/{{method}}"), get(get_method))
        .route(&format!("{METHODS}/{{method}}/activate"), post(activate))
        .route("/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath", get(policy))
}

pub(crate) fn device_json(t: &Tenant, d: usize) -> Value {
    let dev = &t.devices[d];
    json!({
        "id": dev.id,
        "displayName": dev.display_name,
        "serialNumber": dev.serial,
        "manufacturer": dev.manufacturer,
        "model": dev.model,
        "secretKey": null,
        "timeIntervalInSeconds": dev.period,
        "hashFunction": dev.hash.graph_name(),
        "status": dev.status.as_str(),
        "assignedTo": dev.assigned.map(|u| json!({"id": t.users[u].id, "displayName": t.users[u].display_name})),
        "lastUsedDateTime": null,
    })
}

fn bad_request(ctx: &Ctx, message: &str) -> Response {
    graph_error(ctx, StatusCode::BAD_REQUEST, "BadRequest", message)
}

fn resource_not_found(ctx: &Ctx, what: &str) -> Response {
    graph_error(
        ctx,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!("Resource '{what}' does not exist or one of its queried reference-property objects are not present."),
    )
}

fn refusal(ctx: &Ctx, r: Refusal, method: &str) -> Response {
    match r {
        Refusal::NotUsersMethod => resource_not_found(ctx, method),
        Refusal::AlreadyActivated => graph_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "alreadyActivated",
            "The hardware OATH token is already activated.",
        ),
        Refusal::AssignedToOther => graph_error(
            ctx,
            StatusCode::CONFLICT,
            "deviceAlreadyAssigned",
            "The hardware OATH token is assigned to another user.",
        ),
        Refusal::AlreadyAssigned => graph_error(
            ctx,
            StatusCode::CONFLICT,
            "deviceAlreadyAssigned",
            "The hardware OATH token is already assigned to this user.",
        ),
        Refusal::TooManyMethods => graph_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "tooManyHardwareOathMethods",
            "The user already has the maximum number of hardware OATH tokens (5).",
        ),
        Refusal::BadCode => graph_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalidVerificationCode",
            "The verification code provided is invalid.",
        ),
    }
}

#[derive(Debug, PartialEq)]
enum Clause {
    Serial(String),
    Status(Status),
}

/// `field eq 'value' [and field eq 'value']...`, fields `serialNumber` and `status`.
fn parse_filter(text: &str) -> Result<Vec<Clause>, String> {
    let s = text.trim();
    let mut rest = s;
    let mut clauses = Vec::new();
    let unsupported = || format!("Invalid filter clause: '{s}'. Supported: serialNumber eq '…', status eq '…'.");
    loop {
        let name_len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_len);
        let after = after.trim_start();
        let Some(after) = after.get(..3).filter(|op| op.eq_ignore_ascii_case("eq ")).map(|_| after[3..].trim_start())
        else {
            return Err(unsupported());
        };
        let Some(body) = after.strip_prefix('\'') else { return Err(unsupported()) };
        let mut value = String::new();
        let mut chars = body.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(unsupported()),
                Some((i, '\'')) => {
                    if body[i + 1..].starts_with('\'') {
                        value.push('\'');
                        chars.next();
                    } else {
                        break i + 1;
                    }
                }
                Some((_, c)) => value.push(c),
            }
        };
        clauses.push(match name.to_ascii_lowercase().as_str() {
            "serialnumber" => Clause::Serial(value),
            "status" => Clause::Status(
                Status::parse(&value).ok_or_else(|| format!("Invalid value '{value}' for property 'status'."))?,
            ),
            _ => return Err(format!("Filtering on property '{name}' is not supported.")),
        });
        rest = body[end..].trim_start();
        if rest.is_empty() {
            return Ok(clauses);
        }
        match rest.get(..4) {
            Some(and) if and.eq_ignore_ascii_case("and ") => rest = rest[4..].trim_start(),
            _ => return Err(unsupported()),
        }
    }
}

fn matches(t: &Tenant, d: usize, clauses: &[Clause]) -> bool {
    let dev = &t.devices[d];
    clauses.iter().all(|c| match c {
        Clause::Serial(s) => dev.serial.eq_ignore_ascii_case(s),
        Clause::Status(st) => dev.status == *st,
    })
}

async fn list_devices(State(sim): Sim, Extension(ctx): Extension<Ctx>, RawQuery(raw): RawQuery) -> Reply {
    let mut top = None;
    let mut filter = None;
    let mut skip = None;
    let mut select = None;
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "$top" | "top" => top = Some(v),
            "$filter" | "filter" => filter = Some(v),
            "$skiptoken" | "$skipToken" => skip = Some(v),
            "$select" | "select" => select = Some(v),
            _ => {}
        }
    }
    let requested = match &top {
        None => 100,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=999).contains(&n) => n,
            _ => {
                return Err(bad_request(
                    &ctx,
                    &format!("Invalid page size specified: '{v}'. Must be between 1 and 999 inclusive."),
                ))
            }
        },
    };
    let page = requested.min(sim.config.page_size_max);
    let clauses = match &filter {
        None => Vec::new(),
        Some(f) => {
            parse_filter(f).map_err(|m| graph_error(&ctx, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", &m))?
        }
    };
    let start = match &skip {
        None => 0,
        Some(s) => decode_skip(s).ok_or_else(|| bad_request(&ctx, "Invalid $skiptoken."))?,
    };
    let t = sim.lock();
    let mut value = Vec::with_capacity(page.min(t.devices.len()));
    let mut next = None;
    for d in start..t.devices.len() {
        if !matches(&t, d, &clauses) {
            continue;
        }
        if value.len() == page {
            next = Some(d);
            break;
        }
        value.push(device_json(&t, d));
    }
    drop(t);
    let mut body = json!({
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#directory/authenticationMethodDevices/hardwareOathDevices",
        "value": value,
    });
    if let Some(n) = next {
        let mut link = format!("{}{DEVICES}?", sim.graph_url());
        if let Some(v) = &top {
            link.push_str(&format!("$top={}&", encode_query_value(v)));
        }
        if let Some(v) = &filter {
            link.push_str(&format!("$filter={}&", encode_query_value(v)));
        }
        if let Some(v) = &select {
            link.push_str(&format!("$select={}&", encode_query_value(v)));
        }
        link.push_str(&format!("$skiptoken={}", encode_skip(n)));
        body["@odata.nextLink"] = Value::String(link);
    }
    Ok(json_response(StatusCode::OK, body))
}

async fn get_device(State(sim): Sim, Extension(ctx): Extension<Ctx>, Path(id): Path<String>) -> Reply {
    let t = sim.lock();
    let d = t.find_device(&id).ok_or_else(|| resource_not_found(&ctx, &id))?;
    Ok(json_response(StatusCode::OK, device_json(&t, d)))
}

fn user_or_404(t: &Tenant, ctx: &Ctx, user: &str) -> Result<usize, Response> {
    t.find_user(user).ok_or_else(|| resource_not_found(ctx, user))
}

async fn get_user(State(sim): Sim, Extension(ctx): Extension<Ctx>, Path(user): Path<String>) -> Reply {
    let t = sim.lock();
    let u = &t.users[user_or_404(&t, &ctx, &user)?];
    Ok(json_response(StatusCode::OK, json!({"id": u.id, "userPrincipalName": u.upn, "displayName": u.display_name})))
}

fn method_json(t: &Tenant, d: usize) -> Value {
    json!({"id": t.devices[d].id, "device": device_json(t, d)})
}

async fn list_methods(State(sim): Sim, Extension(ctx): Extension<Ctx>, Path(user): Path<String>) -> Reply {
    let t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let value: Vec<Value> = t.users[u].methods.iter().map(|&d| method_json(&t, d)).collect();
    Ok(json_response(StatusCode::OK, json!({ "value": value })))
}

async fn get_method(
    State(sim): Sim,
    Extension(ctx): Extension<Ctx>,
    Path((user, method)): Path<(String, String)>,
) -> Reply {
    let t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let d = t.find_device(&method).filter(|&d| t.devices[d].assigned == Some(u));
    let d = d.ok_or_else(|| resource_not_found(&ctx, &method))?;
    Ok(json_response(StatusCode::OK, method_json(&t, d)))
}

fn parse_body(ctx: &Ctx, body: &Bytes) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(bad_request(ctx, "The request body must be a JSON object.")),
    }
}

fn str_field<'a>(ctx: &Ctx, body: &'a Value, pointer: &str, name: &str) -> Result<&'a str, Response> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| bad_request(ctx, &format!("The property '{name}' is required and must be a string.")))
}

fn verification_code<'a>(ctx: &Ctx, body: &'a Value) -> Result<&'a str, Response> {
    str_field(ctx, body, "/verificationCode", "verificationCode")
}

fn display_name(body: &Value) -> Option<&str> {
    body.get("displayName").and_then(Value::as_str)
}

async fn assign(State(sim): Sim, Extension(ctx): Extension<Ctx>, Path(user): Path<String>, body: Bytes) -> Reply {
    let body = parse_body(&ctx, &body)?;
    let id = str_field(&ctx, &body, "/device/id", "device.id")?;
    let mut t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let d = t.find_device(id).ok_or_else(|| resource_not_found(&ctx, id))?;
    t.assign(u, d, ctx.now).map_err(|r| refusal(&ctx, r, id))?;
    let mut reply = method_json(&t, d);
    reply["createdDateTime"] = Value::String(rfc3339(ctx.now));
    Ok(json_response(StatusCode::CREATED, reply))
}

async fn activate(
    State(sim): Sim,
    Extension(ctx): Extension<Ctx>,
    Path((user, method)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let body = parse_body(&ctx, &body)?;
    let code = verification_code(&ctx, &body)?;
    let mut t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let d = t.find_device(&method).ok_or_else(|| resource_not_found(&ctx, &method))?;
    t.activate(u, d, code, ctx.now, display_name(&body)).map_err(|r| refusal(&ctx, r, &method))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn assign_and_activate(
    State(sim): Sim,
    Extension(ctx): Extension<Ctx>,
    Path(user): Path<String>,
    body: Bytes,
) -> Reply {
    let body = parse_body(&ctx, &body)?;
    let id = str_field(&ctx, &body, "/device/id", "device.id")?;
    let code = verification_code(&ctx, &body)?;
    let mut t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let d = t.find_device(id).ok_or_else(|| resource_not_found(&ctx, id))?;
    t.assign_and_activate(u, d, code, ctx.now, display_name(&body)).map_err(|r| refusal(&ctx, r, id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn assign_and_activate_by_serial(
    State(sim): Sim,
    Extension(ctx): Extension<Ctx>,
    Path(user): Path<String>,
    body: Bytes,
) -> Reply {
    let body = parse_body(&ctx, &body)?;
    let serial = str_field(&ctx, &body, "/serialNumber", "serialNumber")?;
    let code = verification_code(&ctx, &body)?;
    let mut t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let d = t.find_serial(serial).ok_or_else(|| resource_not_found(&ctx, serial))?;
    t.assign_and_activate(u, d, code, ctx.now, display_name(&body)).map_err(|r| refusal(&ctx, r, serial))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn policy(Extension(_ctx): Extension<Ctx>) -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "@odata.type": "#microsoft.graph.hardwareOathAuthenticationMethodConfiguration",
            "id": "HardwareOath",
            "state": "enabled",
            "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}],
            "excludeTargets": [],
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert_eq!(parse_filter("serialNumber eq 'A1'"), Ok(vec![Clause::Serial("A1".into())]));
        assert_eq!(parse_filter("serialNumber eq 'O''Brien'"), Ok(vec![Clause::Serial("O'Brien".into())]));
        assert_eq!(
            parse_filter("status eq 'assigned' and serialNumber eq 'x'"),
            Ok(vec![Clause::Status(Status::Assigned), Clause::Serial("x".into())])
        );
        assert!(parse_filter("serialNumber ne 'A1'").is_err());
        assert!(parse_filter("startswith(serialNumber,'A')").is_err());
        assert!(parse_filter("model eq 'x'").is_err());
        assert!(parse_filter("status eq 'bogus'").is_err());
        assert!(parse_filter("serialNumber eq 'A1' or status eq 'assigned'").is_err());
        assert!(parse_filter("serialNumber eq 'A1").is_err());
    }
}
