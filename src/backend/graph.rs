//! Microsoft Graph (beta): the documented API (docs: entra-oath-api.md §3).

use super::{classify, ApiError, Backend, Capabilities, CreateOutcome, Device, DeviceStatus, NewDevice, UserRef};
use crate::engine::retry::backoff;
use crate::http::{ApiClient, Reply};
use crate::otp::HashFunction;
use crate::record::TenantToken;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

const DEVICES: &str = "directory/authenticationMethodDevices/hardwareOathDevices";
/// Graph's largest page.
const PAGE: u32 = 999;
/// Up to this many rows, one `$filter` query per serial is cheaper than the whole inventory.
const FILTER_BELOW: usize = 8;
/// Devices per bulk-create request.
pub const BULK: usize = 100;
const POLICY: &str = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath";
/// Bounds on re-sending one create.
const MAX_THROTTLED: u32 = 30;
const MAX_TRANSIENT: u32 = 6;

pub const DEFAULT_URL: &str = "https://graph.microsoft.com/beta";

pub struct GraphBackend {
    api: ApiClient,
    base: String,
    /// UPN/id (lower-case) → user, for `assignTo` and holder checks.
    users: Mutex<HashMap<String, Option<UserRef>>>,
}

impl GraphBackend {
    pub fn new(api: ApiClient, base: &url::Url) -> Self {
        Self { api, base: base.as_str().trim_end_matches('/').to_string(), users: Mutex::new(HashMap::new()) }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path)
    }

    fn user(&self, upn: &str) -> String {
        self.url(&format!("users/{}/authentication/hardwareOathMethods", encode(upn)))
    }

    async fn call(&self, method: Method, url: &str, body: Option<&Value>) -> Result<Reply, ApiError> {
        let reply = self.api.send(method, url, body).await?;
        if reply.status.is_success() {
            Ok(reply)
        } else {
            Err(graph_error(&reply))
        }
    }

    /// GET a collection, following `@odata.nextLink` to the end (tools that stop at page
    /// one silently skip tokens).
    async fn collect(&self, first: String) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 100_000 {
                return Err(ApiError::Unavailable {
                    status: 200,
                    code: "paging_loop".into(),
                    message: "the inventory's nextLink chain does not end".into(),
                });
            }
            let body = self.call(Method::GET, &url, None).await?.json();
            if let Some(values) = body.get("value").and_then(Value::as_array) {
                items.extend(values.iter().cloned());
            }
            next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
        }
        Ok(items)
    }
}

/// The Graph body creating one device. The only place the secret is encoded.
fn create_body(d: &NewDevice, user_id: Option<&str>) -> Value {
    let mut body = json!({
        "serialNumber": d.serial,
        "manufacturer": d.manufacturer,
        "model": d.model,
        "secretKey": d.secret.to_base32(),
        "timeIntervalInSeconds": d.time_interval,
        "hashFunction": d.hash.graph_name(),
    });
    if let Some(name) = &d.display_name {
        body["displayName"] = json!(name);
    }
    if let Some(id) = user_id {
        body["assignTo"] = json!({ "id": id });
    }
    body
}

fn exists_code(code: &str, status: u16) -> bool {
    status == 409 || code.to_ascii_lowercase().contains("exist")
}

fn user_not_found(upn: &str) -> ApiError {
    ApiError::Rejected {
        status: 404,
        code: "user_not_found".into(),
        message: format!("no user '{upn}' in the tenant"),
        body: String::new(),
    }
}

impl GraphBackend {
    /// The device with this serial, if the tenant has exactly one.
    async fn by_serial(&self, serial: &str) -> Result<Option<Device>, ApiError> {
        let filter = format!("serialNumber eq '{}'", serial.replace('\'', "''"));
        let url = format!("{}?$filter={}", self.url(DEVICES), encode(&filter));
        let found: Vec<Device> = self.collect(url).await?.iter().map(device_from_json).collect();
        Ok(found.into_iter().find(|d| d.token.serial.eq_ignore_ascii_case(serial)))
    }

    /// Sleep for a throttled write; false when the bound is reached.
    async fn wait_throttled(retry_after: Option<std::time::Duration>, n: &mut u32) -> bool {
        *n += 1;
        if *n > MAX_THROTTLED {
            return false;
        }
        tokio::time::sleep(retry_after.unwrap_or_else(|| backoff(*n))).await;
        true
    }

