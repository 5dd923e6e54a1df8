//! Where a bearer token comes from, how it is refreshed, and how it is kept out of output.
//!
//! Sources, first match wins: `--token-stdin`, `--token-file`, app-only client credentials
//! (`--client-id` with a client secret, a certificate (`--certificate`) or a ready-made client
//! assertion (`--client-assertion-stdin`)), `OATHBULK_TOKEN`, `./AuthKey.txt` (the original
//! tool's file), a hidden prompt on a terminal. Never a command-line value: argv is visible to
//! every user. `oathbulk login` keeps a refresh token or client secret in the OS credential
//! store, or the path and thumbprint of a certificate (`store`); `--device-code` and runs that
//! find no other source use it.

pub mod certificate;
pub mod devicecode;
pub mod jwt;
pub mod session;
pub mod store;

use anyhow::{bail, Context, Result};
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// The file the original bulk-activation tool read its token from.
pub const DEFAULT_TOKEN_FILE: &str = "AuthKey.txt";
pub const TOKEN_ENV: &str = "OATHBULK_TOKEN";
pub const CLIENT_SECRET_ENV: &str = "OATHBULK_CLIENT_SECRET";

/// Strip whitespace and a pasted `Authorization: Bearer ` / `Bearer ` prefix.
///
/// The raw text is registered with the redactor before anything else, and so is every run
/// of visible characters in it, so that no message about a malformed paste (nor a bug's
/// panic message) can print the token.
pub fn clean_token(raw: &str) -> String {
    register_raw_credential(raw);
    strip_paste(raw).to_string()
}

/// The token in a paste, without its whitespace and `Authorization:`/`Bearer` prefix (no
/// registration: [`clean_token`] does that). The prefix is compared as bytes: a no-break or
/// zero-width space after `Bearer` is a separator, never a byte index inside a character.
pub fn strip_paste(raw: &str) -> &str {
    let mut t = trim_invisible(raw);
    let b = t.as_bytes();
    if b.len() >= 14 && b[..14].eq_ignore_ascii_case(b"authorization:") {
        // The prefix is ASCII: byte 14 is a character boundary.
        t = trim_invisible(&t[14..]);
    }
    let b = t.as_bytes();
    if b.len() > 6 && b[..6].eq_ignore_ascii_case(b"bearer") {
        let rest = &t[6..];
        if rest.chars().next().is_some_and(is_invisible) {
            t = trim_invisible(rest);
        }
    }
    t
}

/// Whitespace, controls and the characters that show as nothing (zero-width spaces and
/// joiners, the word joiner, the byte-order mark): what a paste may carry around a token.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' | '\u{00AD}')
}

fn trim_invisible(s: &str) -> &str {
    s.trim_matches(is_invisible)
}

/// Register credential text as read (a token line, a token file, a secret file) with the
/// redactor, before parsing it: see [`credential_pieces`].
pub fn register_raw_credential(raw: &str) {
    for piece in credential_pieces(raw) {
        crate::redact::add_secret(&SecretString::from(piece.to_string()));
    }
}

/// What of a credential paste is secret: the whole trimmed text, the token [`strip_paste`]
/// finds in it, and each run of visible ASCII in either (a token split by a stray character
/// is still a secret in both halves) but the words `Bearer` and `Authorization:`.
pub fn credential_pieces(raw: &str) -> Vec<&str> {
    let (whole, token) = (trim_invisible(raw), strip_paste(raw));
    let mut pieces = vec![whole, token];
    for text in [whole, token] {
        for piece in text.split(|c: char| !c.is_ascii_graphic()) {
            let piece = piece.trim_end_matches(':');
            if !(piece.eq_ignore_ascii_case("bearer") || piece.eq_ignore_ascii_case("authorization")) {
                pieces.push(piece);
            }
        }
    }
    pieces
}

/// Whether `token` can be a bearer token: not empty, visible ASCII only (RFC 6750
/// b64token). The refusal says which character is wrong and where, never the token.
pub fn check_token(token: &str, source: &TokenSource) -> Result<()> {
    if token.is_empty() {
        bail!("the bearer token from {source} is empty");
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("the bearer token from {source} contains spaces or line breaks; paste only the token");
    }
    if let Some((at, c)) = token.chars().enumerate().find(|(_, c)| !c.is_ascii_graphic()) {
        bail!(
            "the bearer token from {source} holds the invisible or non-ASCII character U+{:04X} at character {}; \
             paste only the token",
            c as u32,
            at + 1
        );
    }
    Ok(())
}

