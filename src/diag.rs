//! stderr: diagnostics and progress, for people (text, an indicatif bar on a terminal) or
//! for programs (`--progress json`: every stderr line is a `progress` or `diagnostic`
//! record). Never stdout, which carries only records.

use crate::record::{Diagnostic, Progress, Record};
use indicatif::{ProgressBar, ProgressStyle};
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
    let _ = writeln!(err, "{}", for_people(line));
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
            let text = format!("oathbulk: {level}: {}", for_people(message));
            match &st.bar {
                Some(bar) => bar.println(text),
                None => eprintln!("{text}"),
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
            eprintln!("{}", for_people(message));
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
            bar.set_style(
                ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
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

/// A line for people on stderr: redacted, controls escaped.
pub fn for_people(message: &str) -> String {
    crate::output::escape_controls(&crate::auth::redact::scrub(message)).into_owned()
}

/// A record on stderr (`--progress json`), through the one serialisation.
fn write_json(rec: &Record) {
    if let Ok(line) = crate::output::json_line(rec) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(&line);
        let _ = err.write_all(b"\n");
    }
}
