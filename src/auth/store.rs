//! Lasting sign-in (`oathbulk login`): what a later run needs to sign in without a prompt — a
//! delegated refresh token, an app's client secret, or where an app's certificate is (its
//! path and thumbprint: the key itself stays in its file) — kept in the operating system's
//! credential store (Windows Credential Manager, macOS Keychain, Secret Service), one entry
//! per (authority, tenant, client id), plus one entry naming the last login so commands run
//! without `--tenant`/`--client-id` find it. Never a plaintext file, except the test-only
//! store selected by [`TEST_STORE_ENV`].
//!
//! Where no store is reachable (a headless Linux box without Secret Service) a session key in
//! `$OATHBULK_SESSION_KEY` (the PowerShell module makes one per session) puts the entry in a
//! sealed session file instead (`session`); without one the run says so once and signs in
//! per run, and `login` refuses before it signs in ([`Store::check_usable`]).

use super::certificate::Certificate;
use super::session::{Session, SESSION_KEY_ENV};
use super::{renew, ClientAuth, ClientCredentials, Current, Renewal, SignInRefused, TokenProvider, TokenSource};
use crate::diag::Diag;
use anyhow::{bail, Context, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The service name every entry is filed under.
pub const SERVICE: &str = "oathbulk";
/// TEST ONLY: a JSON file standing in for the credential store, so end-to-end tests can span
/// several processes (keyring's mock store lives in one process). It holds secrets in plain
/// text: never set it outside tests. Every run that uses it says so on stderr.
pub const TEST_STORE_ENV: &str = "OATHBULK_TEST_ONLY_PLAINTEXT_STORE";
/// Whether this build honours [`TEST_STORE_ENV`]: debug builds only (the binary the test
/// suites run, Rust and Pester). A release binary ignores the variable, so no one can make
/// it write refresh tokens and client secrets to a plain file by setting one.
pub const TEST_STORE_HONOURED: bool = cfg!(debug_assertions);
/// The entry naming the last login (no secret in it).
const LAST_LOGIN_ACCOUNT: &str = "last-login";
/// The most one credential holds here (Windows allows 2560 bytes; room to spare).
const CHUNK_BYTES: usize = 2000;
/// The head of a value kept in parts: `oathbulk-parts:N`.
const CHUNKED: &str = "oathbulk-parts:";
/// How long Entra keeps an unused refresh token valid (its default sliding window).
pub const REFRESH_TOKEN_DAYS: i64 = 90;

/// Which sign-in an entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
}

impl Key {
    pub fn new(authority: &str, tenant: &str, client_id: &str) -> Self {
        Self {
            authority: authority.trim_end_matches('/').to_string(),
            tenant: tenant.to_ascii_lowercase(),
            client_id: client_id.to_ascii_lowercase(),
        }
    }

    fn account(&self) -> String {
        format!("{}|{}|{}", self.authority, self.tenant, self.client_id)
    }

    fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.authority, self.tenant)
    }
}

/// What an entry keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Delegated (device code): the refresh token.
    RefreshToken,
    /// App-only (client credentials): the client secret.
    ClientSecret,
    /// App-only with a certificate: its file and thumbprint (no secret: the key stays in the
    /// file, which only its owner may read).
    Certificate,
}

pub struct Saved {
    pub kind: Kind,
    /// Empty for [`Kind::Certificate`].
    pub secret: SecretString,
    pub scope: String,
    /// Unix seconds.
    pub saved_at: i64,
    /// [`Kind::Certificate`]: which file, holding which certificate.
    pub certificate: Option<CertificateRef>,
}

/// Where a kept certificate sign-in finds its key, and which certificate it must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRef {
    pub path: PathBuf,
    /// SHA-1, upper-case hex.
    pub thumbprint: String,
}

/// The serialized form (the secret is exposed only between here and the store).
#[derive(Serialize, Deserialize)]
struct Entry {
    kind: Kind,
    secret: String,
    scope: String,
    saved_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate: Option<CertificateRef>,
}

/// No credential store on this machine: sign in per run.
#[derive(Debug, thiserror::Error)]
#[error("no credential store is available ({0})")]
pub struct Unavailable(pub String);