/// The identity platform refused to issue a token: exit code 3, like a 401.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SignInRefused(pub String);

/// App-only credentials (client credentials grant).
#[derive(Clone)]
pub struct ClientCredentials {
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
    pub credential: ClientAuth,
    pub scope: String,
}

/// How the app proves who it is at the token endpoint.
#[derive(Clone)]
pub enum ClientAuth {
    /// `client_secret`.
    Secret(SecretString),
    /// `client_assertion`, a new one signed with this certificate for every request.
    Certificate(Arc<certificate::Certificate>),
    /// `client_assertion` made by someone else (the PowerShell module signs one with a key in
    /// the Windows/.NET certificate store): good for one sign-in, so the token is not renewed.
    Assertion(SecretString),
}

impl ClientCredentials {
    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.authority.trim_end_matches('/'), self.tenant)
    }
}

/// Where the token came from, for messages ("the token from AuthKey.txt was rejected").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Stdin,
    File(PathBuf),
    Env,
    Prompt,
    ClientCredentials,
    /// App-only with a certificate (its SHA-1 thumbprint).
    Certificate(String),
    /// App-only with a client assertion read from standard input.
    ClientAssertion,
    DeviceCode,
    Simulator,
    /// A sign-in kept by `oathbulk login` (saved at `saved_at`, Unix seconds).
    Stored {
        saved_at: i64,
        kind: store::Kind,
    },
}

impl std::fmt::Display for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Stdin => write!(f, "standard input"),
            TokenSource::File(p) => write!(f, "{}", p.display()),
            TokenSource::Env => write!(f, "${TOKEN_ENV}"),
            TokenSource::Prompt => write!(f, "the prompt"),
            TokenSource::ClientCredentials => write!(f, "client credentials"),
            TokenSource::Certificate(thumbprint) => write!(f, "certificate {thumbprint}"),
            TokenSource::ClientAssertion => write!(f, "the client assertion on standard input"),
            TokenSource::DeviceCode => write!(f, "device-code sign-in"),
            TokenSource::Simulator => write!(f, "the simulator"),
            TokenSource::Stored { .. } => write!(f, "the sign-in kept by `oathbulk login`"),
        }
    }
}

pub(crate) struct Current {
    pub(crate) token: SecretString,
    /// When to fetch a new one (renewable tokens only).
    pub(crate) refresh_at: Option<SystemTime>,
    /// For delegated sign-in: the refresh token that renews it (kept in memory only).
    pub(crate) refresh_token: Option<SecretString>,
}

/// How a token is renewed.
#[derive(Clone)]
pub(crate) enum Renewal {
    /// App-only: ask again with the client secret.
    ClientCredentials(ClientCredentials),
    /// Delegated (device code): the refresh-token grant.
    RefreshToken { token_url: String, client_id: String, scope: String },
}

/// Hands out the current bearer token, renewing app-only and device-code tokens before
/// they expire (at 80% of their lifetime) and once more after a 401.
#[derive(Clone)]
pub struct TokenProvider {
    source: TokenSource,
    current: Arc<Mutex<Current>>,
    client: Option<(Renewal, reqwest::Client)>,
}

impl TokenProvider {
    pub fn fixed(token: String, source: TokenSource) -> Result<Self> {
        check_token(&token, &source)?;
        let token = SecretString::from(token);
        crate::redact::add_secret(&token);
        Ok(Self {
            source,
            current: Arc::new(Mutex::new(Current { token, refresh_at: None, refresh_token: None })),
            client: None,
        })
    }

    pub async fn client_credentials(creds: ClientCredentials, http: reqwest::Client) -> Result<Self> {
        let mut current = fetch_client_token(&creds, &http).await?;
        let source = match &creds.credential {
            ClientAuth::Secret(_) => TokenSource::ClientCredentials,
            ClientAuth::Certificate(c) => TokenSource::Certificate(c.thumbprint()),
            ClientAuth::Assertion(_) => TokenSource::ClientAssertion,
        };
        // A ready-made assertion is spent (short-lived, one `jti`): the token lasts as it is,
        // like a fixed token, and a run that would outlive it is warned before it starts.
        let client = match creds.credential {
            ClientAuth::Assertion(_) => {
                current.refresh_at = None;
                None
            }
            _ => Some((Renewal::ClientCredentials(creds), http)),
        };
        Ok(Self { source, current: Arc::new(Mutex::new(current)), client })
    }

