//! The executor: one row's writes, with the code computed from the server's clock right
//! before each request, retries that never double-activate, and pacing shared by all rows.

use super::window::{Question, TenantWindow, Verdict};
use crate::backend::{ApiError, Backend, CodeWrite, Device, DeviceStatus, Refusal};
use crate::clock::ServerClock;
use crate::context::{Ctx, Doubt};
use crate::engine::{Attempts, Resend, Slot, Stats};
use crate::inventory::Row;
use crate::otp;
use crate::record::{Action, Activation, ActivationStatus};
use crate::sink::{FailureDetail, JournalHandle};
use crate::stop::StopReason;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// What all rows of an activation share besides the planner's context (the API, the engine,
/// the clock: [`Ctx`]): what is particular to activating.
#[derive(Default)]
pub struct ActivationState {
    /// Never send a code with less than this left in its step; `None`: adapt to the
    /// measured round trip (see [`Activating::margin_ms`]).
    pub min_validity_ms: Option<i64>,
    /// A code read off the token's display (`--code`), instead of computing one.
    pub typed_code: Option<TypedCode>,
    /// The run's journal, for intent lines before each write.
    pub journal: JournalHandle,
    /// Device ids each (lower-cased) UPN holds, read at most once per user per run.
    pub owners: tokio::sync::Mutex<HashMap<String, HashSet<String>>>,
    /// The run's first code refused mid-step has been explained at once; later ones wait to
    /// be explained together.
    pub explained_one_code: std::sync::atomic::AtomicBool,
    /// Whether the tenant takes the next step's code (asked at the first boundary).
    pub window: TenantWindow,
}

/// An activation's context: the planner's, with [`ActivationState`].
pub type Activating<B> = Ctx<B, ActivationState>;

/// A code a person typed: sent as is, never retried with a guess.
#[derive(Debug, Clone)]
pub struct TypedCode {
    pub code: String,
    /// When it was typed (process start), local clock.
    pub typed_at: std::time::SystemTime,
}

impl<B: Backend> Activating<B> {
    /// How much validity a code must have left when it is sent. Automatic: three round
    /// trips plus the clock's uncertainty, at least [`MIN_MARGIN_MS`], at most 10 s. Every
    /// token's steps share the same boundaries, so this margin is time *all* rows pause each
    /// step: it is kept as small as safety allows.
    pub fn margin_ms(&self) -> i64 {
        if let Some(fixed) = self.state.min_validity_ms {
            return fixed;
        }
        let rtt_ms = (Stats::get(&self.engine.stats().latency_ewma_us) / 1000) as i64;
        let uncertainty = self.clock.uncertainty_ms().unwrap_or(1000);
        (3 * rtt_ms + uncertainty).clamp(MIN_MARGIN_MS, 10_000)
    }

    /// The device ids `upn` holds: one read per user per run (cached), counted like any other.
    pub async fn owned_by(&self, upn: &str) -> Result<HashSet<String>, ApiError> {
        let key = upn.to_lowercase();
        if let Some(ids) = self.state.owners.lock().await.get(&key) {
            return Ok(ids.clone());
        }
        let ids: HashSet<String> = self.backend.device_ids_of_user(upn).await?.into_iter().collect();
        self.state.owners.lock().await.insert(key, ids.clone());
        Ok(ids)
    }

    /// Slack after a step boundary before its code is used: the clock's uncertainty.
    fn boundary_slack_ms(&self) -> i64 {
        self.clock.uncertainty_ms().unwrap_or(500).clamp(0, 1000) + 50
    }

    /// How near the end of its step a refused code may have crossed into the next one on the
    /// tenant's clock: the margin a code is sent with, plus the clocks' slack.
    fn near_boundary_ms(&self) -> i64 {
        self.margin_ms() + self.boundary_slack_ms()
    }
}

/// The least validity a computed code is sent with: the request must reach the tenant
/// before the step ends, and a rejected code costs a whole step.
pub const MIN_MARGIN_MS: i64 = 500;

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A result record for a row: nothing sent yet, no error.
pub fn record(row: &Row, status: ActivationStatus, action: Action, device: Option<&Device>) -> Activation {
    Activation {
        line: row.line,
        upn: row.upn.clone(),
        serial: row.serial.clone(),
        status,
        action,
        device_id: device.and_then(Device::known_id),
        time: now_rfc3339(),
        ..Default::default()
    }
}

fn with_error(mut a: Activation, e: &ApiError) -> Activation {
    (a.http_status, a.error_code, a.error_message) = e.record_fields();
    a
}

fn detail(e: &ApiError) -> Option<FailureDetail> {
    Some(FailureDetail::of(e))
}

/// How one row's attempts ended.
#[derive(Debug)]
pub struct RowEnd {
    pub record: Activation,
    pub detail: Option<FailureDetail>,
    /// A refusal the planner explains together with the run's others (see
    /// [`super::explain`]: `CodeRefused`); `record` says what is known so far.
    pub explain: Option<Refusal>,
}

impl RowEnd {
    fn done(record: Activation, detail: Option<FailureDetail>) -> Self {
        Self { record, detail, explain: None }
    }
}

/// The record of a row whose token is someone else's (the write through the row's user was
/// refused, and the refusal explained): reported, never retried, never "fixed".
pub fn as_conflict(mut a: Activation, device: &Device) -> Activation {
    a.status = ActivationStatus::Conflict;
    a.error_code = Some("assigned_to_other_user".into());
    a.assigned_to = super::plan::holder(device);
    a
}

/// Where the server clock stands in a token's step.
struct StepPosition {
    step: u64,
    ms_left: i64,
}

fn position(clock: &ServerClock, period: u32) -> StepPosition {
    let period_ms = i64::from(period) * 1000;
    let now = clock.now_ms().max(0);
    StepPosition { step: (now / period_ms) as u64, ms_left: period_ms - now % period_ms }
}

/// What a row does next: send a step's code now, or wait and look again.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Send this step's code. `ahead`: the step after the tenant's current one, sent in the
    /// margin (the tenant takes such codes, or this row is asking whether it does).
    Send {
        step: u64,
        ahead: bool,
    },
    Wait(Duration),
}

