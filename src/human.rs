//! What a person reads at the end of a run: one line that says how it went — counts by
//! status, requests, throttled waits, elapsed time, exit code — and, when something failed,
//! what to do next. The one place that line is made, for every command and every format:
//! [`crate::output::Output`] puts it on stderr when a person reads stderr, or under the table.

use crate::record::Summary;
use crate::stop::StopReason;
use std::path::PathBuf;
use std::time::Duration;

/// What a run's closing line can point a person to when rows failed or the run stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextStep {
    /// `--error-log FILE`: the details of every failure.
    pub error_log: Option<PathBuf>,
    /// How to try again (`re-run with --journal run.jsonl --resume`); `None`: a command that
    /// reads a file only, whose failed rows are the file's to fix.
    pub rerun: Option<String>,
}

impl NextStep {
    /// A command that writes to the tenant: re-run it with its journal and `--resume` (only
    /// what is not done), or without a journal as it was (the tenant is read before any write).
    pub fn writes(journal: Option<&std::path::Path>, error_log: Option<&std::path::Path>) -> Self {
        let rerun = match journal {
            Some(j) => format!("re-run with --journal {} --resume", j.display()),
            None => "re-run the same command".into(),
        };
        Self { error_log: error_log.map(PathBuf::from), rerun: Some(rerun) }
    }
}

/// `activate: 20 rows, 17 ok, 3 errors [activated=17, failed=3], 43 requests, 2 throttled
/// waits, in 1.2 s (exit 1). 3 rows failed: see errors.log; re-run with --journal run.jsonl
/// --resume` — one line, no newline.
pub fn closing_line(s: &Summary, next: &NextStep) -> String {
    let mut line = format!("{}: {} rows, {} ok, {} errors", s.command, s.rows, s.ok, s.errors);
    if !s.counts.is_empty() {
        let counts: Vec<String> = s.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        line.push_str(&format!(" [{}]", counts.join(", ")));
    }
    if let Some(n) = s.filtered {
        line.push_str(&format!(", {n} left out"));
    }
    if let Some(n) = s.requests {
        line.push_str(&format!(", {n} {}", plural(n, "request", "requests")));
    }
    if let Some(n) = s.throttled {
        line.push_str(&format!(", {n} throttled {}", plural(n, "wait", "waits")));
    }
    if s.dry_run == Some(true) {
        line.push_str(", dry run");
    }
    // Why it stopped is said just above, at length (`oathbulk: error: …`): here, its name.
    let stopped = s.fatal.as_ref().map(|f| format!(", stopped: {}", f.code.as_str())).unwrap_or_default();
    line.push_str(&format!(" in {} (exit {}{stopped})", elapsed(Duration::from_millis(s.elapsed_ms)), s.exit_code));
    if let Some(step) = next_step(s, next) {
        line.push_str(". ");
        line.push_str(&step);
    }
    line
}