    /// A delegated token from device-code sign-in, renewed with its refresh token.
    pub(crate) fn renewable(current: Current, renewal: Renewal, http: reqwest::Client, source: TokenSource) -> Self {
        Self { source, current: Arc::new(Mutex::new(current)), client: Some((renewal, http)) }
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    /// Whether a 401 may be cured by fetching a new token.
    pub fn can_refresh(&self) -> bool {
        self.client.is_some()
    }

    /// The token to send now (refreshed first when it is about to expire).
    pub async fn bearer(&self) -> Result<SecretString> {
        let mut cur = self.current.lock().await;
        if let (Some((renewal, http)), Some(at)) = (&self.client, cur.refresh_at) {
            if SystemTime::now() >= at {
                *cur = renew(renewal, http, &cur).await?;
            }
        }
        Ok(cur.token.clone())
    }

    /// After a 401: fetch a new app-only token (no-op for fixed tokens).
    pub async fn force_refresh(&self) -> Result<bool> {
        let Some((renewal, http)) = &self.client else { return Ok(false) };
        let mut cur = self.current.lock().await;
        *cur = renew(renewal, http, &cur).await?;
        Ok(true)
    }

    /// The claims of the current token, if it is a JWT.
    pub async fn claims(&self) -> Option<jwt::Claims> {
        jwt::claims(self.current.lock().await.token.expose_secret())
    }
}

async fn renew(renewal: &Renewal, http: &reqwest::Client, current: &Current) -> Result<Current> {
    match renewal {
        Renewal::ClientCredentials(creds) => fetch_client_token(creds, http).await,
        Renewal::RefreshToken { token_url, client_id, scope } => {
            let Some(refresh) = &current.refresh_token else {
                return Err(SignInRefused("the sign-in gave no refresh token; sign in again".into()).into());
            };
            let form = [
                ("grant_type", "refresh_token"),
                ("client_id", client_id.as_str()),
                ("refresh_token", refresh.expose_secret()),
                ("scope", scope.as_str()),
            ];
            let resp = http.post(token_url).form(&form).send().await.context("cannot reach the token endpoint")?;
            let status = resp.status();
            let body = crate::http_guard::json_capped(resp).await?;
            if !status.is_success() {
                let error = body.get("error").and_then(|v| v.as_str()).unwrap_or("unknown_error");
                return Err(SignInRefused(format!(
                    "refreshing the sign-in failed (HTTP {status}, {error}); sign in again"
                ))
                .into());
            }
            let mut next = current_from(&body)?;
            if next.refresh_token.is_none() {
                next.refresh_token = Some(refresh.clone());
            }
            Ok(next)
        }
    }
}

/// A token endpoint's success answer as the current token.
pub(crate) fn current_from(body: &serde_json::Value) -> Result<Current> {
    let token = body
        .get("access_token")
        .and_then(|v| v.as_str())
        .context("the token endpoint's answer has no access_token")?
        .to_string();
    let expires_in = clamp_expires_in(
        body.get("expires_in").and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(3600),
    );
    // Renew at 80% of the lifetime (at least 10 s early) so a long run never sends a dead token.
    let early = (expires_in / 5).max(10).min(expires_in);
    let token = SecretString::from(token);
    crate::redact::add_secret(&token);
    let refresh_token = body.get("refresh_token").and_then(|v| v.as_str()).map(|r| SecretString::from(r.to_string()));
    if let Some(r) = &refresh_token {
        crate::redact::add_secret(r);
    }
    Ok(Current { token, refresh_at: Some(SystemTime::now() + Duration::from_secs(expires_in - early)), refresh_token })
}

/// The longest token lifetime believed: Entra issues at most a day. A server's number is
/// clamped, never trusted into a duration overflow (`expires_in: 18446744073709551615`).
pub const MAX_EXPIRES_IN_SECS: u64 = 24 * 3600;

pub fn clamp_expires_in(seconds: u64) -> u64 {
    seconds.min(MAX_EXPIRES_IN_SECS)
}

async fn fetch_client_token(creds: &ClientCredentials, http: &reqwest::Client) -> Result<Current> {
    let url = creds.token_url();
    let proof = match &creds.credential {
        ClientAuth::Secret(s) => s.clone(),
        ClientAuth::Certificate(c) => c.assertion(&url, &creds.client_id, store::now_secs())?,
        ClientAuth::Assertion(a) => a.clone(),
    };
    crate::redact::add_secret(&proof);
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", creds.client_id.as_str()),
        ("scope", creds.scope.as_str()),
    ];
    match &creds.credential {
        ClientAuth::Secret(_) => form.push(("client_secret", proof.expose_secret())),
        ClientAuth::Certificate(_) | ClientAuth::Assertion(_) => {
            form.push(("client_assertion_type", certificate::ASSERTION_TYPE));
            form.push(("client_assertion", proof.expose_secret()));
        }
    }
    let resp =
        http.post(&url).form(&form).send().await.with_context(|| format!("cannot reach the token endpoint {url}"))?;
    let status = resp.status();
    let body = crate::http_guard::json_capped(resp).await?;
    if !status.is_success() {
        let error = body.get("error").and_then(|v| v.as_str()).unwrap_or("unknown_error");
        let desc = body.get("error_description").and_then(|v| v.as_str()).unwrap_or("");
        return Err(SignInRefused(format!(
            "the token endpoint refused the {what} (HTTP {status}, {error}): {desc}",
            what = match &creds.credential {
                ClientAuth::Secret(_) => "client credentials".to_string(),
                ClientAuth::Certificate(c) => format!("certificate {} of {}", c.thumbprint(), c.path().display()),
                ClientAuth::Assertion(_) => "client assertion from standard input".to_string(),
            }
        ))
        .into());
    }
    current_from(&body)
}

