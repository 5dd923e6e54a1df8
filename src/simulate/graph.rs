//! The Microsoft Graph (beta) subset, under `/graph/beta`.

use super::http::{
    decode_skip, encode_query_value, encode_skip, graph_error, json_response, query_pairs, rfc3339, Ctx,
};
use super::tenant::{CodeSent, NewDevice, Refusal, Status, Tenant, WriteRefusal};
use super::{ExpandAssignTo, Shared};
use crate::inventory::{SecretFormat, SecretKey};
use crate::otp::HashFunction;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{json, Value};
use std::future::{ready, Ready};
use std::sync::Arc;

type Sim = State<Arc<Shared>>;
type Reply = Result<Response, Response>;

const DEVICES: &str = "/directory/authenticationMethodDevices/hardwareOathDevices";
const METHODS: &str = "/users/{user}/authentication/hardwareOathMethods";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(DEVICES, get(list_devices).post(create_device).patch(bulk_create))
        .route(&format!("{DEVICES}/{{id}}"), get(get_device).patch(update_device).delete(delete_device))
        .route("/users", get(list_users))
        .route("/users/{user}", get(get_user))
        .route(METHODS, get(list_methods).post(assign))
        .route(
            &format!("{METHODS}/assignAndActivate"),
            post(assign_and_activate(("/device/id", "device.id"), Tenant::find_device)),
        )
        .route(
            &format!("{METHODS}/assignAndActivateBySerialNumber"),
            post(assign_and_activate(("/serialNumber", "serialNumber"), Tenant::find_serial)),
        )
        .route(&format!("{METHODS}/{{method}}"), get(get_method).delete(method_write(Tenant::unassign)))
        .route(&format!("{METHODS}/{{method}}/activate"), post(activate))
        .route(&format!("{METHODS}/{{method}}/deactivate"), post(method_write(Tenant::deactivate)))
        .route(
            "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath",
            get(policy).patch(update_policy),
        )
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
        "lastUsedDateTime": dev.last_used_unix().and_then(|t| chrono::DateTime::from_timestamp(t as i64, 0)).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
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

/// A method id that names none of the user's methods: 404, or 400 under the reading
/// `wrong-method-400`.
fn not_a_method(sim: &Shared, ctx: &Ctx, method: &str) -> Response {
    if sim.config.readings.wrong_method_400 {
        return bad_request(ctx, &format!("Invalid object identifier '{method}'."));
    }
    resource_not_found(ctx, method)
}

fn refusal(sim: &Shared, ctx: &Ctx, r: Refusal, method: &str) -> Response {
    let (status, code, message) = match r {
        Refusal::NotUsersMethod => return not_a_method(sim, ctx, method),
        Refusal::AlreadyActivated => {
            (StatusCode::BAD_REQUEST, "alreadyActivated", "The hardware OATH token is already activated.")
        }
        Refusal::AssignedToOther => {
            (StatusCode::CONFLICT, "deviceAlreadyAssigned", "The hardware OATH token is assigned to another user.")
        }
        Refusal::AlreadyAssigned => {
            (StatusCode::CONFLICT, "deviceAlreadyAssigned", "The hardware OATH token is already assigned to this user.")
        }
        Refusal::TooManyMethods => (
            StatusCode::BAD_REQUEST,
            "tooManyHardwareOathMethods",
            "The user already has the maximum number of hardware OATH tokens (5).",
        ),
        Refusal::BadCode => {
            (StatusCode::BAD_REQUEST, "invalidVerificationCode", "The verification code provided is invalid.")
        }
        Refusal::PolicyDisabled => (
            StatusCode::BAD_REQUEST,
            "hardwareOathPolicyDisabled",
            "The hardware OATH authentication method policy is disabled for this tenant; enable it first.",
        ),
        Refusal::NotActivated => {
            (StatusCode::BAD_REQUEST, "deviceNotActivated", "The hardware OATH token is not activated.")
        }
    };
    graph_error(ctx, status, code, message)
}

