//! Command-line definitions (clap derive), one file per subcommand, and exit codes.

mod activate;
mod args;
mod change;
mod check;
pub mod connect;
mod doctor;
mod import;
mod list;
mod otp;
mod simulate;
mod tenant;
mod undo;
mod users;

pub use args::{HashArg, InputArgs, OptionalInputArgs, OutputArgs, ScriptArgs};

use clap::{Parser, Subcommand};

/// Exit codes (docs/json-lines.md, "Exit codes").
pub mod exit {
    /// Every row fine.
    pub const OK: i32 = 0;
    /// The run finished, some rows had errors.
    pub const ROW_ERRORS: i32 = 1;
    /// Usage or input error: nothing (more) was done.
    pub const USAGE: i32 = 2;
    /// The tenant rejected the credentials (401/403): the run stopped.
    pub const AUTH: i32 = 3;
    /// The tenant could not be reached or kept failing: the run stopped.
    pub const SERVICE: i32 = 4;
    /// Interrupted (Ctrl-C): the journal holds what was settled.
    pub const INTERRUPTED: i32 = 130;
    /// A bug: a thread of the tool panicked (not the user's input). EX_SOFTWARE.
    pub const INTERNAL: i32 = 70;
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
                  Microsoft Graph (or the legacy portal API). Records go to stdout as JSON lines; \
                  diagnostics and progress go to stderr."
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
}

/// Parse the command line and run. Returns the process exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
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
        Command::Doctor(a) => doctor::run(*a),
    };
    match result {
        Ok(code) => code,
        Err(e) => report_fatal(&e),
    }
}

/// Print an error that stopped the command before its summary. Broken pipes (the reader
/// went away, e.g. `| head`) end quietly.
pub fn report_fatal(e: &anyhow::Error) -> i32 {
    if e.chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
    {
        return exit::OK;
    }
    eprintln!("oathbulk: error: {}", crate::diag::for_people(&format!("{e:#}")));
    exit_code_for(e)
}

/// Usage/input errors are 2; a refused sign-in is 3 like a 401.
pub fn exit_code_for(e: &anyhow::Error) -> i32 {
    if e.chain().any(|c| c.downcast_ref::<crate::auth::SignInRefused>().is_some()) {
        exit::AUTH
    } else if e.chain().any(|c| c.downcast_ref::<Internal>().is_some()) {
        exit::INTERNAL
    } else {
        exit::USAGE
    }
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
    let code = exit_code_for(&e);
    fatal_summary_code(command, e, diag, format, started, code)
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
    let exit = if matches!(e, crate::backend::ApiError::Auth { .. }) { exit::AUTH } else { exit::SERVICE };
    let message = crate::activate::auth_advice(e, backend);
    fatal_summary_code(command, anyhow::anyhow!(message), diag, format, started, exit)
}

pub fn fatal_summary_code(
    command: &str,
    e: anyhow::Error,
    diag: &crate::diag::Diag,
    format: crate::output::Format,
    started: std::time::Instant,
    exit_code: i32,
) -> i32 {
    use crate::record::{Fatal, Record, Summary};
    let kind = match exit_code {
        exit::AUTH => "auth_rejected",
        exit::SERVICE => "service",
        exit::INTERNAL => "internal",
        _ => "usage",
    };
    let message = format!("{e:#}");
    diag.error(kind, &message);
    let summary = Summary {
        command: command.into(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        exit_code,
        fatal: Some(Fatal { code: kind.into(), message }),
        ..Default::default()
    };
    let mut out = crate::output::Output::stdout(format, true);
    let _ = out.emit(&Record::Summary(summary));
    let _ = out.finish();
    exit_code
}

/// Exit code for a finished row command.
pub fn rows_exit_code(errors: u64) -> i32 {
    if errors == 0 {
        exit::OK
    } else {
        exit::ROW_ERRORS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_internal_not_usage() {
        let e = anyhow::Error::new(Internal("the compute thread panicked".into()));
        assert_eq!(exit_code_for(&e), exit::INTERNAL);
        assert_eq!(exit_code_for(&anyhow::anyhow!("bad flag")), exit::USAGE);
    }
}
