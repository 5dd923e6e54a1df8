//! Does the tenant take the next step's code? Learned from the tenant, not assumed.
//!
//! Every token's steps end together (at multiples of 30 s), so near a step's end a code may
//! reach the tenant after its step is over. The docs say the service accepts a code "about one
//! step either side" and call the window unverified. Assuming it would lose codes on a strict
//! tenant; assuming strictness pauses *every* row at each boundary for the margin (half a
//! second or more): at 100 writes/s, a tenth of a short run.
//!
//! So the first row to come within two margins of a boundary asks: it sends the **next**
//! step's code. (Asked a margin early, the answer is in before any row needs it; asked at the
//! margin, every row reaching it waited a round trip, and at a high pace those lost write
//! slots let the tenant's bucket fill and overflow, which made the next pair of 429s read its
//! rate low.)
//! - Accepted: the tenant takes a code one step ahead. From then on a row in the margin sends
//!   the next step's code (valid before the boundary by the tenant's word, and after it as
//!   the current one) and nobody pauses.
//! - Refused: the tenant is strict, or the row's key is wrong. One refusal is not believed:
//!   another row asks too (a file's first writable row with a wrong key otherwise stood the
//!   whole run still at the margin). Two rows refused, or a refused row whose current code
//!   then passes, make the tenant strict: the run pauses at boundaries as it always did. A
//!   refused row sends its current code if it is still outside the margin, else waits for the
//!   boundary and sends the same code again, now current; if that is refused too, its key was
//!   wrong and its refusal is forgotten. If another row's question is answered yes while it
//!   waits, its key was wrong too, and it ends at once (near a run's end, its wait for the
//!   boundary held the whole run). The question costs one or two requests, on a strict
//!   tenant only, once per run.
//!
//! Rows reaching the margin while the question is still open wait for its answer (one round
//! trip) or the boundary, whichever comes first. An answer that says nothing about the code (a 429,
//! a lost reply) leaves the question open for the next row to ask.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
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
    /// Questions refused and not yet explained by a wrong key.
    refused: AtomicU32,
}

/// Refused questions that make a tenant strict: one may be a wrong key.
const REFUSALS_FOR_STRICT: u32 = 2;

impl Default for TenantWindow {
    fn default() -> Self {
        Self::new(Verdict::Unknown)
    }
}

impl TenantWindow {
    pub fn new(verdict: Verdict) -> Self {
        Self { verdict: watch::Sender::new(verdict), asking: AtomicBool::new(false), refused: AtomicU32::new(0) }
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
        // `then`, not `then_some`: a guard built eagerly and dropped on a refusal would free
        // the asker's right for everyone.
        free.then(|| Question(self))
    }

    /// A row whose question was refused had its current code refused too: its key was
    /// wrong, which says nothing about the tenant. Its refusal no longer counts.
    pub fn reopen(&self) {
        let before = self.refused.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_sub(1)));
        let left = before.unwrap_or(0).saturating_sub(1);
        self.verdict.send_if_modified(|v| {
            let reopened = *v == Verdict::Strict && left < REFUSALS_FOR_STRICT;
            if reopened {
                *v = Verdict::Unknown;
            }
            reopened
        });
    }

    /// A row whose question was refused had its current code accepted (its key is right, so
    /// the tenant refused a code of the next step), or two rows' questions were refused.
    pub fn strict(&self) {
        self.verdict.send_if_modified(|v| {
            let unknown = *v == Verdict::Unknown;
            if unknown {
                *v = Verdict::Strict;
            }
            unknown
        });
    }

    /// Wait up to `d`, less if the verdict changes meanwhile or the question is free again.
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
        if accepted {
            self.0.verdict.send_replace(Verdict::TakesNext);
        } else if self.0.refused.fetch_add(1, Ordering::AcqRel) + 1 >= REFUSALS_FOR_STRICT {
            self.0.strict();
        }
        // (Dropped now: the question is free for another row, and the waiting rows wake.)
    }
}

impl Drop for Question<'_> {
    fn drop(&mut self) {
        self.0.asking.store(false, Ordering::Release);
        // Wake the rows waiting for the answer: unanswered, the question is theirs to ask
        // (else they all sleep to the boundary — seen in the benchmark: the first row to ask
        // was someone else's token, and the run stood still for a second).
        self.0.verdict.send_modify(|_| {});
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
        assert!(w.try_ask().is_none(), "a refused asker does not free the question for a third");
        drop(q);
        let q = w.try_ask().expect("no answer: the next row asks");
        q.answered(false);
        assert_eq!(w.verdict(), Verdict::Unknown, "one refusal may be a wrong key");
        let q = w.try_ask().expect("another row asks");
        q.answered(false);
        assert_eq!(w.verdict(), Verdict::Strict, "two rows refused");
        assert!(w.try_ask().is_none(), "answered: nobody asks again");
        w.reopen();
        assert_eq!(w.verdict(), Verdict::Unknown, "one asker's key was wrong: ask again");
        assert!(w.try_ask().is_some());
        let w = TenantWindow::default();
        w.try_ask().unwrap().answered(false);
        w.strict();
        assert_eq!(w.verdict(), Verdict::Strict, "a refused asker whose current code passed");
        let w = TenantWindow::default();
        w.try_ask().unwrap().answered(false);
        w.reopen();
        w.try_ask().unwrap().answered(false);
        assert_eq!(w.verdict(), Verdict::Unknown, "a wrong key's refusal does not count");
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
        // An asker whose answer said nothing (someone else's token, a 429): the waiting row
        // wakes to ask in its place.
        let started = tokio::time::Instant::now();
        let w2 = std::sync::Arc::new(TenantWindow::default());
        let dropped = {
            let w2 = w2.clone();
            tokio::spawn(async move {
                let q = w2.try_ask().unwrap();
                tokio::time::sleep(Duration::from_millis(60)).await;
                drop(q);
            })
        };
        tokio::task::yield_now().await;
        w2.until_verdict_within(Duration::from_secs(2)).await;
        assert_eq!(started.elapsed(), Duration::from_millis(60));
        assert!(w2.try_ask().is_some(), "the question is free");
        dropped.await.unwrap();
        // No change coming: the whole wait.
        let started = tokio::time::Instant::now();
        w.until_verdict_within(Duration::from_millis(700)).await;
        assert_eq!(started.elapsed(), Duration::from_millis(700));
    }
}
