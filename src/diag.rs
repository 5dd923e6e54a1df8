//! stderr: diagnostics and progress, for people (text, an indicatif bar on a terminal) or
//! for programs (`--progress json`: every stderr line is a `progress` or `diagnostic`
//! record). Never stdout, which carries only records.

use crate::record::{Diagnostic, Progress, Record};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `--progress json` was asked for: every stderr line is a record, for a program.
static STDERR_FOR_PROGRAMS: AtomicBool = AtomicBool::new(false);

/// A person reads stderr: it is a terminal, and no `--progress json` made it a program's.
pub fn stderr_is_for_people() -> bool {
    !STDERR_FOR_PROGRAMS.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// The run's closing line ([`crate::human::closing_line`]) on stderr, for a person.
pub fn closing(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", crate::redact::for_people(line));
}

/// The wait the tenant asked for last (`Retry-After` on a 429 or 503): when it was asked and
/// how long. One process runs one command, so one run's.
static TENANT_WAIT: Mutex<Option<(Instant, Duration)>> = Mutex::new(None);

/// The tenant answered `Retry-After: wait` (the HTTP layer calls this on every throttled
/// answer): the engine holds the request, or every request, that long. The bar says so.
pub fn tenant_asked_wait(wait: Duration) {
    let now = Instant::now();
    let mut last = TENANT_WAIT.lock().unwrap_or_else(|p| p.into_inner());
    // The wait that ends last is the one the run is held by.
    if last.is_none_or(|(at, d)| at + d < now + wait) {
        *last = Some((now, wait));
    }
}

/// What is left of the tenant's last asked wait, at `now`.
fn tenant_wait_left(now: Instant) -> Option<Duration> {
    let last = *TENANT_WAIT.lock().unwrap_or_else(|p| p.into_inner());
    last.and_then(|(at, d)| (at + d).checked_duration_since(now)).filter(|d| !d.is_zero())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal, nothing otherwise.
    #[default]
    Auto,
    Bar,
    /// JSON lines on stderr (for the PowerShell module).
    Json,
    None,
}

struct State {
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    phase: String,
    done: u64,
    total: Option<u64>,
    last_json: Option<Instant>,
}

/// A cheap handle; clones share one stderr state.
#[derive(Clone)]
pub struct Diag {
    state: Arc<Mutex<State>>,
}

impl Diag {
    pub fn new(mode: ProgressMode) -> Self {
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::None,
            m => m,
        };
        if mode == ProgressMode::Json {
            STDERR_FOR_PROGRAMS.store(true, Ordering::Relaxed);
        }
        Self {
            state: Arc::new(Mutex::new(State {
                mode,
                bar: None,
                phase: String::new(),
                done: 0,
                total: None,
                last_json: None,
            })),
        }
    }

    pub fn is_json(&self) -> bool {
        self.state.lock().unwrap().mode == ProgressMode::Json
    }

    fn line(&self, level: &str, code: Option<&str>, message: &str) {
        let st = self.state.lock().unwrap();
        if st.mode == ProgressMode::Json {
            let rec = Record::Diagnostic(Diagnostic {
                level: level.into(),
                message: message.into(),
                code: code.map(str::to_string),
            });
            write_json(&rec);
        } else {
            let text = format!("oathbulk: {level}: {}", crate::redact::for_people(message));
            match &st.bar {
                Some(bar) => bar.println(text),
                None => stderr_line(&text),
            }
        }
    }

    pub fn info(&self, message: &str) {
        self.line("info", None, message);
    }
    pub fn warn(&self, code: &str, message: &str) {
        self.line("warn", Some(code), message);
    }
    /// The device-code sign-in instruction: a person must read it, whatever the mode.
    pub fn sign_in(&self, message: &str) {
        let st = self.state.lock().unwrap();
        if st.mode == ProgressMode::Json {
            let rec = Record::Progress(Progress {
                phase: "sign_in".into(),
                done: 0,
                total: None,
                message: Some(message.into()),
            });
            write_json(&rec);
        } else {
            stderr_line(&crate::redact::for_people(message));
        }
    }

    pub fn error(&self, code: &str, message: &str) {
        self.line("error", Some(code), message);
    }

    /// Start a phase with a known (or unknown) total.
    pub fn start(&self, phase: &str, total: Option<u64>) {
        let mut st = self.state.lock().unwrap();
        st.phase = phase.into();
        st.done = 0;
        st.total = total;
        st.last_json = None;
        if st.mode == ProgressMode::Bar {
            if let Some(old) = st.bar.take() {
                old.finish_and_clear();
            }
            let bar = match total {
                Some(t) => ProgressBar::new(t),
                None => ProgressBar::new_spinner(),
            };
            bar.set_style(bar_style(total.is_some()));
            bar.set_message(phase.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            st.bar = Some(bar);
        }
        drop(st);
        self.emit_json(true);
    }

    pub fn advance(&self, n: u64) {
        {
            let mut st = self.state.lock().unwrap();
            st.done += n;
            if let Some(bar) = &st.bar {
                bar.inc(n);
            }
        }
        self.emit_json(false);
    }

    /// Take the bar off the terminal, if one is drawn (a run that stopped mid-phase), so the
    /// lines that end the run come after it and no redraw lands under them.
    pub fn clear_bar(&self) {
        if let Some(bar) = self.state.lock().unwrap().bar.take() {
            bar.finish_and_clear();
        }
    }

    pub fn finish(&self) {
        {
            let mut st = self.state.lock().unwrap();
            if let Some(bar) = st.bar.take() {
                bar.finish_and_clear();
            }
        }
        self.emit_json(true);
    }

    fn emit_json(&self, force: bool) {
        let mut st = self.state.lock().unwrap();
        if st.mode != ProgressMode::Json {
            return;
        }
        // At most ten records a second, plus the first and last: enough for Write-Progress.
        let now = Instant::now();
        let complete = st.total.is_some_and(|t| st.done >= t);
        if !force && !complete && st.last_json.is_some_and(|t| now.duration_since(t) < Duration::from_millis(100)) {
            return;
        }
        st.last_json = Some(now);
        let rec = Record::Progress(Progress { phase: st.phase.clone(), done: st.done, total: st.total, message: None });
        write_json(&rec);
    }
}

/// Write one line on stderr. A closed stderr, or one whose reader went away, loses the
/// line and nothing else: `eprintln!` would panic there and end the run with a bare exit 101
/// and no summary. Every stderr line of the tool goes through here (or [`write_json`]).
pub fn stderr_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|_| err.write_all(b"\n")).and_then(|_| err.flush());
}

