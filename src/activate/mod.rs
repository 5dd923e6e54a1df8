//! Bulk activation: resume → plan (tenant state × rows) → execute (parallel, paced, retried)
//! → one final record per row. Knows nothing of which API it talks to.

pub mod executor;
pub mod journal;
pub mod plan;

use crate::backend::{ApiError, Backend};
use crate::clock::ServerClock;
use crate::engine::{Client, Engine, EngineConfig, Stats};
use crate::inventory::Row;
use crate::pipeline::RowResult;
use crate::record::{Action, ActivationStatus, Fatal, Summary, Warning};
use crate::sink::Sink;
use crate::stop::StopReason;
use anyhow::Result;
use executor::{activate_row, record, Shared};
use journal::Settled;
use plan::{plan_row, Plan, TenantIndex};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub use crate::clock::WARN_OFFSET_MS as CLOCK_WARN_MS;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub dry_run: bool,
    /// Parallelism, pace and retry policy.
    pub engine: EngineConfig,
    /// Never send a code with fewer seconds than this left in its step (`None`: automatic,
    /// from the measured round trip).
    pub min_validity_secs: Option<u32>,
    /// `--code`: a code read off the token (single-token mode).
    pub typed_code: Option<executor::TypedCode>,
}

/// The exit code and fatal condition of a run, after its summary was printed.
pub struct Outcome {
    pub summary: Summary,
}

/// The fatal condition for a tenant read that failed for good.
pub fn fatal_for(e: &ApiError, backend: &str) -> Fatal {
    match e {
        ApiError::Auth { .. } => Fatal { code: StopReason::AuthRejected, message: auth_advice(e, backend) },
        ApiError::Transport { .. } => {
            Fatal { code: StopReason::Network, message: format!("the tenant could not be reached: {e}") }
        }
        other => Fatal { code: StopReason::Service, message: format!("the tenant could not be read: {other}") },
    }
}

/// Say which of "wrong, expired, under-privileged" a 401/403 is, and what to do.
pub fn auth_advice(e: &ApiError, backend: &str) -> String {
    let (status, code, message) = match e {
        ApiError::Auth { status, code, message } => (*status, code.as_str(), message.as_str()),
        other => return other.to_string(),
    };
    let lower = message.to_lowercase();
    let why = if status == 403 || code.contains("Authorization_RequestDenied") || lower.contains("privilege") {
        "the token lacks a permission: it needs UserAuthenticationMethod.ReadWrite.All and Policy.ReadWrite.AuthenticationMethod (or the Authentication Administrator / Authentication Policy Administrator roles)"
    } else if lower.contains("expired") || lower.contains("lifetime") {
        if backend == "portal" {
            "the token has expired: sign in to the Entra portal, open the browser's developer tools (F12) → Network, copy the Authorization header of a request to main.iam.ad.ext.azure.com into AuthKey.txt, and re-run with --resume"
        } else {
            "the token has expired: get a fresh one (e.g. `az account get-access-token --resource-type ms-graph`, or use --tenant/--client-id, which refreshes itself) and re-run with --resume"
        }
    } else {
        "the token was not accepted (wrong token, wrong tenant or wrong audience for this backend)"
    };
    format!("HTTP {status} {code}: {why}. Server said: {message}")
}