/// Which code to send, if any: after a rejection, none until the next step begins; in the
/// margin at a step's end, the next step's code where the tenant takes it (asking once, a
/// margin earlier, see [`super::window`]), else none until the boundary; otherwise the
/// current step's.
/// `question`: this row is the one asking the tenant (kept across the row's attempts).
fn next_code<'a, B: Backend>(
    shared: &'a Activating<B>,
    period: u32,
    rejected_step: Option<u64>,
    question: &mut Option<Question<'a>>,
    refused_question: bool,
) -> Next {
    let pos = position(&shared.clock, period);
    let period_ms = i64::from(period) * 1000;
    let slack = shared.boundary_slack_ms();
    let margin = shared.margin_ms();
    // This row's own question was refused: for it, the tenant is strict (its next step's
    // code will not pass; if the others learn the tenant takes such codes, `activate_row`
    // ends it as a wrong key).
    let verdict = if refused_question { Verdict::Strict } else { shared.state.window.verdict() };
    // The question goes out one margin before the margin, so that its answer (a round trip,
    // and the wait for a write slot) is in before any row needs it: asked at the margin,
    // every row reaching it waited for the answer, and at a high pace those lost slots let
    // the tenant's bucket overflow (the next pair of 429s then reads its rate low).
    let may_ask = rejected_step.is_none() && verdict == Verdict::Unknown && pos.ms_left < 2 * margin;
    if may_ask && question.is_none() {
        *question = shared.state.window.try_ask();
    }
    let next = match rejected_step {
        Some(r) if pos.step <= r => Next::Wait(ms(pos.ms_left + (r - pos.step) as i64 * period_ms + slack)),
        // Asking: the next step's code, as in the margin.
        _ if may_ask && question.is_some() => Next::Send { step: pos.step + 1, ahead: true },
        _ if pos.ms_left >= margin => Next::Send { step: pos.step, ahead: false },
        // After a refusal the next code is tried once, and never a guess ahead of it.
        Some(_) => Next::Wait(ms(pos.ms_left + slack)),
        None => match verdict {
            Verdict::TakesNext => Next::Send { step: pos.step + 1, ahead: true },
            Verdict::Strict => Next::Wait(ms(pos.ms_left + slack)),
            // Someone else is asking: its answer comes within a round trip (or the boundary
            // does).
            Verdict::Unknown => Next::Wait(ms(pos.ms_left + slack)),
        },
    };
    if !matches!(next, Next::Send { ahead: true, .. }) {
        // The boundary passed (or a refusal came) before this row's question went out.
        *question = None;
    }
    next
}

fn ms(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

/// Wait for a step: `d`, or less if the tenant's answer about the window comes first (or the
/// run stops).
async fn wait_for_step<B: Backend>(shared: &Activating<B>, d: Duration) {
    tokio::select! {
        _ = shared.engine.sleep(d) => {}
        _ = shared.state.window.until_verdict_within(d) => {}
    }
}

/// Why a code computed from the CSV's key was refused mid-step.
fn wrong_key_message(err: &ApiError, period: u32) -> String {
    format!(
        "the tenant refused the code computed from the CSV's secret key, in the middle of its step ({}): the secret key in the file is not the one the tenant holds for this token (or the token is not TOTP-{}s); not retried: another code from the same key would be refused too",
        err.message(),
        period
    )
}

/// The end of a row whose code was refused where no step change explains it (`failed`: its
/// record so far): the code was wrong — the secret key, most often. Not guessed again
/// (another code from the same key would be refused too). Whether the token changed
/// meanwhile (someone activated or removed it) is asked for all such rows together, at the
/// end of the run — all but the run's first, asked at once so that the first failure is
/// reported as it happens (a file whose keys are all wrong shows it at once).
async fn refused_mid_step<B: Backend>(
    shared: &Activating<B>,
    row: &Row,
    action: Action,
    device: Device,
    failed: Activation,
    err: &ApiError,
    period: u32,
) -> RowEnd {
    let mut record = with_error(failed.clone(), err);
    record.error_message = Some(wrong_key_message(err, period));
    let refused = RowEnd { record, detail: detail(err), explain: Some(Refusal::CodeRefused) };
    if shared.state.explained_one_code.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return refused;
    }
    match reread(shared, &device).await {
        Ok(current) => after_refused_code(row, action, device, refused, current),
        Err(e2) => RowEnd::done(with_error(failed, &e2), detail(&e2)),
    }
}

/// After a refused code: could the next step's code pass? Only when the step rolled over while
/// the request was in flight, or was about to (the clocks agree only to the slack). A code
/// refused in the middle of its step was wrong — a wrong seed, most often: guessing again
/// costs a request and a whole step's wait, and is refused too. A code sent `ahead` (the
/// tenant takes the next step's) was good from before it was sent until its own step ends.
fn rollover_possible(after: &StepPosition, sent_step: u64, ahead: bool, near_boundary_ms: i64) -> bool {
    if ahead {
        return after.step > sent_step || (after.step == sent_step && after.ms_left < near_boundary_ms);
    }
    after.step != sent_step || after.ms_left < near_boundary_ms
}

/// What one row knows between its attempts.
struct RowAttempts {
    action: Action,
    device: Device,
    /// Writes sent so far.
    attempts: u32,
    /// This row's attempts under the run's one retry policy (the engine's).
    policy: Attempts,
    /// After a refusal, only a later step's code may be tried, once.
    rejected_step: Option<u64>,
    /// The step of the last code sent.
    last_step: Option<u64>,
    /// The last code was the next step's, sent in the margin.
    sent_ahead: bool,
    /// This row asked whether the tenant takes the next step's code, and its code was
    /// refused with this error: the tenant is strict, or this row's key is wrong (its
    /// current code tells which, or another row's question answered yes).
    question_refused: Option<ApiError>,
    /// The action whose intent line is journaled.
    intent_written: Option<Action>,
    /// A write got no clear answer and may have landed: if the run stops now, the row must
    /// not claim "not attempted" (its intent line stays; a re-run re-reads it).
    unconfirmed: bool,
    /// The step a typed code (`--code`) was shown in, on the tenant's clock.
    typed_step: Option<u64>,
}

