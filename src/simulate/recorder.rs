//! `--record FILE`: one JSON line per Graph request the simulator receives (method, path,
//! query, `Content-Type`, `Accept`, the body parsed as JSON), for the SDK conformance suite
//! (tests/sdk/), which validates a client's request bodies against schemas taken from the
//! CSDL. A test aid for loopback runs: the `Authorization` header is never written, and every
//! `secretKey` value is replaced by `"<redacted>"` (same JSON type, so a schema still checks it).

use anyhow::{Context, Result};
use axum::http::{header, HeaderMap};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

pub(crate) struct Recorder {
    file: Mutex<std::fs::File>,
}

impl Recorder {
    /// Appends to `path` (created if missing), so several runs can share one record.
    pub(crate) fn open(path: &Path) -> Result<Recorder> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the request record {}", path.display()))?;
        Ok(Recorder { file: Mutex::new(file) })
    }

    /// One line for one request; a failed write is ignored (the record is a test aid).
    pub(crate) fn record(&self, method: &str, path: &str, query: Option<&str>, headers: &HeaderMap, body: &[u8]) {
        let line = entry(method, path, query, headers, body).to_string();
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(file, "{line}");
    }
}

fn entry(method: &str, path: &str, query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Value {
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = match body {
        [] => Value::Null,
        bytes => match serde_json::from_slice::<Value>(bytes) {
            Ok(mut v) => {
                redact(&mut v);
                v
            }
            Err(_) => json!({ "@unparsed_bytes": bytes.len() }),
        },
    };
    json!({
        "method": method,
        "path": path,
        "query": query,
        "content_type": header(header::CONTENT_TYPE),
        "accept": header(header::ACCEPT),
        "body_bytes": headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()),
        "body": body,
    })
}

/// Every `secretKey` value, at any depth, becomes `"<redacted>"`.
fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                if k.eq_ignore_ascii_case("secretKey") && !item.is_null() {
                    *item = Value::String("<redacted>".into());
                } else {
                    redact(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_credentials_are_not_recorded() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer tok-123".parse().unwrap());
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let body = br#"{"value":[{"serialNumber":"A1","secretKey":"JBSWY3DPEHPK3PXP"}],"secretKey":"GEZDGNBV"}"#;
        let line = entry("PATCH", "/graph/beta/x", None, &headers, body).to_string();
        assert!(!line.contains("tok-123"), "{line}");
        assert!(!line.contains("JBSWY3DPEHPK3PXP") && !line.contains("GEZDGNBV"), "{line}");
        assert!(line.contains("\"serialNumber\":\"A1\""), "{line}");
        assert!(line.contains("application/json"), "{line}");
    }
}