fn write_refusal(sim: &Shared, ctx: &Ctx, r: WriteRefusal, serial: &str) -> Response {
    match r {
        WriteRefusal::SerialExists(_) => graph_error(
            ctx,
            StatusCode::CONFLICT,
            "deviceAlreadyExists",
            &format!("A hardware OATH token with serial number '{serial}' already exists."),
        ),
        WriteRefusal::Invalid(m) => bad_request(ctx, &m),
        WriteRefusal::UserNotFound(u) => resource_not_found(ctx, &u),
        WriteRefusal::Assign(r) => refusal(sim, ctx, r, serial),
        WriteRefusal::StillAssigned => graph_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "deviceAssigned",
            "The hardware OATH token is assigned to a user; unassign it before deleting it.",
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
            // Enum members are case-sensitive in OData: `'ACTIVATED'` is no member.
            "status" => Clause::Status(
                Status::exact(&value).ok_or_else(|| format!("Invalid value '{value}' for property 'status'."))?,
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

/// `case_sensitive`: the reading `serial-case-sensitive` (the docs do not say how the
/// filter compares serials).
fn matches(t: &Tenant, d: usize, clauses: &[Clause], case_sensitive: bool) -> bool {
    let dev = &t.devices[d];
    clauses.iter().all(|c| match c {
        Clause::Serial(s) if case_sensitive => dev.serial == *s,
        Clause::Serial(s) => dev.serial.eq_ignore_ascii_case(s),
        Clause::Status(st) => dev.status == *st,
    })
}

async fn list_devices(State(sim): Sim, Extension(ctx): Extension<Ctx>, RawQuery(raw): RawQuery) -> Reply {
    let mut top = None;
    let mut filter = None;
    let mut skip = None;
    let mut select = None;
    let mut expand = None;
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "$expand" | "expand" => expand = Some(v),
            "$top" | "top" => top = Some(v),
            "$filter" | "filter" => filter = Some(v),
            "$skiptoken" | "$skipToken" => skip = Some(v),
            "$select" | "select" => select = Some(v),
            _ => {}
        }
    }
    // The holder as a user, per the reading of `$expand=assignTo` (docs/graph-api.md).
    let holder_fields = match (&expand, sim.config.readings.expand_assign_to) {
        (None, _) | (Some(_), ExpandAssignTo::Ignored) => None,
        (Some(_), ExpandAssignTo::Refused) => {
            sim.lock().counters.expand_refused += 1;
            return Err(bad_request(
                &ctx,
                "Parsing OData Select and Expand failed: Could not find a property named 'assignTo' on type \
                 'microsoft.graph.hardwareOathTokenAuthenticationMethodDevice'.",
            ));
        }
        (Some(e), ExpandAssignTo::Honoured) => Some(assign_to_fields(e).map_err(|m| bad_request(&ctx, &m))?),
    };
    let requested = match &top {
        None => 100,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if sim.config.readings.top_limit.is_some_and(|limit| n > limit) => {
                sim.lock().counters.top_refused += 1;
                return Err(bad_request(&ctx, &format!("Invalid page size specified: '{v}'.")));
            }
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
        // The `filter-ignored` reading: the whole list, as if no `$filter` was sent.
        _ if sim.config.readings.filter_ignored => Vec::new(),
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
        if !t.live(d) || !matches(&t, d, &clauses, sim.config.readings.serial_case_sensitive) {
            continue;
        }
        if value.len() == page {
            next = Some(d);
            break;
        }
        let mut item = device_json(&t, d);
        if let Some(fields) = &holder_fields {
            item["assignTo"] = t.devices[d].assigned.map_or(Value::Null, |u| user_json(&t, u, fields));
        }
        if sim.config.readings.list_nested {
            // The docs' examples: a method per item, the device under `device`.
            item = json!({ "id": item["id"].clone(), "device": item });
        }
        value.push(item);
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
        if let Some(v) = &expand {
            link.push_str(&format!("$expand={}&", encode_query_value(v)));
        }
        link.push_str(&format!("$skiptoken={}", encode_skip(n)));
        body["@odata.nextLink"] = Value::String(link);
    }
    Ok(json_response(StatusCode::OK, body))
}

/// The properties of a user an expanded `assignTo` carries.
const USER_FIELDS: [&str; 3] = ["id", "userPrincipalName", "displayName"];

/// The user properties asked by `$expand=assignTo` or `assignTo($select=a,b)` (all of
/// `USER_FIELDS` without a `$select`). `Err`: Graph's 400 message for anything else.
fn assign_to_fields(expand: &str) -> Result<Vec<&'static str>, String> {
    let expand = expand.trim();
    let (name, options) = match expand.split_once('(') {
        Some((name, rest)) => {
            (name.trim(), rest.strip_suffix(')').ok_or_else(|| format!("Syntax error in $expand '{expand}'."))?)
        }
        None => (expand, ""),
    };
    let failed = "Parsing OData Select and Expand failed: Could not find a property named";
    if !name.eq_ignore_ascii_case("assignTo") {
        return Err(format!(
            "{failed} '{name}' on type 'microsoft.graph.hardwareOathTokenAuthenticationMethodDevice'."
        ));
    }
    let mut fields = USER_FIELDS.to_vec();
    for option in options.split(';').map(str::trim).filter(|o| !o.is_empty()) {
        let Some(("$select", list)) = option.split_once('=') else {
            return Err(format!("The query option '{option}' is not supported in $expand."));
        };
        fields = list
            .split(',')
            .map(|p| {
                let p = p.trim();
                USER_FIELDS
                    .into_iter()
                    .find(|f| f.eq_ignore_ascii_case(p))
                    .ok_or_else(|| format!("{failed} '{p}' on type 'microsoft.graph.user'."))
            })
            .collect::<Result<_, _>>()?;
    }
    Ok(fields)
}