/// Read a token file, warning (through `warn`) when other users can read it.
pub fn read_token_file(path: &Path, warn: &mut dyn FnMut(String)) -> Result<String> {
    let file = open_token_file(path)?;
    read_opened_token_file(file, path, warn)
}

/// Read `./AuthKey.txt`, the file used without being named: only when it belongs to the
/// user running oathbulk and no other user may write it. In a folder others can write (a
/// shared download folder, `/tmp`), a planted file would otherwise send the run — seeds
/// included — to whichever tenant its token belongs to.
pub fn read_default_token_file(path: &Path, warn: &mut dyn FnMut(String)) -> Result<String> {
    let file = open_token_file(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = file.metadata().with_context(|| format!("cannot read token file {}", path.display()))?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            bail!(
                "{} belongs to another user (uid {}, you are uid {me}): oathbulk uses ./{DEFAULT_TOKEN_FILE} only when \
                 it is yours; remove it, or name a token file with --token-file",
                path.display(),
                meta.uid()
            );
        }
        if meta.mode() & 0o022 != 0 {
            bail!(
                "{p} may be written by other users (permissions {:04o}): anyone could put their token in it; \
                 run `chmod 600 {p}`",
                meta.mode() & 0o777,
                p = path.display()
            );
        }
    }
    read_opened_token_file(file, path, warn)
}

fn open_token_file(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).with_context(|| format!("cannot read token file {}", path.display()))
}

/// The token in an opened token file (the mode read from the open file, not the path again).
fn read_opened_token_file(mut file: std::fs::File, path: &Path, warn: &mut dyn FnMut(String)) -> Result<String> {
    use std::io::Read;
    let mut text = String::new();
    file.read_to_string(&mut text).with_context(|| format!("cannot read token file {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = file.metadata() {
            if meta.permissions().mode() & 0o044 != 0 {
                warn(format!(
                    "token file {} is readable by other users; run `chmod 600 {}`",
                    path.display(),
                    path.display()
                ));
            }
        }
    }
    Ok(clean_token(&text))
}

/// Seconds until the token expires, from its `exp` claim (negative: already expired).
pub fn seconds_left(claims: &jwt::Claims) -> Option<i64> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    claims.exp.map(|exp| exp - now)
}

/// Entry point for `cargo fuzz` (fuzz/) and for replaying its corpus on stable
/// (tests/fuzz_corpus.rs): what a token paste, a token file or `./AuthKey.txt` holds, as the
/// credential parser reads it.
#[doc(hidden)]
pub mod fuzzing {
    use super::{check_token, credential_pieces, strip_paste, TokenSource};

