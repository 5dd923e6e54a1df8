//! `oathbulk doctor [CSV]`: everything that would make a run fail, checked before it starts.
//! One `check` record per finding (pass, warn or fail, with a fix). Exit 0 only when nothing
//! fails.

use super::connect::{self, BackendKind};
use crate::auth::{self, jwt};
use crate::backend::{ApiError, Backend, DeviceStatus};
use crate::cli::connect::{AuthArgs, TenantArgs};
use crate::diag::Diag;
use crate::inventory::Row;
use crate::inventory::MAX_TOKENS_PER_USER;
use crate::output::Output;
use crate::pipeline;
use crate::record::{CheckRecord, CheckStatus, Record, Summary};
use anyhow::Result;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// Directory role template ids that may manage users' hardware OATH methods.
const USER_METHOD_ROLES: [(&str, &str); 3] = [
    ("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator"),
    ("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator"),
    ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator"),
];
const ACTIVATE_PERMISSION: &str = "UserAuthenticationMethod.ReadWrite.All";
const INVENTORY_PERMISSIONS: [&str; 2] = ["Policy.ReadWrite.AuthenticationMethod", "Policy.Read.All"];
/// Offsets oathbulk corrects for, but that break typed codes and other tools (the warning
/// threshold is the one `activate` warns at).
use crate::activate::CLOCK_WARN_MS;
use crate::cli::doctor::DoctorArgs;
use crate::stop::ExitCode;
const CLOCK_FAIL_MS: i64 = 60_000;

fn check(name: &str, status: CheckStatus, message: impl Into<String>, fix: Option<&str>) -> CheckRecord {
    CheckRecord { check: name.into(), status, message: message.into(), fix: fix.map(str::to_string) }
}

pub fn run(args: DoctorArgs) -> Result<ExitCode> {
    let (progress, format) = (args.output.progress, args.output.stdout.format);
    super::guarded("doctor", args, progress, format, run_inner)
}

fn run_inner(args: DoctorArgs, diag: &Diag, started: Instant) -> Result<ExitCode> {
    let mut checks = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    if let Some(csv) = &args.input.csv {
        let read = args.input.read.options(true);
        let mut errors = 0u64;
        for r in pipeline::open(csv, read, &Default::default())? {
            match r {
                Ok(row) => rows.push(row),
                Err(_) => errors += 1,
            }
        }
        checks.push(csv_check(&rows, errors));
    }
    checks.push(proxy_check(&args.connect.tenant, &args.connect.auth, &crate::proxy::ProxyEnv::from_env()));
    let rt = connect::runtime()?;
    let seed = args.connect.tenant.simulate.then(|| rows.clone());
    let tenant_checks = rt.block_on(async {
        let conn = connect::connect(&args.connect, diag, seed, None).await?;
        let mut out = vec![credential_source_check(conn.tokens.source())];
        if !args.connect.tenant.simulate {
            out.extend(
                token_checks(&conn.tokens, args.connect.tenant.backend, rows.len() as f64 / args.max_rate.max(0.001))
                    .await,
            );
        }
        let tenant = tenant_checks(conn.backend.as_ref(), &rows).await;
        out.extend(tenant);
        out.push(clock_check(conn.clock.offset_ms()));
        if let Some(sim) = conn.simulator {
            sim.shutdown().await;
        }
        Ok::<_, anyhow::Error>(out)
    })?;
    checks.extend(tenant_checks);

    let mut out = Output::stdout(args.output.stdout.format, false);
    let mut summary = Summary { command: "doctor".into(), ..Default::default() };
    for c in checks {
        summary.rows += 1;
        let status = format!("{:?}", c.status).to_lowercase();
        *summary.counts.entry(status).or_default() += 1;
        if c.status == CheckStatus::Fail {
            summary.errors += 1;
        } else {
            summary.ok += 1;
        }
        out.emit(&Record::Check(c))?;
    }
    summary.exit_code = ExitCode::for_rows(summary.errors).code();
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    out.emit(&Record::Summary(summary.clone()))?;
    out.finish()?;
    Ok(super::ended(&summary))
}