/// User `u` as an expanded navigation property: `fields` only.
fn user_json(t: &Tenant, u: usize, fields: &[&str]) -> Value {
    let user = &t.users[u];
    let mut out = json!({});
    for f in fields {
        out[*f] = json!(match *f {
            "id" => &user.id,
            "userPrincipalName" => &user.upn,
            _ => &user.display_name,
        });
    }
    out
}

async fn get_device(State(sim): Sim, Extension(ctx): Extension<Ctx>, Path(id): Path<String>) -> Reply {
    let t = sim.lock();
    let d = t.find_device(&id).ok_or_else(|| resource_not_found(&ctx, &id))?;
    let device = device_json(&t, d);
    let body = if sim.config.readings.value_object { json!({ "value": device }) } else { device };
    Ok(json_response(StatusCode::OK, body))
}

/// `PATCH …/hardwareOathDevices/{id}` ("Update hardwareOathTokenAuthenticationMethodDevice"):
/// `displayName` changes; a property the service sets itself is refused. 204.
async fn update_device(State(sim): Sim, Extension(ctx): Extension<Ctx>, Path(id): Path<String>, body: Bytes) -> Reply {
    let body = parse_body(&ctx, &body)?;
    let mut t = sim.lock();
    let d = t.find_device(&id).ok_or_else(|| resource_not_found(&ctx, &id))?;
    let Value::Object(fields) = &body else { return Err(bad_request(&ctx, "The request body must be a JSON object.")) };
    for (name, value) in fields {
        match name.as_str() {
            "displayName" => t.devices[d].display_name = value.as_str().map(str::to_string),
            n if n.starts_with('@') => {}
            n => return Err(bad_request(&ctx, &format!("The property '{n}' cannot be updated."))),
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The user a path names: `/users/{id or upn}`, or the key form `/users('{key}')` (which
/// the server rewrote to the segment `'{key}'`). A bare segment starting with `$` is a
/// system segment to Graph, never a user: 400.
fn user_or_404(t: &Tenant, ctx: &Ctx, user: &str) -> Result<usize, Response> {
    let key = match user.strip_prefix('\'').and_then(|u| u.strip_suffix('\'')) {
        Some(quoted) => quoted.replace("''", "'"),
        None if user.starts_with('$') => {
            return Err(bad_request(ctx, &format!("Resource not found for the segment '{user}'.")));
        }
        None => user.to_string(),
    };
    t.find_user(&key).ok_or_else(|| resource_not_found(ctx, &key))
}

/// Under the `distinct_method_ids` reading a method's id is its device's id with every hex
/// digit inverted: still a GUID, never equal, and reversible without a table.
fn flip_id(id: &str) -> String {
    id.chars()
        .map(|c| match c.to_digit(16) {
            Some(d) => {
                let f = std::char::from_digit(15 - d, 16).unwrap_or(c);
                if c.is_ascii_uppercase() {
                    f.to_ascii_uppercase()
                } else {
                    f
                }
            }
            None => c,
        })
        .collect()
}

fn method_id(sim: &Shared, t: &Tenant, d: usize) -> String {
    let id = &t.devices[d].id;
    if distinct_method_id(sim, d) {
        flip_id(id)
    } else {
        id.clone()
    }
}

/// Does device `d`'s method have an id of its own (the `distinct-method-ids` readings)?
fn distinct_method_id(sim: &Shared, d: usize) -> bool {
    let r = &sim.config.readings;
    r.distinct_method_ids || (r.some_distinct_method_ids && d % 2 == 1)
}

/// The device a method id names (whoever holds it; the tenant checks the holder). Unknown
/// ids are counted: with distinct ids, a client that sends device ids pays one 404 each.
fn device_of_method(sim: &Shared, t: &mut Tenant, ctx: &Ctx, method: &str) -> Result<usize, Response> {
    let direct = t.find_device(method).filter(|&d| !distinct_method_id(sim, d));
    let flipped = || t.find_device(&flip_id(method)).filter(|&d| distinct_method_id(sim, d));
    match direct.or_else(flipped) {
        Some(d) => Ok(d),
        None => {
            t.counters.method_not_found += 1;
            Err(not_a_method(sim, ctx, method))
        }
    }
}

async fn get_user(State(sim): Sim, Extension(ctx): Extension<Ctx>, Path(user): Path<String>) -> Reply {
    let t = sim.lock();
    let u = &t.users[user_or_404(&t, &ctx, &user)?];
    Ok(json_response(StatusCode::OK, json!({"id": u.id, "userPrincipalName": u.upn, "displayName": u.display_name})))
}

/// A `hardwareOathAuthenticationMethod`. `device` is a navigation property: under the
/// distinct-ids reading it is there only when expanded, as on Graph.
/// `GET /users?$filter=userPrincipalName in ('a','b',…)` or `id in (…)` (at most 15 values,
/// as on Graph).
async fn list_users(State(sim): Sim, Extension(ctx): Extension<Ctx>, RawQuery(raw): RawQuery) -> Reply {
    let filter = query_pairs(raw.as_deref()).into_iter().find(|(k, _)| k == "$filter" || k == "filter").map(|(_, v)| v);
    let (by_id, keys) = filter.as_deref().and_then(parse_user_filter).ok_or_else(|| {
        graph_error(
            &ctx,
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            "Supported: userPrincipalName in ('…', …), userPrincipalName eq '…', id in ('…', …), id eq '…'.",
        )
    })?;
    if keys.len() > 15 {
        return Err(bad_request(&ctx, "Too many values in the 'in' operator (at most 15)."));
    }
    let t = sim.lock();
    let value: Vec<Value> = keys
        .iter()
        .filter_map(|k| t.find_user(k).filter(|&u| t.users[u].id.eq_ignore_ascii_case(k) == by_id))
        .map(|u| json!({"id": t.users[u].id, "userPrincipalName": t.users[u].upn}))
        .collect();
    Ok(json_response(StatusCode::OK, json!({ "value": value })))
}

/// `userPrincipalName in ('a','o''b')` or `userPrincipalName eq 'a'` (user-list.md documents
/// both), or the same of `id` → (by id, the values).
fn parse_user_filter(text: &str) -> Option<(bool, Vec<String>)> {
    let s = text.trim();
    let (name, rest) = s.split_once(char::is_whitespace)?;
    let by_id = name.eq_ignore_ascii_case("id");
    if !by_id && !name.eq_ignore_ascii_case("userPrincipalName") {
        return None;
    }
    quoted_values(rest).map(|values| (by_id, values))
}

/// `in ('a', …)` or `eq 'a'` → the values.
fn quoted_values(rest: &str) -> Option<Vec<String>> {
    let rest = rest.trim_start();
    let op = rest.get(..2)?;
    if op.eq_ignore_ascii_case("eq") {
        return quoted_list(rest[2..].trim()).filter(|v| v.len() == 1);
    }
    if !op.eq_ignore_ascii_case("in") {
        return None;
    }
    quoted_list(rest[2..].trim().strip_prefix('(')?.strip_suffix(')')?)
}

/// `'a', 'o''b'` → the values (quotes doubled inside a value).
fn quoted_list(inner: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next()? != '\'' {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                '\'' => break,
                c => value.push(c),
            }
        }
        out.push(value);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Some(out),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

fn method_json(sim: &Shared, t: &Tenant, d: usize, expand: bool) -> Value {
    let mut m = json!({"id": method_id(sim, t, d)});
    if expand || !distinct_method_id(sim, d) {
        m["device"] = device_json(t, d);
    }
    m
}

fn expands_device(raw: Option<&str>) -> bool {
    query_pairs(raw).iter().any(|(k, v)| matches!(k.as_str(), "$expand" | "expand") && v.contains("device"))
}

async fn list_methods(
    State(sim): Sim,
    Extension(ctx): Extension<Ctx>,
    Path(user): Path<String>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let expand = expands_device(raw.as_deref());
    let value: Vec<Value> = t.users[u].methods.iter().map(|&d| method_json(&sim, &t, d, expand)).collect();
    Ok(json_response(StatusCode::OK, json!({ "value": value })))
}

async fn get_method(
    State(sim): Sim,
    Extension(ctx): Extension<Ctx>,
    Path((user, method)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let mut t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let d = device_of_method(&sim, &mut t, &ctx, &method)?;
    if t.devices[d].assigned != Some(u) {
        return Err(resource_not_found(&ctx, &method));
    }
    Ok(json_response(StatusCode::OK, method_json(&sim, &t, d, expands_device(raw.as_deref()))))
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

/// The code an activation's body sends (400 without one), and the method's name if it gives one.
fn code_sent<'a>(ctx: &Ctx, body: &'a Value) -> Result<CodeSent<'a>, Response> {
    let code = str_field(ctx, body, "/verificationCode", "verificationCode")?;
    Ok(CodeSent { code, now: ctx.now, display_name: body.get("displayName").and_then(Value::as_str) })
}

async fn assign(State(sim): Sim, Extension(ctx): Extension<Ctx>, Path(user): Path<String>, body: Bytes) -> Reply {
    let body = parse_body(&ctx, &body)?;
    let id = str_field(&ctx, &body, "/device/id", "device.id")?;
    let mut t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let d = t.find_device(id).ok_or_else(|| resource_not_found(&ctx, id))?;
    t.assign(u, d, ctx.now).map_err(|r| refusal(&sim, &ctx, r, id))?;
    let mut reply = method_json(&sim, &t, d, true);
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
    let sent = code_sent(&ctx, &body)?;
    let mut t = sim.lock();
    let u = user_or_404(&t, &ctx, &user)?;
    let d = device_of_method(&sim, &mut t, &ctx, &method)?;
    t.activate(u, d, sent).map_err(|r| refusal(&sim, &ctx, r, &method))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The handler of `assignAndActivate` with the token named by the body's `field` (its JSON
/// pointer and its name for errors), looked up with `find`: by id and by serial, one handler.
fn assign_and_activate(
    field: (&'static str, &'static str),
    find: fn(&Tenant, &str) -> Option<usize>,
) -> impl Fn(Sim, Extension<Ctx>, Path<String>, Bytes) -> Ready<Reply> + Clone + Send + Sync + 'static {
    move |State(sim), Extension(ctx), Path(user), body| {
        ready(assign_and_activate_named(&sim, &ctx, &user, &body, field, find))
    }
}

fn assign_and_activate_named(
    sim: &Shared,
    ctx: &Ctx,
    user: &str,
    body: &Bytes,
    field: (&str, &str),
    find: fn(&Tenant, &str) -> Option<usize>,
) -> Reply {
    let body = parse_body(ctx, body)?;
    let key = str_field(ctx, &body, field.0, field.1)?;
    let sent = code_sent(ctx, &body)?;
    let mut t = sim.lock();
    let u = user_or_404(&t, ctx, user)?;
    let d = find(&t, key).ok_or_else(|| resource_not_found(ctx, key))?;
    t.assign_and_activate(u, d, sent).map_err(|r| refusal(sim, ctx, r, key))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn policy_json(state: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.hardwareOathAuthenticationMethodConfiguration",
        "id": "HardwareOath",
        "state": state,
        "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}],
        "excludeTargets": [],
    })
}

async fn policy(State(sim): Sim, Extension(_ctx): Extension<Ctx>) -> Response {
    let state = sim.lock().policy_state.clone();
    let body = if sim.config.readings.policy_value_wrapped {
        json!({ "value": [policy_json(&state)] })
    } else if sim.config.readings.value_object {
        json!({ "value": policy_json(&state) })
    } else {
        policy_json(&state)
    };
    json_response(StatusCode::OK, body)
}

async fn update_policy(State(sim): Sim, Extension(ctx): Extension<Ctx>, body: Bytes) -> Reply {
    let body = parse_body(&ctx, &body)?;
    let mut t = sim.lock();
    if let Some(state) = body.get("state") {
        let state = state.as_str().filter(|s| matches!(*s, "enabled" | "disabled"));
        let state = state.ok_or_else(|| bad_request(&ctx, "The property 'state' must be 'enabled' or 'disabled'."))?;
        t.policy_state = state.to_string();
    }
    t.counters.policy_changes += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A device to create from a Graph body (`POST` or one bulk item).
fn new_device(body: &Value) -> Result<NewDevice, String> {
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let serial =
        text("serialNumber").filter(|s| !s.trim().is_empty()).ok_or("The property 'serialNumber' is required.")?;
    let raw = text("secretKey").filter(|s| !s.trim().is_empty()).ok_or("The property 'secretKey' is required.")?;
    if raw.len() > crate::inventory::MAX_SECRET_CHARS {
        return Err("The property 'secretKey' is too long.".into());
    }
    // Never echo the secret back.
    let secret =
        SecretKey::decode(&raw, SecretFormat::Base32).map_err(|_| "The property 'secretKey' is not valid Base32.")?;
    // The CSDL: `timeIntervalInSeconds` is a non-nullable Edm.Int32; `hashFunction` a
    // `hardwareOathTokenHashFunction`, whose members are spelled `hmacsha1` and `hmacsha256`
    // exactly (`sha1`, `HMACSHA256` or `SHA-256` are no members).
    let period = match body.get("timeIntervalInSeconds") {
        None | Some(Value::Null) => return Err("The property 'timeIntervalInSeconds' is required.".into()),
        Some(v) => v
            .as_u64()
            .and_then(|p| u32::try_from(p).ok())
            .filter(|p| (1..=i32::MAX as u32).contains(p))
            .ok_or("The property 'timeIntervalInSeconds' must be a positive Edm.Int32.")?,
    };
    let hash = match text("hashFunction") {
        None => HashFunction::Sha1,
        Some(h) => [HashFunction::Sha1, HashFunction::Sha256]
            .into_iter()
            .find(|f| f.graph_name() == h)
            .ok_or("The property 'hashFunction' must be hmacsha1 or hmacsha256.")?,
    };
    // Both are required by the CSDL (and marked Required in the docs).
    let manufacturer =
        text("manufacturer").filter(|s| !s.trim().is_empty()).ok_or("The property 'manufacturer' is required.")?;
    let model = text("model").filter(|s| !s.trim().is_empty()).ok_or("The property 'model' is required.")?;
    Ok(NewDevice {
        serial,
        secret: secret.bytes().to_vec(),
        period,
        hash,
        manufacturer,
        model,
        display_name: text("displayName"),
    })
}

/// Create one device (and assign it when `assignTo` names a user). Caller holds the lock.
fn create_one(t: &mut Tenant, item: &Value, now: u64) -> Result<usize, WriteRefusal> {
    let new = new_device(item).map_err(WriteRefusal::Invalid)?;
    let assign_to = match item.pointer("/assignTo/id") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let key = v.as_str().ok_or_else(|| WriteRefusal::Invalid("assignTo.id must be a string.".into()))?;
            Some(t.find_user(key).ok_or_else(|| WriteRefusal::UserNotFound(key.to_string()))?)
        }
    };
    t.create(new, assign_to, now)
}

async fn create_device(State(sim): Sim, Extension(ctx): Extension<Ctx>, body: Bytes) -> Reply {
    let body = parse_body(&ctx, &body)?;
    if body.get("value").is_some_and(Value::is_array) {
        // The documented bulk create: `POST` of the delta body (the update page's example,
        // Microsoft's SDK).
        return bulk_answer(&sim, &ctx, body);
    }
    let serial = body.get("serialNumber").and_then(Value::as_str).unwrap_or("").to_string();
    let mut t = sim.lock();
    let d = create_one(&mut t, &body, ctx.now).map_err(|r| write_refusal(&sim, &ctx, r, &serial))?;
    Ok(json_response(StatusCode::CREATED, device_json(&t, d)))
}

/// `PATCH …/hardwareOathDevices` with `{"@context":"#$delta","value":[{"@contentId":"1",…}]}`:
/// 200 `{"value":[{"@contentId","id","serialNumber","status"} | {"@contentId","serialNumber","error":{code,message}}]}`.
async fn bulk_create(State(sim): Sim, Extension(ctx): Extension<Ctx>, body: Bytes) -> Reply {
    if sim.config.readings.bulk_post_only {
        return Err(graph_error(
            &ctx,
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "The HTTP method 'PATCH' is not allowed on this resource.",
        ));
    }
    let body = parse_body(&ctx, &body)?;
    bulk_answer(&sim, &ctx, body)
}

/// The failure the configuration makes of every bulk create, if any (forbidden first).
fn forced_bulk_failure(config: &super::SimConfig) -> Option<(StatusCode, &'static str, &'static str)> {
    if config.bulk_create_forbidden {
        return Some((
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ));
    }
    let content_type = "Write requests (excluding DELETE) must contain the Content-Type header declaration.";
    config.bulk_create_fails.then_some((StatusCode::BAD_REQUEST, "BadRequest", content_type))
}

/// A bulk create, by either verb: one outcome per item, in order.
fn bulk_answer(sim: &Arc<Shared>, ctx: &Ctx, body: Value) -> Reply {
    let ctx = ctx.clone();
    if let Some((status, code, message)) = forced_bulk_failure(&sim.config) {
        return Err(graph_error(&ctx, status, code, message));
    }
    let items = body.get("value").and_then(Value::as_array).ok_or_else(|| {
        bad_request(&ctx, "The request body must be a delta payload: {\"@context\":\"#$delta\",\"value\":[…]}.")
    })?;
    if items.len() > sim.config.bulk_create_max {
        return Err(bad_request(
            &ctx,
            &format!("At most {} devices may be created in one request.", sim.config.bulk_create_max),
        ));
    }
    let documented = sim.config.readings.documented_bulk_answer;
    let mut t = sim.lock();
    t.counters.bulk_create_requests += 1;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let content_id = match item.get("@contentId") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => (i + 1).to_string(),
        };
        let serial = item.get("serialNumber").and_then(Value::as_str).unwrap_or("").to_string();
        match create_one(&mut t, item, ctx.now) {
            Ok(d) if documented => out.push(method_json(sim, &t, d, true)),
            Ok(d) => {
                let mut v = device_json(&t, d);
                v["@contentId"] = json!(content_id);
                out.push(v);
            }
            Err(r) => {
                let (code, message) = match r {
                    WriteRefusal::SerialExists(_) => (
                        "deviceAlreadyExists".to_string(),
                        format!("A hardware OATH token with serial number '{serial}' already exists."),
                    ),
                    WriteRefusal::UserNotFound(u) => {
                        ("Request_ResourceNotFound".into(), format!("User '{u}' does not exist."))
                    }
                    WriteRefusal::Assign(_) => (
                        "tooManyHardwareOathMethods".into(),
                        "The user already has the maximum number of hardware OATH tokens (5).".into(),
                    ),
                    WriteRefusal::Invalid(m) => ("invalidRequest".into(), m),
                    WriteRefusal::StillAssigned => ("invalidRequest".into(), "unexpected".into()),
                };
                let mut v = json!({"serialNumber": serial, "error": {"code": code, "message": message}});
                if !documented {
                    v["@contentId"] = json!(content_id);
                }
                out.push(v);
            }
        }
    }
    if documented {
        return Ok(json_response(StatusCode::CREATED, json!({ "value": out })));
    }
    Ok(json_response(StatusCode::OK, json!({ "value": out })))
}

