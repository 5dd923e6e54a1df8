//! Device-code sign-in (OAuth 2.0 device authorization grant, Microsoft identity platform
//! v2): the admin signs in on any browser; the token stays in this process's memory only
//! and is renewed with its refresh token during long runs.

use super::{current_from, Renewal, SignInRefused, TokenProvider, TokenSource};
use crate::diag::Diag;
use anyhow::{Context, Result};
use std::time::{Duration, Instant};

/// Microsoft Graph Command Line Tools: the public client scripts commonly use. Tenants can
/// block it, so `--client-id` overrides it.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
/// What activation, import and undo need, plus a refresh token.
pub const GRAPH_SCOPES: &str = "https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All \
     https://graph.microsoft.com/Policy.ReadWrite.AuthenticationMethod offline_access";
/// The legacy portal's own app.
pub const PORTAL_SCOPES: &str = "74658136-14ec-4630-ad9b-26e160ff0fc6/.default offline_access";

/// Longest poll interval believed (RFC 8628 suggests 5 s; `slow_down` adds 5 s each time).
pub const MAX_INTERVAL_SECS: u64 = 60;
/// Longest device-code lifetime believed (Entra: 15 minutes).
pub const MAX_CODE_LIFETIME_SECS: u64 = 3600;

pub struct DeviceCodeRequest<'a> {
    pub authority: &'a str,
    pub tenant: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
}

/// The poll interval and the code's lifetime from the server's answer, clamped: a huge
/// interval would hang the sign-in, a huge lifetime would overflow the deadline.
fn poll_timing(body: &serde_json::Value) -> (Duration, Duration) {
    let interval = body["interval"].as_u64().unwrap_or(5).clamp(1, MAX_INTERVAL_SECS);
    let lifetime = body["expires_in"].as_u64().unwrap_or(900).min(MAX_CODE_LIFETIME_SECS);
    (Duration::from_secs(interval), Duration::from_secs(lifetime))
}

/// Run the whole flow: ask for a code, show the message, poll until the admin signs in.
pub async fn sign_in(req: DeviceCodeRequest<'_>, http: &reqwest::Client, diag: &Diag) -> Result<TokenProvider> {
    let base = format!("{}/{}/oauth2/v2.0", req.authority.trim_end_matches('/'), req.tenant);
    let resp = http
        .post(format!("{base}/devicecode"))
        .form(&[("client_id", req.client_id), ("scope", req.scope)])
        .send()
        .await
        .with_context(|| format!("cannot reach the sign-in endpoint {base}/devicecode"))?;
    let status = resp.status();
    let body = crate::http_guard::json_capped(resp).await?;
    if !status.is_success() {
        return Err(SignInRefused(format!(
            "device-code sign-in could not start (HTTP {status}, {}): {}",
            body["error"].as_str().unwrap_or("error"),
            body["error_description"].as_str().unwrap_or("")
        ))
        .into());
    }
    let device_code = body["device_code"].as_str().context("the sign-in answer has no device_code")?.to_string();
    let message = body["message"].as_str().map(str::to_string).unwrap_or_else(|| {
        format!(
            "To sign in, open {} and enter the code {}",
            body["verification_uri"].as_str().unwrap_or("https://microsoft.com/devicelogin"),
            body["user_code"].as_str().unwrap_or("?")
        )
    });
    let (mut interval, lifetime) = poll_timing(&body);
    let deadline = Instant::now() + lifetime;
    diag.sign_in(&message);

    loop {
        tokio::time::sleep(interval).await;
        if Instant::now() > deadline {
            return Err(
                SignInRefused("the sign-in code expired before it was used; run the command again".into()).into()
            );
        }
        let resp = http
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", req.client_id),
                ("device_code", device_code.as_str()),
            ])
            .send()
            .await
            .context("cannot reach the token endpoint while waiting for sign-in")?;
        let status = resp.status();
        let body = crate::http_guard::json_capped(resp).await?;
        if status.is_success() {
            let current = current_from(&body)?;
            let renewal = Renewal::RefreshToken {
                token_url: format!("{base}/token"),
                client_id: req.client_id.to_string(),
                scope: req.scope.to_string(),
            };
            diag.info("signed in");
            return Ok(TokenProvider::renewable(current, renewal, http.clone(), TokenSource::DeviceCode));
        }
        match body["error"].as_str().unwrap_or("") {
            "authorization_pending" => {}
            // RFC 8628 §3.5: add five seconds to the polling interval, for good.
            "slow_down" => interval = (interval + Duration::from_secs(5)).min(Duration::from_secs(MAX_INTERVAL_SECS)),
            "authorization_declined" => {
                return Err(SignInRefused("the sign-in was declined in the browser".into()).into())
            }
            "expired_token" => {
                return Err(
                    SignInRefused("the sign-in code expired before it was used; run the command again".into()).into()
                )
            }
            "bad_verification_code" => {
                return Err(SignInRefused("the identity platform did not recognise the device code".into()).into())
            }
            other => {
                return Err(SignInRefused(format!(
                    "device-code sign-in failed (HTTP {status}, {}): {}",
                    if other.is_empty() { "unknown_error" } else { other },
                    body["error_description"].as_str().unwrap_or("")
                ))
                .into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_numbers_are_clamped() {
        let huge = serde_json::json!({"interval": u64::MAX, "expires_in": u64::MAX});
        let (interval, lifetime) = poll_timing(&huge);
        assert_eq!(interval, Duration::from_secs(MAX_INTERVAL_SECS));
        assert_eq!(lifetime, Duration::from_secs(MAX_CODE_LIFETIME_SECS));
        assert!(Instant::now().checked_add(lifetime).is_some());
        let (interval, _) = poll_timing(&serde_json::json!({"interval": 0}));
        assert_eq!(interval, Duration::from_secs(1));
        let (interval, lifetime) = poll_timing(&serde_json::json!({}));
        assert_eq!((interval.as_secs(), lifetime.as_secs()), (5, 900));
    }
}
