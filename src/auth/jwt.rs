//! What a bearer token says about itself. We read the JWT payload (never verify it, never
//! log it) to warn before a run that would outlive the token, and to check its audience.

use base64::Engine as _;
use serde::Deserialize;

/// The claims oathbulk looks at. Everything optional: opaque tokens have none.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Claims {
    /// Expiry, Unix seconds.
    pub exp: Option<i64>,
    pub aud: Option<String>,
    pub tid: Option<String>,
    pub upn: Option<String>,
    pub unique_name: Option<String>,
    pub appid: Option<String>,
    /// Delegated scopes, space-separated.
    pub scp: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub wids: Vec<String>,
}

/// The legacy portal's audience (the Azure portal's own app).
pub const PORTAL_AUDIENCE: &str = "74658136-14ec-4630-ad9b-26e160ff0fc6";
/// Graph's two audience spellings.
pub const GRAPH_AUDIENCES: [&str; 2] = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];

/// Decode the payload of a JWT-shaped token; `None` for anything else.
pub fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_payload_of_a_jwt() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"exp":1700000000,"aud":"https://graph.microsoft.com","scp":"a b","wids":["x"]}"#);
        let c = claims(&format!("eyJhbGciOiJub25lIn0.{payload}.sig")).unwrap();
        assert_eq!(c.exp, Some(1_700_000_000));
        assert_eq!(c.aud.as_deref(), Some("https://graph.microsoft.com"));
        assert_eq!(c.wids, vec!["x".to_string()]);
        assert!(claims("opaque-token").is_none());
    }
}
