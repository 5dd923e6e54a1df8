//! Microsoft Graph (beta): the documented API (docs: entra-oath-api.md §3).

use super::{classify, ApiError, Backend, Capabilities, Device, DeviceStatus};
use crate::http::{ApiClient, Reply};
use crate::record::TenantToken;
use crate::otp::HashFunction;
use reqwest::Method;
use serde_json::{json, Value};

const DEVICES: &str = "directory/authenticationMethodDevices/hardwareOathDevices";
/// Graph's largest page.
const PAGE: u32 = 999;
/// Up to this many rows, one `$filter` query per serial is cheaper than the whole inventory.
const FILTER_BELOW: usize = 8;

pub const DEFAULT_URL: &str = "https://graph.microsoft.com/beta";

pub struct GraphBackend {
    api: ApiClient,
    base: String,
}

impl GraphBackend {
    pub fn new(api: ApiClient, base: &url::Url) -> Self {
        Self { api, base: base.as_str().trim_end_matches('/').to_string() }
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
    let message = if message.is_empty() {
        reply.status.canonical_reason().unwrap_or("error").to_string()
    } else {
        message
    };
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
                .filter_map(|m| {
                    m.get("device").and_then(|d| str_field(d, "id")).or_else(|| str_field(m, "id"))
                })
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

    async fn activate(&self, upn: &str, device: &Device, code: &str, display_name: Option<&str>) -> Result<(), ApiError> {
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
}