/// The bar: rate to one decimal, the time left at the current pace, and why it stands still
/// when the tenant asked the run to wait.
/// A phase of unknown length (reading the tenant's inventory) is a spinner: no `0/0`, no ETA.
fn bar_style(total_known: bool) -> ProgressStyle {
    let template = if total_known {
        "{msg:>10} [{bar:30}] {pos}/{len} {rate} eta {eta_pace}{tenant_wait}"
    } else {
        "{msg:>10} {spinner} {elapsed}{tenant_wait}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&rate(s.per_sec()));
        })
        .with_key("eta_pace", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let left = s.len().map(|len| len.saturating_sub(s.pos()));
            let _ = w.write_str(&eta(left, s.per_sec(), tenant_wait_left(Instant::now())));
        })
        .with_key("tenant_wait", |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            if let Some(left) = tenant_wait_left(Instant::now()) {
                let _ = w.write_str(&format!("  {}", waiting(left)));
            }
        })
}

/// `87.8/s`: a person reads one decimal, not `87.7969/s`.
fn rate(per_sec: f64) -> String {
    if per_sec.is_finite() && per_sec > 0.0 {
        format!("{per_sec:.1}/s")
    } else {
        "-/s".into()
    }
}

/// The time left: the rows left at the current pace, after the wait the tenant asked for.
/// `?` before there is a pace (or with no total).
fn eta(left: Option<u64>, per_sec: f64, wait: Option<Duration>) -> String {
    let Some(left) = left else { return "?".into() };
    if left == 0 {
        return "0 s".into();
    }
    if !per_sec.is_finite() || per_sec <= 0.0 {
        return "?".into();
    }
    let secs = left as f64 / per_sec + wait.map_or(0.0, |w| w.as_secs_f64());
    let secs = secs.min(100.0 * 3600.0).ceil() as u64;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {:02} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, (secs / 60) % 60),
    }
}

/// `waiting 7 s — the tenant asked (Retry-After)`.
fn waiting(left: Duration) -> String {
    format!("waiting {} s — the tenant asked (Retry-After)", left.as_secs_f64().ceil() as u64)
}

/// A record on stderr (`--progress json`), through the one serialisation.
fn write_json(rec: &Record) {
    if let Ok(line) = crate::jsonl::json_line(rec) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(&line);
        let _ = err.write_all(b"\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_has_one_decimal() {
        assert_eq!(rate(87.7969), "87.8/s");
        assert_eq!(rate(0.6667), "0.7/s");
        assert_eq!(rate(0.0), "-/s");
        assert_eq!(rate(f64::NAN), "-/s");
    }

    #[test]
    fn the_eta_is_the_rows_left_at_the_pace_plus_the_wait() {
        assert_eq!(eta(Some(100), 10.0, None), "10 s");
        assert_eq!(eta(Some(100), 10.0, Some(Duration::from_secs(7))), "17 s");
        assert_eq!(eta(Some(1000), 4.0, None), "4 min 10 s");
        assert_eq!(eta(Some(100_000), 10.0, None), "2 h 46 min");
        assert_eq!(eta(Some(5), 0.0, None), "?");
        assert_eq!(eta(Some(0), 0.0, None), "0 s");
        assert_eq!(eta(None, 3.0, None), "?");
    }

    #[test]
    fn a_wait_the_tenant_asked_for_is_said_while_it_lasts() {
        assert_eq!(waiting(Duration::from_millis(6200)), "waiting 7 s — the tenant asked (Retry-After)");
        tenant_asked_wait(Duration::from_secs(7));
        let left = tenant_wait_left(Instant::now()).expect("a wait is on");
        assert!(left <= Duration::from_secs(7) && left > Duration::from_secs(6), "{left:?}");
        // A shorter wait asked later does not hide the longer one.
        tenant_asked_wait(Duration::from_secs(1));
        assert!(tenant_wait_left(Instant::now()).unwrap() > Duration::from_secs(5));
        assert_eq!(tenant_wait_left(Instant::now() + Duration::from_secs(8)), None, "over");
    }
}