async fn delete_device(State(sim): Sim, Extension(ctx): Extension<Ctx>, Path(id): Path<String>) -> Reply {
    let mut t = sim.lock();
    let d = t.find_device(&id).ok_or_else(|| resource_not_found(&ctx, &id))?;
    let serial = t.devices[d].serial.clone();
    t.delete(d).map_err(|r| write_refusal(&sim, &ctx, r, &serial))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The handler of a write to `/users/{user}/…/{method}` (deactivate, unassign): the user and
/// the method are looked up as on every such path, then `write` changes the tenant.
fn method_write(
    write: fn(&mut Tenant, usize, usize) -> Result<(), Refusal>,
) -> impl Fn(Sim, Extension<Ctx>, Path<(String, String)>) -> Ready<Reply> + Clone + Send + Sync + 'static {
    move |State(sim), Extension(ctx), Path((user, method))| ready(write_method(&sim, &ctx, &user, &method, write))
}

fn write_method(
    sim: &Shared,
    ctx: &Ctx,
    user: &str,
    method: &str,
    write: fn(&mut Tenant, usize, usize) -> Result<(), Refusal>,
) -> Reply {
    let mut t = sim.lock();
    let u = user_or_404(&t, ctx, user)?;
    let d = device_of_method(sim, &mut t, ctx, method)?;
    write(&mut t, u, d).map_err(|r| refusal(sim, ctx, r, method))?;
    Ok(StatusCode::NO_CONTENT.into_response())
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
        assert_eq!(
            parse_user_filter("userPrincipalName in ('a@x', 'o''b@x','$c@x')"),
            Some((false, vec!["a@x".to_string(), "o'b@x".into(), "$c@x".into()]))
        );
        // user-list.md documents `eq` too; one value, never a list.
        assert_eq!(parse_user_filter("userPrincipalName eq 'a@x'"), Some((false, vec!["a@x".to_string()])));
        assert_eq!(parse_user_filter("userPrincipalName eq 'a@x', 'b@x'"), None);
        assert_eq!(parse_user_filter("id in ('u-1','u-2')"), Some((true, vec!["u-1".to_string(), "u-2".into()])));
        assert!(parse_filter("status eq 'ACTIVATED'").is_err(), "enum members are case-sensitive");
        assert_eq!(parse_user_filter("displayName in ('a')"), None);
    }
}
