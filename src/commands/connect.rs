//! The tenant and credential options (`crate::cli::connect`) turned into a connected backend
//! (or an in-process simulator), with the run's engine composed into its client.

use crate::auth::certificate::Certificate;
use crate::auth::{self, ClientAuth, ClientCredentials, TokenProvider, TokenSource};
use crate::backend::graph::GraphBackend;
use crate::backend::portal::{self, PortalBackend};
use crate::cli::connect::{AuthArgs, ConnectArgs, PortalCloud, ReadTenantArgs};
use crate::clock::ServerClock;
use crate::diag::Diag;
use crate::engine::Engine;
use crate::http::{build_http, validate_base_url, ApiClient, HeaderStyle, Stats};
use crate::inventory::Row;
use anyhow::{bail, Context, Result};
use secrecy::{ExposeSecret, SecretString};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

pub use crate::backend::BackendKind;

pub use crate::backend::any::AnyBackend;

pub struct Connection {
    pub backend: Arc<AnyBackend>,
    pub stats: Arc<Stats>,
    pub clock: Arc<ServerClock>,
    pub tokens: TokenProvider,
    /// Kept alive for the run (`--simulate`).
    pub simulator: Option<crate::simulate::Simulator>,
    /// `scheme://host:port` of the API the backend talks to (a journal records it).
    pub origin: String,
}

/// `scheme://host:port` of a base URL (the port always written, default or not).
pub fn origin_of(url: &url::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default().to_lowercase(),
        url.port_or_known_default().unwrap_or_default()
    )
}

impl Connection {
    /// The journal header of a `command` run on this connection: backend, origin, tenant (the
    /// token's `tid` when it names one, else `--tenant`) and whether it is a rehearsal.
    pub async fn journal_header(&self, command: &str, args: &ConnectArgs) -> crate::record::JournalHeader {
        let tid = self.tokens.claims().await.and_then(|c| c.tid).filter(|t| !t.trim().is_empty());
        crate::record::JournalHeader::new(command, args.tenant.backend, tid.or_else(|| args.auth.tenant.clone()))
            .at(&self.origin, self.simulator.is_some())
    }
}

/// Find the bearer token (or client credentials) the user provided.
pub async fn credentials(
    auth: &AuthArgs,
    backend: BackendKind,
    http: &reqwest::Client,
    diag: &Diag,
) -> Result<TokenProvider> {
    let mut warn = |m: String| diag.warn("token_file_permissions", &m);
    if auth.device_code {
        // A sign-in kept by `oathbulk login` first; a prompt when there is none or it is refused.
        let signed = kept_sign_in(&store_key(auth)?, backend, http, diag, true).await?;
        return signed.context("device-code sign-in gave no token");
    }
    if auth.token_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("cannot read the token from standard input")?;
        return TokenProvider::fixed(auth::clean_token(&line), TokenSource::Stdin);
    }
    if let Some(path) = &auth.token_file {
        let token = auth::read_token_file(path, &mut warn)?;
        return TokenProvider::fixed(token, TokenSource::File(path.clone()));
    }
    if auth.certificate.is_some() || auth.client_assertion_stdin {
        let credential = match &auth.certificate {
            Some(path) => ClientAuth::Certificate(Arc::new(Certificate::load(path)?)),
            None => read_assertion()?,
        };
        return TokenProvider::client_credentials(client_credentials(auth, credential)?, http.clone()).await;
    }
    if auth.client_id.is_some() {
        if auth.tenant.is_none() {
            bail!("--client-id needs --tenant for app-only sign-in (or --device-code for interactive sign-in)");
        }
        let secret = match &auth.client_secret_file {
            Some(p) => std::fs::read_to_string(p)
                .with_context(|| format!("cannot read client secret file {}", p.display()))?
                .trim()
                .to_string(),
            None => match std::env::var(auth::CLIENT_SECRET_ENV) {
                Ok(secret) => secret,
                // No secret given: the sign-in `oathbulk login` kept for this app, if any.
                Err(_) => {
                    // A kept delegated sign-in for this app that is refused prompts again.
                    if let Some(p) = kept_sign_in(&store_key(auth)?, backend, http, diag, false).await? {
                        return Ok(p);
                    }
                    bail!(
                        "--client-id needs the client secret in ${} or --client-secret-file, a certificate (--certificate), or a sign-in kept by `oathbulk login`",
                        auth::CLIENT_SECRET_ENV
                    )
                }
            },
        };
        let creds = client_credentials(auth, ClientAuth::Secret(SecretString::from(secret)))?;
        return TokenProvider::client_credentials(creds, http.clone()).await;
    }
    if let Ok(token) = std::env::var(auth::TOKEN_ENV) {
        return TokenProvider::fixed(auth::clean_token(&token), TokenSource::Env);
    }
    let default = Path::new(auth::DEFAULT_TOKEN_FILE);
    if default.exists() {
        let token = auth::read_default_token_file(default, &mut warn)?;
        return TokenProvider::fixed(token, TokenSource::File(default.to_path_buf()));
    }
    // The sign-in kept by `oathbulk login` (for --tenant/--client-id, else the last one).
    let key = if auth.tenant.is_some() || auth.client_id.is_some() {
        Some(store_key(auth)?)
    } else {
        auth::store::last_login(diag)?
    };
    if let Some(key) = key {
        if let Some(p) = kept_sign_in(&key, backend, http, diag, false).await? {
            return Ok(p);
        }
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let token = rpassword::prompt_password("Paste the bearer token (input hidden): ")?;
        return TokenProvider::fixed(auth::clean_token(&token), TokenSource::Prompt);
    }
    bail!(
        "no credentials: put the bearer token in ./AuthKey.txt or a file named by --token-file, set ${}, \
         pipe it with --token-stdin, or use --tenant/--client-id (or --simulate for a rehearsal)",
        auth::TOKEN_ENV
    )
}