fn csv_check(rows: &[Row], errors: u64) -> CheckRecord {
    // The same rules as `check` and `activate` (crate::inventory::rules).
    let mut tally = crate::inventory::rules::Tally::default();
    for r in rows {
        tally.add(&r.serial, &r.upn, r.line);
    }
    let dups = tally.duplicate_serials().count();
    let crowded = tally.crowded_users().count();
    if errors == 0 && dups == 0 && crowded == 0 {
        check("csv", CheckStatus::Pass, format!("{} rows, all usable", rows.len()), None)
    } else {
        check(
            "csv",
            CheckStatus::Fail,
            format!(
                "{errors} unusable rows, {dups} duplicated serials, {crowded} users over {MAX_TOKENS_PER_USER} tokens ({} rows usable)",
                rows.len()
            ),
            Some("run `oathbulk check CSV` for each problem with its line number"),
        )
    }
}

/// Which proxy the configured API (and the authority, for a sign-in) goes through: never
/// one for a loopback host or the simulator; never the proxy's credentials.
fn proxy_check(tenant: &TenantArgs, auth: &AuthArgs, env: &crate::proxy::ProxyEnv) -> CheckRecord {
    if tenant.simulate {
        let also = if env.any() { " (the proxy variables are ignored for it)" } else { "" };
        return check("proxy", CheckStatus::Pass, format!("the simulated tenant is reached directly{also}"), None);
    }
    let api = match tenant.backend {
        BackendKind::Graph => tenant.graph_url.clone(),
        BackendKind::Portal => tenant.portal_url.clone().unwrap_or_else(|| match tenant.portal_cloud {
            crate::cli::connect::PortalCloud::Public => crate::backend::portal::DEFAULT_URL.to_string(),
            crate::cli::connect::PortalCloud::Usgov => crate::backend::portal::USGOV_URL.to_string(),
        }),
    };
    let mut said = Vec::new();
    let signs_in = auth.client_id.is_some() || auth.device_code;
    for text in std::iter::once(api).chain(signs_in.then(|| auth.authority_url.clone())) {
        match url::Url::parse(&text) {
            Ok(u) => said.push(env.describe(&u)),
            Err(_) => said.push(format!("'{text}' is not a URL")),
        }
    }
    check("proxy", CheckStatus::Pass, said.join("; "), None)
}

/// Which credential source this run used, and how long it lasts without a new sign-in.
fn credential_source_check(source: &auth::TokenSource) -> CheckRecord {
    use auth::store::{now_secs, Kind, REFRESH_TOKEN_DAYS};
    use auth::TokenSource as S;
    let lasts = match source {
        S::Stored { saved_at, kind: Kind::RefreshToken } => {
            let days_left = REFRESH_TOKEN_DAYS - (now_secs() - saved_at) / 86_400;
            format!(
                "renews itself; the kept refresh token stays valid while used at least every {REFRESH_TOKEN_DAYS} days \
                 (about {days_left} days left if unused), or until an admin revokes it"
            )
        }
        S::Stored { kind: Kind::ClientSecret, .. } | S::ClientCredentials => {
            "renews itself until the client secret expires in the app registration".to_string()
        }
        S::Stored { kind: Kind::Certificate, .. } | S::Certificate(_) => {
            "renews itself (a new assertion signed with the certificate's key for each token) until the \
             certificate expires in the app registration"
                .to_string()
        }
        S::ClientAssertion => {
            "one token from a ready-made client assertion: not renewed, lasts until it expires (see token_expiry)"
                .to_string()
        }
        S::DeviceCode => "renews itself for this run only (`oathbulk login` makes it last)".to_string(),
        S::Simulator => "the simulated tenant's token, for this run".to_string(),
        S::Stdin | S::File(_) | S::Env | S::Prompt => {
            "a fixed bearer token: lasts until it expires (see token_expiry)".to_string()
        }
    };
    check("credential_source", CheckStatus::Pass, format!("credentials from {source}: {lasts}"), None)
}

