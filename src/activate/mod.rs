//! Bulk activation: resume → plan (tenant state × rows) → execute (parallel, paced, retried)
//! → one final record per row. Knows nothing of which API it talks to.

#[cfg(test)]
mod double;
pub mod executor;
pub mod journal;
pub mod plan;
pub mod window;

use crate::backend::{ApiError, Backend};
use crate::clock::ServerClock;
use crate::context::Ctx;
use crate::engine::Engine;
use crate::inventory::Row;
use crate::pipeline::RowResult;
use crate::record::{Action, ActivationStatus, Fatal, Summary, Warning};
use crate::sink::Sink;
use crate::stop::StopReason;
use anyhow::Result;
use executor::{activate_row, record, Activating, ActivationState};
use journal::Settled;
use plan::{plan_row, Plan, TenantIndex};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub use crate::clock::WARN_OFFSET_MS as CLOCK_WARN_MS;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub dry_run: bool,
    /// Activation's mechanisms: all on, but when measuring one's worth.
    pub features: Features,
    /// Never send a code with fewer seconds than this left in its step (`None`: automatic,
    /// from the measured round trip).
    pub min_validity_secs: Option<u32>,
    /// `--code`: a code read off the token (single-token mode).
    pub typed_code: Option<executor::TypedCode>,
}

/// Mechanisms of activation that a measured table must justify (`--without`, hidden).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Codes of the next step sent in a step's last margin, where the tenant takes them
    /// (`window.rs`); off: every row waits out the margin.
    pub next_step_codes: bool,
}