/// What to do after a run that did not do everything: `None` when it did.
fn next_step(s: &Summary, next: &NextStep) -> Option<String> {
    // A run stopped on its way (not by its arguments): a re-run does what is left.
    let stop = s.fatal.as_ref().map(|f| f.code).filter(|c| *c != StopReason::Usage);
    let mut what = Vec::new();
    if s.errors > 0 {
        if let Some(log) = &next.error_log {
            what.push(format!("see {}", log.display()));
        } else if next.rerun.is_some() && stop.is_none() {
            what.push("each record's error_message says why".to_string());
        }
    }
    match (&next.rerun, stop) {
        (Some(rerun), Some(StopReason::Interrupted)) => what.push(format!("{rerun} to finish")),
        (Some(rerun), Some(_)) => what.push(format!("fix what stopped the run, then {rerun} to finish")),
        (Some(rerun), None) if s.errors > 0 => what.push(format!("{rerun} to retry them")),
        (None, _) if s.errors > 0 => what.push("fix those rows of the CSV (`oathbulk check` explains each)".into()),
        _ => {}
    }
    if what.is_empty() {
        return None;
    }
    let what = what.join("; ");
    Some(match (s.errors, stop) {
        (0, _) => what,
        (n, Some(_)) => format!("{n} {} not done: {what}", plural(n, "row", "rows")),
        (n, None) => format!("{n} {} failed: {what}", plural(n, "row", "rows")),
    })
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `365 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn elapsed(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 10_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{} h {:02} min", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Fatal;

    fn summary() -> Summary {
        Summary {
            command: "activate".into(),
            rows: 20,
            ok: 17,
            errors: 3,
            counts: [("activated".to_string(), 17), ("failed".to_string(), 3)].into_iter().collect(),
            elapsed_ms: 1234,
            exit_code: 1,
            requests: Some(43),
            throttled: Some(2),
            ..Default::default()
        }
    }

    #[test]
    fn the_line_counts_by_status_requests_waits_time_and_exit() {
        let line = closing_line(&summary(), &NextStep::default());
        assert!(
            line.starts_with(
                "activate: 20 rows, 17 ok, 3 errors [activated=17, failed=3], 43 requests, 2 throttled waits in 1234 ms (exit 1). 3 rows failed: "
            ),
            "{line}"
        );
        assert!(!line.contains('\n'), "one line: {line}");
        assert!(line.ends_with("fix those rows of the CSV (`oathbulk check` explains each)"), "{line}");
        let line = closing_line(&summary(), &NextStep::writes(None, None));
        assert!(
            line.ends_with(
                "3 rows failed: each record's error_message says why; re-run the same command to retry them"
            ),
            "{line}"
        );
    }

    #[test]
    fn a_failure_names_the_error_log_and_the_resume() {
        let next = NextStep::writes(Some("run.jsonl".as_ref()), Some("errors.log".as_ref()));
        let line = closing_line(&summary(), &next);
        assert!(
            line.ends_with(". 3 rows failed: see errors.log; re-run with --journal run.jsonl --resume to retry them"),
            "{line}"
        );
    }

    #[test]
    fn a_clean_run_has_no_next_step_and_an_offline_one_no_requests() {
        let s = Summary { command: "list".into(), rows: 2, ok: 2, elapsed_ms: 5, ..Default::default() };
        assert_eq!(closing_line(&s, &NextStep::default()), "list: 2 rows, 2 ok, 0 errors in 5 ms (exit 0)");
    }

    #[test]
    fn a_stopped_run_with_a_journal_says_how_to_finish() {
        let s = Summary {
            errors: 0,
            ok: 5,
            rows: 5,
            exit_code: 130,
            fatal: Some(Fatal { code: StopReason::Interrupted, message: "interrupted (Ctrl-C)".into() }),
            ..summary()
        };
        let next = NextStep::writes(Some("j.jsonl".as_ref()), None);
        let line = closing_line(&s, &next);
        assert!(line.contains(" in 1234 ms (exit 130, stopped: interrupted)."), "{line}");
        assert!(line.ends_with(". re-run with --journal j.jsonl --resume to finish"), "{line}");
        // Rows the run never reached, and a cause to fix first.
        let s = Summary {
            errors: 3,
            exit_code: 3,
            fatal: Some(Fatal { code: StopReason::AuthRejected, message: "HTTP 403".into() }),
            ..summary()
        };
        let line = closing_line(&s, &NextStep::writes(None, None));
        assert!(
            line.ends_with(
                "(exit 3, stopped: auth_rejected). 3 rows not done: fix what stopped the run, then re-run the same command to finish"
            ),
            "{line}"
        );
    }

    #[test]
    fn elapsed_reads_at_every_scale() {
        assert_eq!(elapsed(Duration::from_millis(365)), "365 ms");
        assert_eq!(elapsed(Duration::from_millis(12_345)), "12.3 s");
        assert_eq!(elapsed(Duration::from_secs(245)), "4 min 05 s");
        assert_eq!(elapsed(Duration::from_secs(7380)), "2 h 03 min");
    }
}