/// Expiry, audience and permissions, from the token's own claims.
async fn token_checks(tokens: &auth::TokenProvider, backend: BackendKind, est_secs: f64) -> Vec<CheckRecord> {
    let Some(claims) = tokens.claims().await else {
        return vec![check(
            "token",
            CheckStatus::Warn,
            "the bearer token is not a JWT: its expiry and permissions cannot be checked in advance",
            None,
        )];
    };
    let mut out = Vec::new();
    match auth::seconds_left(&claims) {
        Some(left) if left <= 0 => out.push(check(
            "token_expiry",
            CheckStatus::Fail,
            format!("the token expired {} s ago", -left),
            Some("get a fresh token (or use --device-code / --client-id, which renew themselves)"),
        )),
        Some(left) if !tokens.can_refresh() && (left as f64) < est_secs + 60.0 => out.push(check(
            "token_expiry",
            CheckStatus::Warn,
            format!("the token expires in {left} s; the run may take about {est_secs:.0} s"),
            Some("start with a fresh token, or use --device-code / --client-id"),
        )),
        Some(left) => {
            out.push(check("token_expiry", CheckStatus::Pass, format!("the token is valid for {left} s"), None))
        }
        None => out.push(check("token_expiry", CheckStatus::Warn, "the token carries no expiry (exp)", None)),
    }
    if let Some(aud) = &claims.aud {
        out.push(if backend.accepts_audience(aud) {
            check("token_audience", CheckStatus::Pass, format!("audience {aud} fits the {backend:?} API"), None)
        } else {
            check(
                "token_audience",
                CheckStatus::Fail,
                format!("the token's audience is {aud}, not the {backend:?} API's"),
                Some(match backend {
                    BackendKind::Graph => "get a Microsoft Graph token (resource https://graph.microsoft.com)",
                    BackendKind::Portal => {
                        "copy the token of a request to main.iam.ad.ext.azure.com from the browser's developer tools"
                    }
                }),
            )
        });
    }
    if backend == BackendKind::Graph {
        out.push(permission_check(&claims));
    }
    out
}

/// Delegated tokens need the scope *and* a directory role (delegated access is the
/// intersection); app tokens need the application permission.
fn permission_check(claims: &jwt::Claims) -> CheckRecord {
    let scopes: Vec<&str> = claims.scp.as_deref().unwrap_or("").split_whitespace().collect();
    let delegated = claims.scp.is_some();
    let granted = |p: &str| {
        scopes.iter().any(|s| s.eq_ignore_ascii_case(p)) || claims.roles.iter().any(|r| r.eq_ignore_ascii_case(p))
    };
    let mut missing = Vec::new();
    if !granted(ACTIVATE_PERMISSION) {
        missing
            .push(format!("the {} {ACTIVATE_PERMISSION}", if delegated { "scope" } else { "application permission" }));
    }
    if !INVENTORY_PERMISSIONS.iter().any(|p| granted(p)) {
        missing.push(format!(
            "the {} {} (to read the token inventory)",
            if delegated { "scope" } else { "application permission" },
            INVENTORY_PERMISSIONS.join(" or ")
        ));
    }
    if delegated
        && !claims.wids.is_empty()
        && !claims.wids.iter().any(|w| USER_METHOD_ROLES.iter().any(|(id, _)| w.eq_ignore_ascii_case(id)))
    {
        missing.push(format!(
            "a directory role that manages authentication methods ({})",
            USER_METHOD_ROLES.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
        ));
    }
    if missing.is_empty() && delegated && claims.wids.is_empty() {
        // The role half could not be checked: not checked is not passed.
        check(
            "permissions",
            CheckStatus::Warn,
            "the token has the scopes, but names no directory roles (wids): whether a role allows the writes cannot be checked",
            Some(&format!(
                "make sure the signed-in user holds one of: {}",
                USER_METHOD_ROLES.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
            )),
        )
    } else if missing.is_empty() {
        check("permissions", CheckStatus::Pass, "the token carries the permissions activation needs", None)
    } else {
        check(
            "permissions",
            CheckStatus::Fail,
            format!("the token lacks {}", missing.join("; ")),
            Some("consent to the missing permission for the app you sign in with (or assign the role), then get a new token"),
        )
    }
}