/// App-only credentials for --tenant, --client-id and --authority-url, proven by `credential`.
/// The sign-in `oathbulk login` kept under `key`, renewed; a device-code prompt when it is
/// refused (or, with `prompt_when_none`, when nothing is kept).
async fn kept_sign_in(
    key: &auth::store::Key,
    backend: BackendKind,
    http: &reqwest::Client,
    diag: &Diag,
    prompt_when_none: bool,
) -> Result<Option<TokenProvider>> {
    let prompt = || device_code_sign_in(key, backend, http, diag);
    auth::store::sign_in(key, Some(device_code_scope(backend)), http, diag, prompt_when_none, prompt).await
}

/// `--client-assertion-stdin`: a signed JWT on the first line of standard input, registered
/// with the redactor as soon as it is held.
fn read_assertion() -> Result<ClientAuth> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the client assertion from standard input")?;
    let assertion = SecretString::from(line.trim().to_string());
    crate::redact::add_secret(&assertion);
    if assertion.expose_secret().split('.').count() != 3 {
        bail!(
            "--client-assertion-stdin: the first line of standard input is not a signed JWT (header.payload.signature)"
        );
    }
    Ok(ClientAuth::Assertion(assertion))
}

fn client_credentials(auth: &AuthArgs, credential: ClientAuth) -> Result<ClientCredentials> {
    let authority = validate_base_url(&auth.authority_url, "--authority-url")?;
    Ok(ClientCredentials {
        authority: authority.as_str().trim_end_matches('/').to_string(),
        tenant: auth.tenant.clone().unwrap_or_default(),
        client_id: auth.client_id.clone().unwrap_or_default(),
        credential,
        scope: "https://graph.microsoft.com/.default".into(),
    })
}

/// The OAuth scope a delegated sign-in asks for, per API.
fn device_code_scope(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Graph => auth::devicecode::GRAPH_SCOPES,
        BackendKind::Portal => auth::devicecode::PORTAL_SCOPES,
    }
}

/// Which kept sign-in the options name (`oathbulk login` files it under the same key).
pub fn store_key(auth: &AuthArgs) -> Result<auth::store::Key> {
    let authority = validate_base_url(&auth.authority_url, "--authority-url")?;
    Ok(auth::store::Key::new(
        authority.as_str(),
        auth.tenant.as_deref().unwrap_or("organizations"),
        auth.client_id.as_deref().unwrap_or(auth::devicecode::DEFAULT_CLIENT_ID),
    ))
}

/// A new device-code sign-in (the prompt on stderr) for the authority, tenant and client
/// `key` names (a kept sign-in that was refused is renewed where it came from), nothing kept.
pub async fn device_code_sign_in(
    key: &auth::store::Key,
    backend: BackendKind,
    http: &reqwest::Client,
    diag: &Diag,
) -> Result<TokenProvider> {
    let request = auth::devicecode::DeviceCodeRequest {
        authority: &key.authority,
        tenant: &key.tenant,
        client_id: &key.client_id,
        scope: device_code_scope(backend),
    };
    auth::devicecode::sign_in(request, http, diag).await
}

