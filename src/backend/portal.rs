//! The legacy Azure portal endpoint the original bulk-activation tool used (docs §4).
//! Undocumented and user-token-only; kept for tenants on the old MFA blade and admins who
//! only have a browser session token. Tokens here always belong to a user (the upload
//! assigns them), so this backend cannot assign.

use super::{
    classify, ApiError, Backend, BackendKind, CodeWrite, CreateOutcome, Device, DeviceStatus, NewDevice, UserRef,
};
use crate::http::{ApiClient, Reply};
use crate::record::TenantToken;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const DEFAULT_URL: &str = "https://main.iam.ad.ext.azure.com";
pub const USGOV_URL: &str = "https://main.iam.ad.ext.azure.us";
const PREFIX: &str = "api/MultifactorAuthentication/HardwareToken";
/// How long an upload may stay `InProgress`.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How the upload poll waits between polls: the caller's (cancellation-aware) sleep.
/// Resolves `false` when the run stopped: the poll gives up at once.
pub type Wait = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

pub struct PortalBackend {
    api: ApiClient,
    base: String,
    wait: Wait,
}

impl PortalBackend {
    /// Polls wait with a plain sleep until [`PortalBackend::with_wait`] gives the run's
    /// (Ctrl-C-aware) one.
    pub fn new(api: ApiClient, base: &url::Url) -> Self {
        let wait: Wait = Arc::new(|d| {
            Box::pin(async move {
                tokio::time::sleep(d).await;
                true
            })
        });
        Self { api, base: base.as_str().trim_end_matches('/').to_string(), wait }
    }

    /// Wait between upload polls with `wait` (the request engine's Ctrl-C-aware sleep).
    pub fn with_wait(mut self, wait: Wait) -> Self {
        self.wait = wait;
        self
    }

    async fn call(&self, method: Method, url: &str, body: Option<&Value>) -> Result<Reply, ApiError> {
        self.api.send(method, url, body).await?.success_or(portal_error)
    }

    /// Every token of one user (`upn`), or of the whole tenant (`upn` empty), following the
    /// continuation the response carries. The endpoint gives at most 25 items a call and
    /// no total: never ask the user how many there are.
    async fn list(&self, upn: &str) -> Result<Vec<Device>, ApiError> {
        let mut out = Vec::new();
        let mut skip = String::new();
        let mut budget = crate::http_guard::PageBudget::new("the portal's token list");
        loop {
            let url = format!("{}/{PREFIX}/users?skipToken={}&upn={}&enabledFilter=", self.base, enc(&skip), enc(upn));
            let reply = self.call(Method::GET, &url, None).await?;
            budget.charge(reply.body.len())?;
            let body = reply.json();
            // A page without its `items` array (an empty body, `{}`, `null`) says nothing:
            // never an empty tenant.
            let Some(items) = body.get("items").and_then(Value::as_array).cloned() else {
                let status = reply.status.as_u16();
                return Err(ApiError::Unavailable {
                    status,
                    code: "not_a_collection".into(),
                    message: format!(
                        "HTTP {status} without an `items` array where the portal's token list was asked for: \
                         the answer says nothing, so nothing is taken from it"
                    )
                    .into(),
                }
                .with_request_ids(reply.request_ids()));
            };
            out.extend(items.iter().map(device_from_item));
            let next = ["skipToken", "nextSkipToken", "continuationToken"]
                .iter()
                .find_map(|k| body.get(*k).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            match next {
                Some(n) if !items.is_empty() && n != skip => skip = n,
                _ => return Ok(out),
            }
        }
    }
}

/// One CSV field, quoted when it must be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The upload's CSV (Microsoft's documented header). The only place the secrets are encoded.
fn upload_csv(devices: &[&NewDevice]) -> String {
    let mut text = String::from("upn,serial number,secret key,time interval,manufacturer,model\r\n");
    for d in devices {
        let fields = [
            csv_field(d.assign_to.as_deref().unwrap_or_default()),
            csv_field(&d.serial),
            d.secret.to_base32(),
            d.time_interval.to_string(),
            csv_field(&d.manufacturer),
            csv_field(&d.model),
        ];
        text.push_str(&fields.join(","));
        text.push_str("\r\n");
    }
    text
}

impl PortalBackend {
    /// Send the upload, once. `Err` for auth failures and throttling (nothing was applied:
    /// the caller, which owns retries and `Retry-After`, decides); `Ok(Some(e))`: not
    /// accepted, or unanswered (it may have landed: the caller re-lists either way).
    async fn send_upload(&self, name: &str, content: String) -> Result<Option<ApiError>, ApiError> {
        let url = format!("{}/{PREFIX}/upload", self.base);
        let body = json!({ "id": null, "name": name, "content": content, "mimeType": "application/vnd.ms-excel" });
        match self.call(Method::POST, &url, Some(&body)).await {
            Ok(_) => Ok(None),
            Err(e @ (ApiError::Auth { .. } | ApiError::Throttled { .. })) => Err(e),
            Err(e) => Ok(Some(e)),
        }
    }

