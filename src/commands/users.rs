//! `oathbulk users`: one `user` record per UPN of the CSV — the primitive per-user scripts
//! build on. With `--with-tenant`, each token's tenant status and holder.

use super::connect::{self};
use crate::backend::{Backend, Device, DeviceStatus};
use crate::cli::users::UsersArgs;
use crate::diag::Diag;
use crate::inventory::MAX_TOKENS_PER_USER;
use crate::output::Output;
use crate::pipeline;
use crate::record::{Record, Summary, UserRecord, UserToken};
use crate::stop::ExitCode;
use anyhow::Result;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

/// Tenant view of the CSV's tokens: device by lower-cased serial, and the device ids each
/// (lower-cased) UPN holds.
struct TenantView {
    devices: HashMap<String, Device>,
    held: HashMap<String, HashSet<String>>,
}

async fn tenant_view<B: Backend>(b: &B, wanted: &[(String, String)]) -> Result<TenantView, crate::backend::ApiError> {
    let devices: HashMap<String, Device> =
        b.find(wanted).await?.into_iter().map(|d| (d.token.serial.to_lowercase(), d)).collect();
    let mut held = HashMap::new();
    let upns: HashSet<String> = wanted.iter().map(|(_, u)| u.to_lowercase()).collect();
    for upn in upns {
        let holds_any = wanted.iter().any(|(s, u)| {
            u.eq_ignore_ascii_case(&upn)
                && devices
                    .get(&s.to_lowercase())
                    .is_some_and(|d| d.status != DeviceStatus::Available && d.owner_upn.is_none())
        });
        if holds_any {
            held.insert(upn.clone(), b.device_ids_of_user(&upn).await?.into_iter().collect());
        }
    }
    Ok(TenantView { devices, held })
}

pub fn run(args: UsersArgs) -> Result<ExitCode> {
    let (progress, format) = (args.progress, args.rows.output.format);
    super::guarded("users", args, progress, format, run_inner)
}

fn run_inner(args: UsersArgs, diag: &Diag, started: Instant) -> Result<ExitCode> {
    let rows =
        pipeline::open(&args.rows.input.csv, args.rows.input.read.options(false), &args.rows.script.options(false))?;
    let filtered = rows.filtered();
    let mut out = Output::stdout(args.rows.output.format, false);
    let mut summary = Summary { command: "users".into(), ..Default::default() };
    // Grouped case-insensitively (Entra treats UPNs that way), in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut users: BTreeMap<String, UserRecord> = BTreeMap::new();
    for row in rows {
        match row {
            Err(e) => {
                summary.rows += 1;
                summary.errors += 1;
                *summary.counts.entry(e.code.clone()).or_default() += 1;
                out.emit(&Record::RowError(e))?;
            }
            Ok(row) => {
                summary.rows += 1;
                let key = row.upn.to_lowercase();
                let user = users.entry(key.clone()).or_insert_with(|| {
                    order.push(key.clone());
                    UserRecord { upn: row.upn.clone(), ..Default::default() }
                });
                user.count += 1;
                user.tokens.push(UserToken { serial: row.serial.clone(), line: row.line, ..Default::default() });
            }
        }
    }
    let mut requests = None;
    if args.with_tenant {
        let wanted: Vec<(String, String)> =
            users.values().flat_map(|u| u.tokens.iter().map(|t| (t.serial.clone(), u.upn.clone()))).collect();
        let rt = connect::runtime()?;
        let view = rt.block_on(async {
            let conn = connect::connect(&args.connect, diag, None, None).await?;
            diag.start("tenant", None);
            let view = tenant_view(conn.backend.as_ref(), &wanted).await;
            diag.finish();
            requests = Some(crate::http::Stats::get(&conn.stats.requests));
            Ok::<_, anyhow::Error>(view)
        })?;
        let view = match view {
            Ok(v) => v,
            Err(e) => {
                return Ok(super::api_failure_summary("users", &e, "tenant", diag, args.rows.output.format, started));
            }
        };
        for user in users.values_mut() {
            add_tenant_view(user, &view);
        }
    }
    for key in order {
        let mut user = users.remove(&key).expect("grouped above");
        if user.warning.is_none() && user.tokens.len() > MAX_TOKENS_PER_USER {
            user.warning = Some(format!(
                "{} has {} tokens in the CSV; Entra allows at most {MAX_TOKENS_PER_USER}",
                user.upn,
                user.tokens.len()
            ));
        }
        if user.warning.is_some() {
            *summary.counts.entry("too_many_tokens".into()).or_default() += 1;
        }
        summary.ok += 1;
        out.emit(&Record::User(user))?;
    }
    summary.requests = requests;
    super::finish_rows(&mut out, summary, filtered.get(), started)
}

/// Each token's status and holder as the tenant sees them, and a warning when the user would
/// hold more than Entra's five with the tenant's other tokens counted.
fn add_tenant_view(user: &mut UserRecord, view: &TenantView) {
    let key = user.upn.to_lowercase();
    for t in &mut user.tokens {
        match view.devices.get(&t.serial.to_lowercase()) {
            None => t.status = Some("not_found".into()),
            Some(d) => {
                t.status = Some(d.token.status.clone());
                let mine = match &d.owner_upn {
                    Some(owner) => owner.eq_ignore_ascii_case(&user.upn),
                    None => view.held.get(&key).is_some_and(|ids| ids.contains(&d.token.id)),
                };
                if d.status != DeviceStatus::Available && !mine {
                    t.assigned_to = d
                        .owner_upn
                        .clone()
                        .or(d.token.assigned_to.clone())
                        .or(d.token.assigned_to_id.clone())
                        .or(Some("another user".into()));
                }
            }
        }
    }
    // What the user will hold: tokens the tenant already gives them plus the CSV's new ones.
    let csv_ids: HashSet<&str> = user
        .tokens
        .iter()
        .filter_map(|t| view.devices.get(&t.serial.to_lowercase()).map(|d| d.token.id.as_str()))
        .collect();
    let held_elsewhere =
        view.held.get(&key).map_or(0, |ids| ids.iter().filter(|id| !csv_ids.contains(id.as_str())).count());
    let total = user.tokens.len() + held_elsewhere;
    if total > MAX_TOKENS_PER_USER {
        user.warning = Some(format!(
            "{} would hold {total} hardware tokens ({} in the CSV, {held_elsewhere} more in the tenant); Entra allows at most {MAX_TOKENS_PER_USER}",
            user.upn,
            user.tokens.len()
        ));
    }
}