enum Backend {
    /// One `keyring::Entry` per account, reused: keyring's mock store keeps a credential in
    /// the Entry object, so reuse is what makes the mock behave like a real store in tests.
    Os(std::sync::Mutex<std::collections::HashMap<String, keyring::Entry>>),
    TestFile(PathBuf),
}

pub struct Store {
    backend: Backend,
    /// `$OATHBULK_SESSION_KEY`'s session, used where the OS store is unavailable (or why the
    /// key cannot be used).
    session: std::result::Result<Option<Session>, String>,
    /// The session file stood in for the store in this run (for [`Store::describe`]).
    fell_back: AtomicBool,
}

static SAID_UNAVAILABLE: AtomicBool = AtomicBool::new(false);

pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Store {
    pub fn open(diag: &Diag) -> Self {
        match std::env::var_os(TEST_STORE_ENV) {
            Some(path) if !path.is_empty() && TEST_STORE_HONOURED => {
                diag.warn(
                    "test_credential_store",
                    &format!("${TEST_STORE_ENV} is set: secrets go to a plaintext test file, not the credential store"),
                );
                Self::with(Backend::TestFile(PathBuf::from(path)))
            }
            Some(path) if !path.is_empty() => {
                diag.warn(
                    "test_credential_store_ignored",
                    &format!("${TEST_STORE_ENV} is set and ignored: a release build keeps sign-ins in the credential store only"),
                );
                Self::os()
            }
            _ => Self::os(),
        }
    }

    fn os() -> Self {
        Self::with(Backend::Os(Default::default()))
    }

    fn with(backend: Backend) -> Self {
        let session = Session::from_env().map_err(|e| format!("{e:#}"));
        Self { backend, session, fell_back: AtomicBool::new(false) }
    }

    /// The session file standing in for a store that is not here: `e` again when it is not
    /// [`Unavailable`] or no session key was given.
    fn session_instead(&self, e: anyhow::Error) -> Result<&Session> {
        if e.downcast_ref::<Unavailable>().is_none() {
            return Err(e);
        }
        match &self.session {
            Ok(Some(session)) => {
                self.fell_back.store(true, Ordering::Relaxed);
                Ok(session)
            }
            Ok(None) => Err(e),
            Err(why) => bail!("{why} (it would keep the sign-in where {e})"),
        }
    }

    /// Whether a sign-in can be kept: the store answers, or, with no store here, a session
    /// key names a session file. `login` asks before it signs in, so no one completes a
    /// device code for a sign-in that cannot be kept.
    pub fn check_usable(&self) -> Result<()> {
        if matches!(self.backend, Backend::TestFile(_)) {
            return Ok(());
        }
        match self.get_one(LAST_LOGIN_ACCOUNT) {
            Ok(_) => Ok(()),
            Err(e) => self.session_instead(e).map(|_| ()).map_err(|e| match e.downcast_ref::<Unavailable>() {
                Some(_) => e.context(format!(
                    "nothing could keep a sign-in here, so `oathbulk login` does not sign in: set ${SESSION_KEY_ENV} \
                     (32 random bytes in Base64; Connect-OathBulk does) to keep it sealed for that session, or give \
                     each command its credentials (--device-code, --token-file, $OATHBULK_TOKEN)"
                )),
                None => e,
            }),
        }
    }

    /// Run `f` on the account's entry (created once per store).
    fn with_entry<T>(&self, account: &str, f: impl FnOnce(&keyring::Entry) -> keyring::Result<T>) -> Result<T> {
        let Backend::Os(entries) = &self.backend else { unreachable!("only the OS backend has entries") };
        let mut entries = entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = match entries.entry(account.to_string()) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(keyring::Entry::new(SERVICE, account).map_err(os_error)?)
            }
        };
        f(entry).map_err(os_error)
    }

    pub fn describe(&self) -> String {
        if let (true, Ok(Some(session))) = (self.fell_back.load(Ordering::Relaxed), &self.session) {
            return format!(
                "this session's sealed file {} (no credential store here; it opens only with ${SESSION_KEY_ENV})",
                session.path().display()
            );
        }
        match &self.backend {
            Backend::Os(_) => "the system credential store".into(),
            Backend::TestFile(p) => format!("the test-only store {}", p.display()),
        }
    }

    pub fn load(&self, key: &Key) -> Result<Option<Saved>> {
        let text = match self.get(&key.account()) {
            Ok(text) => text,
            Err(e) => match self.session_instead(e)?.load()? {
                Some((kept_for, entry)) if &kept_for == key => Some(entry.expose_secret().to_string()),
                _ => None,
            },
        };
        let Some(text) = text else { return Ok(None) };
        let e: Entry = serde_json::from_str(&text).context("the stored sign-in is unreadable; run `oathbulk login`")?;
        Ok(Some(Saved {
            kind: e.kind,
            secret: SecretString::from(e.secret),
            scope: e.scope,
            saved_at: e.saved_at,
            certificate: e.certificate,
        }))
    }

    /// Keep a sign-in and make it the one commands without `--tenant`/`--client-id` use.
    pub fn save(&self, key: &Key, saved: &Saved) -> Result<()> {
        let e = Entry {
            kind: saved.kind,
            secret: saved.secret.expose_secret().to_string(),
            scope: saved.scope.clone(),
            saved_at: saved.saved_at,
            certificate: saved.certificate.clone(),
        };
        let entry = serde_json::to_string(&e)?;
        match self.set(&key.account(), &entry) {
            Ok(()) => self.set(LAST_LOGIN_ACCOUNT, &serde_json::to_string(key)?),
            // The session file is the last login of its session too.
            Err(e) => self.session_instead(e)?.save(key, &SecretString::from(entry)),
        }
    }

    /// Forget a sign-in (and the last-login pointer when it names it). True when one was kept.
    pub fn delete(&self, key: &Key) -> Result<bool> {
        let removed = match self.remove(&key.account()) {
            Ok(removed) => removed,
            Err(e) => {
                let session = self.session_instead(e)?;
                // Unreadable (altered) or this sign-in's: gone either way; another's stays.
                return match session.load() {
                    Ok(Some((kept_for, _))) if &kept_for != key => Ok(false),
                    _ => session.remove(),
                };
            }
        };
        if self.last_login()?.as_ref() == Some(key) {
            self.remove(LAST_LOGIN_ACCOUNT)?;
        }
        Ok(removed)
    }

    pub fn last_login(&self) -> Result<Option<Key>> {
        match self.get(LAST_LOGIN_ACCOUNT) {
            Ok(Some(text)) => Ok(serde_json::from_str(&text).ok()),
            Ok(None) => Ok(None),
            Err(e) => Ok(self.session_instead(e)?.load()?.map(|(key, _)| key)),
        }
    }

    /// A value, reassembled when [`Store::set`] had to split it.
    fn get(&self, account: &str) -> Result<Option<String>> {
        let Some(head) = self.get_one(account)? else { return Ok(None) };
        let Some(n) = head.strip_prefix(CHUNKED).and_then(|n| n.parse::<usize>().ok()) else { return Ok(Some(head)) };
        let mut value = String::new();
        for i in 0..n {
            match self.get_one(&format!("{account}#{i}"))? {
                Some(part) => value.push_str(&part),
                None => return Ok(None), // a half-written entry: as if none
            }
        }
        Ok(Some(value))
    }

    /// Windows Credential Manager keeps at most 2560 bytes per credential, and Entra refresh
    /// tokens come close: longer values go in parts `account#0..n`, the entry itself saying how
    /// many. Every backend takes the same path, so the tests exercise it.
    fn set(&self, account: &str, value: &str) -> Result<()> {
        self.remove_parts(account)?;
        if value.len() <= CHUNK_BYTES {
            return self.set_one(account, value);
        }
        let parts = split_utf8(value, CHUNK_BYTES);
        for (i, part) in parts.iter().enumerate() {
            self.set_one(&format!("{account}#{i}"), part)?;
        }
        self.set_one(account, &format!("{CHUNKED}{}", parts.len()))
    }

    fn remove(&self, account: &str) -> Result<bool> {
        self.remove_parts(account)?;
        self.remove_one(account)
    }

    fn remove_parts(&self, account: &str) -> Result<()> {
        if let Some(n) = self.get_one(account)?.and_then(|h| h.strip_prefix(CHUNKED)?.parse::<usize>().ok()) {
            for i in 0..n {
                self.remove_one(&format!("{account}#{i}"))?;
            }
        }
        Ok(())
    }

    fn get_one(&self, account: &str) -> Result<Option<String>> {
        match &self.backend {
            // Bytes, not get_password: on Windows that one stores UTF-16, halving the room.
            Backend::Os(_) => self.with_entry(account, |e| match e.get_secret() {
                Ok(v) => String::from_utf8(v).map(Some).map_err(|e| keyring::Error::BadEncoding(e.into_bytes())),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(e),
            }),
            Backend::TestFile(p) => Ok(read_test_file(p)?.remove(account)),
        }
    }

    fn set_one(&self, account: &str, value: &str) -> Result<()> {
        match &self.backend {
            Backend::Os(_) => self.with_entry(account, |e| e.set_secret(value.as_bytes())),
            Backend::TestFile(p) => {
                let mut map = read_test_file(p)?;
                map.insert(account.to_string(), value.to_string());
                write_test_file(p, &map)
            }
        }
    }

    fn remove_one(&self, account: &str) -> Result<bool> {
        match &self.backend {
            Backend::Os(_) => self.with_entry(account, |e| match e.delete_credential() {
                Ok(()) => Ok(true),
                Err(keyring::Error::NoEntry) => Ok(false),
                Err(e) => Err(e),
            }),
            Backend::TestFile(p) => {
                let mut map = read_test_file(p)?;
                let removed = map.remove(account).is_some();
                write_test_file(p, &map)?;
                Ok(removed)
            }
        }
    }
}

