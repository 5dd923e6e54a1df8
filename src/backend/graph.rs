//! Microsoft Graph (beta): the documented API (docs: entra-oath-api.md §3).

use super::{
    classify, ApiError, Backend, BackendKind, CodeWrite, CreateOutcome, Device, DeviceStatus, NewDevice, Refusal,
    UserRef,
};
use crate::http::{ApiClient, Reply};
use crate::otp::HashFunction;
use crate::record::TenantToken;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const DEVICES: &str = "directory/authenticationMethodDevices/hardwareOathDevices";
/// The page size asked of the inventory. Not a documented maximum of this collection:
/// a tenant that refuses it (400) is read again at its default page size (docs/graph-api.md).
const PAGE: u32 = 999;
/// The holder as a user, asked of every inventory read: `assignedTo` names a holder by id
/// and display name only, while the CSV names users by UPN. With the UPN in the inventory,
/// someone else's token and an already active one are known without a write or a user
/// lookup. `assignTo` is a navigation property (to `user`) in the beta CSDL, but no doc shows
/// the list expanding it: a tenant that refuses it (400) is read without it, as one that
/// ignores it is (docs/graph-api.md).
const EXPAND: &str = "assignTo($select=id,userPrincipalName)";
/// Up to this many rows, one `$filter` query per serial is cheaper than the whole inventory.
const FILTER_BELOW: usize = 8;
/// Values per `userPrincipalName in (…)` filter: Graph's limit for `in` on users.
const USERS_PER_FILTER: usize = 15;
/// Devices per bulk-create request.
pub const BULK: usize = 100;
const POLICY: &str = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath";

pub const DEFAULT_URL: &str = "https://graph.microsoft.com/beta";

pub struct GraphBackend {
    api: ApiClient,
    base: String,
    /// UPN/id (lower-case) → user, for `assignTo` and holder checks.
    users: Mutex<HashMap<String, Option<UserRef>>>,
    /// User key (lower-case UPN or id) → the user's methods as (device id, method id), learnt
    /// from one read of the user's methods. Method ids need not equal device ids (the docs
    /// show both). A user holds at most a handful, so a list is enough.
    methods: Mutex<HashMap<String, Methods>>,
    /// One read of a user's methods at a time: tokens of one user activated in parallel
    /// share the read that the first 404 started.
    reading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// A 404 has shown that this tenant's method ids differ from its device ids.
    ids_differ: AtomicBool,
    /// The inventory refused `$expand` (400): read without it for the rest of the run.
    expand_refused: AtomicBool,
    /// The inventory refused `$top={PAGE}` (400): read at its own page size from now on.
    top_refused: AtomicBool,
    /// A bulk create's `PATCH` was refused as a verb (400, 404, 405) and its `POST` taken:
    /// bulk creates go by `POST` for the rest of the run.
    bulk_by_post: AtomicBool,
}

impl GraphBackend {
    pub fn new(api: ApiClient, base: &url::Url) -> Self {
        Self {
            api,
            base: base.as_str().trim_end_matches('/').to_string(),
            users: Mutex::new(HashMap::new()),
            methods: Mutex::new(HashMap::new()),
            reading: Mutex::new(HashMap::new()),
            ids_differ: AtomicBool::new(false),
            expand_refused: AtomicBool::new(false),
            top_refused: AtomicBool::new(false),
            bulk_by_post: AtomicBool::new(false),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path)
    }

    fn user(&self, upn: &str) -> String {
        self.url(&format!("{}/authentication/hardwareOathMethods", user_segment(upn)))
    }

    async fn call(&self, method: Method, url: &str, body: Option<&Value>) -> Result<Reply, ApiError> {
        self.api.send(method, url, body).await?.success_or(graph_error)
    }

    /// GET a collection, following `@odata.nextLink` to the end (tools that stop at page
    /// one silently skip tokens).
    async fn collect(&self, first: String) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut budget = crate::http_guard::PageBudget::new("the inventory's nextLink chain");
        while let Some(url) = next.take() {
            let reply = self.call(Method::GET, &url, None).await?;
            // Bounded in pages and in bytes before a page is parsed.
            budget.charge(reply.body.len())?;
            let mut body = reply.json();
            // Taken, not cloned: a page holds up to 999 devices. A page without its `value`
            // array (an empty body, `{}`, `null`) says nothing: never an empty collection.
            match body.get_mut("value").map(Value::take) {
                Some(Value::Array(values)) => items.extend(values),
                _ => return Err(not_a_collection(&reply)),
            }
            next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
        }
        Ok(items)
    }
}

/// A 2xx answer to a collection read without a `value` array.
fn not_a_collection(reply: &Reply) -> ApiError {
    let status = reply.status.as_u16();
    let what = match reply.json() {
        Value::Null if reply.body.iter().all(u8::is_ascii_whitespace) => "an empty body",
        Value::Null => "`null`",
        Value::Object(o) if o.is_empty() => "`{}`",
        _ => "JSON without a `value` array",
    };
    ApiError::Unavailable {
        status,
        code: "not_a_collection".into(),
        message: format!(
            "HTTP {status} with {what} where a collection (a `value` array) was asked for: the answer says nothing, \
             so nothing is taken from it"
        )
        .into(),
    }
    .with_request_ids(reply.request_ids())
}