/// Run the whole job. Prints every record (through `sink`) and returns the summary.
pub async fn run<B: Backend>(
    backend: Arc<B>,
    stats: Arc<Stats>,
    clock: Arc<ServerClock>,
    rows: Vec<RowResult>,
    settled_before: Settled,
    options: RunOptions,
    mut sink: Sink,
) -> Result<Outcome> {
    let diag = sink.diag().clone();
    let engine = Engine::start(options.engine, stats.clone());
    let shared = Arc::new(Shared {
        client: Client { backend: backend.clone(), engine: engine.clone(), clock: clock.clone() },
        min_validity_ms: options.min_validity_secs.map(|s| i64::from(s) * 1000),
        typed_code: options.typed_code.clone(),
        journal: sink.journal(),
        owners: Default::default(),
    });
    // Ctrl-C: stop sending, let requests in flight finish and settle, then summarise.
    let interrupt = engine.watch_interrupt();

    // 1. Rows: CSV errors out first; rows an earlier run settled are skipped; a serial seen
    //    twice is done once (one rule for what "the same serial" means: `inventory::serial_key`).
    let mut work: Vec<Row> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for r in rows {
        match r {
            Err(e) => sink.row_error(e)?,
            Ok(row) => {
                if let Some(prev) = settled_before.get(&row.serial) {
                    let mut a = record(&row, ActivationStatus::Skipped, prev.action, None);
                    a.device_id = prev.device_id.clone();
                    a.error_message =
                        Some(format!("settled by an earlier run ({}, {})", prev.status.as_str(), prev.time));
                    sink.settle(a, None)?;
                } else if let Some(first) = seen.get(&crate::inventory::serial_key(&row.serial)) {
                    let mut a = record(&row, ActivationStatus::Failed, Action::None, None);
                    a.error_code = Some("duplicate_serial".into());
                    a.error_message = Some(format!("serial {} already appears on line {first}; done once", row.serial));
                    sink.settle(a, None)?;
                } else {
                    seen.insert(crate::inventory::serial_key(&row.serial), row.line);
                    work.push(row);
                }
            }
        }
    }

    // 2. Resolve against the tenant: the inventory, read once (every page). Who holds a
    //    token is asked only where the answer changes what is sent — an active token held by
    //    an id the inventory cannot name. An assigned token is activated straight away: the
    //    tenant refuses to activate a token through a user who does not hold it, so the
    //    write is the proof, and only a refused write costs a read to explain it.
    let mut plans: Vec<(Row, Plan)> = Vec::with_capacity(work.len());
    let mut exit_fatal: Option<Fatal> = None;
    if !work.is_empty() {
        diag.start("resolve", None);
        let wanted: Vec<(String, String)> = work.iter().map(|r| (r.serial.clone(), r.upn.clone())).collect();
        match backend.find(&wanted).await {
            Err(e) => exit_fatal = Some(engine.fatal().unwrap_or_else(|| fatal_for(&e, backend.name()))),
            Ok(devices) => {
                let index = TenantIndex::new(devices);
                let owners = plan::owners_to_resolve(&work, &index, options.dry_run);
                let mut owned: HashMap<String, HashSet<String>> = HashMap::new();
                let mut lookups = tokio::task::JoinSet::new();
                for upn in owners {
                    let shared = shared.clone();
                    lookups.spawn(async move {
                        let ids = shared.owned_by(&upn).await;
                        (upn, ids)
                    });
                }
                while let Some(joined) = lookups.join_next().await {
                    let (upn, ids) = joined?;
                    match ids {
                        Ok(ids) => {
                            owned.insert(upn, ids);
                        }
                        Err(e) => {
                            exit_fatal.get_or_insert_with(|| fatal_for(&e, backend.name()));
                        }
                    }
                }
                if exit_fatal.is_none() {
                    let can_assign = backend.capabilities().assign;
                    plans = work
                        .drain(..)
                        .map(|row| {
                            let p = plan_row(&row, &index, &owned, can_assign);
                            (row, p)
                        })
                        .collect();
                }
            }
        }
    }
    if exit_fatal.is_none() {
        exit_fatal = engine.fatal();
    }
    warn_about_clock(&clock, &mut sink)?;

    // 3. Settle what needs no write; execute the rest.
    let mut writes = Vec::new();
    if exit_fatal.is_some() {
        for row in work.drain(..) {
            let mut a = record(&row, ActivationStatus::NotAttempted, Action::None, None);
            a.error_message = Some("the run stopped before this row was resolved".into());
            sink.settle(a, None)?;
        }
    }
    for (row, p) in plans {
        match p {
            Plan::Settled { status, device, code, message } => {
                let mut a = record(&row, status, Action::None, device.as_ref());
                a.error_code = code.map(str::to_string);
                a.error_message = message;
                if status == ActivationStatus::Conflict {
                    a.assigned_to = device.as_ref().and_then(plan::holder);
                }
                sink.settle(a, None)?;
            }
            Plan::Write { action, device } if options.dry_run => {
                sink.settle(record(&row, ActivationStatus::WouldActivate, action, Some(&device)), None)?;
            }
            Plan::Write { action, device } => writes.push((row, action, device)),
        }
    }

    if !writes.is_empty() {
        diag.start("activate", Some(writes.len() as u64));
        let shared_sink = Arc::new(tokio::sync::Mutex::new(sink));
        let mut tasks = tokio::task::JoinSet::new();
        for (row, action, device) in writes {
            let shared = shared.clone();
            let sink = shared_sink.clone();
            tasks.spawn(async move {
                let (a, detail) = activate_row(&shared, &row, action, device).await;
                sink.lock().await.settle(a, detail)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            joined??;
        }
        sink = Arc::try_unwrap(shared_sink).map_err(|_| anyhow::anyhow!("row tasks still running"))?.into_inner();
    }
    interrupt.abort();

    let summary = sink.finish(&shared.client, options.dry_run, exit_fatal)?;
    Ok(Outcome { summary })
}

fn warn_about_clock(clock: &ServerClock, sink: &mut Sink) -> Result<()> {
    let (code, message) = match clock.offset_ms() {
        None => return Ok(()),
        Some(off) if off.abs() > CLOCK_WARN_MS => (
            "clock_offset",
            format!(
                "this computer's clock is {:.1} s {} the tenant's; codes are computed from the tenant's clock, but fix the local clock (NTP)",
                off.abs() as f64 / 1000.0,
                if off > 0 { "behind" } else { "ahead of" }
            ),
        ),
        Some(_) => return Ok(()),
    };
    sink.warning(Warning { code: code.into(), message })
}