    /// Create one device with `POST`, never twice: after an unanswered or failed write the
    /// tenant is asked before anything is sent again. `Err` only for auth failures.
    async fn create_one(&self, d: &NewDevice, user_id: Option<&str>) -> Result<CreateOutcome, ApiError> {
        let url = self.url(DEVICES);
        let body = create_body(d, user_id);
        let (mut throttled, mut transient) = (0u32, 0u32);
        loop {
            let err = match self.call(Method::POST, &url, Some(&body)).await {
                Ok(reply) => {
                    let mut dev = device_from_json(&reply.json());
                    if dev.token.serial.is_empty() {
                        dev.token.serial = d.serial.clone();
                    }
                    return Ok(CreateOutcome::Created(dev));
                }
                Err(e) => e,
            };
            match &err {
                ApiError::Auth { .. } => return Err(err),
                ApiError::Throttled { retry_after, .. } => {
                    if !Self::wait_throttled(*retry_after, &mut throttled).await {
                        return Ok(CreateOutcome::Failed(err));
                    }
                }
                ApiError::Rejected { status, code, .. } if exists_code(code, *status) => {
                    return Ok(CreateOutcome::Exists(self.by_serial(&d.serial).await.ok().flatten()))
                }
                ApiError::Rejected { .. } => return Ok(CreateOutcome::Failed(err)),
                ApiError::Unavailable { .. } | ApiError::Transport { .. } => {
                    transient += 1;
                    if transient > MAX_TRANSIENT {
                        return Ok(CreateOutcome::Failed(err));
                    }
                    tokio::time::sleep(backoff(transient)).await;
                    let maybe_applied = !matches!(err, ApiError::Transport { maybe_applied: false, .. });
                    if maybe_applied {
                        match self.by_serial(&d.serial).await {
                            Ok(Some(dev)) => return Ok(CreateOutcome::Created(dev)),
                            Ok(None) => {}
                            Err(e @ ApiError::Auth { .. }) => return Err(e),
                            Err(e) => return Ok(CreateOutcome::Failed(e)),
                        }
                    }
                }
            }
        }
    }

    /// One bulk `PATCH`. `Ok(None)`: the batch failed as a whole (fall back to `POST`s);
    /// `Ok(Some)`: one outcome per item, `None` where the answer said nothing of it.
    async fn create_batch(
        &self,
        batch: &[(usize, &NewDevice, Option<String>)],
    ) -> Result<Option<Vec<Option<CreateOutcome>>>, ApiError> {
        let value: Vec<Value> = batch
            .iter()
            .enumerate()
            .map(|(i, (_, d, user))| {
                let mut item = create_body(d, user.as_deref());
                item["@contentId"] = json!((i + 1).to_string());
                item
            })
            .collect();
        let body = json!({ "@context": "#$delta", "value": value });
        let url = self.url(DEVICES);
        let mut throttled = 0u32;
        let reply = loop {
            match self.call(Method::PATCH, &url, Some(&body)).await {
                Ok(r) => break r,
                Err(e @ ApiError::Auth { .. }) => return Err(e),
                Err(ApiError::Throttled { retry_after, .. }) => {
                    if !Self::wait_throttled(retry_after, &mut throttled).await {
                        return Ok(None);
                    }
                }
                // Refused, failed or unanswered as a whole: the one-by-one path re-reads
                // each serial first where the batch may have landed.
                Err(_) => return Ok(None),
            }
        };
        let answer = reply.json();
        let Some(items) = answer.get("value").and_then(Value::as_array) else { return Ok(None) };
        let mut out: Vec<Option<CreateOutcome>> = vec![None; batch.len()];
        for item in items {
            let content = match item.get("@contentId") {
                Some(Value::String(s)) => s.parse::<usize>().ok(),
                Some(Value::Number(n)) => n.as_u64().map(|n| n as usize),
                _ => None,
            };
            let Some(i) = content.and_then(|c| c.checked_sub(1)).filter(|&i| i < batch.len()) else { continue };
            out[i] = Some(match item.get("error").filter(|e| e.is_object()) {
                None => {
                    let mut dev = device_from_json(item);
                    if dev.token.serial.is_empty() {
                        dev.token.serial = batch[i].1.serial.clone();
                    }
                    CreateOutcome::Created(dev)
                }
                Some(e) => {
                    let code = str_field(e, "code").unwrap_or_else(|| "error".into());
                    let message = str_field(e, "message").unwrap_or_default();
                    if exists_code(&code, 0) {
                        CreateOutcome::Exists(None)
                    } else {
                        CreateOutcome::Failed(ApiError::Rejected { status: 400, code, message, body: String::new() })
                    }
                }
            });
        }
        Ok(Some(out))
    }
}

