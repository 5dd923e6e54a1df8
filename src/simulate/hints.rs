//! Throttle hints on the answers to writes the limits took (`simulate --throttle-hints`),
//! in each style a service may use. None is sent by default: nothing promises them, and
//! the client must meet its pace without (docs/pacing.md).

use super::HintStyle;
use crate::limits::Headroom;
use axum::http::{HeaderMap, HeaderValue};

/// Add `room` to `headers` in `style`.
pub(crate) fn insert(headers: &mut HeaderMap, style: HintStyle, room: Headroom) {
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    match style {
        HintStyle::Ratelimit => {
            put("ratelimit-limit", room.limit.to_string());
            put("ratelimit-remaining", room.remaining.to_string());
            put("ratelimit-reset", room.reset_secs.to_string());
        }
        HintStyle::Ietf => {
            put("ratelimit-policy", format!("\"writes\";q={}", room.limit));
            put("ratelimit", format!("\"writes\";r={};t={}", room.remaining, room.reset_secs));
        }
        HintStyle::Graph => {
            // Graph's header: the share of the limit used, sent only above 0.8.
            let used = 1.0 - room.remaining as f64 / room.limit.max(1) as f64;
            if used > 0.8 {
                put("x-ms-throttle-limit-percentage", format!("{used:.2}"));
            }
        }
    }
}