    /// Parse arbitrary bytes as a credential paste: no panic; the token is a piece of the
    /// paste and is known to the redactor (with every visible run of it) before anything
    /// parses it; an accepted token is visible ASCII; a refusal is one of its fixed
    /// sentences, never quoting the paste.
    pub fn parse_credential(data: &[u8]) {
        // A token file is read as UTF-8 (anything else is an I/O error naming the file).
        let Ok(raw) = std::str::from_utf8(data) else { return };
        let token = strip_paste(raw);
        assert!(raw.contains(token));
        let pieces = credential_pieces(raw);
        assert!(pieces.contains(&token), "the token is registered whole");
        for run in token.split(|c: char| !c.is_ascii_graphic()).map(|r| r.trim_end_matches(':')) {
            let word = run.eq_ignore_ascii_case("bearer") || run.eq_ignore_ascii_case("authorization");
            assert!(word || pieces.contains(&run), "a visible run of the token is registered");
        }
        match check_token(token, &TokenSource::Stdin) {
            Ok(()) => assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())),
            Err(e) => assert!(is_a_refusal_sentence(&e.to_string()), "the refusal quotes its input: {e}"),
        }
    }

    /// One of [`check_token`]'s sentences for `standard input`, with a code point and a
    /// position as its only variable parts.
    fn is_a_refusal_sentence(message: &str) -> bool {
        let Some(rest) = message.strip_prefix("the bearer token from standard input ") else { return false };
        if rest == "is empty" || rest == "contains spaces or line breaks; paste only the token" {
            return true;
        }
        let Some(rest) = rest.strip_prefix("holds the invisible or non-ASCII character U+") else { return false };
        let Some((hex, rest)) = rest.split_once(" at character ") else { return false };
        let Some(at) = rest.strip_suffix("; paste only the token") else { return false };
        (4..=6).contains(&hex.len())
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
            && !at.is_empty()
            && at.bytes().all(|b| b.is_ascii_digit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_headers_are_cleaned() {
        assert_eq!(clean_token("Bearer eyJ.a.b\n"), "eyJ.a.b");
        assert_eq!(clean_token("Authorization: Bearer eyJ.a.b"), "eyJ.a.b");
        assert_eq!(clean_token("  eyJ.a.b  "), "eyJ.a.b");
    }

    #[test]
    fn a_no_break_or_zero_width_space_in_a_pasted_token_never_panics_nor_prints_it() {
        let token = "eyJ0eXAiOiJKV1QifQ.nbsp-unit-token.sig";
        for (raw, cleaned) in [
            (format!("Bearer\u{a0}{token}"), Some(token.to_string())),
            (format!("Bearer\u{200b}{token}"), Some(token.to_string())),
            (format!("bearer \u{200b} {token}\u{200b}\n"), Some(token.to_string())),
            (format!("\u{feff}Authorization:\u{a0}Bearer\u{a0}{token}"), Some(token.to_string())),
            (format!("\u{200b}{token}\u{a0}"), Some(token.to_string())),
            // Inside the token: refused, naming the character, not the token.
            ("eyJ0eXAiOiJKV1QifQ.nbsp-unit\u{200b}-token.sig".to_string(), None),
            ("Bearer\u{a0}eyJ0eXAiOiJKV1QifQ.nbsp-unit\u{a0}-token.sig".to_string(), None),
            ("B\u{e9}arer".to_string(), None),
            ("\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}".to_string(), None),
        ] {
            let got = clean_token(&raw);
            if let Some(c) = &cleaned {
                assert_eq!(&got, c, "{raw:?}");
            }
            match TokenProvider::fixed(got, TokenSource::Env) {
                Ok(_) => assert!(cleaned.is_some(), "{raw:?} accepted"),
                Err(e) => {
                    assert!(cleaned.is_none(), "{raw:?}: {e}");
                    let said = crate::redact::scrub(&format!("{e:#} {raw}")).into_owned();
                    assert!(!said.contains("nbsp-unit"), "{said}");
                }
            }
        }
    }

    #[test]
    fn a_huge_expires_in_is_clamped() {
        let body = serde_json::json!({"access_token": "tok-1234567890", "expires_in": u64::MAX});
        let current = current_from(&body).unwrap();
        let at = current.refresh_at.unwrap();
        let in_a_day = SystemTime::now() + Duration::from_secs(MAX_EXPIRES_IN_SECS);
        assert!(at <= in_a_day && at > SystemTime::now());
        let body = serde_json::json!({"access_token": "tok-1234567890", "expires_in": "18446744073709551615"});
        assert!(current_from(&body).is_ok());
    }

    #[test]
    fn fixed_token_rejects_whitespace() {
        assert!(TokenProvider::fixed("a b".into(), TokenSource::Env).is_err());
        assert!(TokenProvider::fixed(String::new(), TokenSource::Env).is_err());
    }
}
