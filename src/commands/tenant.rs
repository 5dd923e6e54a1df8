//! `oathbulk tenant`: the tenant's hardware token inventory, for audits.

use super::connect::{self};
use crate::backend::{Backend, Device};
use crate::cli::tenant::TenantCmdArgs;
use crate::diag::Diag;
use crate::output::Output;
use crate::record::{Record, Summary};
use crate::stop::ExitCode;
use anyhow::Result;
use std::time::Instant;

/// The inventory, or the tokens of these serials, holders named by UPN where the tenant knows
/// them.
async fn fetch<B: Backend>(b: &B, serials: &[String]) -> Result<Vec<Device>, crate::backend::ApiError> {
    let mut devices = if serials.is_empty() {
        b.list_all().await?
    } else {
        let wanted: Vec<(String, String)> = serials.iter().map(|s| (s.clone(), String::new())).collect();
        only_serials(b.find(&wanted).await?, serials)
    };
    b.name_holders_by_id(&mut devices).await?;
    for d in &mut devices {
        d.token.assigned_upn = d.owner_upn.clone();
    }
    Ok(devices)
}

/// The devices of these serials (compared without case), each once: a backend may answer with
/// more — the whole inventory for many serials, or a tenant that ignores `$filter`.
fn only_serials(devices: Vec<Device>, serials: &[String]) -> Vec<Device> {
    let wanted: std::collections::HashSet<String> = serials.iter().map(|s| s.trim().to_lowercase()).collect();
    let mut seen = std::collections::HashSet::new();
    devices
        .into_iter()
        .filter(|d| wanted.contains(&d.token.serial.to_lowercase()) && seen.insert(d.token.id.clone()))
        .collect()
}

pub fn run(args: TenantCmdArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let diag = Diag::new(args.output.progress);
    let format = args.output.stdout.format;
    let result = (|| -> Result<ExitCode> {
        let seed = connect::rehearsal_seed(&args.tenant)?;
        let rt = connect::runtime()?;
        rt.block_on(async {
            let conn = connect::connect(&args.tenant.connect, &diag, seed, None).await?;
            diag.start("tenant", None);
            let devices = fetch(conn.backend.as_ref(), &args.serial).await;
            diag.finish();
            let mut devices = match devices {
                Ok(d) => d,
                Err(e) => {
                    let name = conn.backend.name();
                    return Ok(super::api_failure_summary("tenant", &e, name, &diag, format, started));
                }
            };
            devices.sort_by(|a, b| a.token.serial.cmp(&b.token.serial));
            let mut out = Output::stdout(args.output.stdout.format, true);
            let mut summary = Summary { command: "tenant".into(), ..Default::default() };
            for d in devices {
                if args.status.as_ref().is_some_and(|s| !s.eq_ignore_ascii_case(&d.token.status)) {
                    continue;
                }
                summary.rows += 1;
                summary.ok += 1;
                *summary.counts.entry(d.token.status.clone()).or_default() += 1;
                out.emit(&Record::TenantToken(d.token))?;
            }
            summary.requests = Some(crate::http::Stats::get(&conn.stats.requests));
            summary.clock_offset_ms = conn.clock.offset_ms();
            summary.backend = Some(conn.backend.name().into());
            summary.elapsed_ms = started.elapsed().as_millis() as u64;
            out.emit(&Record::Summary(summary))?;
            out.finish()?;
            if let Some(sim) = conn.simulator {
                sim.shutdown().await;
            }
            Ok(ExitCode::Ok)
        })
    })();
    match result {
        Ok(code) => Ok(code),
        Err(e) => Ok(super::fatal_summary("tenant", e, &diag, format, started)),
    }
}
