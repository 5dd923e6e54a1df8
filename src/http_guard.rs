//! What the HTTP layer refuses to trust from a server: where a URL it did not build points
//! (the bearer token goes only to the configured origin), how large a body may be, and a
//! 2xx body that is not JSON (a proxy's sign-in page is not an empty tenant).

use crate::api_error::ApiError;
use url::Url;

/// The most read from one response. A Graph page of 999 tokens is well under 1 MB; a
/// portal listing of a large tenant a few MB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// How much of an unexpected body an error quotes.
const QUOTED_BYTES: usize = 80;

/// Scheme, host and port: where the bearer token may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String, String, u16);

impl Origin {
    pub fn of(url: &Url) -> Option<Self> {
        Some(Self(
            url.scheme().to_ascii_lowercase(),
            url.host_str()?.to_ascii_lowercase(),
            url.port_or_known_default()?,
        ))
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.0, self.1, self.2)
    }
}

/// `url` if it is on `origin`; else the error that ends the read, before any byte (or the
/// token) is sent there. Used for every URL the tool did not build itself: `@odata.nextLink`,
/// `Location`, upload links.
pub fn same_origin(origin: &Origin, url: &str) -> Result<(), ApiError> {
    let refused = |why: String| ApiError::Unavailable { status: 0, code: "foreign_url".into(), message: why.into() };
    let parsed =
        Url::parse(url).map_err(|_| refused("the server sent a link that is not a URL; not followed".into()))?;
    match Origin::of(&parsed) {
        Some(o) if &o == origin => Ok(()),
        Some(o) => Err(refused(format!(
            "the server sent a link to {o}, not to the configured {origin}; the bearer token is sent only to the \
             configured origin, so the read stops here"
        ))),
        None => Err(refused("the server sent a link without a host; not followed".into())),
    }
}

/// The most pages one collection read follows (`@odata.nextLink`, the portal's
/// continuation): far beyond any tenant, and a chain that does not end stops here.
pub const MAX_PAGES: usize = 10_000;

/// The most answer bytes one collection read keeps, all pages together: a same-origin
/// `nextLink` chain of large pages is bounded in memory, not only in page count.
pub const MAX_COLLECTION_BYTES: usize = 256 * 1024 * 1024;

/// What a collection read has taken so far: checked before each page is parsed.
#[derive(Debug)]
pub struct PageBudget {
    what: &'static str,
    pages: usize,
    bytes: usize,
}

impl PageBudget {
    pub fn new(what: &'static str) -> Self {
        Self { what, pages: 0, bytes: 0 }
    }

    /// Count one more page of `len` bytes; past either bound, a clear error.
    pub fn charge(&mut self, len: usize) -> Result<(), ApiError> {
        self.pages += 1;
        self.bytes = self.bytes.saturating_add(len);
        if self.pages > MAX_PAGES {
            return Err(ApiError::Unavailable {
                status: 200,
                code: "paging_loop".into(),
                message: format!("{} goes on past {MAX_PAGES} pages; stopped following it", self.what).into(),
            });
        }
        if self.bytes > MAX_COLLECTION_BYTES {
            return Err(ApiError::Unavailable {
                status: 200,
                code: "collection_too_large".into(),
                message: format!(
                    "{} is larger than {} MB over {} pages; stopped reading it",
                    self.what,
                    MAX_COLLECTION_BYTES >> 20,
                    self.pages
                )
                .into(),
            });
        }
        Ok(())
    }
}

/// An identity-platform answer (token, device code) as JSON, read as Graph answers are: at
/// most [`MAX_BODY_BYTES`], declared or streamed; beyond, an error. A body that is not
/// JSON is `Null` (the caller names what is missing).
pub async fn json_capped(mut resp: reqwest::Response) -> anyhow::Result<serde_json::Value> {
    let status = resp.status().as_u16();
    if resp.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large(status).into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large(status).into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(serde_json::from_slice(&body).unwrap_or_default())
}

/// A body larger than [`MAX_BODY_BYTES`].
pub fn too_large(status: u16) -> ApiError {
    ApiError::Unavailable {
        status,
        code: "body_too_large".into(),
        message: format!("the server's answer is larger than {} MB; stopped reading it", MAX_BODY_BYTES >> 20).into(),
    }
}

/// A 2xx whose body is not JSON is not an answer the tool understands: an error naming the
/// content type and the first bytes (redacted, controls escaped). Empty bodies (204) pass.
pub fn check_json_body(status: u16, content_type: &str, body: &[u8]) -> Result<(), ApiError> {
    if !(200..300).contains(&status) || body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(QUOTED_BYTES)]).into_owned();
    let head = crate::redact::for_people(&head);
    let content_type =
        if content_type.is_empty() { "no content type".to_string() } else { crate::redact::for_people(content_type) };
    Err(ApiError::Unavailable {
        status,
        code: "not_json".into(),
        message: format!(
            "HTTP {status} with a body that is not JSON ({content_type}), starting {head:?}: a proxy or sign-in page \
             answered instead of the API"
        )
        .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_only_to_the_configured_origin() {
        let o = Origin::of(&Url::parse("https://graph.microsoft.com/beta").unwrap()).unwrap();
        assert!(same_origin(&o, "https://graph.microsoft.com/beta/x?$skiptoken=1").is_ok());
        assert!(same_origin(&o, "https://GRAPH.microsoft.com:443/v1.0/y").is_ok());
        for bad in [
            "http://graph.microsoft.com/beta/x",
            "https://evil.example/beta",
            "https://graph.microsoft.com:8443/x",
            "/relative",
        ] {
            assert!(same_origin(&o, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_2xx_that_is_not_json_is_an_error() {
        let e = check_json_body(200, "text/html", b"<html><title>Sign in</title>").unwrap_err();
        assert!(e.message().contains("text/html") && e.message().contains("<html>"), "{}", e.message());
        assert!(check_json_body(200, "application/json", br#"{"value":[]}"#).is_ok());
        assert!(check_json_body(204, "", b"").is_ok());
        assert!(check_json_body(404, "text/html", b"<html>").is_ok());
    }
}