    /// Poll `listUploads` until the upload named `name` completes. Returns its errors by
    /// serial (lower-case): `(errorCode, message)`.
    async fn wait_upload(&self, name: &str) -> Result<HashMap<String, (String, String)>, ApiError> {
        let url = format!("{}/{PREFIX}/listUploads", self.base);
        let started = Instant::now();
        let mut wait = Duration::from_millis(500);
        loop {
            if !(self.wait)(wait).await {
                return Err(ApiError::Transport {
                    maybe_applied: true,
                    message: format!("the run stopped while the portal processed upload {name}").into(),
                });
            }
            wait = (wait * 2).min(Duration::from_secs(5));
            let body = self.call(Method::GET, &url, None).await?.json();
            let items = body.as_array().cloned().or_else(|| body.get("items").and_then(Value::as_array).cloned());
            let ours = items.unwrap_or_default().into_iter().find(|u| text(u, "name").as_deref() == Some(name));
            let status = ours.as_ref().and_then(|u| text(u, "fileProcessingStatus")).unwrap_or_default();
            if status.starts_with("Completed") {
                let mut errors = HashMap::new();
                let list = ours.as_ref().and_then(|u| u.get("errors")).and_then(Value::as_array).cloned();
                for e in list.unwrap_or_default() {
                    if let Some(serial) = text(&e, "serialNumber") {
                        let code = text(&e, "errorCode").unwrap_or_else(|| "upload_error".into());
                        errors.insert(serial.to_lowercase(), (code, text(&e, "message").unwrap_or_default()));
                    }
                }
                return Ok(errors);
            }
            if status.eq_ignore_ascii_case("failed") || started.elapsed() > UPLOAD_TIMEOUT {
                return Err(ApiError::Unavailable {
                    status: 200,
                    code: "upload_not_completed".into(),
                    message: format!("the portal did not finish processing upload {name} (status '{status}')").into(),
                });
            }
        }
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Portal failures carry `{"message": …, "errorCode": …}` (e.g. `OathCodeIncorrect`).
pub fn portal_error(reply: &Reply) -> ApiError {
    let body = reply.json();
    let pick = |keys: &[&str]| keys.iter().find_map(|k| body.get(*k).and_then(Value::as_str)).map(str::to_string);
    let code = pick(&["errorCode", "code"]).unwrap_or_else(|| format!("http_{}", reply.status.as_u16()));
    let message = pick(&["message", "Message", "error_description"])
        .unwrap_or_else(|| reply.status.canonical_reason().unwrap_or("error").to_string());
    classify(reply, code, message)
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// A portal list item as a [`Device`].
pub fn device_from_item(v: &Value) -> Device {
    let enabled = v.get("enabled").and_then(Value::as_bool).unwrap_or(false);
    let status = if enabled { DeviceStatus::Activated } else { DeviceStatus::Assigned };
    let upn = text(v, "upn");
    Device {
        status,
        owner_upn: upn.clone(),
        token: TenantToken {
            id: text(v, "oathId").unwrap_or_default(),
            serial: text(v, "serialNumber").unwrap_or_default(),
            status: if enabled { "activated" } else { "assigned" }.into(),
            manufacturer: text(v, "manufacturer"),
            model: text(v, "model"),
            time_interval: v.get("timeInterval").and_then(Value::as_u64).map(|n| n as u32),
            hash: None,
            display_name: text(v, "displayName"),
            assigned_to_id: text(v, "objectId"),
            assigned_to: upn,
            assigned_upn: None,
            last_used: None,
        },
    }
}

impl Backend for PortalBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Portal
    }

    async fn list_all(&self) -> Result<Vec<Device>, ApiError> {
        self.list("").await
    }

    async fn find(&self, wanted: &[(String, String)]) -> Result<Vec<Device>, ApiError> {
        // Per UPN of the CSV: bounded by the file, not by the tenant's size.
        let upns: BTreeSet<String> = wanted.iter().map(|(_, upn)| upn.to_lowercase()).collect();
        let mut out = Vec::new();
        for upn in upns {
            out.extend(self.list(&upn).await?);
        }
        // A serial not under its CSV user may be held by someone else: only the whole
        // inventory shows that (a conflict to report, not a "not found").
        let found: BTreeSet<String> = out.iter().map(|d| d.token.serial.to_lowercase()).collect();
        if wanted.iter().any(|(serial, _)| !found.contains(&serial.to_lowercase())) {
            let known: BTreeSet<String> = out.iter().map(|d| d.token.id.clone()).collect();
            out.extend(self.list("").await?.into_iter().filter(|d| !known.contains(&d.token.id)));
        }
        Ok(out)
    }

    async fn device_ids_of_user(&self, upn: &str) -> Result<Vec<String>, ApiError> {
        Ok(self.list(upn).await?.into_iter().map(|d| d.token.id).collect())
    }

    async fn get(&self, device: &Device) -> Result<Option<Device>, ApiError> {
        let owner = device.owner_upn.clone().unwrap_or_default();
        Ok(self.list(&owner).await?.into_iter().find(|d| d.token.id == device.token.id))
    }

    async fn activate(&self, w: CodeWrite<'_>) -> Result<(), ApiError> {
        let url = format!("{}/{PREFIX}/enable", self.base);
        let body = json!({
            "@enableAction": "Activate",
            "oathId": w.device.token.id,
            "objectId": w.device.token.assigned_to_id,
            "verificationCode": w.code,
        });
        self.call(Method::POST, &url, Some(&body)).await.map(|_| ())
    }

    async fn assign_and_activate(&self, _: CodeWrite<'_>) -> Result<(), ApiError> {
        Err(ApiError::Rejected {
            status: 400,
            code: "not_supported".into(),
            message: "the portal backend cannot assign tokens; use --backend graph".into(),
            body: String::new(),
        })
    }

    /// Upload the tokens as a CSV (each assigned to its `assign_to` user, not activated),
    /// wait for the portal to process it, then list the inventory to learn their ids.
    async fn create_devices(&self, devices: &[NewDevice]) -> Result<Vec<CreateOutcome>, ApiError> {
        let mut out: Vec<Option<CreateOutcome>> = vec![None; devices.len()];
        let mut send = Vec::new();
        for (i, d) in devices.iter().enumerate() {
            if d.assign_to.as_deref().is_none_or(str::is_empty) {
                out[i] = Some(CreateOutcome::Failed(super::not_supported(
                    "portal",
                    "creating a token without a user (the portal assigns every uploaded token)",
                )));
            } else {
                send.push((i, d));
            }
        }
        if !send.is_empty() {
            let before: HashSet<String> = self.list("").await?.into_iter().map(|d| d.token.id).collect();
            let name = format!("{}.csv", uuid::Uuid::new_v4());
            let refs: Vec<&NewDevice> = send.iter().map(|(_, d)| *d).collect();
            let refused = self.send_upload(&name, upload_csv(&refs)).await?;
            let errors = match &refused {
                None => self.wait_upload(&name).await?,
                Some(_) => HashMap::new(),
            };
            let after: HashMap<String, Device> =
                self.list("").await?.into_iter().map(|d| (d.token.serial.to_lowercase(), d)).collect();
            for (i, d) in send {
                let key = d.serial.to_lowercase();
                out[i] = Some(match (after.get(&key), errors.get(&key), &refused) {
                    (Some(dev), _, _) if !before.contains(&dev.token.id) => CreateOutcome::Created(dev.clone()),
                    (Some(dev), _, _) => CreateOutcome::Exists(Some(dev.clone())),
                    (None, Some((code, _)), _)
                        if code.to_lowercase().contains("duplicate") || code.to_lowercase().contains("exist") =>
                    {
                        CreateOutcome::Exists(None)
                    }
                    (None, Some((code, message)), _) => CreateOutcome::Failed(ApiError::Rejected {
                        status: 400,
                        code: code.clone(),
                        message: message.clone().into(),
                        body: String::new(),
                    }),
                    (None, None, Some(e)) => CreateOutcome::Failed(e.clone()),
                    (None, None, None) => CreateOutcome::Failed(ApiError::Rejected {
                        status: 200,
                        code: "not_created".into(),
                        message: format!("the upload completed but token {} is not in the tenant", d.serial).into(),
                        body: String::new(),
                    }),
                });
            }
        }
        Ok(out.into_iter().map(|o| o.expect("every item has an outcome")).collect())
    }

    async fn lookup_user(&self, id_or_upn: &str) -> Result<Option<UserRef>, ApiError> {
        // The portal names holders by UPN and object id on every token; there is no user lookup.
        let found = self.list(id_or_upn).await?;
        Ok(found
            .into_iter()
            .find_map(|d| Some(UserRef { id: d.token.assigned_to_id.clone()?, upn: d.owner_upn.clone()? })))
    }
}
