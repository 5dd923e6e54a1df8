//! The executor: one row's writes, with the code computed from the server's clock right
//! before each request, retries that never double-activate, and pacing shared by all rows.

use super::pacing::{backoff, Pacer};
use super::sink::FailureDetail;
use crate::backend::{ApiError, Backend, Device, DeviceStatus};
use crate::clock::ServerClock;
use crate::http::Stats;
use crate::inventory::Row;
use crate::otp;
use crate::record::{Action, Activation, ActivationStatus, Fatal};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// Bounds on retries for one request.
pub const MAX_TRANSIENT: u32 = 6;
pub const MAX_THROTTLED: u32 = 30;

/// What all rows share.
pub struct Shared<B> {
    pub backend: Arc<B>,
    pub pacer: Pacer,
    pub stats: Arc<Stats>,
    pub clock: Arc<ServerClock>,
    pub permits: Semaphore,
    /// Never send a code with less than this left in its step.
    pub min_validity_ms: i64,
    pub stop: watch::Sender<bool>,
    pub fatal: Mutex<Option<Fatal>>,
}

impl<B: Backend> Shared<B> {
    pub fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Stop the run: the first fatal condition wins and is the one reported.
    pub fn abort(&self, fatal: Fatal) {
        let mut f = self.fatal.lock().unwrap();
        if f.is_none() {
            *f = Some(fatal);
        }
        let _ = self.stop.send(true);
    }