fn api_failure(name: &str, e: &ApiError) -> CheckRecord {
    match e {
        ApiError::Auth { .. } => check(
            name,
            CheckStatus::Fail,
            crate::activate::auth_advice(e, "tenant"),
            Some("fix the credentials first; the other tenant checks could not run"),
        ),
        other => check(
            name,
            CheckStatus::Fail,
            format!("the API could not be read: {other}"),
            Some("check the network, proxy and --graph-url/--portal-url"),
        ),
    }
}

async fn tenant_checks<B: Backend>(backend: &B, rows: &[Row]) -> Vec<CheckRecord> {
    // Reachable and accepted: one inventory read.
    let wanted: Vec<(String, String)> = rows.iter().map(|r| (r.serial.clone(), r.upn.clone())).collect();
    let probe = if wanted.is_empty() {
        backend.find(&[("-".into(), String::new())]).await
    } else {
        backend.find(&wanted).await
    };
    let devices = match probe {
        Ok(d) => d,
        Err(e) => return vec![api_failure("api_reachable", &e)],
    };
    let reachable = check("api_reachable", CheckStatus::Pass, format!("the {} API answers", backend.name()), None);
    let mut out = vec![reachable, policy_check(backend).await];
    if rows.is_empty() {
        return out;
    }
    let by_serial: HashMap<String, &crate::backend::Device> =
        devices.iter().map(|d| (d.token.serial.to_lowercase(), d)).collect();
    let missing: Vec<&str> =
        rows.iter().filter(|r| !by_serial.contains_key(&r.serial.to_lowercase())).map(|r| r.serial.as_str()).collect();
    let holders = holders(backend, rows, &by_serial).await;
    out.push(tokens_check(rows.len(), &missing));
    out.push(holders_check(&holders));
    out
}

/// Is the hardware OATH authentication method policy enabled? Not read is not passed.
async fn policy_check<B: Backend>(backend: &B) -> CheckRecord {
    const WHERE: &str = "check it in the Entra admin center → Authentication methods → Hardware OATH tokens";
    match backend.policy_state().await {
        Ok(Some(state)) if state.eq_ignore_ascii_case("enabled") => {
            check("policy_enabled", CheckStatus::Pass, "the hardware OATH authentication method policy is enabled", None)
        }
        Ok(Some(state)) => check(
            "policy_enabled",
            CheckStatus::Fail,
            format!("the hardware OATH authentication method policy is {state}: activation will fail"),
            Some("enable it (Entra admin center → Authentication methods → Hardware OATH tokens), then allow up to an hour to propagate"),
        ),
        // Not read is not passed: say so, never a pass.
        Ok(None) => check(
            "policy_enabled",
            CheckStatus::Warn,
            format!("not visible through the {} API: not checked", backend.name()),
            Some(WHERE),
        ),
        Err(e) if e.code() == "unreadable_policy" => check(
            "policy_enabled",
            CheckStatus::Warn,
            format!("the policy could not be read: {}", e.message()),
            Some(WHERE),
        ),
        Err(e) => api_failure("policy_enabled", &e),
    }
}

/// The CSV's serials held by someone else, and those whose holder could not be read.
#[derive(Default)]
struct Holders<'a> {
    others: Vec<&'a str>,
    unread: Vec<&'a str>,
}