impl RowAttempts {
    fn new(action: Action, device: Device, typed_step: Option<u64>) -> Self {
        Self {
            typed_step,
            action,
            device,
            attempts: 0,
            policy: Attempts::default(),
            rejected_step: None,
            last_step: None,
            sent_ahead: false,
            question_refused: None,
            intent_written: None,
            unconfirmed: false,
        }
    }

    /// The row's record with this status, its attempts and step so far.
    fn record(&self, row: &Row, status: ActivationStatus) -> Activation {
        let mut a = record(row, status, self.action, Some(&self.device));
        a.attempts = self.attempts;
        a.step = self.last_step;
        a
    }

    /// The row ends failed with `err`.
    fn failed(&self, row: &Row, err: &ApiError) -> RowEnd {
        RowEnd::done(with_error(self.record(row, ActivationStatus::Failed), err), detail(err))
    }

    /// The row ends because the run stopped: "not attempted", unless a write may have landed.
    fn stopped(&self, row: &Row) -> RowEnd {
        let mut a = record(row, ActivationStatus::NotAttempted, self.action, Some(&self.device));
        a.attempts = self.attempts;
        if self.unconfirmed {
            a.status = ActivationStatus::Failed;
            a.error_code = Some("unconfirmed".into());
            a.error_message = Some(
                "the run stopped before the tenant confirmed this row's write; it may have landed: run again (--resume) and the tenant's state decides".into(),
            );
        } else {
            a.error_message = Some("the run stopped before this row was sent".into());
        }
        RowEnd::done(a, None)
    }
}

/// What a failed write means for its row: the decision alone, made from facts, with no
/// clock, no tenant and no runtime (so it is tested as a table). `activate_row` carries it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterError {
    /// Throttled: not applied; wait out `Retry-After` and send the same write again.
    WaitOutThrottle,
    /// The credential was refused: the run stops.
    StopRun,
    /// Someone else's token (the backend's one read said so): a conflict, never retried.
    Conflict,
    /// A typed code refused: never retried with a guess.
    TypedCodeRefused,
    /// Refused where no step change explains it: the code was wrong. `reopen`: this row's
    /// question about the next step's code was refused too, so the key (not the tenant) was
    /// wrong, and another row may ask again.
    RefusedMidStep { reopen: bool },
    /// The step rolled over in flight: re-read the token, then the next step's code, once.
    TryNextStep,
    /// A 5xx or a dropped connection: back off; re-read before any resend if it may have landed.
    Transient { maybe_applied: bool },
    /// Anything else: the row fails with the error.
    Failed,
}

/// The facts [`after_error`] decides from.
#[derive(Debug, Clone, Copy, Default)]
struct Facts {
    /// The code was typed by a person (`--code`).
    typed: bool,
    /// An earlier code of this row was refused already.
    refused_before: bool,
    /// The step may have rolled over while the write was in flight.
    rollover: bool,
    /// This row's question about the next step's code was refused.
    question_refused: bool,
}

fn after_error(err: &ApiError, f: Facts) -> AfterError {
    use AfterError::*;
    match err {
        ApiError::Throttled { .. } => WaitOutThrottle,
        ApiError::Auth { .. } => StopRun,
        ApiError::Rejected { .. } if Refusal::named_in(err) == Some(Refusal::NotUsersMethod) => Conflict,
        ApiError::Rejected { .. } if f.typed => TypedCodeRefused,
        ApiError::Rejected { .. } if f.refused_before => Failed,
        ApiError::Rejected { .. } if f.rollover => TryNextStep,
        ApiError::Rejected { .. } => RefusedMidStep { reopen: f.question_refused },
        ApiError::Transport { maybe_applied, .. } => Transient { maybe_applied: *maybe_applied },
        // A 5xx on a write may still have been applied.
        ApiError::Unavailable { .. } => Transient { maybe_applied: true },
    }
}

/// Where a row goes after one step of its loop.
enum Flow {
    Again,
    End(Box<RowEnd>),
}

impl Flow {
    fn end(end: RowEnd) -> Self {
        Flow::End(Box::new(end))
    }
}

/// Activate one row's token. Always returns the row's final record.
pub async fn activate_row<B: Backend>(shared: &Activating<B>, row: &Row, action: Action, device: Device) -> RowEnd {
    let typed_step = shared.state.typed_code.as_ref().map(|t| shown_step(shared, t, row.time_interval));
    let mut st = RowAttempts::new(action, device, typed_step);
    let secret = match (&shared.state.typed_code, &row.secret) {
        (None, Some(secret)) => secret.bytes().to_vec(),
        (Some(_), _) => Vec::new(),
        (None, None) => {
            let mut a = st.record(row, ActivationStatus::Failed);
            a.error_code = Some("no_secret".into());
            a.error_message = Some("the row has no secret key; pass --code with a code read off the token".into());
            return RowEnd::done(a, None);
        }
    };
    // This row is asking the tenant whether it takes the next step's code (dropped
    // unanswered, on any way out, the question passes to another row).
    let mut question: Option<Question> = None;
    loop {
        if shared.engine.stopped() {
            return st.stopped(row);
        }
        if let Some(refusal) = st.question_refused.clone() {
            if shared.state.window.verdict() == Verdict::TakesNext {
                // Its next step's code was refused, and another row's was since accepted: the
                // tenant takes such codes, so this row's key is wrong. Waiting for the
                // boundary to send the same code again would only hear the same refusal.
                shared.state.window.reopen();
                let failed = st.record(row, ActivationStatus::Failed);
                return refused_mid_step(shared, row, st.action, st.device, failed, &refusal, row.time_interval).await;
            }
        }
        let (slot, code) = match ready(shared, row, &mut st, &mut question, &secret).await {
            Ready::Send(slot, code) => (slot, code),
            Ready::Again => continue,
            Ready::End(end) => return *end,
        };
        st.attempts += 1;
        let write =
            CodeWrite { upn: &row.upn, device: &st.device, code: &code, display_name: row.display_name.as_deref() };
        let result = match st.action {
            Action::Activate => shared.backend.activate(write).await,
            _ => shared.backend.assign_and_activate(write).await,
        };
        shared.engine.finish_write(slot, &result);
        if let Some(question) = question.take() {
            if answer_question(question, &mut st, &result) {
                continue;
            }
        }
        let flow = match result {
            Ok(()) => {
                if st.question_refused.is_some() {
                    // Its next step's code was refused and its current one passed: the key is
                    // right, the tenant strict.
                    shared.state.window.strict();
                }
                Flow::end(RowEnd::done(st.record(row, ActivationStatus::Activated), None))
            }
            Err(err) => after_refusal(shared, row, &mut st, err).await,
        };
        match flow {
            Flow::Again => continue,
            Flow::End(end) => return *end,
        }
    }
}