/// Storage that is not there (no Secret Service, a locked keychain) is [`Unavailable`]; the
/// caller falls back to signing in per run.
fn os_error(e: keyring::Error) -> anyhow::Error {
    match e {
        keyring::Error::NoStorageAccess(inner) => Unavailable(inner.to_string()).into(),
        keyring::Error::PlatformFailure(inner) => Unavailable(inner.to_string()).into(),
        other => anyhow::Error::new(other).context("the credential store refused the request"),
    }
}

/// Split at character boundaries into pieces of at most `max` bytes.
fn split_utf8(s: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        parts.push(&rest[..end]);
        rest = &rest[end..];
    }
    parts
}

type TestMap = std::collections::BTreeMap<String, String>;

fn read_test_file(p: &std::path::Path) -> Result<TestMap> {
    match std::fs::read_to_string(p) {
        Ok(text) => Ok(serde_json::from_str(&text).unwrap_or_default()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TestMap::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read the test store {}", p.display())),
    }
}

fn write_test_file(p: &std::path::Path, map: &TestMap) -> Result<()> {
    std::fs::write(p, serde_json::to_string(map)?)
        .with_context(|| format!("cannot write the test store {}", p.display()))
}

/// Whether `e` means "no store here"; says so once per run (the issue: "say so once").
pub fn is_unavailable(e: &anyhow::Error, diag: &Diag) -> bool {
    let Some(u) = e.downcast_ref::<Unavailable>() else { return false };
    if !SAID_UNAVAILABLE.swap(true, Ordering::Relaxed) {
        diag.warn("no_credential_store", &format!("{u}: signing in for this run only"));
    }
    true
}

/// The sign-in kept for `key`, if any (`None` too when no store is here: said once).
fn load_or_none(store: &Store, key: &Key, diag: &Diag) -> Result<Option<Saved>> {
    match store.load(key) {
        Ok(s) => Ok(s),
        Err(e) if is_unavailable(&e, diag) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Use a kept sign-in without a prompt: the client-credentials grant with the kept secret,
/// or the refresh-token grant (for `scope` when given: one refresh token serves every
/// resource of its client), keeping the rotated refresh token. A refused refresh token or
/// secret is a [`SignInRefused`] error.
async fn redeem(
    store: &Store,
    key: &Key,
    saved: Saved,
    scope: Option<&str>,
    http: &reqwest::Client,
    diag: &Diag,
) -> Result<TokenProvider> {
    let source = TokenSource::Stored { saved_at: saved.saved_at, kind: saved.kind };
    match saved.kind {
        Kind::ClientSecret | Kind::Certificate => {
            let credential = match (saved.kind, saved.certificate) {
                (Kind::Certificate, Some(cert)) => {
                    ClientAuth::Certificate(std::sync::Arc::new(kept_certificate(&cert)?))
                }
                (Kind::Certificate, None) => bail!("the stored sign-in is unreadable; run `oathbulk login`"),
                _ => ClientAuth::Secret(saved.secret),
            };
            let creds = ClientCredentials {
                authority: key.authority.clone(),
                tenant: key.tenant.clone(),
                client_id: key.client_id.clone(),
                credential,
                scope: saved.scope,
            };
            let mut p = TokenProvider::client_credentials(creds, http.clone()).await?;
            p.source = source;
            Ok(p)
        }
        Kind::RefreshToken => {
            let scope = scope.map(str::to_string).unwrap_or(saved.scope);
            let renewal = Renewal::RefreshToken { token_url: key.token_url(), client_id: key.client_id.clone(), scope };
            let stale = Current {
                token: SecretString::from(String::new()),
                refresh_at: None,
                refresh_token: Some(saved.secret),
            };
            let current = renew(&renewal, http, &stale).await?;
            let p = TokenProvider::renewable(current, renewal, http.clone(), source);
            // Entra rotates refresh tokens: keep the newest one for the next run.
            keep(store, key, &p, diag).await;
            Ok(p)
        }
    }
}

/// The certificate a kept sign-in names, if its file still holds that one. A replaced
/// certificate (renewed, say) is not used silently: `login` again records the new one.
fn kept_certificate(kept: &CertificateRef) -> Result<Certificate> {
    let cert = Certificate::load(&kept.path).context("the certificate `oathbulk login` recorded cannot be used")?;
    if !cert.thumbprint().eq_ignore_ascii_case(&kept.thumbprint) {
        return Err(SignInRefused(format!(
            "{} now holds certificate {}, not {} that `oathbulk login` recorded; run `oathbulk login --certificate {}` again",
            kept.path.display(),
            cert.thumbprint(),
            kept.thumbprint,
            kept.path.display()
        ))
        .into());
    }
    Ok(cert)
}

/// Keep what `provider` needs to renew itself without a prompt (login, or a prompt after a
/// refused refresh token). Returns what was kept, `None` when nothing could be (a ready-made
/// client assertion renews nothing).
pub async fn keep(store: &Store, key: &Key, provider: &TokenProvider, diag: &Diag) -> Option<Kind> {
    let saved = match &provider.client {
        Some((Renewal::ClientCredentials(c), _)) => match &c.credential {
            ClientAuth::Secret(secret) => Saved {
                kind: Kind::ClientSecret,
                secret: secret.clone(),
                scope: c.scope.clone(),
                saved_at: now_secs(),
                certificate: None,
            },
            ClientAuth::Certificate(cert) => Saved {
                kind: Kind::Certificate,
                secret: SecretString::from(String::new()),
                scope: c.scope.clone(),
                saved_at: now_secs(),
                certificate: Some(CertificateRef {
                    path: std::path::absolute(cert.path()).unwrap_or_else(|_| cert.path().to_path_buf()),
                    thumbprint: cert.thumbprint(),
                }),
            },
            ClientAuth::Assertion(_) => return None,
        },
        Some((Renewal::RefreshToken { scope, .. }, _)) => {
            let refresh = provider.current.lock().await.refresh_token.clone()?;
            Saved {
                kind: Kind::RefreshToken,
                secret: refresh,
                scope: scope.clone(),
                saved_at: now_secs(),
                certificate: None,
            }
        }
        None => return None,
    };
    match store.save(key, &saved) {
        Ok(()) => Some(saved.kind),
        Err(e) => {
            if !is_unavailable(&e, diag) {
                diag.warn("credential_store", &format!("cannot keep the sign-in: {e:#}"));
            }
            None
        }
    }
}

/// A run's sign-in through the store: the kept sign-in for `key` when there is one; when
/// there is none, `prompt` only if `prompt_when_none` (else `Ok(None)`: try other sources).
/// A refused refresh token falls back to `prompt`, and the new sign-in is kept, so the next
/// run is silent again. A refused client secret stops the run (no prompt can fix it).
pub async fn sign_in<F, Fut>(
    key: &Key,
    scope: Option<&str>,
    http: &reqwest::Client,
    diag: &Diag,
    prompt_when_none: bool,
    prompt: F,
) -> Result<Option<TokenProvider>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<TokenProvider>>,
{
    let store = Store::open(diag);
    let Some(saved) = load_or_none(&store, key, diag)? else {
        return if prompt_when_none { prompt().await.map(Some) } else { Ok(None) };
    };
    let kind = saved.kind;
    match redeem(&store, key, saved, scope, http, diag).await {
        Ok(p) => return Ok(Some(p)),
        Err(e) if kind == Kind::RefreshToken && e.downcast_ref::<SignInRefused>().is_some() => {
            diag.warn("stored_sign_in_refused", &format!("the kept sign-in no longer works ({e:#}); signing in again"));
        }
        Err(e) => return Err(e),
    }
    let p = prompt().await?;
    keep(&store, key, &p, diag).await;
    Ok(Some(p))
}

/// The last login's key, when commands name no tenant or client id.
pub fn last_login(diag: &Diag) -> Result<Option<Key>> {
    match Store::open(diag).last_login() {
        Ok(k) => Ok(k),
        Err(e) if is_unavailable(&e, diag) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Refuse a store that keeps nothing: `login` must not claim a lasting sign-in it lacks.
pub fn require_kept(kept: Option<Kind>, store: &Store) -> Result<Kind> {
    match kept {
        Some(k) => Ok(k),
        None => {
            bail!("signed in, but {} could not keep the sign-in: later commands will sign in again", store.describe())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_trailing_slash() {
        let a = Key::new("https://login.example/", "Contoso.Example", "ABC");
        let b = Key::new("https://login.example", "contoso.example", "abc");
        assert_eq!(a.account(), b.account());
        assert_ne!(a.account(), Key::new("https://login.example", "fabrikam.example", "abc").account());
    }

    #[test]
    fn mock_keyring_round_trip_and_delete() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        round_trip_and_delete(&Store::os());
    }

    #[test]
    fn test_file_store_round_trip_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.json");
        round_trip_and_delete(&Store::with(Backend::TestFile(path.clone())));
        assert_eq!(std::fs::read_to_string(path).unwrap(), "{}", "logout leaves nothing behind");
    }

    #[test]
    fn long_values_are_kept_in_parts_and_removed_whole() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.json");
        for store in [Store::os(), Store::with(Backend::TestFile(path.clone()))] {
            let long: String = (0..5000).map(|i| if i % 7 == 0 { 'é' } else { 'x' }).collect();
            store.set("acct", &long).unwrap();
            assert_eq!(store.get("acct").unwrap().as_deref(), Some(long.as_str()));
            assert!(store.get_one("acct").unwrap().unwrap().starts_with(CHUNKED));
            assert!(store.get_one("acct#0").unwrap().unwrap().len() <= CHUNK_BYTES);
            // A shorter value replaces it, parts and all.
            store.set("acct", "short").unwrap();
            assert_eq!(store.get("acct").unwrap().as_deref(), Some("short"));
            assert!(store.get_one("acct#0").unwrap().is_none());
            store.set("acct", &long).unwrap();
            assert!(store.remove("acct").unwrap());
            assert!(store.get_one("acct#1").unwrap().is_none());
        }
        assert_eq!(std::fs::read_to_string(path).unwrap(), "{}");
    }

    fn round_trip_and_delete(store: &Store) {
        assert!(store.load(&Key::new("https://login.example", "t", "c")).unwrap().is_none());
        let key = Key::new("https://login.example", "t", "c");
        let saved = Saved {
            kind: Kind::RefreshToken,
            secret: SecretString::from("rt-1234567890".to_string()),
            scope: "s".into(),
            saved_at: 7,
            certificate: None,
        };
        store.save(&key, &saved).unwrap();
        let other = Key::new("https://login.example", "t", "other-client");
        assert!(store.load(&other).unwrap().is_none(), "entries are per client id");
        let back = store.load(&key).unwrap().unwrap();
        assert_eq!((back.kind, back.secret.expose_secret(), back.saved_at), (Kind::RefreshToken, "rt-1234567890", 7));
        assert_eq!(store.last_login().unwrap(), Some(key.clone()));
        assert!(store.delete(&key).unwrap());
        assert!(store.load(&key).unwrap().is_none());
        assert_eq!(store.last_login().unwrap(), None);
        assert!(!store.delete(&key).unwrap());
    }
}