    /// Sleep unless the run stops first. Returns false when stopped.
    async fn sleep(&self, d: Duration) -> bool {
        let mut rx = self.stop.subscribe();
        if *rx.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => !self.stopped(),
            _ = rx.wait_for(|s| *s) => false,
        }
    }

    /// A read, retried through throttling and transient failures (reads are safe to repeat).
    pub async fn read<T, F, Fut>(&self, mut call: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let (mut transient, mut throttled) = (0, 0);
        loop {
            let permit = self.permits.acquire().await.expect("semaphore open");
            self.pacer.gate_ready().await;
            let result = call().await;
            drop(permit);
            match result {
                Err(ApiError::Throttled { retry_after, .. }) if throttled < MAX_THROTTLED => {
                    throttled += 1;
                    Stats::bump(&self.stats.throttled);
                    Stats::bump(&self.stats.retries);
                    self.pacer.hold(retry_after.unwrap_or_else(|| backoff(throttled)));
                }
                Err(ApiError::Unavailable { .. } | ApiError::Transport { .. }) if transient < MAX_TRANSIENT => {
                    transient += 1;
                    Stats::bump(&self.stats.retries);
                    if !self.sleep(backoff(transient)).await {
                        return result;
                    }
                }
                other => return other,
            }
            if self.stopped() {
                return Err(ApiError::Transport { maybe_applied: false, message: "run stopped".into() });
            }
        }
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A result record for a row.
pub fn record(row: &Row, status: ActivationStatus, action: Action, device: Option<&Device>) -> Activation {
    Activation {
        line: row.line,
        upn: row.upn.clone(),
        serial: row.serial.clone(),
        status,
        action,
        attempts: 0,
        device_id: device.map(|d| d.token.id.clone()).filter(|s| !s.is_empty()),
        step: None,
        assigned_to: None,
        http_status: None,
        error_code: None,
        error_message: None,
        time: now_rfc3339(),
    }
}

fn with_error(mut a: Activation, e: &ApiError) -> Activation {
    a.http_status = e.status();
    a.error_code = Some(e.code());
    a.error_message = Some(e.message());
    a
}

fn detail(e: &ApiError) -> Option<FailureDetail> {
    let body = match e {
        ApiError::Rejected { body, .. } => body.clone(),
        other => other.message(),
    };
    Some(FailureDetail { body, request_id: None })
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

/// Activate one row's token. Always returns the row's final record.
pub async fn activate_row<B: Backend>(
    shared: &Shared<B>,
    row: &Row,
    mut action: Action,
    mut device: Device,
) -> (Activation, Option<FailureDetail>) {
    let secret = row.secret.as_ref().expect("activate requires secrets").bytes().to_vec();
    let period = row.time_interval;
    let mut attempts = 0u32;
    let mut transient = 0u32;
    let mut throttled = 0u32;
    // After a rejection, only a later step's code may be tried, once.
    let mut rejected_step: Option<u64> = None;
    let mut last_step: Option<u64>;
    loop {
        if shared.stopped() {
            let mut a = record(row, ActivationStatus::NotAttempted, action, Some(&device));
            a.attempts = attempts;
            a.error_message = Some("the run stopped before this row was sent".into());
            return (a, None);
        }
        let permit = shared.permits.acquire().await.expect("semaphore open");
        shared.pacer.ready().await;
        let pos = position(&shared.clock, period);
        let wait_ms = match rejected_step {
            // Wait for the step after the rejected one to begin (plus a little slack).
            Some(r) if pos.step <= r => pos.ms_left + (r - pos.step) as i64 * i64::from(period) * 1000 + 250,
            // Too little validity left: the code could roll over in flight.
            _ if pos.ms_left < shared.min_validity_ms => pos.ms_left + 250,
            _ => 0,
        };
        if wait_ms > 0 {
            drop(permit);
            shared.sleep(Duration::from_millis(wait_ms as u64)).await;
            continue;
        }
        let code = otp::code_for_step(&secret, row.hash, period, pos.step, otp::DIGITS);
        last_step = Some(pos.step);
        attempts += 1;
        let display_name = row.display_name.as_deref();
        let result = match action {
            Action::Activate => shared.backend.activate(&row.upn, &device, &code, display_name).await,
            _ => shared.backend.assign_and_activate(&row.upn, &device, &code, display_name).await,
        };
        drop(permit);
        let base = |status, action, device: &Device| {
            let mut a = record(row, status, action, Some(device));
            a.attempts = attempts;
            a.step = last_step;
            a
        };
        let err = match result {
            Ok(()) => return (base(ActivationStatus::Activated, action, &device), None),
            Err(e) => e,
        };
        match &err {
            ApiError::Throttled { retry_after, .. } if throttled < MAX_THROTTLED => {
                // Throttled requests were not applied: resend the same action.
                throttled += 1;
                Stats::bump(&shared.stats.throttled);
                Stats::bump(&shared.stats.retries);
                shared.pacer.hold(retry_after.unwrap_or_else(|| backoff(throttled)));
                continue;
            }
            ApiError::Auth { .. } => {
                let message = super::auth_advice(&err, shared.backend.name());
                shared.abort(Fatal { code: "auth_rejected".into(), message });
                return (with_error(base(ActivationStatus::NotAttempted, action, &device), &err), None);
            }
            ApiError::Rejected { .. } if rejected_step.is_none() => {
                // Maybe the code rolled over in flight, or the clocks disagree by a step: try
                // once more with the next step's code. Re-read first, so a partial assign or a
                // change made meanwhile picks the right action.
                rejected_step = last_step;
                Stats::bump(&shared.stats.retries);
                match reconcile(shared, row, &mut action, &mut device, ActivationStatus::AlreadyActive).await {
                    Reconciled::Retry => continue,
                    Reconciled::Done(status) => return (base(status, action, &device), None),
                    Reconciled::Failed(e2) => return (with_error(base(ActivationStatus::Failed, action, &device), &e2), detail(&e2)),
                }
            }
            ApiError::Unavailable { .. } | ApiError::Transport { .. } if transient < MAX_TRANSIENT => {
                transient += 1;
                Stats::bump(&shared.stats.retries);
                if !shared.sleep(backoff(transient)).await {
                    continue; // stopped: reported as not attempted at the top of the loop
                }
                let maybe_applied = match &err {
                    ApiError::Transport { maybe_applied, .. } => *maybe_applied,
                    _ => true, // a 5xx on a write may still have been applied
                };
                if maybe_applied {
                    // The write may have landed without our hearing: ask the tenant before
                    // sending anything again. This is what keeps "activated exactly once".
                    match reconcile(shared, row, &mut action, &mut device, ActivationStatus::Activated).await {
                        Reconciled::Retry => continue,
                        Reconciled::Done(status) => return (base(status, action, &device), None),
                        Reconciled::Failed(e2) => {
                            return (with_error(base(ActivationStatus::Failed, action, &device), &e2), detail(&e2))
                        }
                    }
                }
                continue;
            }
            _ => return (with_error(base(ActivationStatus::Failed, action, &device), &err), detail(&err)),
        }
    }
}

enum Reconciled {
    Retry,
    Done(ActivationStatus),
    Failed(ApiError),
}

/// Re-read the token and decide the next move. `if_active`: how to report a token found
/// active: `Activated` after an ambiguous failure (our write landed), `AlreadyActive` after a
/// refusal (a refused write changed nothing, so someone else activated it).
async fn reconcile<B: Backend>(
    shared: &Shared<B>,
    row: &Row,
    action: &mut Action,
    device: &mut Device,
    if_active: ActivationStatus,
) -> Reconciled {
    let current = shared.read(|| shared.backend.get(device)).await;
    match current {
        Err(e @ ApiError::Auth { .. }) => {
            let message = super::auth_advice(&e, shared.backend.name());
            shared.abort(Fatal { code: "auth_rejected".into(), message });
            Reconciled::Failed(e)
        }
        Err(e) => Reconciled::Failed(e),
        Ok(None) => Reconciled::Failed(ApiError::Rejected {
            status: 404,
            code: "token_disappeared".into(),
            message: format!("token {} is no longer in the tenant", row.serial),
            body: String::new(),
        }),
        Ok(Some(d)) => {
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
                    message: format!("the tenant reports status '{}'", device.token.status),
                    body: String::new(),
                }),
            }
        }
    }
}