impl Default for Features {
    fn default() -> Self {
        Self { next_step_codes: true }
    }
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

/// Run the whole job. Prints every record (through `sink`) and returns the summary. The
/// run's phases, each its own function: rows → resolve against the tenant → settle what
/// needs no write → write the rest (and explain what the tenant refused) → summary.
pub async fn run<B: Backend>(
    backend: Arc<B>,
    engine: Arc<Engine>,
    clock: Arc<ServerClock>,
    rows: Vec<RowResult>,
    settled_before: Settled,
    options: RunOptions,
    mut sink: Sink,
) -> Result<Outcome> {
    let shared = Arc::new(Ctx::new(backend, engine.clone(), clock.clone()).with_state(ActivationState {
        min_validity_ms: options.min_validity_secs.map(|s| i64::from(s) * 1000),
        typed_code: options.typed_code.clone(),
        journal: sink.journal(),
        ..Default::default()
    }));
    // Ctrl-C: stop sending, let requests in flight finish and settle, then summarise.
    let interrupt = engine.watch_interrupt();
    let mut work = distinct_rows(rows, &mut sink)?;
    let mut exit_fatal = None;
    let mut plans = Vec::new();
    if !work.is_empty() {
        sink.diag().start("resolve", None);
        match resolve(&shared, &work, options.dry_run).await {
            Ok(resolved) => (plans, work) = (resolved, Vec::new()),
            Err(fatal) => exit_fatal = Some(fatal),
        }
    }
    exit_fatal = exit_fatal.or_else(|| engine.fatal());
    warn_about_clock(&clock, &mut sink)?;
    not_resolved(work, &mut sink)?;
    let writes = settle_plans(plans, &settled_before, options.dry_run, &mut sink)?;
    if !writes.is_empty() {
        sink.diag().start("activate", Some(writes.len() as u64));
        let (back, explain_fatal) = write_all(&shared, sink, writes, options.features).await?;
        sink = back;
        exit_fatal = exit_fatal.or(explain_fatal);
    }
    interrupt.abort();
    let summary = sink.finish(&*shared, options.dry_run, exit_fatal)?;
    Ok(Outcome { summary })
}

/// CSV errors out first; a serial seen twice is done once (one rule for what "the same
/// serial" means: `inventory::serial_key`).
fn distinct_rows(rows: Vec<RowResult>, sink: &mut Sink) -> Result<Vec<Row>> {
    let mut work: Vec<Row> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for r in rows {
        let row = match r {
            Err(e) => {
                sink.row_error(e)?;
                continue;
            }
            Ok(row) => row,
        };
        let key = crate::inventory::serial_key(&row.serial);
        if let Some(first) = seen.get(&key) {
            let mut a = record(&row, ActivationStatus::Failed, Action::None, None);
            a.error_code = Some("duplicate_serial".into());
            a.error_message = Some(format!("serial {} already appears on line {first}; done once", row.serial));
            sink.settle(a, None)?;
        } else {
            seen.insert(key, row.line);
            work.push(row);
        }
    }
    Ok(work)
}

/// Resolve the rows against the tenant: the inventory, read once (every page). Who holds a
/// token is asked only where the answer changes what is sent — an active token held by an
/// id the inventory cannot name. An assigned token is activated straight away: the tenant
/// refuses to activate a token through a user who does not hold it, so the write is the
/// proof, and only a refused write costs a read to explain it.
async fn resolve<B: Backend>(
    shared: &Arc<Activating<B>>,
    work: &[Row],
    dry_run: bool,
) -> Result<Vec<(Row, Plan)>, Fatal> {
    let backend = &shared.backend;
    let wanted: Vec<(String, String)> = work.iter().map(|r| (r.serial.clone(), r.upn.clone())).collect();
    let devices = backend
        .find(&wanted)
        .await
        .map_err(|e| shared.engine.fatal().unwrap_or_else(|| fatal_for(&e, backend.name())))?;
    let index = TenantIndex::new(devices);
    let mut lookups = tokio::task::JoinSet::new();
    for upn in plan::owners_to_resolve(work, &index, dry_run) {
        let shared = shared.clone();
        lookups.spawn(async move {
            let ids = shared.owned_by(&upn).await;
            (upn, ids)
        });
    }
    let mut owned: HashMap<String, HashSet<String>> = HashMap::new();
    let mut failed = None;
    while let Some(joined) = lookups.join_next().await {
        let (upn, ids) = joined.map_err(|e| Fatal { code: StopReason::Internal, message: panic_message(e) })?;
        match ids {
            Ok(ids) => {
                owned.insert(upn, ids);
            }
            Err(e) => {
                failed.get_or_insert_with(|| fatal_for(&e, backend.name()));
            }
        }
    }
    if let Some(fatal) = failed {
        return Err(fatal);
    }
    let can_assign = backend.capabilities().assign;
    Ok(work.iter().map(|row| (row.clone(), plan_row(row, &index, &owned, can_assign))).collect())
}

/// The run stopped before these rows were resolved: each is recorded as not attempted.
fn not_resolved(work: Vec<Row>, sink: &mut Sink) -> Result<()> {
    for row in work {
        let mut a = record(&row, ActivationStatus::NotAttempted, Action::None, None);
        a.error_message = Some("the run stopped before this row was resolved".into());
        sink.settle(a, None)?;
    }
    Ok(())
}

/// Settle what needs no write (already active, a conflict, a dry run); return the writes.
/// A row an earlier run settled is skipped only where the tenant agrees (the token active):
/// a journal is a record of the past, the inventory says what is true now.
fn settle_plans(plans: Vec<(Row, Plan)>, before: &Settled, dry_run: bool, sink: &mut Sink) -> Result<Vec<Write>> {
    let mut writes = Vec::new();
    for (row, p) in plans {
        let prev = before.get(&row.serial, &row.upn);
        match p {
            Plan::Settled { status: ActivationStatus::AlreadyActive, device, .. } if prev.is_some() => {
                let prev = prev.expect("checked");
                let mut a = record(&row, ActivationStatus::Skipped, prev.action, device.as_ref());
                a.device_id = a.device_id.or_else(|| prev.device_id.clone());
                a.error_message = Some(format!(
                    "settled by an earlier run ({}, {}); the tenant shows it active",
                    prev.status.as_str(),
                    prev.time
                ));
                sink.settle(a, None)?;
            }
            Plan::Settled { status, device, code, message } => {
                let mut a = record(&row, status, Action::None, device.as_ref());
                a.error_code = code.map(str::to_string);
                a.error_message = message;
                if status == ActivationStatus::Conflict {
                    a.assigned_to = device.as_ref().and_then(plan::holder);
                }
                sink.settle(a, None)?;
            }
            Plan::Write { action, device } if dry_run => {
                sink.settle(record(&row, ActivationStatus::WouldActivate, action, Some(&device)), None)?;
            }
            Plan::Write { action, device } => writes.push((row, action, device)),
        }
    }
    Ok(writes)
}

/// Send the writes and settle every row; codes refused mid-step are explained together, a
/// batch at a time, while the last rows are in flight (see `explain_in_batches`). Returns
/// the sink and what stopped an explaining read, if anything did.
async fn write_all<B: Backend>(
    shared: &Arc<Activating<B>>,
    sink: Sink,
    writes: Vec<Write>,
    features: Features,
) -> Result<(Sink, Option<Fatal>)> {
    if !features.next_step_codes {
        shared.state.window.strict();
    }
    let shared_sink = Arc::new(tokio::sync::Mutex::new(sink));
    let (refusals, refused) = tokio::sync::mpsc::unbounded_channel();
    let (tail, tail_reached) = tokio::sync::watch::channel(false);
    let explainer = tokio::spawn(explain_in_batches(shared.clone(), shared_sink.clone(), refused, tail_reached));
    let executed = execute(shared, &shared_sink, writes, &refusals, &tail).await;
    drop(refusals);
    let explain_fatal = explainer.await.map_err(|e| anyhow::anyhow!(panic_message(e)))??;
    executed?;
    let sink = Arc::try_unwrap(shared_sink).map_err(|_| anyhow::anyhow!("row tasks still running"))?.into_inner();
    Ok((sink, explain_fatal))
}

type SharedSink = Arc<tokio::sync::Mutex<Sink>>;
type Write = (Row, Action, crate::backend::Device);
/// A refused row to explain with the others: its write and how its attempts ended.
type Refused = (Write, executor::RowEnd);

/// Send these writes (in parallel, through the engine) and settle each row's result, except
/// the codes refused mid-step, which go to `refusals` as they come, to be explained together.
/// `tail` is raised once only the last rows are left, as many as may be in flight
/// (`--parallel`).
async fn execute<B: Backend>(
    shared: &Arc<Activating<B>>,
    sink: &SharedSink,
    writes: Vec<Write>,
    refusals: &tokio::sync::mpsc::UnboundedSender<Refused>,
    tail: &tokio::sync::watch::Sender<bool>,
) -> Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    // What each task was doing, to record its row if the task dies of a bug.
    let mut rows_of: HashMap<tokio::task::Id, Write> = HashMap::new();
    for (row, action, device) in writes {
        let shared = shared.clone();
        let sink = sink.clone();
        let (task_row, task_device) = (row.clone(), device.clone());
        let handle = tasks.spawn(async move {
            let end = activate_row(&shared, &task_row, action, task_device).await;
            if end.explain.is_some() {
                return Ok(Some(end));
            }
            sink.lock().await.settle(end.record, end.detail).map(|()| None)
        });
        rows_of.insert(handle.id(), (row, action, device));
    }
    let mut failed: Option<anyhow::Error> = None;
    let in_flight = shared.engine.parallel();
    while let Some(joined) = tasks.join_next_with_id().await {
        if tasks.len() <= in_flight {
            tail.send_replace(true);
        }
        match joined {
            Ok((_, Ok(None))) => {}
            Ok((id, Ok(Some(end)))) => {
                if let Some(write) = rows_of.remove(&id) {
                    // The explainer only ends after this sender is dropped: a send never fails.
                    let _ = refusals.send((write, end));
                }
            }
            // The sink could not record a result (the journal, stdout): stop sending, and
            // let the rows in flight settle before the error ends the command.
            Ok((_, Err(e))) => {
                shared.engine.abort(StopReason::Journal, format!("{e:#}"));
                failed.get_or_insert(e);
            }
            // A bug in the tool (a panic) ended one row's task. The run stops as it does for
            // Ctrl-C — nothing new is sent, the rows in flight settle — and that row is
            // recorded as unconfirmed: its write may have gone out, and its intent line is in
            // the journal, so `--resume` asks the tenant. Exit 70 (internal).
            Err(e) => {
                let id = e.id();
                let why = panic_message(e);
                shared.engine.abort(
                    StopReason::Internal,
                    format!("internal error (a bug, please report it): a row's task panicked: {why}"),
                );
                if let Some((row, action, device)) = rows_of.get(&id) {
                    let mut a = record(row, ActivationStatus::Failed, *action, Some(device));
                    a.error_code = Some("internal_error".into());
                    a.error_message = Some(
                        "oathbulk hit a bug while handling this row; its write may have been sent: run again with --resume and the tenant's state decides".into(),
                    );
                    sink.lock().await.settle(a, None)?;
                }
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Explain the run's refusals in as few reads as the run allows, and as early: the refusals
/// so far once the run's tail is reached (the last rows in flight), so the read overlaps the
/// tail instead of following it, and after that each refusal as it comes (those that come
/// during a read, together after it). A refusal in the tail costs a read of its own; waiting
/// for the end cost the whole run the read's round trip (about 1% of a 6-second run, in the
/// benchmark). Returns what stopped an explaining read, if anything did.
async fn explain_in_batches<B: Backend>(
    shared: Arc<Activating<B>>,
    sink: SharedSink,
    mut refused: tokio::sync::mpsc::UnboundedReceiver<Refused>,
    mut tail: tokio::sync::watch::Receiver<bool>,
) -> Result<Option<Fatal>> {
    let mut batch = Vec::new();
    let mut fatal = None;
    // The tail can still be reached (its sender is alive).
    let mut tail_ahead = true;
    loop {
        tokio::select! {
            // Whatever has come is taken first: one read for all of it.
            biased;
            next = refused.recv() => match next {
                Some(r) => batch.push(r),
                None => break,
            },
            reached = async { tail.wait_for(|reached| *reached).await.is_ok() }, if tail_ahead && !batch.is_empty() => {
                if reached {
                    explain(&shared, &sink, std::mem::take(&mut batch), &mut fatal).await?;
                } else {
                    tail_ahead = false;
                }
            }
        }
    }
    if !batch.is_empty() {
        explain(&shared, &sink, batch, &mut fatal).await?;
    }
    Ok(fatal)
}

/// Explain a batch of the run's codes refused mid-step together (see
/// [`explain_in_batches`]) — one read for many refusals instead of one each: the tokens
/// re-read together (the inventory, or one query per serial for a few); one found active is
/// `already_active` (someone activated it meanwhile), one gone is reported as gone, the
/// rest keep their wrong-key failure. (A 404 through the user's own method is explained by
/// the backend as it comes: measured, deferring it to a batch bought no wall time and 1.8%
/// of requests on the one reading where it applies, docs/pacing.md.)
///
/// If the run has stopped, or the explaining read fails, the rows keep what their refusal
/// said (nothing was applied; a re-run tries them again).
async fn explain<B: Backend>(
    shared: &Arc<Activating<B>>,
    sink: &SharedSink,
    codes: Vec<Refused>,
    exit_fatal: &mut Option<Fatal>,
) -> Result<()> {
    let read_failed = |e: &ApiError, exit_fatal: &mut Option<Fatal>| {
        if let ApiError::Auth { .. } = e {
            shared.engine.abort(StopReason::AuthRejected, auth_advice(e, shared.backend.name()));
        }
        if !shared.engine.stopped() {
            exit_fatal.get_or_insert_with(|| fatal_for(e, shared.backend.name()));
        }
    };

    // `find` picks per-serial queries for a few rows and the whole inventory from 8 up:
    // in a very large tenant with a few dozen refused codes, per-serial reads would be
    // cheaper. Left as the backend's one rule for "these serials, now".
    let wanted: Vec<(String, String)> =
        codes.iter().map(|((row, _, _), _)| (row.serial.clone(), row.upn.clone())).collect();
    let now = explaining_read(shared, wanted.is_empty(), shared.backend.find(&wanted)).await;

    if !codes.is_empty() {
        let index = match now {
            Ok(devices) => Some(TenantIndex::new(devices)),
            Err(e) => {
                read_failed(&e, exit_fatal);
                None
            }
        };
        for ((row, action, device), end) in codes {
            let end = match index.as_ref().map(|index| index.lookup(&row.serial)) {
                Some([]) => executor::after_refused_code(&row, action, device, end, None),
                Some([now]) => executor::after_refused_code(&row, action, device, end, Some(now.clone())),
                // Not re-read, or the serial is now ambiguous: the wrong-key failure stands.
                _ => end,
            };
            sink.lock().await.settle(end.record, end.detail)?;
        }
    }
    Ok(())
}

/// One of `explain`'s reads: nothing to ask (`nothing`), nothing sent; the run stopped, not
/// sent either (the rows keep what their refusal said).
async fn explaining_read<B: Backend, T>(
    shared: &Activating<B>,
    nothing: bool,
    read: impl std::future::Future<Output = Result<Vec<T>, ApiError>>,
) -> Result<Vec<T>, ApiError> {
    if nothing {
        Ok(vec![])
    } else if shared.engine.stopped() {
        Err(crate::engine::stopped_error())
    } else {
        read.await
    }
}

/// What a dead task said: its panic message, if it had one.
fn panic_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "cancelled".into();
    }
    crate::stop::panic_text(e.into_panic().as_ref())
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

#[cfg(test)]
mod tests {
    use super::double::{device, row, Double, Sent};
    use super::*;
    use crate::backend::{Device, DeviceStatus};
    use std::io::Write;
    use std::sync::Mutex;

    /// Three assigned tokens.
    fn three() -> Vec<Device> {
        ["S1", "S2", "S3"].map(device).to_vec()
    }

    /// A tenant of three assigned tokens where writing `S2` panics (a bug in the backend).
    fn panicking() -> Double {
        let answer = |s: &Sent| if s.serial == "S2" { panic!("a bug in the backend") } else { Ok(()) };
        Double::new(mid_step_clock(), |_| three(), answer)
    }

    /// A tenant of three assigned tokens where the codes of S2 and S3 are refused (a wrong
    /// key); once written, it shows them as `later` (None: gone).
    fn wrong_code(later: Option<DeviceStatus>) -> Double {
        let wrong = |serial: &str| serial == "S2" || serial == "S3";
        let tokens = move |sent: &[Sent]| {
            let mut all = three();
            if !sent.is_empty() {
                all.retain(|d| !wrong(&d.token.serial) || later.is_some());
                for d in all.iter_mut().filter(|d| wrong(&d.token.serial)) {
                    d.status = later.unwrap();
                }
            }
            all
        };
        let answer = move |s: &Sent| match wrong(&s.serial) {
            true => Err(ApiError::Rejected {
                status: 400,
                code: "invalidVerificationCode".into(),
                message: "the verification code is invalid".into(),
                body: String::new(),
            }),
            false => Ok(()),
        };
        Double::new(mid_step_clock(), tokens, answer)
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What a run of S1, S2, S3 printed.
    struct Printed {
        records: Vec<serde_json::Value>,
        summary: serde_json::Value,
    }

    impl Printed {
        /// The one activation record of `serial`.
        fn row(&self, serial: &str) -> &serde_json::Value {
            let r: Vec<_> = self.records.iter().filter(|r| r["serial"] == serial).collect();
            assert_eq!(r.len(), 1, "one final record for {serial}: {:?}", self.records);
            r[0]
        }
    }

    /// A tenant clock 15 s before the end of a 30 s step: a refused code is a wrong one.
    fn mid_step_clock() -> Arc<ServerClock> {
        let local = ServerClock::new().now_ms();
        Arc::new(ServerClock::with_offset((local / 30_000 + 2) * 30_000 - 15_000 - local))
    }

    /// A sink printing JSON into a buffer, journaled to `journal` if given.
    fn printing_sink(journal: Option<&std::path::Path>) -> (Sink, Buffer) {
        let printed = Buffer::default();
        let out = crate::output::Output::new(Box::new(printed.clone()), crate::output::Format::Json, true);
        let header = crate::record::JournalHeader::new("activate", "mock", None);
        let sink = Sink::new(
            out,
            crate::diag::Diag::new(crate::diag::ProgressMode::None),
            "activate",
            std::time::Instant::now(),
        )
        .with_journal(journal.map(|p| crate::journal::Journal::open(p, &header).unwrap()));
        (sink, printed)
    }

    /// The JSON lines printed so far.
    fn lines(printed: &Buffer) -> Vec<serde_json::Value> {
        let text = String::from_utf8(printed.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// An engine that sends one request at a time, unpaced: rows go in line order.
    fn one_at_a_time() -> Arc<Engine> {
        crate::engine::EngineConfig { parallel: 1, pace: crate::engine::PaceMode::Unlimited, ..Default::default() }
            .start()
    }

    /// Run S1, S2, S3 against `backend`, one at a time, journaled to `journal` if given.
    async fn run_three(backend: Arc<Double>, journal: Option<&std::path::Path>) -> Printed {
        let (sink, printed) = printing_sink(journal);
        let options =
            RunOptions { dry_run: false, features: Default::default(), min_validity_secs: Some(0), typed_code: None };
        let rows = vec![Ok(row(2, "S1")), Ok(row(3, "S2")), Ok(row(4, "S3"))];
        let outcome =
            run(backend.clone(), one_at_a_time(), backend.clock.clone(), rows, Settled::default(), options, sink)
                .await
                .expect("every row is recorded and the run summarised, whatever happened to a row");
        let mut records = lines(&printed);
        let summary = records.pop().unwrap();
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["exit_code"], outcome.summary.exit_code);
        Printed { records, summary }
    }

    /// What `explain` is handed for a refused row of `serial`: its write, and how it ended.
    fn refused(serial: &str, why: crate::backend::Refusal) -> Refused {
        let (row, device) = (row(3, serial), device(serial));
        let mut record = executor::record(&row, ActivationStatus::Failed, Action::Activate, Some(&device));
        record.error_code = Some("refused".into());
        let end = executor::RowEnd { record, detail: None, explain: Some(why) };
        ((row, Action::Activate, device), end)
    }

    /// The run's shared state around `backend`, for driving the explainer alone.
    fn shared_around(backend: Arc<Double>) -> (Arc<Activating<Double>>, SharedSink, Buffer) {
        let (engine, clock) = (one_at_a_time(), backend.clock.clone());
        let shared = Arc::new(
            Ctx::new(backend, engine, clock)
                .with_state(ActivationState { min_validity_ms: Some(0), ..Default::default() }),
        );
        let (sink, printed) = printing_sink(None);
        (shared, Arc::new(tokio::sync::Mutex::new(sink)), printed)
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_tail_each_refusal_is_explained_as_it_comes_not_when_the_run_ends() {
        use crate::backend::Refusal::CodeRefused;
        let backend = Arc::new(wrong_code(Some(DeviceStatus::Assigned)));
        backend.sent.lock().unwrap().push(Sent { at_ms: 0, serial: "S3".into(), code: String::new() });
        let (shared, sink, printed) = shared_around(backend.clone());
        let (refusals, refused_rx) = tokio::sync::mpsc::unbounded_channel();
        let (_tail, tail_reached) = tokio::sync::watch::channel(true);
        let explainer = tokio::spawn(explain_in_batches(shared, sink, refused_rx, tail_reached));
        let settled = |serial: &str| lines(&printed).iter().any(|r| r["serial"] == serial);
        // The run's last rows are still in flight (the sender is alive) when each is refused.
        refusals.send(refused("S2", CodeRefused)).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        assert!(settled("S2"), "the tail's first refusal, explained at once");
        assert_eq!(backend.reads.lock().unwrap().1, 1);
        refusals.send(refused("S3", CodeRefused)).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        assert_eq!(backend.reads.lock().unwrap().1, 2, "a later one is explained as it comes too");
        assert!(settled("S3"));
        drop(refusals);
        let fatal = explainer.await.unwrap().unwrap();
        assert!(fatal.is_none());
        assert_eq!(backend.reads.lock().unwrap().1, 2, "and not read again at the end");
    }

    #[tokio::test]
    async fn codes_refused_mid_step_the_first_explained_at_once_the_rest_by_one_re_read_at_the_end() {
        for (later, status, code) in [
            // Still assigned: the key is wrong.
            (Some(DeviceStatus::Assigned), "failed", Some("invalidVerificationCode")),
            // Someone activated it meanwhile: a refused write changed nothing, so it was them.
            (Some(DeviceStatus::Activated), "already_active", None),
            // Removed meanwhile.
            (None, "failed", Some("token_disappeared")),
        ] {
            let backend = Arc::new(wrong_code(later));
            let p = run_three(backend.clone(), None).await;
            assert_eq!(p.row("S1")["status"], "activated");
            for serial in ["S2", "S3"] {
                assert_eq!(p.row(serial)["status"], status, "{later:?}: {}", p.row(serial));
                assert_eq!(p.row(serial)["error_code"].as_str(), code, "{later:?}: {}", p.row(serial));
            }
            if status == "failed" && code == Some("invalidVerificationCode") {
                assert!(p.row("S3")["error_message"].as_str().unwrap().contains("secret key"), "{}", p.row("S3"));
            }
            // S2 (the run's first) read at once; S3 by the one re-read of the others.
            assert_eq!(*backend.reads.lock().unwrap(), (1, 1), "{later:?}: one get for S2, then one find for S3");
            assert_eq!(backend.serials(), ["S1", "S2", "S3"], "never guessed again");
        }
    }

    #[tokio::test]
    async fn a_row_task_that_panics_stops_the_run_as_a_bug_and_every_row_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("run.jsonl");
        let backend = Arc::new(panicking());
        // S1 goes out, S2 panics, S3 must not be sent.
        let p = run_three(backend.clone(), Some(&journal_path)).await;
        assert_eq!(p.row("S1")["status"], "activated");
        assert_eq!(p.row("S2")["status"], "failed");
        assert_eq!(p.row("S2")["error_code"], "internal_error");
        assert_eq!(p.row("S3")["status"], "not_attempted");
        assert_eq!(backend.serials(), ["S1", "S2"], "nothing sent after the bug");
        assert_eq!(p.summary["fatal"]["code"], "internal");
        assert_eq!(p.summary["exit_code"], 70);
        // The journal holds S2's intent line: `--resume` asks the tenant about it.
        let journal = std::fs::read_to_string(&journal_path).unwrap();
        assert!(journal.lines().any(|l| l.contains("\"S2\"")), "{journal}");
    }
}