/// What a row is ready to do: send `code` in the slot, look again, or end.
enum Ready<'a> {
    Send(Slot<'a>, String),
    Again,
    End(Box<RowEnd>),
}

impl Ready<'_> {
    fn end(end: RowEnd) -> Self {
        Ready::End(Box::new(end))
    }
}

/// Pick the step (before taking a rate slot — a row that must wait for the next step should
/// not burn one — and again after: the pacer may have made it wait), the code, and journal
/// the intent line before the request leaves.
async fn ready<'a, B: Backend>(
    shared: &'a Activating<B>,
    row: &Row,
    st: &mut RowAttempts,
    question: &mut Option<Question<'a>>,
    secret: &[u8],
) -> Ready<'a> {
    let period = row.time_interval;
    let typed = shared.state.typed_code.as_ref();
    if typed.is_none() {
        if let Next::Wait(wait) = next_code(shared, period, st.rejected_step, question, st.question_refused.is_some()) {
            wait_for_step(shared, wait).await;
            return Ready::Again;
        }
    }
    let Ok(slot) = shared.engine.slot().await else {
        // Stopped while waiting for a slot: nothing was sent (reported at the top).
        return Ready::Again;
    };
    let pos = position(&shared.clock, period);
    let code = match (typed, st.typed_step) {
        (Some(t), Some(shown)) if pos.step <= shown + 1 => t.code.clone(),
        (Some(_), Some(shown)) => {
            // Entra accepts about one step either side: past that the typed code is dead,
            // and guessing another would be wrong. Say so instead.
            let mut a = record(row, ActivationStatus::Failed, st.action, Some(&st.device));
            a.attempts = st.attempts;
            a.error_code = Some("code_too_old".into());
            a.error_message = Some(format!(
                "the typed code is too old (read {} s ago); read the current code off the token and run again",
                (pos.step - shown) * u64::from(period)
            ));
            return Ready::end(RowEnd::done(a, None));
        }
        _ => match next_code(shared, period, st.rejected_step, question, st.question_refused.is_some()) {
            Next::Send { step, ahead } => {
                st.sent_ahead = ahead;
                st.last_step = Some(step);
                otp::code_for_step(secret, row.hash, period, step, otp::DIGITS)
            }
            Next::Wait(wait) => {
                drop(slot);
                wait_for_step(shared, wait).await;
                return Ready::Again;
            }
        },
    };
    if typed.is_some() {
        st.last_step = Some(pos.step);
    }
    if st.intent_written != Some(st.action) {
        // Durable before the request leaves: a kill after the write lands but before its
        // result is journaled must still leave a trace for `undo`.
        if let Err(why) = shared.state.journal.intent(&st.record(row, ActivationStatus::NotAttempted), &shared.engine) {
            let mut a = record(row, ActivationStatus::NotAttempted, st.action, Some(&st.device));
            a.error_message = Some(why);
            return Ready::end(RowEnd::done(a, None));
        }
        st.intent_written = Some(st.action);
    }
    Ready::Send(slot, code)
}

/// The step a typed code was shown in (when it was typed), on the tenant's clock.
fn shown_step<B: Backend>(shared: &Activating<B>, typed: &TypedCode, period: u32) -> u64 {
    let local_ms = typed.typed_at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
    ((local_ms + shared.clock.offset_ms().unwrap_or(0)).max(0) / (i64::from(period) * 1000)) as u64
}

/// The asking row's answer settles the tenant's window question. `true`: its code was
/// refused — the tenant is strict, or the key is wrong; the row looks again (the current
/// code outside the margin, or the same code at the boundary) and that answer tells.
fn answer_question(question: Question, st: &mut RowAttempts, result: &Result<(), ApiError>) -> bool {
    match result {
        Ok(()) => question.answered(true),
        // A refusal the backend named is about the user's method, not the code.
        Err(e @ ApiError::Rejected { .. }) if Refusal::named_in(e).is_none() => {
            question.answered(false);
            st.question_refused = Some(e.clone());
            return true;
        }
        // Throttled, no reply, another refusal: nothing learnt; the question passes on.
        Err(_) => drop(question),
    }
    false
}

