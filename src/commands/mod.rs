//! What each subcommand does, one file per subcommand (its arguments are in `crate::cli`),
//! and how a command ends: its exit code from the one list (`crate::stop`), the summary of a
//! stop.

mod activate;
mod change;
mod check;
mod completions;
pub mod connect;
mod doctor;
mod import;
mod list;
mod login;
mod otp;
mod report;
mod simulate;
mod status;
mod tenant;
mod undo;
mod users;

use crate::cli::{Cli, Command};
use crate::record::Fatal;
use crate::stop::{ExitCode, StopReason};
use clap::{CommandFactory, FromArgMatches};

/// A thread of the tool panicked: a bug, classified apart from usage errors.
#[derive(Debug, thiserror::Error)]
#[error("internal error (a bug, please report it): {0}")]
pub struct Internal(pub String);

/// Parse the command line and run. Returns the exit code (the one list, `crate::stop`);
/// `main` hands it to the process.
pub fn run() -> ExitCode {
    install_panic_hook();
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // The command's name and output format, for a summary of a stop before it ran (or of a bug).
    let name = matches.subcommand_name().unwrap_or_default().to_string();
    let format = matches
        .subcommand()
        .and_then(|(_, sub)| sub.try_get_one::<crate::output::Format>("format").ok().flatten().copied())
        .unwrap_or_default();
    let started = std::time::Instant::now();
    if let Some(message) = crate::cli::stdin_conflict(&matches) {
        // A usage error like any other found after parsing: said on stderr, and the
        // summary on stdout carries it, before anything was read.
        let diag = crate::diag::Diag::new(crate::diag::ProgressMode::None);
        return fatal_summary(&name, anyhow::anyhow!(message), &diag, format, started);
    }
    // A bug (a panic) on the main thread ends the command with exit 70 and a summary that
    // says so, like a panic in a row's task — never Rust's bare exit 101 without a summary.
    // The panic hook has already printed what happened on stderr.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || dispatch(cli))) {
        Ok(code) => code,
        Err(payload) => {
            let why = crate::stop::panic_text(payload.as_ref());
            let fatal = Fatal { code: StopReason::Internal, message: Internal(format!("panicked: {why}")).to_string() };
            let diag = crate::diag::Diag::new(crate::diag::ProgressMode::None);
            summary_of_stop(&name, fatal, &diag, format, started)
        }
    }
}

/// A bug's message on stderr goes through the redactor (a panic message may quote what was
/// being parsed: a token, a seed) with controls escaped, and a closed stderr is no second
/// panic. Rust's default hook prints the message as it is.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let why = crate::stop::panic_text(info.payload());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        crate::diag::stderr_line(&format!(
            "oathbulk: a bug: thread '{thread}' panicked{at}: {}",
            crate::redact::for_people(&why)
        ));
    }));
}

