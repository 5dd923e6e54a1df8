//! The command line: clap definitions only, one file per subcommand (its arguments), the
//! argument groups several share (`args.rs`, `connect.rs`) and their resolution into the
//! settings the commands take. What each command does is in `crate::commands`.

pub mod activate;
mod args;
pub mod change;
pub mod check;
pub mod completions;
pub mod connect;
pub mod doctor;
pub mod import;
pub mod list;
pub mod login;
pub mod otp;
pub mod report;
pub mod simulate;
pub mod status;
pub mod tenant;
pub mod undo;
pub mod users;

pub use args::{
    HashArg, InputArgs, OptionalInputArgs, OutputArgs, OutputProgressArgs, PaceArgs, ReadArgs, RevealOutputArgs,
    RowsArgs, ScriptArgs,
};

use clap::{Parser, Subcommand};

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

/// Standard input has one reader: a token, client assertion or code read from it
/// (`--token-stdin`, `--client-assertion-stdin`, `--code-stdin`) and a CSV read from it (`-`)
/// cannot share it. Checked on the parsed arguments of every subcommand, so a new command
/// cannot forget it.
pub fn stdin_conflict(matches: &clap::ArgMatches) -> Option<String> {
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