/// Carry out what a failed write means ([`after_error`]).
async fn after_refusal<B: Backend>(shared: &Activating<B>, row: &Row, st: &mut RowAttempts, err: ApiError) -> Flow {
    let period = row.time_interval;
    let after = position(&shared.clock, period);
    let sent_step = st.last_step.unwrap_or(after.step);
    let facts = Facts {
        typed: shared.state.typed_code.is_some(),
        refused_before: st.rejected_step.is_some(),
        rollover: rollover_possible(&after, sent_step, st.sent_ahead, shared.near_boundary_ms()),
        question_refused: st.question_refused.is_some(),
    };
    match after_error(&err, facts) {
        AfterError::WaitOutThrottle => match shared.engine.wait_out_throttle(&err, &mut st.policy).await {
            // Not applied: resend once its `Retry-After` has passed (the pacer has slowed
            // everyone down). Stopped meanwhile: reported at the top of the loop.
            Resend::Yes | Resend::Stopped => Flow::Again,
            // Waited too long (the engine stopped the run) or too often: not applied.
            Resend::GiveUp => {
                let mut a = with_error(st.record(row, ActivationStatus::NotAttempted), &err);
                a.error_message = Some(format!("not activated: the tenant kept throttling ({})", err.message()));
                Flow::end(RowEnd::done(a, None))
            }
        },
        AfterError::StopRun => {
            shared.engine.abort(StopReason::AuthRejected, super::auth_advice(&err, shared.backend.name()));
            Flow::end(RowEnd::done(with_error(st.record(row, ActivationStatus::NotAttempted), &err), None))
        }
        AfterError::Conflict => {
            let a = with_error(st.record(row, ActivationStatus::Failed), &err);
            Flow::end(RowEnd::done(as_conflict(a, &st.device), detail(&err)))
        }
        AfterError::TypedCodeRefused => {
            let mut a = with_error(st.record(row, ActivationStatus::Failed), &err);
            a.error_message = Some(format!(
                "the tenant rejected the typed code (HTTP {} {}: {}); typed codes are never retried with a guess: read the next code off the token and run again",
                err.status().unwrap_or_default(), err.code(), err.message()
            ));
            Flow::end(RowEnd::done(a, detail(&err)))
        }
        AfterError::RefusedMidStep { reopen } => {
            st.rejected_step = st.last_step;
            if reopen {
                shared.state.window.reopen();
            }
            let failed = st.record(row, ActivationStatus::Failed);
            let device = st.device.clone();
            Flow::end(refused_mid_step(shared, row, st.action, device, failed, &err, period).await)
        }
        AfterError::TryNextStep => {
            st.rejected_step = st.last_step;
            // Re-read first: a change made meanwhile (someone activated it, a partial assign)
            // explains a refusal better than the code does.
            let reconciled =
                reconcile(shared, row, &mut st.action, &mut st.device, ActivationStatus::AlreadyActive).await;
            if matches!(reconciled, Reconciled::Retry) {
                Stats::bump(&shared.engine.stats().retries);
            }
            st.after_reread(row, reconciled)
        }
        AfterError::Transient { maybe_applied } => transient(shared, row, st, &err, maybe_applied).await,
        AfterError::Failed => Flow::end(st.failed(row, &err)),
    }
}

/// A 5xx or a dropped connection: back off under the run's policy; if the write may have
/// landed, ask the tenant before sending anything again ([`Ctx::wait_out_doubt`], the step
/// the lifecycle commands' writes share) — what keeps "activated exactly once".
async fn transient<B: Backend>(
    shared: &Activating<B>,
    row: &Row,
    st: &mut RowAttempts,
    err: &ApiError,
    maybe_applied: bool,
) -> Flow {
    st.unconfirmed |= maybe_applied;
    let (action, device) = (&mut st.action, &mut st.device);
    let doubt = shared
        .wait_out_doubt(err, &mut st.policy, maybe_applied, || {
            reconcile(shared, row, action, device, ActivationStatus::Activated)
        })
        .await;
    match doubt {
        Doubt::GiveUp => Flow::end(st.failed(row, err)),
        // Stopped: reported at the top of the loop.
        Doubt::Stopped | Doubt::SendAgain => Flow::Again,
        Doubt::Reread(reconciled) => {
            if matches!(reconciled, Reconciled::Retry) {
                st.unconfirmed = false; // it had not landed
            }
            st.after_reread(row, reconciled)
        }
    }
}

impl RowAttempts {
    /// Where a re-read leaves the row: send again, or end as the tenant says.
    fn after_reread(&self, row: &Row, reconciled: Reconciled) -> Flow {
        match reconciled {
            Reconciled::Retry => Flow::Again,
            Reconciled::Done(status) => Flow::end(RowEnd::done(self.record(row, status), None)),
            Reconciled::Failed(e) => Flow::end(self.failed(row, &e)),
        }
    }
}

enum Reconciled {
    Retry,
    Done(ActivationStatus),
    Failed(ApiError),
}

/// Re-read one token and decide the next move. `if_active`: how to report a token found
/// active: `Activated` after an ambiguous failure (our write landed), `AlreadyActive` after a
/// refusal (a refused write changed nothing, so someone else activated it).
async fn reconcile<B: Backend>(
    shared: &Activating<B>,
    row: &Row,
    action: &mut Action,
    device: &mut Device,
    if_active: ActivationStatus,
) -> Reconciled {
    match reread(shared, device).await {
        Ok(current) => reconciled(row, action, device, if_active, current),
        Err(e) => Reconciled::Failed(e),
    }
}

/// The token as the tenant shows it now (`None`: gone). A rejected credential stops the run.
async fn reread<B: Backend>(shared: &Activating<B>, device: &Device) -> Result<Option<Device>, ApiError> {
    let current = shared.backend.get(device).await;
    if let Err(e @ ApiError::Auth { .. }) = &current {
        shared.engine.abort(StopReason::AuthRejected, super::auth_advice(e, shared.backend.name()));
    }
    current
}

/// The next move, from the token as the tenant shows it now (`None`: gone).
fn reconciled(
    row: &Row,
    action: &mut Action,
    device: &mut Device,
    if_active: ActivationStatus,
    current: Option<Device>,
) -> Reconciled {
    let Some(d) = current else {
        return Reconciled::Failed(ApiError::Rejected {
            status: 404,
            code: "token_disappeared".into(),
            message: format!("token {} is no longer in the tenant", row.serial).into(),
            body: String::new(),
        });
    };
    let status = d.status;
    *device = Device { owner_upn: d.owner_upn.clone().or(device.owner_upn.clone()), ..d };
    match status {
        // It landed (our earlier request, answered too late to hear).
        DeviceStatus::Activated => Reconciled::Done(if_active),
        DeviceStatus::Assigned | DeviceStatus::FailedActivation => {
            *action = Action::Activate;
            Reconciled::Retry
        }
        DeviceStatus::Available => {
            *action = Action::AssignAndActivate;
            Reconciled::Retry
        }
        DeviceStatus::Unknown => Reconciled::Failed(ApiError::Rejected {
            status: 200,
            code: "unknown_status".into(),
            message: format!("the tenant reports status '{}'", device.token.status).into(),
            body: String::new(),
        }),
    }
}

