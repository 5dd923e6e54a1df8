//! Does the tenant take the next step's code? Learned from the tenant, not assumed.
//!
//! Every token's steps end together (at multiples of 30 s), so near a step's end a code may
//! reach the tenant after its step is over. The docs say the service accepts a code "about one
//! step either side" and call the window unverified. Assuming it would lose codes on a strict
//! tenant; assuming strictness pauses *every* row at each boundary for the margin (half a
//! second or more): at 100 writes/s, a tenth of a short run.
//!
//! So the first row to reach a boundary's margin asks: it sends the **next** step's code.
//! - Accepted: the tenant takes a code one step ahead. From then on a row in the margin sends
//!   the next step's code (valid before the boundary by the tenant's word, and after it as
//!   the current one) and nobody pauses.
//! - Refused: the tenant is strict (or the key is wrong). The row waits for the boundary and
//!   sends the same code again, now current; the run pauses at boundaries as it always did.
//!   The question costs one request, on a strict tenant only, once per run.
//!
//! Rows reaching the margin while the question is open wait for its answer (one round trip)
//! or the boundary, whichever comes first. An answer that says nothing about the code (a 429,
//! a lost reply) leaves the question open for the next row to ask.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// What the run knows about codes one step ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not asked yet (or no answer yet).
    Unknown,
    /// The tenant accepted a code of the step after its current one.
    TakesNext,
    /// The tenant refused one: only the current step's code is sent.
    Strict,
}

/// The run's one answer to the question, shared by every row.
#[derive(Debug)]
pub struct TenantWindow {
    verdict: watch::Sender<Verdict>,
    /// A row is asking (its write is in flight).
    asking: AtomicBool,
}

impl Default for TenantWindow {
    fn default() -> Self {
        Self::new(Verdict::Unknown)
    }
}

impl TenantWindow {
    pub fn new(verdict: Verdict) -> Self {
        Self { verdict: watch::Sender::new(verdict), asking: AtomicBool::new(false) }
    }

    pub fn verdict(&self) -> Verdict {
        *self.verdict.borrow()
    }

    /// Become the row that asks: one row at a time, while the verdict is unknown. The
    /// question goes back to the others when it is dropped unanswered (the boundary passed
    /// before it went out, a 429, no reply, the run stopped).
    pub fn try_ask(&self) -> Option<Question<'_>> {
        let free = self.verdict() == Verdict::Unknown
            && self.asking.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok();
        free.then_some(Question(self))
    }

    /// The row whose refusal said "strict" had its current code refused too: the key was
    /// wrong, which says nothing about the tenant. The question is open again.
    pub fn reopen(&self) {
        self.verdict.send_if_modified(|v| {
            let strict = *v == Verdict::Strict;
            if strict {
                *v = Verdict::Unknown;
            }
            strict
        });
    }

    /// Wait up to `d`, less if the verdict changes meanwhile.
    pub async fn until_verdict_within(&self, d: Duration) {
        let mut rx = self.verdict.subscribe();
        let _ = tokio::time::timeout(d, rx.changed()).await;
    }
}

/// The right to ask, held by one row at a time.
#[derive(Debug)]
pub struct Question<'a>(&'a TenantWindow);

impl Question<'_> {
    /// The asking row's code was accepted (`true`) or refused (`false`).
    pub fn answered(self, accepted: bool) {
        self.0.verdict.send_replace(if accepted { Verdict::TakesNext } else { Verdict::Strict });
    }
}

impl Drop for Question<'_> {
    fn drop(&mut self) {
        self.0.asking.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_asks_at_a_time_and_only_while_unknown() {
        let w = TenantWindow::default();
        let q = w.try_ask().expect("the first row asks");
        assert!(w.try_ask().is_none(), "a second asker while the first is in flight");
        drop(q);
        let q = w.try_ask().expect("no answer: the next row asks");
        q.answered(false);
        assert_eq!(w.verdict(), Verdict::Strict);
        assert!(w.try_ask().is_none(), "answered: nobody asks again");
        w.reopen();
        assert_eq!(w.verdict(), Verdict::Unknown, "the asker's key was wrong: ask again");
        assert!(w.try_ask().is_some());
        let w = TenantWindow::default();
        w.try_ask().unwrap().answered(true);
        assert_eq!(w.verdict(), Verdict::TakesNext);
        assert!(w.try_ask().is_none());
        w.reopen();
        assert_eq!(w.verdict(), Verdict::TakesNext, "a yes stays a yes");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_row_wakes_at_the_verdict_not_the_boundary() {
        let w = std::sync::Arc::new(TenantWindow::default());
        let started = tokio::time::Instant::now();
        let answer = {
            let w = w.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(60)).await;
                w.try_ask().unwrap().answered(true);
            })
        };
        w.until_verdict_within(Duration::from_secs(2)).await;
        assert_eq!(started.elapsed(), Duration::from_millis(60));
        answer.await.unwrap();
        // No change coming: the whole wait.
        let started = tokio::time::Instant::now();
        w.until_verdict_within(Duration::from_millis(700)).await;
        assert_eq!(started.elapsed(), Duration::from_millis(700));
    }
}
