//! Command-line definitions (clap derive), one file per subcommand, and exit codes.

mod activate;
mod args;
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

pub use args::{HashArg, InputArgs, OptionalInputArgs, OutputArgs, PaceArgs, RevealOutputArgs, ScriptArgs};

use crate::record::Fatal;
use crate::stop::{ExitCode, StopReason};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Exit codes: the one list lives in [`crate::stop`]; these names keep call sites short.
pub mod exit {
    use crate::stop::ExitCode;
    pub const OK: i32 = ExitCode::Ok.code();
    pub const USAGE: i32 = ExitCode::Usage.code();
    pub const INTERNAL: i32 = ExitCode::Internal.code();
}

/// A thread of the tool panicked: a bug, classified apart from usage errors.
#[derive(Debug)]
pub struct Internal(pub String);

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "internal error (a bug, please report it): {}", self.0)
    }
}

impl std::error::Error for Internal {}

#[derive(Debug, Parser)]
#[command(
    name = "oathbulk",
    version,
    about = "Activate hardware OATH TOTP tokens in Microsoft Entra ID in bulk",
    long_about = "Reads the vendor CSV, computes each token's current code and activates it through \
                  Microsoft Graph (or the legacy portal API). Records go to stdout: a table on a \
                  terminal, JSON lines into a pipe or a file (--format json|table forces either); \
                  diagnostics, progress and a closing line for a person go to stderr."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the CSV's rows as `token` records (no network).
    List(list::ListArgs),
    /// Compute each row's current code as `otp` records (no network).
    Otp(otp::OtpArgs),
    /// Validate a CSV: row errors, duplicate serials, users over 5 tokens, weak seeds (no network).
    Check(check::CheckArgs),
    /// Activate every row's token in the tenant; one `activation` record per row.
    Activate(Box<activate::ActivateArgs>),
    /// List the tenant's hardware token inventory as `tenant_token` records.
    Tenant(Box<tenant::TenantCmdArgs>),
    /// One `user` record per UPN of the CSV: tokens, count, a warning above Entra's five.
    Users(Box<users::UsersArgs>),
    /// A helpdesk's view of tokens or users (`--serial`, `--upn`, `--csv`): state, last use,
    /// methods against Entra's five, and the next step; one `token_status` record each.
    Status(Box<status::StatusArgs>),
    /// A run's story from its journal as one self-contained HTML page (`--html FILE`).
    Report(Box<report::ReportArgs>),
    /// Preflight: credentials, permissions, policy, clock, CSV and tenant, one `check` each.
    Doctor(Box<doctor::DoctorArgs>),
    /// Serve a simulated tenant (Graph and portal APIs) on loopback, for tests and rehearsals.
    Simulate(Box<simulate::SimulateArgs>),
    /// Create the CSV's tokens in the tenant's inventory (`--assign`, `--activate`); one `import` record per row.
    Import(Box<import::ImportArgs>),
    /// Deactivate tokens (they stay assigned); one `change` record per token.
    Deactivate(Box<change::ChangeArgs>),
    /// Take tokens from their users (back to available); one `change` record per token.
    Unassign(Box<change::ChangeArgs>),
    /// Delete tokens from the inventory (unassigning them first); one `change` record per token.
    Remove(Box<change::ChangeArgs>),
    /// Revert what a run did, from its journal (newest first); one `change` record per step.
    Undo(Box<undo::UndoArgs>),
    /// Sign in once (device code or app credentials) and keep the sign-in in the OS credential store.
    Login(Box<login::LoginArgs>),
    /// Forget the sign-in `login` kept.
    Logout(Box<login::LogoutArgs>),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Write man pages (for packaging).
    #[command(hide = true)]
    Manpages(completions::ManpagesArgs),
}

/// Parse the command line and run. Returns the process exit code.
pub fn run() -> i32 {
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
    if let Some(message) = stdin_conflict(&matches) {
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

fn dispatch(cli: Cli) -> i32 {
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

/// Standard input has one reader: a token, client assertion or code read from it
/// (`--token-stdin`, `--client-assertion-stdin`, `--code-stdin`) and a CSV read from it (`-`)
/// cannot share it. Checked on the parsed arguments of every subcommand, so a new command
/// cannot forget it.
fn stdin_conflict(matches: &clap::ArgMatches) -> Option<String> {
    let (_, sub) = matches.subcommand()?;
    let flag = ["token_stdin", "client_assertion_stdin", "code_stdin", "zip_password_stdin", "pskc_password_stdin"]
        .into_iter()
        .find(|id| sub.try_get_one::<bool>(id).ok().flatten().copied().unwrap_or(false))?;
    let csv_from_stdin =
        ["csv", "seed"].into_iter().any(|id| sub.try_get_one::<String>(id).ok().flatten().is_some_and(|v| v == "-"));
    csv_from_stdin.then(|| {
        format!("--{} reads standard input, and so does the CSV `-`: give the CSV as a file", flag.replace('_', "-"))
    })
}

/// Print an error that stopped the command before its summary. Broken pipes (the reader
/// went away, e.g. `| head`) end quietly.
pub fn report_fatal(e: &anyhow::Error) -> i32 {
    if is_broken_pipe(e) {
        return exit::OK;
    }
    crate::diag::stderr_line(&format!("oathbulk: error: {}", crate::redact::for_people(&format!("{e:#}"))));
    stop_reason_for(e).exit_code().code()
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
    body: impl FnOnce(A, &crate::diag::Diag, std::time::Instant) -> anyhow::Result<i32>,
) -> anyhow::Result<i32> {
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
) -> i32 {
    if is_broken_pipe(&e) {
        return exit::OK;
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
) -> i32 {
    summary_of_stop(command, crate::activate::fatal_for(e, backend), diag, format, started)
}

/// Print the `summary` of a command that stopped early, and return its exit code.
pub fn summary_of_stop(
    command: &str,
    fatal: Fatal,
    diag: &crate::diag::Diag,
    format: crate::output::Format,
    started: std::time::Instant,
) -> i32 {
    use crate::record::{Record, Summary};
    diag.clear_bar();
    diag.error(fatal.code.as_str(), &fatal.message);
    let exit_code = fatal.code.exit_code().code();
    let summary = Summary {
        command: command.into(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        exit_code,
        fatal: Some(fatal),
        ..Default::default()
    };
    let mut out = crate::output::Output::stdout(format, true);
    let _ = out.emit(&Record::Summary(summary));
    let _ = out.finish();
    exit_code
}

/// Exit code for a finished row command.
pub fn rows_exit_code(errors: u64) -> i32 {
    ExitCode::for_rows(errors).code()
}

/// The end of an offline row command (`list`, `otp`, `check`, `users`): the summary, with the
/// rows a script left out, the exit code for its row errors and the time taken, printed last.
pub fn finish_rows(
    out: &mut crate::output::Output,
    mut summary: crate::record::Summary,
    filtered: Option<u64>,
    started: std::time::Instant,
) -> anyhow::Result<i32> {
    summary.filtered = filtered;
    summary.exit_code = rows_exit_code(summary.errors);
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    out.emit(&crate::record::Record::Summary(summary.clone()))?;
    out.finish()?;
    Ok(summary.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_internal_not_usage() {
        let e = anyhow::Error::new(Internal("the compute thread panicked".into()));
        assert_eq!(stop_reason_for(&e), StopReason::Internal);
        assert_eq!(stop_reason_for(&e).exit_code().code(), exit::INTERNAL);
        assert_eq!(stop_reason_for(&anyhow::anyhow!("bad flag")), StopReason::Usage);
    }
}
