//! `oathbulk status`: what a helpdesk needs to know about one token or one user — its state
//! in the tenant, when it was last used (where the tenant says), how many hardware OATH
//! methods its holder has against Entra's five, and the next step to take.
//!
//! This module decides what a state means and what to do about it; `commands::status` reads the
//! tenant. Nothing here sees a seed or a credential.

use crate::backend::{Device, DeviceStatus};
use crate::record::{TokenStatus, OATH_METHODS_LIMIT};

/// What the helpdesk asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Serial { serial: String, upn: Option<String> },
    User(String),
}

impl Query {
    pub fn text(&self) -> &str {
        match self {
            Query::Serial { serial, .. } => serial,
            Query::User(upn) => upn,
        }
    }
}

/// A token's holder as the tenant names them, and their method count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holder {
    /// UPN when known (else the display name or id the tenant gives).
    pub name: String,
    /// Hardware OATH methods they hold (`None`: could not be read).
    pub methods: Option<u64>,
}

/// The record for a serial the tenant does not hold.
pub fn not_found(query: &Query, line: Option<u64>) -> TokenStatus {
    let serial = query.text().to_string();
    TokenStatus {
        query: serial.clone(),
        line,
        status: "not_found".into(),
        next_step: format!(
            "not in the tenant: check the serial, or import it from the vendor file \
             (`oathbulk import FILE.csv --assign`, a row with serial {serial})"
        ),
        serial: Some(serial),
        ..Default::default()
    }
}

/// The record for a UPN with no token, or no such user.
pub fn user_without_token(upn: &str, line: Option<u64>, exists: bool, methods: u64) -> TokenStatus {
    let (status, next_step) = if exists {
        (
            "no_tokens",
            format!(
                "holds no hardware token: assign one and activate it with the code on its display \
                 (`oathbulk activate --serial SERIAL --upn {upn} --code CODE`)"
            ),
        )
    } else {
        (
            "user_not_found",
            "no such user in the tenant (or none holding a token, where the API cannot look users up): check the UPN"
                .to_string(),
        )
    };
    TokenStatus {
        query: upn.to_string(),
        line,
        status: status.into(),
        upn: Some(upn.to_string()),
        methods: exists.then_some(methods),
        methods_limit: exists.then_some(OATH_METHODS_LIMIT),
        next_step,
        ..Default::default()
    }
}

/// The record for a token the tenant holds.
pub fn of_device(query: &Query, line: Option<u64>, device: &Device, holder: Option<&Holder>) -> TokenStatus {
    let t = &device.token;
    let wanted_upn = match query {
        Query::Serial { upn, .. } => upn.clone(),
        Query::User(upn) => Some(upn.clone()),
    };
    TokenStatus {
        query: query.text().to_string(),
        line,
        next_step: next_step(device, holder, wanted_upn.as_deref()),
        status: t.status.clone(),
        serial: Some(t.serial.clone()),
        upn: holder.map(|h| h.name.clone()),
        device_id: Some(t.id.clone()),
        last_used: t.last_used.clone().filter(|s| !s.trim().is_empty()),
        methods: holder.and_then(|h| h.methods),
        methods_limit: holder.map(|_| OATH_METHODS_LIMIT),
    }
}

/// What to do next for a token in this state.
fn next_step(device: &Device, holder: Option<&Holder>, wanted_upn: Option<&str>) -> String {
    let serial = &device.token.serial;
    let upn = holder.map(|h| h.name.as_str()).or(wanted_upn).unwrap_or("UPN");
    let step = match device.status {
        DeviceStatus::Available => format!(
            "available (assigned to no one): assign and activate it with the code on its display \
             (`oathbulk activate --serial {serial} --upn {upn} --code CODE`)"
        ),
        DeviceStatus::Assigned => format!(
            "assigned to {upn} but not activated: activate it with the code on its display \
             (`oathbulk activate --serial {serial} --upn {upn} --code CODE`)"
        ),
        DeviceStatus::FailedActivation => format!(
            "the last activation was refused (a stale code, or a clock or seed mismatch): read a fresh code \
             off the display and activate again (`oathbulk activate --serial {serial} --upn {upn} --code CODE`)"
        ),
        DeviceStatus::Activated => format!(
            "active for {upn}: nothing to do; if sign-in still fails, compare the token's code with \
             `oathbulk otp` (clock drift), or re-activate (`oathbulk deactivate`, then `oathbulk activate --serial {serial} --code CODE`)"
        ),
        DeviceStatus::Unknown => format!("the tenant reports status '{}': check it in the Entra admin center", device.token.status),
    };
    let step = match holder.and_then(|h| h.methods) {
        Some(m) if m >= OATH_METHODS_LIMIT => {
            format!("{step}. {upn} holds {m} hardware OATH methods, Entra's limit is {OATH_METHODS_LIMIT}: remove one before adding another")
        }
        _ => step,
    };
    match wanted_upn {
        Some(w)
            if holder.is_some_and(|h| !h.name.eq_ignore_ascii_case(w)) && device.status != DeviceStatus::Available =>
        {
            format!("held by {upn}, not {w}: unassign it first (`oathbulk unassign`) if it should be {w}'s; {step}")
        }
        _ => step,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::TenantToken;

    fn device(status: &str) -> Device {
        Device {
            token: TenantToken { id: "d1".into(), serial: "SN1".into(), status: status.into(), ..Default::default() },
            status: DeviceStatus::parse(status),
            owner_upn: None,
        }
    }

    fn serial() -> Query {
        Query::Serial { serial: "SN1".into(), upn: None }
    }

    #[test]
    fn each_state_names_its_next_command() {
        let h = Holder { name: "ann@contoso.com".into(), methods: Some(2) };
        let cases = [
            ("available", None, "--upn UPN --code CODE"),
            ("assigned", Some(&h), "activate --serial SN1 --upn ann@contoso.com --code CODE"),
            ("failedActivation", Some(&h), "read a fresh code"),
            ("activated", Some(&h), "nothing to do"),
        ];
        for (status, holder, expect) in cases {
            let r = of_device(&serial(), None, &device(status), holder);
            assert_eq!(r.status, status);
            assert!(r.next_step.contains(expect), "{status}: {}", r.next_step);
            assert_eq!(r.methods, holder.and(Some(2)));
        }
        assert!(not_found(&serial(), Some(3)).next_step.contains("import"));
        let full = Holder { name: "bob@contoso.com".into(), methods: Some(5) };
        let r = of_device(&serial(), None, &device("activated"), Some(&full));
        assert!(r.next_step.contains("holds 5 hardware OATH methods, Entra's limit is 5"), "{}", r.next_step);
    }

    #[test]
    fn an_empty_last_used_is_unknown() {
        let mut d = device("activated");
        d.token.last_used = Some(" ".into());
        assert_eq!(of_device(&serial(), None, &d, None).last_used, None);
        d.token.last_used = Some("2026-12-06T10:00:00Z".into());
        assert_eq!(of_device(&serial(), None, &d, None).last_used.as_deref(), Some("2026-12-06T10:00:00Z"));
    }

    #[test]
    fn a_token_held_by_someone_else_says_so() {
        let h = Holder { name: "eve@contoso.com".into(), methods: Some(1) };
        let q = Query::Serial { serial: "SN1".into(), upn: Some("ann@contoso.com".into()) };
        let r = of_device(&q, None, &device("activated"), Some(&h));
        assert!(r.next_step.starts_with("held by eve@contoso.com, not ann@contoso.com"), "{}", r.next_step);
    }
}
