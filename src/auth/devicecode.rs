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

pub struct DeviceCodeRequest<'a> {
    pub authority: &'a str,
    pub tenant: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
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
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
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
    let mut interval = Duration::from_secs(body["interval"].as_u64().unwrap_or(5).max(1));
    let deadline = Instant::now() + Duration::from_secs(body["expires_in"].as_u64().unwrap_or(900));
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
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
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
            "slow_down" => interval += Duration::from_secs(5),
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