/// Connect to the tenant (or start the simulator) and build the chosen backend. With `run`,
/// the client is built around the run's engine: reads retried, polls Ctrl-C-aware, counted in
/// its stats. Without, each request is one attempt (`tenant`, `doctor`, `users`).
pub async fn connect(
    args: &ConnectArgs,
    diag: &Diag,
    seed: Option<Vec<Row>>,
    run: Option<&Arc<Engine>>,
) -> Result<Connection> {
    let (tenant, auth_args) = (&args.tenant, &args.auth);
    let deadline = std::time::Duration::from_secs(tenant.http_timeout);
    // The simulator is in this process, on loopback: never a proxy, whatever the environment.
    let http = if tenant.simulate {
        crate::http::build_http_with(deadline, crate::proxy::ProxyEnv::direct())?
    } else {
        build_http(deadline)?
    };
    let stats = run.map(|engine| engine.stats().clone()).unwrap_or_default();
    let clock = Arc::new(ServerClock::new());
    let (graph_url, portal_url, tokens, simulator) = if tenant.simulate {
        let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let config =
            crate::simulate::SimConfig { expected_token: Some(token.clone()), quiet: true, ..Default::default() };
        let sim = crate::simulate::Simulator::start(config, seed.unwrap_or_default(), "127.0.0.1:0".parse()?)
            .await
            .context("cannot start the in-process simulator")?;
        diag.info(&format!("rehearsal against a simulated tenant at {}", sim.graph_url()));
        (sim.graph_url(), sim.portal_url(), TokenProvider::fixed(token, TokenSource::Simulator)?, Some(sim))
    } else {
        let portal = tenant.portal_url.clone().unwrap_or_else(|| {
            match tenant.portal_cloud {
                PortalCloud::Public => portal::DEFAULT_URL,
                PortalCloud::Usgov => portal::USGOV_URL,
            }
            .to_string()
        });
        (tenant.graph_url.clone(), portal, credentials(auth_args, tenant.backend, &http, diag).await?, None)
    };
    let (url, flag, style) = match tenant.backend {
        BackendKind::Graph => (&graph_url, "--graph-url", HeaderStyle::Graph),
        BackendKind::Portal => (&portal_url, "--portal-url", HeaderStyle::Portal),
    };
    let base = validate_base_url(url, flag)?;
    let origin = origin_of(&base);
    let api = ApiClient::new(http, tokens.clone(), clock.clone(), stats.clone(), style)
        .pinned_to(&base)
        .with_deadline(deadline);
    let api = compose(api, run);
    let backend = match tenant.backend {
        BackendKind::Graph => AnyBackend::Graph(GraphBackend::new(api, &base)),
        BackendKind::Portal => AnyBackend::Portal(match run {
            Some(engine) => PortalBackend::new(api, &base).with_wait(engine_wait(engine.clone())),
            None => PortalBackend::new(api, &base),
        }),
    };
    Ok(Connection { backend: Arc::new(backend), stats, clock, tokens, simulator, origin })
}

/// The tenant a `--simulate` rehearsal of a reading command starts with: the rows of its
/// `--seed` file, any file a command reads (`vendor::seed_rows`; rows that cannot be read are
/// left out).
pub fn rehearsal_seed(args: &ReadTenantArgs) -> Result<Option<Vec<Row>>> {
    match &args.seed {
        Some(path) if args.connect.tenant.simulate => {
            Ok(Some(crate::vendor::seed_rows(path, args.read.options(false), |_| {})?))
        }
        _ => Ok(None),
    }
}

/// The client a run's backend uses: reads retried by the run's engine, if there is one.
fn compose(api: ApiClient, run: Option<&Arc<Engine>>) -> ApiClient {
    match run {
        Some(engine) => api.retrying_reads(engine.clone()),
        None => api,
    }
}

/// The portal's upload polls wait through the run's engine: Ctrl-C ends the wait at once.
fn engine_wait(engine: Arc<Engine>) -> crate::backend::portal::Wait {
    Arc::new(move |d| {
        let engine = engine.clone();
        Box::pin(async move { engine.sleep(d).await })
    })
}

/// A multi-threaded runtime for network commands only (list/otp/check never build one,
/// which keeps `--version` and the offline commands instant).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}
