//! What a tenant says about its limits on answers it *took*: the throttle hints.
//!
//! A 429's `Retry-After` is the tenant's word after the fact. Some services also speak
//! before: `RateLimit-Limit` / `-Remaining` / `-Reset` (draft-polli-ratelimit-headers), or
//! the IETF fields `RateLimit: "name";r=0;t=5` with `RateLimit-Policy`
//! (draft-ietf-httpapi-ratelimit-headers). None is promised on any answer; the pacer uses a
//! hint where one comes and never waits for one (docs/pacing.md). Graph's own
//! `x-ms-throttle-limit-percentage` (the share of a limit used, sent above 0.8) says nothing
//! of *when*: holding the pace while it was above 0.8 was measured and cost up to 2% of wall
//! time on buckets for no fewer refusals, so it is not read.
//!
//! Every number here comes from outside: a malformed field is no hint, a reset past a day is
//! noise, and the engine clamps the rest like a `Retry-After`.

use std::time::Duration;

/// What one answer said about the tenant's limits.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Hint {
    /// Writes left before the limit refuses (the tightest limit named).
    pub remaining: Option<u64>,
    /// When that count is restored.
    pub reset: Option<Duration>,
}

/// The longest reset believed: past this a field is noise (an epoch time, a typo), not a window.
const RESET_MAX: Duration = Duration::from_secs(24 * 3600);

impl Hint {
    /// The hints in an answer's headers (`get` looks one up by lower-case name), if any.
    pub fn from_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Hint> {
        let mut hint = Hint::default();
        if let Some(v) = get("ratelimit") {
            (hint.remaining, hint.reset) = ietf_field(v);
        }
        if hint.remaining.is_none() {
            hint.remaining = get("ratelimit-remaining").and_then(whole);
            hint.reset = get("ratelimit-reset").and_then(whole).and_then(seconds);
        }
        // A reset alone says nothing: the count is what is spent or not.
        hint.remaining.is_some().then_some(hint)
    }

    /// The tenant says its budget is spent until this long from now.
    pub fn spent_for(&self) -> Option<Duration> {
        (self.remaining == Some(0)).then_some(self.reset).flatten()
    }
}

/// `RateLimit: "policy";r=REMAINING;t=RESET, "other";r=…` — the tightest item wins.
fn ietf_field(v: &str) -> (Option<u64>, Option<Duration>) {
    let mut best: (Option<u64>, Option<Duration>) = (None, None);
    for item in v.split(',') {
        let mut r = None;
        let mut t = None;
        for param in item.split(';').skip(1) {
            match param.trim().split_once('=') {
                Some(("r", n)) => r = whole(n),
                Some(("t", n)) => t = whole(n).and_then(seconds),
                _ => {}
            }
        }
        let Some(r) = r else { continue };
        if best.0.is_none_or(|b| r < b || (r == b && t > best.1)) {
            best = (Some(r), t);
        }
    }
    best
}

fn whole(v: &str) -> Option<u64> {
    v.trim().parse::<u64>().ok()
}

fn seconds(n: u64) -> Option<Duration> {
    Some(Duration::from_secs(n)).filter(|d| *d <= RESET_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(headers: &[(&str, &str)]) -> Option<Hint> {
        Hint::from_headers(|name| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
    }

    #[test]
    fn each_style_of_hint_is_read() {
        let h = parse(&[("ratelimit-limit", "100"), ("ratelimit-remaining", "0"), ("ratelimit-reset", "7")]).unwrap();
        assert_eq!(h.spent_for(), Some(Duration::from_secs(7)));
        let h = parse(&[("ratelimit", "\"burst\";r=4;t=1, \"window\";r=0;t=9")]).unwrap();
        assert_eq!((h.remaining, h.spent_for()), (Some(0), Some(Duration::from_secs(9))), "the tightest item");
        assert_eq!(parse(&[("x-ms-throttle-limit-percentage", "0.93")]), None, "says nothing of when");
        assert_eq!(parse(&[("content-type", "application/json")]), None, "no hint: none");
    }

    #[test]
    fn hostile_or_malformed_fields_are_no_hint() {
        assert_eq!(parse(&[("ratelimit-remaining", "-1"), ("ratelimit-reset", "5")]), None);
        let h = parse(&[("ratelimit-remaining", "0"), ("ratelimit-reset", "1700000000")]).unwrap();
        assert_eq!(h.spent_for(), None, "an epoch time is no window to wait out");
        assert_eq!(parse(&[("ratelimit", "garbage;;==,")]), None);
        let h = parse(&[("ratelimit-remaining", "3")]).unwrap();
        assert_eq!(h.spent_for(), None, "budget left: nothing to wait for");
    }
}