/// The end of a row whose code was refused mid-step (`refused`: its wrong-key failure), once
/// its token has been re-read (`current`; `None`: gone) — at once for the run's first such
/// row, together once the run's tail is reached for the others, and each as it comes after
/// that (`activate::explain_in_batches`): someone activated it meanwhile → the
/// refused write changed nothing, `already_active`; gone, or in a status oathbulk does not
/// know → that failure; otherwise the wrong-key failure stands.
pub fn after_refused_code(
    row: &Row,
    mut action: Action,
    mut device: Device,
    refused: RowEnd,
    current: Option<Device>,
) -> RowEnd {
    let RowEnd { record: failure, detail: failure_detail, .. } = refused;
    let settled = |status, action, device: &Device| {
        let mut a = record(row, status, action, Some(device));
        a.attempts = failure.attempts;
        a.step = failure.step;
        a
    };
    match reconciled(row, &mut action, &mut device, ActivationStatus::AlreadyActive, current) {
        Reconciled::Retry => RowEnd::done(failure, failure_detail),
        Reconciled::Done(status) => RowEnd::done(settled(status, action, &device), None),
        Reconciled::Failed(e) => {
            RowEnd::done(with_error(settled(ActivationStatus::Failed, action, &device), &e), detail(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::double::{device, row, Double, Sent, SECRET};
    use super::*;
    use crate::inventory::{SecretFormat, SecretKey};
    use crate::otp::HashFunction;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    /// What each failure means for its row, as a table: no clock, no tenant, no runtime.
    #[test]
    fn every_failure_has_one_meaning() {
        use AfterError::*;
        let rejected = |code: &str| ApiError::Rejected {
            status: 400,
            code: code.into(),
            message: "m".into(),
            body: String::new(),
        };
        let fresh = Facts::default();
        let typed = Facts { typed: true, ..fresh };
        let again = Facts { refused_before: true, ..fresh };
        let rolled = Facts { rollover: true, ..fresh };
        let asked = Facts { question_refused: true, ..fresh };
        let throttled = ApiError::Throttled { status: 429, retry_after: None };
        let auth = ApiError::Auth { status: 401, code: "x".into(), message: "m".into() };
        let dropped = |maybe_applied| ApiError::Transport { maybe_applied, message: "reset".into() };
        let five = ApiError::Unavailable { status: 503, code: "x".into(), message: "m".into() };
        let table: &[(&ApiError, Facts, AfterError)] = &[
            (&throttled, typed, WaitOutThrottle),
            (&auth, rolled, StopRun),
            (&Refusal::NotUsersMethod.rejected(404, String::new()), typed, Conflict),
            (&rejected("badCode"), Facts { rollover: true, ..typed }, TypedCodeRefused),
            (&rejected("badCode"), Facts { rollover: true, ..again }, Failed),
            (&rejected("badCode"), rolled, TryNextStep),
            (&rejected("badCode"), fresh, RefusedMidStep { reopen: false }),
            (&rejected("badCode"), asked, RefusedMidStep { reopen: true }),
            (&dropped(false), fresh, Transient { maybe_applied: false }),
            (&dropped(true), fresh, Transient { maybe_applied: true }),
            (&five, fresh, Transient { maybe_applied: true }),
        ];
        for (err, facts, meaning) in table {
            assert_eq!(after_error(err, *facts), *meaning, "{err:?} with {facts:?}");
        }
    }

    #[test]
    fn a_refused_code_is_retried_only_across_a_step_boundary() {
        let mid = StepPosition { step: 7, ms_left: 15_000 };
        assert!(!rollover_possible(&mid, 7, false, 1_500), "refused mid-step: the code was wrong");
        let late = StepPosition { step: 7, ms_left: 900 };
        assert!(rollover_possible(&late, 7, false, 1_500), "refused near the end: may have crossed");
        let next = StepPosition { step: 8, ms_left: 29_000 };
        assert!(rollover_possible(&next, 7, false, 1_500), "rolled over in flight");
        // Sent ahead (the tenant takes the next step's code): good until its own step ends.
        assert!(!rollover_possible(&late, 8, true, 1_500), "an ahead code refused before its step: wrong");
        assert!(!rollover_possible(&next, 8, true, 1_500), "refused in its own step: wrong");
        let its_end = StepPosition { step: 8, ms_left: 900 };
        assert!(rollover_possible(&its_end, 8, true, 1_500));
    }

    /// A server clock placed `ms_left` before the end of a 30 s step.
    fn clock_with_ms_left(ms_left: i64) -> Arc<ServerClock> {
        let local = ServerClock::new().now_ms();
        let target = (local / 30_000 + 2) * 30_000 - ms_left;
        Arc::new(ServerClock::with_offset(target - local))
    }

    fn shared(mock: Double) -> Activating<Double> {
        let engine = crate::engine::Engine::new(
            crate::engine::EngineConfig { parallel: 4, pace: crate::engine::PaceMode::Unlimited, ..Default::default() },
            Arc::new(Stats::default()),
        );
        let clock = mock.clock.clone();
        Ctx::new(Arc::new(mock), Arc::new(engine), clock)
            .with_state(ActivationState { min_validity_ms: Some(5_000), ..Default::default() })
    }

    /// A tenant of one token, S1, read back as `after_get`; writes are answered from
    /// `answers`, in order, then `Ok`.
    fn mock(clock: Arc<ServerClock>, answers: Vec<Result<(), ApiError>>, after_get: DeviceStatus) -> Double {
        let answers = Mutex::new(VecDeque::from(answers));
        let tokens = move |_: &[Sent]| vec![Device { status: after_get, ..device("S1") }];
        Double::new(clock, tokens, move |_| answers.lock().unwrap().pop_front().unwrap_or(Ok(())))
    }

    fn code_at_ms(ms: i64) -> String {
        let key = SecretKey::decode(SECRET, SecretFormat::Base32).unwrap();
        otp::code_for_step(key.bytes(), HashFunction::Sha1, 30, (ms / 30_000) as u64, 6)
    }

    fn rejected() -> ApiError {
        ApiError::Rejected { status: 400, code: "bad".into(), message: "no".into(), body: "{}".into() }
    }

    #[tokio::test]
    async fn on_a_strict_tenant_waits_for_the_next_step_when_too_little_validity_is_left() {
        let clock = clock_with_ms_left(2_000);
        let boundary = (clock.now_ms() / 30_000 + 1) * 30_000;
        let mut s = shared(mock(clock, vec![], DeviceStatus::Assigned));
        s.state.window = TenantWindow::new(Verdict::Strict);
        let a = activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await.record;
        assert_eq!(a.status, ActivationStatus::Activated);
        let sent = s.backend.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].at_ms >= boundary, "sent {} ms before the step ended", boundary - sent[0].at_ms);
        assert_eq!(sent[0].code, code_at_ms(boundary), "the new step's code");
        assert_eq!(a.step, Some((boundary / 30_000) as u64));
    }

    #[tokio::test]
    async fn in_the_margin_the_first_row_asks_with_the_next_steps_code_and_then_nobody_waits() {
        let clock = clock_with_ms_left(2_000);
        let boundary = (clock.now_ms() / 30_000 + 1) * 30_000;
        let s = shared(mock(clock, vec![], DeviceStatus::Assigned));
        let a = activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await.record;
        assert_eq!((a.status, a.attempts), (ActivationStatus::Activated, 1));
        assert_eq!(s.state.window.verdict(), Verdict::TakesNext);
        let b = activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await.record;
        assert_eq!((b.status, b.attempts), (ActivationStatus::Activated, 1));
        let sent = s.backend.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 2);
        for Sent { at_ms: at, code, .. } in &sent {
            assert!(*at < boundary, "no wait for the boundary (sent {} ms after it)", at - boundary);
            assert_eq!(*code, code_at_ms(boundary), "the next step's code");
        }
        assert_eq!(a.step, Some((boundary / 30_000) as u64));
    }

    #[tokio::test]
    async fn a_question_refused_for_a_wrong_key_is_asked_again() {
        let clock = clock_with_ms_left(2_000);
        let s = shared(mock(clock, vec![Err(rejected()), Err(rejected())], DeviceStatus::Assigned));
        let a = activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await.record;
        assert_eq!((a.status, a.attempts), (ActivationStatus::Failed, 2), "asked, then the current code");
        assert!(a.error_message.as_deref().is_some_and(|m| m.contains("secret key")), "{a:?}");
        assert_eq!(s.state.window.verdict(), Verdict::Unknown, "a wrong key says nothing about the tenant");
    }

    /// Two rows activated together, `ms_left` before a step's end, each answer (in order of
    /// sending) taking `delay_ms`. Returns the run, both rows' ends and the boundary (ms).
    async fn two_rows_at(
        ms_left: i64,
        answers: Vec<Result<(), ApiError>>,
        delay_ms: u64,
    ) -> (Activating<Double>, RowEnd, RowEnd, i64) {
        let clock = clock_with_ms_left(ms_left);
        let boundary = (clock.now_ms() / 30_000 + 1) * 30_000;
        let mut m = mock(clock, answers, DeviceStatus::Assigned);
        m.delay = Duration::from_millis(delay_ms);
        let s = shared(m);
        let (r1, r2) = (row(2, "S1"), row(2, "S1"));
        let (a, b) = tokio::join!(
            activate_row(&s, &r1, Action::Activate, device("S1")),
            activate_row(&s, &r2, Action::Activate, device("S1"))
        );
        (s, a, b, boundary)
    }

    #[tokio::test]
    async fn rows_in_the_margin_wait_for_the_answer_not_for_the_boundary() {
        let (s, a, b, boundary) = two_rows_at(2_500, vec![], 150).await;
        assert_eq!((a.record.status, b.record.status), (ActivationStatus::Activated, ActivationStatus::Activated));
        let sent = s.backend.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 2, "one question, one write each");
        assert!(sent[1].at_ms - sent[0].at_ms >= 140, "the second waited for the answer: {sent:?}");
        assert!(sent[1].at_ms < boundary, "and not for the boundary");
        assert!(sent.iter().all(|s| s.code == code_at_ms(boundary)));
    }

    #[tokio::test]
    async fn the_question_goes_out_a_margin_early_and_rows_before_the_margin_do_not_wait_for_it() {
        // Margin 5 s: 7 s before the boundary is outside it but inside the asking zone.
        let (s, a, b, boundary) = two_rows_at(7_000, vec![], 150).await;
        assert_eq!((a.record.status, b.record.status), (ActivationStatus::Activated, ActivationStatus::Activated));
        assert_eq!(s.state.window.verdict(), Verdict::TakesNext, "asked before any row reached the margin");
        let sent = s.backend.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 2, "one question, one write each");
        assert!(sent[1].at_ms - sent[0].at_ms < 100, "the second did not wait for the answer: {sent:?}");
        assert_eq!(sent[0].code, code_at_ms(boundary), "the question: the next step's code");
        assert_eq!(sent[1].code, code_at_ms(boundary - 30_000), "outside the margin: the current code");
    }

    #[tokio::test]
    async fn a_wrong_key_that_asks_first_does_not_make_the_others_wait_for_the_boundary() {
        // The file's first writable row had a wrong key: its refused question made the tenant
        // "strict", and the whole run stood still until the boundary.
        let (s, a, b, boundary) = two_rows_at(2_000, vec![Err(rejected()), Ok(()), Err(rejected())], 100).await;
        let ended = s.backend.clock.now_ms();
        assert_eq!(b.record.status, ActivationStatus::Activated);
        assert_eq!(s.state.window.verdict(), Verdict::TakesNext, "the second row asked, and was answered yes");
        let sent = s.backend.sent.lock().unwrap().clone();
        assert!(sent[1].at_ms < boundary - 1_000, "the second row asked at once, not at the boundary");
        // Nor does the wrong key itself wait for the boundary to send its code again: the
        // tenant takes next-step codes, so its refused one was wrong. (Seen in the benchmark:
        // such a row near the run's end held the whole run half a second.)
        assert_eq!(sent.len(), 2, "two questions, and nothing sent again: {sent:?}");
        assert!(ended < boundary - 1_000, "both rows ended {} ms before the boundary, not after it", boundary - ended);
        assert_eq!((a.record.status, a.record.attempts), (ActivationStatus::Failed, 1));
        assert_eq!(a.record.http_status, Some(400));
        assert!(a.record.error_message.as_deref().is_some_and(|m| m.contains("secret key")), "{:?}", a.record);
        assert_eq!(a.record.step, Some((boundary / 30_000) as u64), "the step of the code it sent");
        assert_eq!(s.backend.reads.lock().unwrap().0, 1, "the run's first wrong code, re-read at once");
    }

    #[tokio::test]
    async fn a_refused_question_sends_the_current_code_outside_the_margin_or_the_same_after_the_boundary() {
        // Margin 5 s: refused in it (2 s left), or before it (7 s left, asked a margin early).
        for ms_left in [2_000, 7_000] {
            let clock = clock_with_ms_left(ms_left);
            let boundary = (clock.now_ms() / 30_000 + 1) * 30_000;
            let s = shared(mock(clock, vec![Err(rejected())], DeviceStatus::Assigned));
            let a = activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await.record;
            assert_eq!((a.status, a.attempts), (ActivationStatus::Activated, 2), "[{ms_left}]");
            assert_eq!(s.state.window.verdict(), Verdict::Strict, "[{ms_left}] its current code passed: strict");
            let sent = s.backend.sent.lock().unwrap().clone();
            assert_eq!(sent.len(), 2, "[{ms_left}]");
            assert_eq!(sent[0].code, code_at_ms(boundary), "[{ms_left}] the question: the next step's code");
            assert_eq!(s.backend.reads.lock().unwrap().0, 0, "[{ms_left}] a refused question needs no read");
            if ms_left < 5_000 {
                assert!(
                    sent[0].at_ms < boundary && sent[1].at_ms >= boundary,
                    "asked before the boundary, sent again after"
                );
                assert_eq!(sent[1].code, sent[0].code, "the same code, now current");
            } else {
                assert!(sent[1].at_ms < boundary - 5_000, "still outside the margin: no wait for the boundary");
                assert_eq!(sent[1].code, code_at_ms(boundary - 30_000), "then the current step's code");
                assert_eq!(a.step, Some((boundary / 30_000) as u64 - 1));
            }
        }
    }

    #[tokio::test]
    async fn a_code_refused_mid_step_is_not_guessed_again_the_first_explained_at_once_the_rest_later() {
        let rejected =
            || ApiError::Rejected { status: 400, code: "bad".into(), message: "no".into(), body: "{}".into() };
        let clock = clock_with_ms_left(20_000);
        let s = shared(mock(clock, vec![Err(rejected()), Err(rejected())], DeviceStatus::Assigned));
        // The run's first: one read (was it changed meanwhile?), reported at once.
        let RowEnd { record: a, detail, explain } =
            activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await;
        assert_eq!(s.backend.sent.lock().unwrap().len(), 1, "no second guess");
        assert_eq!(s.backend.reads.lock().unwrap().0, 1, "the first is explained at once");
        assert_eq!(explain, None);
        assert_eq!((a.status, a.attempts, a.http_status), (ActivationStatus::Failed, 1, Some(400)));
        assert_eq!(a.error_code.as_deref(), Some("bad"));
        assert!(a.error_message.as_deref().is_some_and(|m| m.contains("secret key")), "{a:?}");
        assert!(detail.is_some());
        // The next: no read of its own, left to be explained with the others.
        let RowEnd { record: b, detail, explain } =
            activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await;
        assert_eq!(s.backend.sent.lock().unwrap().len(), 2, "no second guess");
        assert_eq!(s.backend.reads.lock().unwrap().0, 1, "no read of its own");
        assert_eq!(explain, Some(Refusal::CodeRefused));
        assert_eq!((b.status, b.attempts), (ActivationStatus::Failed, 1));
        assert!(b.error_message.as_deref().is_some_and(|m| m.contains("secret key")), "{b:?}");
        assert!(detail.is_some());
    }

    #[tokio::test]
    async fn a_code_refused_across_a_step_boundary_is_retried_once_with_the_next_step() {
        let rejected =
            || ApiError::Rejected { status: 400, code: "bad".into(), message: "no".into(), body: "{}".into() };
        // Sent with 5.3 s left (the margin is 5 s), answered 0.4 s later: near the end.
        let clock = clock_with_ms_left(5_300);
        let mut m = mock(clock, vec![Err(rejected()), Err(rejected())], DeviceStatus::Assigned);
        m.delay = Duration::from_millis(400);
        let s = shared(m);
        let RowEnd { record: a, detail, explain } =
            activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await;
        let sent = s.backend.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 2, "exactly one retry");
        assert!(sent[1].at_ms / 30_000 > sent[0].at_ms / 30_000, "the retry uses a later step");
        assert_eq!(sent[1].code, code_at_ms(sent[1].at_ms));
        assert_eq!((a.status, a.attempts, a.http_status), (ActivationStatus::Failed, 2, Some(400)));
        assert_eq!(a.error_code.as_deref(), Some("bad"));
        assert!(detail.is_some());
        assert_eq!(explain, None, "the retry's refusal is final");
    }

    #[tokio::test]
    async fn an_unanswered_write_is_checked_before_anything_is_sent_again() {
        let lost = ApiError::Transport { maybe_applied: true, message: "connection closed".into() };
        let clock = clock_with_ms_left(20_000);
        let s = shared(mock(clock, vec![Err(lost)], DeviceStatus::Activated));
        let a = activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await.record;
        assert_eq!(a.status, ActivationStatus::Activated, "the write had landed");
        assert_eq!(s.backend.sent.lock().unwrap().len(), 1, "never sent twice");
        assert_eq!(s.backend.reads.lock().unwrap().0, 1);
    }

    #[tokio::test]
    async fn auth_failure_stops_the_run() {
        let denied =
            ApiError::Auth { status: 401, code: "InvalidAuthenticationToken".into(), message: "expired".into() };
        let clock = clock_with_ms_left(20_000);
        let s = shared(mock(clock, vec![Err(denied)], DeviceStatus::Assigned));
        let a = activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await.record;
        assert_eq!(a.status, ActivationStatus::NotAttempted);
        assert!(s.engine.stopped());
        assert_eq!(s.engine.fatal().unwrap().code, StopReason::AuthRejected);
        let b = activate_row(&s, &row(2, "S1"), Action::Activate, device("S1")).await.record;
        assert_eq!(b.status, ActivationStatus::NotAttempted);
        assert_eq!(s.backend.sent.lock().unwrap().len(), 1, "nothing sent after the stop");
    }
}