fn dispatch(cli: Cli) -> ExitCode {
    // Debug builds only: a way for the test suite to reach the panic path above.
    #[cfg(debug_assertions)]
    if std::env::var_os("OATHBULK_DEBUG_PANIC").is_some() {
        panic!("OATHBULK_DEBUG_PANIC is set (the test of the panic path)");
    }
    let result = match cli.command {
        Command::List(a) => list::run(a),
        Command::Otp(a) => otp::run(a),
        Command::Check(a) => check::run(a),
        Command::Simulate(a) => simulate::run(*a),
        Command::Import(a) => import::run(*a),
        Command::Deactivate(a) => change::run(crate::record::ChangeOperation::Deactivate, *a),
        Command::Unassign(a) => change::run(crate::record::ChangeOperation::Unassign, *a),
        Command::Remove(a) => change::run(crate::record::ChangeOperation::Remove, *a),
        Command::Undo(a) => undo::run(*a),
        Command::Activate(a) => activate::run(*a),
        Command::Tenant(a) => tenant::run(*a),
        Command::Users(a) => users::run(*a),
        Command::Status(a) => status::run(*a),
        Command::Report(a) => report::run(*a),
        Command::Doctor(a) => doctor::run(*a),
        Command::Login(a) => login::run_login(*a),
        Command::Logout(a) => login::run_logout(*a),
        Command::Completions(a) => completions::run_completions(a),
        Command::Manpages(a) => completions::run_manpages(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => report_fatal(&e),
    }
}

/// Print an error that stopped the command before its summary. Broken pipes (the reader
/// went away, e.g. `| head`) end quietly.
pub fn report_fatal(e: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(e) {
        return ExitCode::Ok;
    }
    crate::diag::stderr_line(&format!("oathbulk: error: {}", crate::redact::for_people(&format!("{e:#}"))));
    stop_reason_for(e).exit_code()
}

/// stdout's reader went away (`| head -1`): what it wanted was written. Every command ends
/// quietly with exit 0 then, as `list` does; there is no stdout left for a summary.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().and_then(|j| j.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// Why an error stopped a command, from what it is made of: a refused sign-in or a rejected
/// token is `auth_rejected`, no answer from a server is `network`, a server's failure is
/// `service`, anything else (arguments, files) is `usage`.
pub fn stop_reason_for(e: &anyhow::Error) -> StopReason {
    for cause in e.chain() {
        if cause.downcast_ref::<Internal>().is_some() {
            return StopReason::Internal;
        }
        if cause.downcast_ref::<crate::auth::SignInRefused>().is_some() {
            return StopReason::AuthRejected;
        }
        if let Some(api) = cause.downcast_ref::<crate::api_error::ApiError>() {
            return match api {
                crate::api_error::ApiError::Auth { .. } => StopReason::AuthRejected,
                crate::api_error::ApiError::Transport { .. } => StopReason::Network,
                _ => StopReason::Service,
            };
        }
        if let Some(http) = cause.downcast_ref::<reqwest::Error>() {
            return if http.is_connect() || http.is_timeout() || http.is_request() {
                StopReason::Network
            } else {
                StopReason::Service
            };
        }
    }
    StopReason::Usage
}

/// Run a network command so that any error that stops it still ends stdout with a
/// `summary` (see [`fatal_summary`]).
pub fn guarded<A>(
    command: &str,
    args: A,
    progress: crate::diag::ProgressMode,
    format: crate::output::Format,
    body: impl FnOnce(A, &crate::diag::Diag, std::time::Instant) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let diag = crate::diag::Diag::new(progress);
    match body(args, &diag, started) {
        Ok(code) => Ok(code),
        Err(e) => Ok(fatal_summary(command, e, &diag, format, started)),
    }
}

/// A network command that could not start: say why on stderr, and still end stdout with a
/// `summary` carrying the fatal condition, so a consumer reading records sees the reason.
pub fn fatal_summary(
    command: &str,
    e: anyhow::Error,
    diag: &crate::diag::Diag,
    format: crate::output::Format,
    started: std::time::Instant,
) -> ExitCode {
    if is_broken_pipe(&e) {
        return ExitCode::Ok;
    }
    let fatal = Fatal { code: stop_reason_for(&e), message: format!("{e:#}") };
    summary_of_stop(command, fatal, diag, format, started)
}

/// A tenant read that failed for good: exit 3 for a rejected token, 4 otherwise, with the
/// advice `auth_advice` gives for the backend.
pub fn api_failure_summary(
    command: &str,
    e: &crate::backend::ApiError,
    backend: &str,
    diag: &crate::diag::Diag,
    format: crate::output::Format,
    started: std::time::Instant,
) -> ExitCode {
    summary_of_stop(command, crate::activate::fatal_for(e, backend), diag, format, started)
}

/// Print the `summary` of a command that stopped early, and return its exit code.
pub fn summary_of_stop(
    command: &str,
    fatal: Fatal,
    diag: &crate::diag::Diag,
    format: crate::output::Format,
    started: std::time::Instant,
) -> ExitCode {
    use crate::record::{Record, Summary};
    diag.clear_bar();
    diag.error(fatal.code.as_str(), &fatal.message);
    let exit_code = fatal.code.exit_code();
    let summary = Summary {
        command: command.into(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        exit_code: exit_code.code(),
        fatal: Some(fatal),
        ..Default::default()
    };
    let mut out = crate::output::Output::stdout(format, true);
    let _ = out.emit(&Record::Summary(summary));
    let _ = out.finish();
    exit_code
}

/// The exit code a finished command's `summary` carries (the sink wrote it from the one list).
pub fn ended(summary: &crate::record::Summary) -> ExitCode {
    ExitCode::from_code(summary.exit_code).unwrap_or(ExitCode::Internal)
}

/// The end of an offline row command (`list`, `otp`, `check`, `users`): the summary, with the
/// rows a script left out, the exit code for its row errors and the time taken, printed last.
pub fn finish_rows(
    out: &mut crate::output::Output,
    mut summary: crate::record::Summary,
    filtered: Option<u64>,
    started: std::time::Instant,
) -> anyhow::Result<ExitCode> {
    summary.filtered = filtered;
    let exit_code = ExitCode::for_rows(summary.errors);
    summary.exit_code = exit_code.code();
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    out.emit(&crate::record::Record::Summary(summary.clone()))?;
    out.finish()?;
    Ok(exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_internal_not_usage() {
        let e = anyhow::Error::new(Internal("the compute thread panicked".into()));
        assert_eq!(stop_reason_for(&e), StopReason::Internal);
        assert_eq!(stop_reason_for(&e).exit_code(), ExitCode::Internal);
        assert_eq!(stop_reason_for(&anyhow::anyhow!("bad flag")), StopReason::Usage);
    }
}