/// A device the tenant answered with, when it has an id: a "created" or "exists" must name
/// the device (an empty, `{}` or `null` 2xx does not).
fn with_id(device: Device) -> Option<Device> {
    (!device.token.id.trim().is_empty()).then_some(device)
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

/// Does this refusal say the method id we sent names none of the user's methods? A 404 does;
/// so does a 400 whose error names the id we sent (Graph words a malformed or unknown key
/// "Invalid object identifier '…'."; the docs name no status for a wrong method id). An
/// ordinary 400 (a refused code, an active token, a disabled policy) names no id: it is
/// reported as it is, with no read to explain it, and a write that succeeds costs nothing.
fn wrong_method_id(e: &ApiError, sent: &str) -> bool {
    match e {
        ApiError::Rejected { status: 404, .. } => true,
        ApiError::Rejected { status: 400, message, body, .. } => {
            let sent = sent.to_lowercase();
            !sent.is_empty() && (message.as_str().to_lowercase().contains(&sent) || body.to_lowercase().contains(&sent))
        }
        _ => false,
    }
}

fn user_not_found(upn: &str) -> ApiError {
    ApiError::Rejected {
        status: 404,
        code: "user_not_found".into(),
        message: format!("no user '{upn}' in the tenant").into(),
        body: String::new(),
    }
}

/// What the inventory read asks for, `($expand, $top)`, most first: each 400 moves to the next
/// one not yet known to be refused. Without `$expand` before without `$top`: the expand is
/// the newer reading (no doc shows it), and the `top-limit` reading honours it on its own.
const INVENTORY_ASKS: [(bool, bool); 4] = [(true, true), (false, true), (true, false), (false, false)];

impl GraphBackend {
    /// The device with this serial, if the tenant has exactly one.
    async fn by_serial(&self, serial: &str) -> Result<Option<Device>, ApiError> {
        let found = self.inventory(Some(serial)).await?;
        Ok(found.into_iter().find(|d| d.token.serial.eq_ignore_ascii_case(serial)))
    }

    /// The inventory: all of it (`$top={PAGE}`), or the devices with this serial (`$filter`),
    /// holders expanded (`EXPAND`). The docs state neither a `$top` limit nor whether the
    /// list expands `assignTo`, so a 400 moves down [`INVENTORY_ASKS`]; what the first
    /// answer that passed shows was refused is not asked again this run (a refusal is paid
    /// for once). A 5xx or a lost reply shows nothing and is returned as it is.
    async fn inventory(&self, serial: Option<&str>) -> Result<Vec<Device>, ApiError> {
        let mut refused: Vec<(bool, bool)> = Vec::new();
        let mut last_refusal = None;
        for (expand, top) in INVENTORY_ASKS {
            // `$top` pages the whole list; a serial's `$filter` has one page anyway.
            if (top && (serial.is_some() || self.top_refused.load(Ordering::Relaxed)))
                || (expand && self.expand_refused.load(Ordering::Relaxed))
            {
                continue;
            }
            match self.collect(self.inventory_url(serial, expand, top)).await {
                Ok(items) => {
                    // Which part was refused shows only in what passed without it.
                    for &(e, t) in &refused {
                        if e && !expand && t == top {
                            self.expand_refused.store(true, Ordering::Relaxed);
                        }
                        if t && !top && e == expand {
                            self.top_refused.store(true, Ordering::Relaxed);
                        }
                    }
                    // Each item a device (the CSDL), or a method holding it under `device`
                    // (the docs' three list examples): one unwrap, shared with bulk create.
                    return Ok(items.iter().map(|item| device_from_json(nested_device(item))).collect());
                }
                Err(e @ ApiError::Rejected { status: 400, .. }) => {
                    refused.push((expand, top));
                    last_refusal = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_refusal.expect("the last ask (neither part) is never skipped"))
    }

    fn inventory_url(&self, serial: Option<&str>, expand: bool, top: bool) -> String {
        let mut query = Vec::new();
        if let Some(serial) = serial {
            query.push(format!("$filter={}", encode(&format!("serialNumber eq '{}'", serial.replace('\'', "''")))));
        }
        if top {
            query.push(format!("$top={PAGE}"));
        }
        if expand {
            query.push(format!("$expand={}", encode(EXPAND)));
        }
        if query.is_empty() {
            self.url(DEVICES)
        } else {
            format!("{}?{}", self.url(DEVICES), query.join("&"))
        }
    }

    /// The user's hardware OATH methods: one read (device expanded), then cached for the
    /// run. An unknown user holds nothing. `fresh`: read again even when cached (the cache
    /// predates a change to this user).
    async fn methods_of(&self, upn: &str, fresh: bool) -> Result<Methods, ApiError> {
        let key = upn.to_lowercase();
        let cached = || self.methods.lock().unwrap().get(&key).cloned();
        if let Some(hit) = cached().filter(|_| !fresh) {
            return Ok(hit);
        }
        let gate = self.reading.lock().unwrap().entry(key.clone()).or_default().clone();
        let before = cached();
        let _turn = gate.lock().await;
        // Someone read it while we waited: theirs is as fresh as ours would be.
        if let Some(hit) = cached().filter(|now| !fresh || Some(now) != before.as_ref()) {
            return Ok(hit);
        }
        let items = match self.collect(format!("{}?$expand=device", self.user(upn))).await {
            Ok(items) => items,
            Err(ApiError::Rejected { status: 404, .. }) => vec![],
            Err(e) => return Err(e),
        };
        let map: Methods = items
            .iter()
            .filter_map(|m| {
                let method = str_field(m, "id")?;
                // Without the device expanded, the method id is all there is to go on.
                let device = m.get("device").and_then(|d| str_field(d, "id")).unwrap_or_else(|| method.clone());
                Some((device, method))
            })
            .collect();
        self.methods.lock().unwrap().insert(key, map.clone());
        Ok(map)
    }

    fn forget_method(&self, upn: &str, device_id: &str) {
        if let Some(known) = self.methods.lock().unwrap().get_mut(&upn.to_lowercase()) {
            known.retain(|(d, _)| !d.eq_ignore_ascii_case(device_id));
        }
    }

    /// A write to `users/{upn}/authentication/hardwareOathMethods/{methodId}{suffix}`.
    /// The method id is taken to be the device id until a 404 says otherwise (the common
    /// case costs one request); then ONE read of the user's methods finds the method whose
    /// device is this token (cached per user) and the write goes to it. A token that is
    /// not among the user's methods is reported as such, never as a wrong conflict.
    async fn method_write(
        &self,
        upn: &str,
        device: &Device,
        method: Method,
        suffix: &str,
        body: Option<&Value>,
    ) -> Result<(), ApiError> {
        let url = |id: &str| format!("{}/{}{suffix}", self.user(upn), encode(id));
        let device_id = device.token.id.as_str();
        let mut known = self.methods.lock().unwrap().get(&upn.to_lowercase()).map(|m| method_for(m, device_id));
        if known.is_none() && self.ids_differ.load(Ordering::Relaxed) {
            // This tenant's method ids differ from its device ids: trying the device id
            // would cost a 404 per token, so a user not yet read is read first (once).
            let methods = self.methods_of(upn, false).await?;
            match method_for(&methods, device_id) {
                Some(m) => known = Some(Some(m)),
                None => return Err(not_users_method(upn, device)),
            }
        }
        let first = match &known {
            Some(Some(method_id)) => method_id.clone(),
            _ => device.token.id.clone(),
        };
        let err = match self.call(method.clone(), &url(&first), body).await {
            Ok(_) => {
                if suffix.is_empty() && method == Method::DELETE {
                    self.forget_method(upn, device_id);
                }
                return Ok(());
            }
            Err(e) if !matches!(known, Some(Some(_))) && wrong_method_id(&e, &first) => e,
            Err(e) => return Err(e),
        };
        // A 404 applied nothing: asking which method holds the token and writing there is
        // not a resend of the same request. A cached list that lacks the token predates it.
        match method_for(&self.methods_of(upn, known.is_some()).await?, device_id) {
            Some(method_id) if method_id != first => {
                self.ids_differ.store(true, Ordering::Relaxed);
                let deleting = suffix.is_empty() && method == Method::DELETE;
                self.call(method, &url(&method_id), body).await?;
                if deleting {
                    self.forget_method(upn, device_id);
                }
                Ok(())
            }
            Some(_) => Err(err),
            // The refused write is the request a support case asks about.
            None => Err(not_users_method(upn, device).with_request_ids(err.request_ids())),
        }
    }

    /// Resolve these UPNs to users with `/users?$filter=userPrincipalName in (…)`, 15 a
    /// request, into the run's cache (a UPN the answer lacks is cached as "no such user").
    /// A tenant that refuses the filter leaves the cache as it was: `lookup_user` then asks
    /// one by one.
    async fn resolve_users(&self, upns: &[&str]) -> Result<(), ApiError> {
        self.resolve("userPrincipalName", upns).await
    }

    /// [`Self::resolve_users`] by any key the users list filters on (`userPrincipalName`,
    /// `id`): the cache holds each user under both.
    async fn resolve(&self, property: &str, keys: &[&str]) -> Result<(), ApiError> {
        let mut todo: Vec<&str> = {
            let cache = self.users.lock().unwrap();
            keys.iter().copied().filter(|u| !cache.contains_key(&u.to_lowercase())).collect()
        };
        todo.sort_unstable_by_key(|u| u.to_lowercase());
        todo.dedup_by_key(|u| u.to_lowercase());
        for chunk in todo.chunks(USERS_PER_FILTER) {
            let quoted: Vec<String> = chunk.iter().map(|u| format!("'{}'", u.replace('\'', "''"))).collect();
            let filter = format!("{property} in ({})", quoted.join(","));
            let url = format!("{}?$filter={}&$select=id,userPrincipalName", self.url("users"), encode(&filter));
            let found = match self.collect(url).await {
                Ok(items) => items,
                Err(e @ ApiError::Auth { .. }) => return Err(e),
                Err(_) => return Ok(()),
            };
            let mut cache = self.users.lock().unwrap();
            for u in chunk {
                cache.insert(u.to_lowercase(), None);
            }
            for v in &found {
                let Some(id) = str_field(v, "id") else { continue };
                let user = UserRef { id, upn: str_field(v, "userPrincipalName").unwrap_or_default() };
                cache.insert(user.id.to_lowercase(), Some(user.clone()));
                cache.insert(user.upn.to_lowercase(), Some(user));
            }
        }
        Ok(())
    }

    /// Name the holder of each active token that its row's user holds: the rows' users are
    /// resolved 15 a request and compared by object id with `assignedTo.id` (never a display
    /// name). Tokens the inventory already named by UPN (`EXPAND`) are left as they are.
    /// What stays unnamed is asked per user by the planner; assigned tokens need no name at
    /// all (their write goes to the user's own method, which only the holder has).
    async fn name_holders(&self, devices: &mut [Device], wanted: &[(String, String)]) -> Result<(), ApiError> {
        let row_user: HashMap<String, &str> = wanted
            .iter()
            .filter(|(_, upn)| !upn.is_empty())
            .map(|(serial, upn)| (serial.to_lowercase(), upn.as_str()))
            .collect();
        // A holder the inventory named by UPN (`$expand=assignTo`) needs no lookup.
        let user_of = |d: &Device| {
            let held = d.status == DeviceStatus::Activated && d.token.assigned_to_id.is_some() && d.owner_upn.is_none();
            held.then(|| row_user.get(&d.token.serial.to_lowercase()).copied()).flatten()
        };
        let upns: Vec<&str> = devices.iter().filter_map(user_of).collect();
        if upns.is_empty() {
            return Ok(());
        }
        self.resolve_users(&upns).await?;
        let cache = self.users.lock().unwrap();
        for d in devices.iter_mut() {
            let Some(upn) = user_of(d) else { continue };
            let Some(Some(user)) = cache.get(&upn.to_lowercase()) else { continue };
            if held_by(d, user) == Some(true) {
                d.owner_upn = Some(if user.upn.is_empty() { upn.to_string() } else { user.upn.clone() });
            }
        }
        Ok(())
    }

    /// Create one device with one `POST`. Never re-sent here: a throttled or failed write
    /// comes back as `Failed` with its status and `Retry-After`, for the caller to decide.
    /// After a write that may have landed unheard, the tenant is asked (a read) so the
    /// outcome says what happened. `Err` only for auth failures.
    async fn create_one(&self, d: &NewDevice, user_id: Option<&str>) -> Result<CreateOutcome, ApiError> {
        let body = create_body(d, user_id);
        let err = match self.call(Method::POST, &self.url(DEVICES), Some(&body)).await {
            Ok(reply) => {
                let answer = reply.json();
                let mut dev = device_from_json(nested_device(&answer));
                if dev.token.serial.is_empty() {
                    dev.token.serial = d.serial.clone();
                }
                if let Some(dev) = with_id(dev) {
                    return Ok(CreateOutcome::Created(dev));
                }
                // A 2xx without the new device (empty, `{}`, `null`): created only if a read
                // finds it.
                let status = reply.status.as_u16();
                let unconfirmed = |why: String| ApiError::Unavailable {
                    status,
                    code: "unconfirmed_create".into(),
                    message: format!(
                        "HTTP {status} to the create of token {} without the new device, and {why}",
                        d.serial
                    )
                    .into(),
                };
                return match self.by_serial(&d.serial).await {
                    Ok(Some(dev)) if with_id(dev.clone()).is_some() => Ok(CreateOutcome::Created(dev)),
                    Ok(_) => Ok(CreateOutcome::Failed(
                        unconfirmed("the inventory does not hold it".into()).with_request_ids(reply.request_ids()),
                    )),
                    Err(e @ ApiError::Auth { .. }) => Err(e),
                    Err(e) => Ok(CreateOutcome::Failed(
                        unconfirmed(format!("the read that would confirm it failed: {}", e.message()))
                            .with_request_ids(reply.request_ids()),
                    )),
                };
            }
            Err(e) => e,
        };
        match &err {
            ApiError::Auth { .. } => Err(err),
            ApiError::Rejected { status, code, .. } if exists_code(code, *status) => {
                Ok(CreateOutcome::Exists(self.by_serial(&d.serial).await.ok().flatten()))
            }
            ApiError::Unavailable { .. } | ApiError::Transport { maybe_applied: true, .. } => {
                match self.by_serial(&d.serial).await {
                    Ok(Some(dev)) if with_id(dev.clone()).is_some() => Ok(CreateOutcome::Created(dev)),
                    Ok(_) => Ok(CreateOutcome::Failed(err)),
                    Err(e @ ApiError::Auth { .. }) => Err(e),
                    Err(_) => Ok(CreateOutcome::Failed(err)),
                }
            }
            _ => Ok(CreateOutcome::Failed(err)),
        }
    }

    /// The bulk create's request. The update page names `PATCH` in its "HTTP request" but its
    /// example, Microsoft's Python snippet and the SDK (from the OpenAPI) send `POST` with the
    /// same delta body: `PATCH` first (the CSDL's reading), and a refusal of the verb (400,
    /// 404, 405) sends the same body by `POST`, remembered for the run. Nothing was applied
    /// by a refused verb, so nothing is sent twice.
    async fn bulk_call(&self, body: &Value) -> Result<Reply, ApiError> {
        let url = self.url(DEVICES);
        if !self.bulk_by_post.load(Ordering::Relaxed) {
            match self.call(Method::PATCH, &url, Some(body)).await {
                Err(ApiError::Rejected { status: 400 | 404 | 405, .. }) => {}
                other => return other,
            }
        }
        let reply = self.call(Method::POST, &url, Some(body)).await?;
        self.bulk_by_post.store(true, Ordering::Relaxed);
        Ok(reply)
    }

    /// One bulk create. `Ok(Err(e))`: the batch failed as a whole (`e` is why);
    /// `Ok(Ok(v))`: one outcome per item, `None` where the answer said nothing of it.
    async fn create_batch(
        &self,
        batch: &[(usize, &NewDevice, Option<String>)],
    ) -> Result<Result<Vec<Option<CreateOutcome>>, ApiError>, ApiError> {
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
        let reply = match self.bulk_call(&body).await {
            Ok(r) => r,
            // A 403 on a bulk verb refuses the verb, not the credential: one `POST` each
            // decides (a refused single write is then the auth failure).
            Err(e @ ApiError::Auth { status: 401, .. }) => return Err(e),
            Err(e) => return Ok(Err(e)),
        };
        let answer = reply.json();
        let Some(items) = answer.get("value").and_then(Value::as_array) else {
            return Ok(Ok(vec![None; batch.len()]));
        };
        let serials: Vec<&str> = batch.iter().map(|(_, d, _)| d.serial.as_str()).collect();
        // An item refused inside the answer was refused by this request.
        let about_this_request = |o: CreateOutcome| match o {
            CreateOutcome::Failed(e) => CreateOutcome::Failed(e.with_request_ids(reply.request_ids())),
            other => other,
        };
        Ok(Ok(match_bulk_answer(&serials, items).into_iter().map(|o| o.map(about_this_request)).collect()))
    }
}

/// Match a bulk-create answer's items to the batch (`serials`, in order). The docs answer
/// `value[]` of methods with a nested `device` and no `@contentId`; our simulator's older
/// reading answers flat devices with `@contentId`. Either way an item lands on its row by
/// `@contentId` when present, else by serial number (nested or flat, case-insensitive).
/// `None`: the answer said nothing of that row (re-read it, never re-create blindly).
pub fn match_bulk_answer(serials: &[&str], items: &[Value]) -> Vec<Option<CreateOutcome>> {
    let mut out: Vec<Option<CreateOutcome>> = vec![None; serials.len()];
    for item in items {
        let device = nested_device(item);
        let by_content = match item.get("@contentId") {
            Some(Value::String(s)) => s.parse::<usize>().ok(),
            Some(Value::Number(n)) => n.as_u64().map(|n| n as usize),
            _ => None,
        }
        .and_then(|c| c.checked_sub(1))
        .filter(|&i| i < serials.len());
        let serial = str_field(device, "serialNumber").or_else(|| str_field(item, "serialNumber"));
        let by_serial = || {
            let s = serial.as_deref()?;
            serials.iter().position(|want| want.eq_ignore_ascii_case(s))
        };
        let Some(i) = by_content.or_else(by_serial) else { continue };
        out[i] = Some(match item.get("error").filter(|e| e.is_object()) {
            None => {
                let mut dev = device_from_json(device);
                if dev.token.serial.is_empty() {
                    dev.token.serial = serials[i].to_string();
                }
                // An item without the device's id says nothing of it: re-read, as for an
                // item the answer left out.
                match with_id(dev) {
                    Some(dev) => CreateOutcome::Created(dev),
                    None => continue,
                }
            }
            Some(e) => {
                let code = str_field(e, "code").unwrap_or_else(|| "error".into());
                let message = str_field(e, "message").unwrap_or_default();
                if exists_code(&code, 0) {
                    CreateOutcome::Exists(None)
                } else {
                    CreateOutcome::Failed(ApiError::Rejected {
                        status: 400,
                        code,
                        message: message.into(),
                        body: String::new(),
                    })
                }
            }
        });
    }
    out
}

/// A method answer (`{id, device: {…}}`) holds the device nested; a device answer is flat.
fn nested_device(item: &Value) -> &Value {
    item.get("device").filter(|d| d.is_object()).unwrap_or(item)
}

/// A single resource, flat (the CSDL) or wrapped as `{"value": {…}}` (the docs' examples of
/// the device GET and the policy GET).
fn single_resource(body: &Value) -> &Value {
    body.get("value").filter(|v| v.is_object()).unwrap_or(body)
}

/// The `users/…` segment for a UPN or id. Graph reads `/users/$…` as a system segment
/// (`$count`, `$ref`…), so a key starting with `$` goes in the key form `users('…')`,
/// quotes doubled as OData wants.
fn user_segment(key: &str) -> String {
    if key.starts_with('$') {
        format!("users('{}')", encode(&key.replace('\'', "''")))
    } else {
        format!("users/{}", encode(key))
    }
}

/// An activation's body, with the token's display name when the row gives one.
fn activation_body(mut body: Value, display_name: Option<&str>) -> Value {
    if let Some(name) = display_name {
        body["displayName"] = json!(name);
    }
    body
}

/// Does `user` hold `device`, by object id (`assignedTo.id`; never a display name)? `None`
/// when the inventory names no holder.
fn held_by(device: &Device, user: &UserRef) -> Option<bool> {
    device.token.assigned_to_id.as_deref().map(|holder| holder.eq_ignore_ascii_case(&user.id))
}

/// A user's methods: (device id, method id).
type Methods = Vec<(String, String)>;

fn method_for(methods: &Methods, device_id: &str) -> Option<String> {
    methods.iter().find(|(d, _)| d.eq_ignore_ascii_case(device_id)).map(|(_, m)| m.clone())
}

/// The write's token is not among the user's methods (held by someone else, or by nobody).
fn not_users_method(upn: &str, device: &Device) -> ApiError {
    Refusal::NotUsersMethod
        .rejected(404, format!("token {} is not one of {upn}'s hardware OATH methods", device.token.serial))
}

/// The policy's `state`, from the flat resource or the `value`-wrapped shapes of the docs'
/// examples (`value` an array of one, or the object itself). Anything else is an error naming what came back: a check that could not read
/// the policy must never pass.
pub fn policy_state_of(body: &Value) -> Result<String, ApiError> {
    let flat = str_field(single_resource(body), "state");
    let wrapped = || {
        let items = body.get("value")?.as_array()?;
        items.iter().find_map(|p| str_field(p, "state"))
    };
    flat.or_else(wrapped).ok_or_else(|| {
        let mut shown = body.to_string();
        if shown.len() > 200 {
            let cut = (0..=200).rev().find(|&i| shown.is_char_boundary(i)).unwrap_or(0);
            shown.truncate(cut);
            shown.push('…');
        }
        ApiError::Rejected {
            status: 200,
            code: "unreadable_policy".into(),
            message: format!("the hardware OATH policy answer has no 'state' (flat or in 'value'): {shown}").into(),
            body: String::new(),
        }
    })
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
/// An expanded `assignTo` (a user) names the holder by UPN; it is trusted only for a held
/// token (an available one holds nobody, whatever a stale expansion says).
pub fn device_from_json(v: &Value) -> Device {
    let status = str_field(v, "status").unwrap_or_default();
    let parsed = DeviceStatus::parse(&status);
    let assigned = v.get("assignedTo").filter(|a| a.is_object());
    let holder = v.get("assignTo").filter(|a| a.is_object() && parsed != DeviceStatus::Available);
    Device {
        status: parsed,
        owner_upn: holder.and_then(|h| str_field(h, "userPrincipalName")).filter(|u| !u.is_empty()),
        token: TenantToken {
            id: str_field(v, "id").unwrap_or_default(),
            serial: str_field(v, "serialNumber").unwrap_or_default(),
            status,
            manufacturer: str_field(v, "manufacturer"),
            model: str_field(v, "model"),
            time_interval: v.get("timeIntervalInSeconds").and_then(Value::as_u64).map(|n| n as u32),
            hash: v.get("hashFunction").and_then(Value::as_str).and_then(HashFunction::parse),
            display_name: str_field(v, "displayName"),
            assigned_to_id: assigned
                .and_then(|a| str_field(a, "id"))
                .or_else(|| holder.and_then(|h| str_field(h, "id"))),
            assigned_to: assigned.and_then(|a| str_field(a, "displayName")),
            assigned_upn: None,
            last_used: str_field(v, "lastUsedDateTime"),
        },
    }
}

impl Backend for GraphBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Graph
    }

    async fn list_all(&self) -> Result<Vec<Device>, ApiError> {
        self.inventory(None).await
    }

    /// The holders the inventory named by object id only (no `$expand=assignTo`), resolved
    /// 15 ids a request (`users?$filter=id in (…)`): a UPN for each that the tenant knows.
    async fn name_holders_by_id(&self, devices: &mut [Device]) -> Result<(), ApiError> {
        let unnamed = |d: &Device| {
            (d.owner_upn.is_none() && d.status != DeviceStatus::Available)
                .then(|| d.token.assigned_to_id.clone())
                .flatten()
        };
        let ids: Vec<String> = devices.iter().filter_map(unnamed).collect();
        if ids.is_empty() {
            return Ok(());
        }
        self.resolve("id", &ids.iter().map(String::as_str).collect::<Vec<_>>()).await?;
        let cache = self.users.lock().unwrap();
        for d in devices.iter_mut() {
            let Some(id) = unnamed(d) else { continue };
            if let Some(Some(user)) = cache.get(&id.to_lowercase()) {
                d.owner_upn = Some(user.upn.clone()).filter(|u| !u.is_empty());
            }
        }
        Ok(())
    }

    async fn find(&self, wanted: &[(String, String)]) -> Result<Vec<Device>, ApiError> {
        let mut out = if wanted.len() >= FILTER_BELOW {
            self.list_all().await?
        } else {
            let mut out = Vec::new();
            for (serial, _) in wanted {
                out.extend(self.inventory(Some(serial)).await?);
            }
            // The docs do not say whether the filter compares serials case-sensitively: a
            // serial it did not find is looked for in the whole list, compared without case
            // (a small run must not call 'not in the tenant' what a large one finds).
            let found = |serial: &str| out.iter().any(|d| d.token.serial.eq_ignore_ascii_case(serial));
            if wanted.iter().any(|(serial, _)| !found(serial)) {
                out = self.list_all().await?;
            }
            out
        };
        self.name_holders(&mut out, wanted).await?;
        Ok(out)
    }

    async fn device_ids_of_user(&self, upn: &str) -> Result<Vec<String>, ApiError> {
        Ok(self.methods_of(upn, false).await?.into_iter().map(|(device, _)| device).collect())
    }

    async fn get(&self, device: &Device) -> Result<Option<Device>, ApiError> {
        let url = self.url(&format!("{DEVICES}/{}", encode(&device.token.id)));
        match self.call(Method::GET, &url, None).await {
            Ok(reply) => Ok(Some(device_from_json(single_resource(&reply.json())))),
            Err(ApiError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn activate(&self, w: CodeWrite<'_>) -> Result<(), ApiError> {
        let body = activation_body(json!({ "verificationCode": w.code }), w.display_name);
        self.method_write(w.upn, w.device, Method::POST, "/activate", Some(&body)).await
    }

    async fn assign_and_activate(&self, w: CodeWrite<'_>) -> Result<(), ApiError> {
        let url = format!("{}/assignAndActivate", self.user(w.upn));
        let body = activation_body(
            json!({ "device": { "id": w.device.token.id }, "verificationCode": w.code }),
            w.display_name,
        );
        self.call(Method::POST, &url, Some(&body)).await.map(|_| ())
    }

    async fn policy_state(&self) -> Result<Option<String>, ApiError> {
        let body = self.call(Method::GET, &self.url(POLICY), None).await?.json();
        policy_state_of(&body).map(Some)
    }

    async fn create_devices(&self, devices: &[NewDevice]) -> Result<Vec<CreateOutcome>, ApiError> {
        let mut out: Vec<Option<CreateOutcome>> = vec![None; devices.len()];
        // assignTo takes the user's object id: resolve them all first, 15 a request.
        let upns: Vec<&str> = devices.iter().filter_map(|d| d.assign_to.as_deref()).collect();
        self.resolve_users(&upns).await?;
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
        let mut sent_any = false;
        for batch in todo.chunks(BULK) {
            if let Some(e) = &auth {
                for (i, _, _) in batch {
                    out[*i] = Some(CreateOutcome::Failed(e.clone()));
                }
                continue;
            }
            // Whether the batch may have landed for items its answer did not name.
            let mut maybe_landed = true;
            let answered = match self.create_batch(batch).await {
                Ok(Ok(a)) => a,
                // Throttled before anything was sent: nothing was applied, and the caller
                // (which owns retries and Retry-After) may send the whole call again.
                Ok(Err(e @ ApiError::Throttled { .. })) if !sent_any => return Err(e),
                Ok(Err(e @ ApiError::Throttled { .. })) => vec![Some(CreateOutcome::Failed(e)); batch.len()],
                // Refused as a whole (a 4xx applies nothing; a 403 here refuses the bulk verb,
                // not the credential): one `POST` each, no re-read.
                Ok(Err(ApiError::Rejected { .. } | ApiError::Auth { status: 403, .. })) => {
                    maybe_landed = false;
                    vec![None; batch.len()]
                }
                // Failed or unanswered: one by one, each first asking whether it landed.
                Ok(Err(_)) => vec![None; batch.len()],
                Err(e) => {
                    auth = Some(e.clone());
                    vec![Some(CreateOutcome::Failed(e)); batch.len()]
                }
            };
            sent_any = true;
            for ((i, d, user), answer) in batch.iter().zip(answered) {
                out[*i] = Some(match answer {
                    Some(o) => o,
                    None if auth.is_some() => CreateOutcome::Failed(auth.clone().expect("set")),
                    None => {
                        let landed = if maybe_landed { self.by_serial(&d.serial).await } else { Ok(None) };
                        match landed.map(|found| found.and_then(with_id)) {
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
                        }
                    }
                });
            }
        }
        Ok(out.into_iter().map(|o| o.expect("every item has an outcome")).collect())
    }

    async fn assign(&self, upn: &str, device: &Device) -> Result<(), ApiError> {
        let body = json!({ "device": { "id": device.token.id } });
        let answer = self.call(Method::POST, &self.user(upn), Some(&body)).await?.json();
        // The answer is the new method: remember its id, so the activation that usually
        // follows goes straight to it.
        if let Some(method_id) = str_field(&answer, "id") {
            let mut cache = self.methods.lock().unwrap();
            let known = cache.entry(upn.to_lowercase()).or_default();
            known.retain(|(d, _)| !d.eq_ignore_ascii_case(&device.token.id));
            known.push((device.token.id.clone(), method_id));
        }
        Ok(())
    }

    async fn deactivate(&self, upn: &str, device: &Device) -> Result<(), ApiError> {
        // No parameters: sent with an empty body and `Content-Length: 0` (http.rs), since
        // Graph's front ends answer a length-less POST with 411.
        self.method_write(upn, device, Method::POST, "/deactivate", None).await
    }

    async fn unassign(&self, upn: &str, device: &Device) -> Result<(), ApiError> {
        self.method_write(upn, device, Method::DELETE, "", None).await
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
        let url = self.url(&format!("{}?$select=id,userPrincipalName", user_segment(id_or_upn)));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn created_serial(o: &Option<CreateOutcome>) -> Option<String> {
        match o {
            Some(CreateOutcome::Created(d)) => Some(d.token.serial.clone()),
            _ => None,
        }
    }

    #[test]
    fn bulk_answers_match_rows_by_content_id_or_serial() {
        let serials = ["A1", "b2", "C3", "D4"];
        // The documented shape: methods with a nested device, no @contentId, out of order.
        let items = vec![
            json!({"id": "m-2", "device": {"id": "d-2", "serialNumber": "B2", "status": "available"}}),
            json!({"id": "m-1", "device": {"id": "d-1", "serialNumber": "A1", "status": "assigned"}}),
            json!({"serialNumber": "C3", "error": {"code": "deviceAlreadyExists", "message": "exists"}}),
        ];
        let out = match_bulk_answer(&serials, &items);
        assert_eq!(created_serial(&out[0]).as_deref(), Some("A1"));
        assert_eq!(created_serial(&out[1]).as_deref(), Some("B2"), "matched case-insensitively");
        match &out[0] {
            Some(CreateOutcome::Created(d)) => assert_eq!(d.token.id, "d-1", "the device id, not the method id"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(out[2], Some(CreateOutcome::Exists(None))), "a per-item error lands on its row");
        assert!(out[3].is_none(), "unanswered: re-read, never assumed");

        // The older shape: flat devices with @contentId (string or number).
        let items = vec![
            json!({"@contentId": "2", "id": "d-2", "serialNumber": "b2"}),
            json!({"@contentId": 4, "error": {"code": "invalidRequest", "message": "bad"}}),
        ];
        let out = match_bulk_answer(&serials, &items);
        assert_eq!(created_serial(&out[1]).as_deref(), Some("b2"));
        assert!(matches!(&out[3], Some(CreateOutcome::Failed(e)) if e.code() == "invalidRequest"));
        assert!(out[0].is_none() && out[2].is_none());

        // An item that names no device id says nothing of it: re-read, never "created".
        let items = vec![json!({"@contentId": "1"}), json!({"serialNumber": "b2", "device": {}}), json!(null)];
        let out = match_bulk_answer(&serials, &items);
        assert!(out.iter().all(Option::is_none), "{out:?}");
    }

    #[test]
    fn a_device_is_read_flat_nested_under_a_method_or_wrapped_in_value() {
        let device = json!({"id": "d-1", "serialNumber": "SN1", "status": "activated"});
        for shape in [device.clone(), json!({"id": "m-1", "device": device.clone()})] {
            let d = device_from_json(nested_device(&shape));
            assert_eq!((d.token.id.as_str(), d.token.serial.as_str()), ("d-1", "SN1"), "{shape}");
            assert_eq!(d.status, DeviceStatus::Activated);
        }
        for shape in [device.clone(), json!({"value": device})] {
            assert_eq!(device_from_json(single_resource(&shape)).token.serial, "SN1", "{shape}");
        }
    }

    #[test]
    fn policy_is_read_flat_or_wrapped_and_nothing_else() {
        assert_eq!(policy_state_of(&json!({"id": "HardwareOath", "state": "enabled"})).unwrap(), "enabled");
        assert_eq!(
            policy_state_of(&json!({"value": [{"id": "HardwareOath", "state": "disabled"}]})).unwrap(),
            "disabled"
        );
        assert_eq!(
            policy_state_of(&json!({"value": {"id": "HardwareOath", "state": "enabled"}})).unwrap(),
            "enabled",
            "the docs' example: the resource as `value`"
        );
        let err = policy_state_of(&json!({"value": []})).unwrap_err();
        assert_eq!(err.code(), "unreadable_policy");
        assert!(err.message().contains("{\"value\":[]}"), "names what came back: {}", err.message());
        assert!(policy_state_of(&Value::Null).is_err());
    }

    #[test]
    fn an_expanded_assign_to_names_the_holder_of_a_held_token_only() {
        let held = json!({
            "id": "d-1", "serialNumber": "SN1", "status": "activated",
            "assignedTo": {"id": "u-1", "displayName": "Ann"},
            "assignTo": {"id": "u-1", "userPrincipalName": "Ann@contoso.com"},
        });
        let d = device_from_json(&held);
        assert_eq!(d.owner_upn.as_deref(), Some("Ann@contoso.com"));
        assert_eq!((d.token.assigned_to_id.as_deref(), d.token.assigned_to.as_deref()), (Some("u-1"), Some("Ann")));

        // Without `assignTo` (a tenant that ignores or refuses the expand): as before.
        let mut plain = held.clone();
        plain.as_object_mut().unwrap().remove("assignTo");
        let d = device_from_json(&plain);
        assert_eq!((d.owner_upn, d.token.assigned_to_id.as_deref()), (None, Some("u-1")));

        // Only `assignTo`: its id names the holder too.
        let mut only = held.clone();
        only.as_object_mut().unwrap().remove("assignedTo");
        let d = device_from_json(&only);
        assert_eq!((d.owner_upn.as_deref(), d.token.assigned_to_id.as_deref()), (Some("Ann@contoso.com"), Some("u-1")));

        // An available token holds nobody, whatever the expansion says; `null` is nobody.
        let stale = json!({"id": "d-2", "status": "available", "assignTo": {"id": "u-1", "userPrincipalName": "a@b"}});
        let d = device_from_json(&stale);
        assert_eq!((d.owner_upn, d.token.assigned_to_id), (None, None));
        let d = device_from_json(&json!({"id": "d-3", "status": "assigned", "assignTo": null}));
        assert_eq!(d.owner_upn, None);
    }

    #[test]
    fn users_starting_with_a_dollar_use_the_key_form() {
        assert_eq!(user_segment("$admin@contoso.com"), "users('%24admin%40contoso.com')");
        assert_eq!(user_segment("$o'x@contoso.com"), "users('%24o%27%27x%40contoso.com')");
        assert_eq!(user_segment("o'brien@contoso.com"), "users/o%27brien%40contoso.com");
        assert_eq!(user_segment("a#b@contoso.com"), "users/a%23b%40contoso.com");
    }
}