/// Held by someone else: ask who holds what for the users whose tokens are taken (once each).
async fn holders<'a, B: Backend>(
    backend: &B,
    rows: &'a [Row],
    by_serial: &HashMap<String, &crate::backend::Device>,
) -> Holders<'a> {
    let mut held: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut found = Holders::default();
    for r in rows {
        let Some(d) = by_serial.get(&r.serial.to_lowercase()) else { continue };
        if d.status == DeviceStatus::Available {
            continue;
        }
        let mine = match &d.owner_upn {
            Some(o) => o.eq_ignore_ascii_case(&r.upn),
            None => {
                let key = r.upn.to_lowercase();
                if !held.contains_key(&key) {
                    match backend.device_ids_of_user(&r.upn).await {
                        Ok(ids) => {
                            held.insert(key.clone(), ids.into_iter().map(|i| i.to_lowercase()).collect());
                        }
                        // Unread is neither mine nor another's: reported apart, never passed.
                        Err(_) => {
                            found.unread.push(r.serial.as_str());
                            continue;
                        }
                    }
                }
                held[&key].contains(&d.token.id.to_lowercase())
            }
        };
        if !mine {
            found.others.push(r.serial.as_str());
        }
    }
    found
}

/// A few serials, for a message.
fn sample(v: &[&str]) -> String {
    v.iter().take(5).copied().collect::<Vec<_>>().join(", ")
}

fn tokens_check(rows: usize, missing: &[&str]) -> CheckRecord {
    if missing.is_empty() {
        check("tenant_tokens", CheckStatus::Pass, format!("all {rows} tokens of the CSV are in the tenant"), None)
    } else {
        check(
            "tenant_tokens",
            CheckStatus::Fail,
            format!("{} tokens of the CSV are not in the tenant (e.g. {})", missing.len(), sample(missing)),
            Some("import them first: `oathbulk import CSV`"),
        )
    }
}

fn holders_check(h: &Holders) -> CheckRecord {
    if !h.others.is_empty() {
        check(
            "tenant_holders",
            CheckStatus::Fail,
            format!(
                "{} tokens are held by other users (e.g. {}); activation leaves them untouched",
                h.others.len(),
                sample(&h.others)
            ),
            Some("`oathbulk users CSV --with-tenant` shows who holds each; unassign them or fix the CSV"),
        )
    } else if !h.unread.is_empty() {
        check(
            "tenant_holders",
            CheckStatus::Warn,
            format!("the holders of {} tokens could not be read (e.g. {})", h.unread.len(), sample(&h.unread)),
            Some("run doctor again; `oathbulk users CSV --with-tenant` shows who holds each"),
        )
    } else {
        check("tenant_holders", CheckStatus::Pass, "no token of the CSV is held by another user", None)
    }
}

fn clock_check(offset_ms: Option<i64>) -> CheckRecord {
    match offset_ms {
        None => check(
            "clock_offset",
            CheckStatus::Warn,
            "the tenant sent no Date header: the clock offset is unknown",
            None,
        ),
        Some(off) if off.abs() > CLOCK_FAIL_MS => check(
            "clock_offset",
            CheckStatus::Fail,
            format!("this computer's clock is {:.0} s off the tenant's", off.abs() as f64 / 1000.0),
            Some("sync the clock (NTP); oathbulk corrects for it, but typed codes and other tools will fail"),
        ),
        Some(off) if off.abs() > CLOCK_WARN_MS => check(
            "clock_offset",
            CheckStatus::Warn,
            format!(
                "this computer's clock is {:.1} s off the tenant's (oathbulk corrects for it)",
                off.abs() as f64 / 1000.0
            ),
            Some("sync the clock (NTP)"),
        ),
        Some(off) => check("clock_offset", CheckStatus::Pass, format!("clock within {off} ms of the tenant's"), None),
    }
}