/// Percent-encode one path segment (UPNs may hold `#`, `'`, `+` …).
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Read Graph's error envelope: `{"error":{"code","message"}}`.
pub fn graph_error(reply: &Reply) -> ApiError {
    let body = reply.json();
    let err = body.get("error");
    let code = err.and_then(|e| e.get("code")).and_then(Value::as_str).unwrap_or("").to_string();
    let message = err.and_then(|e| e.get("message")).and_then(Value::as_str).unwrap_or("").to_string();
    let code = if code.is_empty() { format!("http_{}", reply.status.as_u16()) } else { code };
    let message =
        if message.is_empty() { reply.status.canonical_reason().unwrap_or("error").to_string() } else { message };
    classify(reply, code, message)
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A Graph `hardwareOathTokenAuthenticationMethodDevice` as a [`Device`].
pub fn device_from_json(v: &Value) -> Device {
    let status = str_field(v, "status").unwrap_or_default();
    let assigned = v.get("assignedTo").filter(|a| a.is_object());
    Device {
        status: DeviceStatus::parse(&status),
        owner_upn: None,
        token: TenantToken {
            id: str_field(v, "id").unwrap_or_default(),
            serial: str_field(v, "serialNumber").unwrap_or_default(),
            status,
            manufacturer: str_field(v, "manufacturer"),
            model: str_field(v, "model"),
            time_interval: v.get("timeIntervalInSeconds").and_then(Value::as_u64).map(|n| n as u32),
            hash: v.get("hashFunction").and_then(Value::as_str).and_then(HashFunction::parse),
            display_name: str_field(v, "displayName"),
            assigned_to_id: assigned.and_then(|a| str_field(a, "id")),
            assigned_to: assigned.and_then(|a| str_field(a, "displayName")),
            last_used: str_field(v, "lastUsedDateTime"),
        },
    }
}

impl Backend for GraphBackend {
    fn name(&self) -> &'static str {
        "graph"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { assign: true }
    }

    async fn list_all(&self) -> Result<Vec<Device>, ApiError> {
        let items = self.collect(self.url(&format!("{DEVICES}?$top={PAGE}"))).await?;
        Ok(items.iter().map(device_from_json).collect())
    }

    async fn find(&self, wanted: &[(String, String)]) -> Result<Vec<Device>, ApiError> {
        if wanted.len() >= FILTER_BELOW {
            return self.list_all().await;
        }
        let mut out = Vec::new();
        for (serial, _) in wanted {
            let filter = format!("serialNumber eq '{}'", serial.replace('\'', "''"));
            let url = format!("{}?$filter={}", self.url(DEVICES), encode(&filter));
            out.extend(self.collect(url).await?.iter().map(device_from_json));
        }
        Ok(out)
    }

    async fn device_ids_of_user(&self, upn: &str) -> Result<Vec<String>, ApiError> {
        match self.collect(self.user(upn)).await {
            Ok(items) => Ok(items
                .iter()
                .filter_map(|m| m.get("device").and_then(|d| str_field(d, "id")).or_else(|| str_field(m, "id")))
                .collect()),
            // An unknown user holds nothing.
            Err(ApiError::Rejected { status: 404, .. }) => Ok(vec![]),
            Err(e) => Err(e),
        }
    }

    async fn get(&self, device: &Device) -> Result<Option<Device>, ApiError> {
        let url = self.url(&format!("{DEVICES}/{}", encode(&device.token.id)));
        match self.call(Method::GET, &url, None).await {
            Ok(reply) => Ok(Some(device_from_json(&reply.json()))),
            Err(ApiError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn activate(
        &self,
        upn: &str,
        device: &Device,
        code: &str,
        display_name: Option<&str>,
    ) -> Result<(), ApiError> {
        let url = format!("{}/{}/activate", self.user(upn), encode(&device.token.id));
        let mut body = json!({ "verificationCode": code });
        if let Some(name) = display_name {
            body["displayName"] = json!(name);
        }
        self.call(Method::POST, &url, Some(&body)).await.map(|_| ())
    }

    async fn assign_and_activate(
        &self,
        upn: &str,
        device: &Device,
        code: &str,
        display_name: Option<&str>,
    ) -> Result<(), ApiError> {
        let url = format!("{}/assignAndActivate", self.user(upn));
        let mut body = json!({ "device": { "id": device.token.id }, "verificationCode": code });
        if let Some(name) = display_name {
            body["displayName"] = json!(name);
        }
        self.call(Method::POST, &url, Some(&body)).await.map(|_| ())
    }

    async fn policy_state(&self) -> Result<Option<String>, ApiError> {
        let body = self.call(Method::GET, &self.url(POLICY), None).await?.json();
        Ok(str_field(&body, "state"))
    }

    async fn enable_policy(&self) -> Result<(), ApiError> {
        self.call(Method::PATCH, &self.url(POLICY), Some(&json!({ "state": "enabled" }))).await.map(|_| ())
    }

    async fn create_devices(&self, devices: &[NewDevice]) -> Result<Vec<CreateOutcome>, ApiError> {
        let mut out: Vec<Option<CreateOutcome>> = vec![None; devices.len()];
        // assignTo takes the user's object id.
        let mut todo = Vec::new();
        for (i, d) in devices.iter().enumerate() {
            match &d.assign_to {
                None => todo.push((i, d, None)),
                Some(upn) => match self.lookup_user(upn).await? {
                    Some(u) => todo.push((i, d, Some(u.id))),
                    None => out[i] = Some(CreateOutcome::Failed(user_not_found(upn))),
                },
            }
        }
        let mut auth: Option<ApiError> = None;
        for batch in todo.chunks(BULK) {
            if let Some(e) = &auth {
                for (i, _, _) in batch {
                    out[*i] = Some(CreateOutcome::Failed(e.clone()));
                }
                continue;
            }
            let answered = match self.create_batch(batch).await {
                Ok(a) => a.unwrap_or_else(|| vec![None; batch.len()]),
                Err(e) => {
                    auth = Some(e.clone());
                    vec![Some(CreateOutcome::Failed(e)); batch.len()]
                }
            };
            for ((i, d, user), answer) in batch.iter().zip(answered) {
                out[*i] = Some(match answer {
                    Some(o) => o,
                    None if auth.is_some() => CreateOutcome::Failed(auth.clone().expect("set")),
                    // Unanswered: one by one (which first asks whether the batch landed).
                    None => match self.by_serial(&d.serial).await {
                        Ok(Some(dev)) => CreateOutcome::Created(dev),
                        Ok(None) => match self.create_one(d, user.as_deref()).await {
                            Ok(o) => o,
                            Err(e) => {
                                auth = Some(e.clone());
                                CreateOutcome::Failed(e)
                            }
                        },
                        Err(e @ ApiError::Auth { .. }) => {
                            auth = Some(e.clone());
                            CreateOutcome::Failed(e)
                        }
                        Err(e) => CreateOutcome::Failed(e),
                    },
                });
            }
        }
        Ok(out.into_iter().map(|o| o.expect("every item has an outcome")).collect())
    }

    async fn assign(&self, upn: &str, device: &Device) -> Result<(), ApiError> {
        let body = json!({ "device": { "id": device.token.id } });
        self.call(Method::POST, &self.user(upn), Some(&body)).await.map(|_| ())
    }

    async fn deactivate(&self, upn: &str, device: &Device) -> Result<(), ApiError> {
        let url = format!("{}/{}/deactivate", self.user(upn), encode(&device.token.id));
        self.call(Method::POST, &url, None).await.map(|_| ())
    }

    async fn unassign(&self, upn: &str, device: &Device) -> Result<(), ApiError> {
        let url = format!("{}/{}", self.user(upn), encode(&device.token.id));
        self.call(Method::DELETE, &url, None).await.map(|_| ())
    }

    async fn delete(&self, device: &Device) -> Result<(), ApiError> {
        let url = self.url(&format!("{DEVICES}/{}", encode(&device.token.id)));
        self.call(Method::DELETE, &url, None).await.map(|_| ())
    }

    async fn lookup_user(&self, id_or_upn: &str) -> Result<Option<UserRef>, ApiError> {
        let key = id_or_upn.to_lowercase();
        if let Some(hit) = self.users.lock().unwrap().get(&key) {
            return Ok(hit.clone());
        }
        let url = self.url(&format!("users/{}?$select=id,userPrincipalName", encode(id_or_upn)));
        let user = match self.call(Method::GET, &url, None).await {
            Ok(reply) => {
                let v = reply.json();
                str_field(&v, "id")
                    .map(|id| UserRef { id, upn: str_field(&v, "userPrincipalName").unwrap_or_default() })
            }
            Err(ApiError::Rejected { status: 404, .. }) => None,
            Err(e) => return Err(e),
        };
        let mut cache = self.users.lock().unwrap();
        cache.insert(key, user.clone());
        if let Some(u) = &user {
            cache.insert(u.id.to_lowercase(), user.clone());
            cache.insert(u.upn.to_lowercase(), user.clone());
        }
        Ok(user)
    }
}
