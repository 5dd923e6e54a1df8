//! The arguments of `oathbulk activate` (clap); what it does is `crate::commands::activate`.

use super::connect::ConnectArgs;
use super::{OptionalInputArgs, OutputArgs, ScriptArgs};
use crate::activate::executor::TypedCode;
use crate::activate::RunOptions;
use crate::diag::ProgressMode;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ActivateArgs {
    /// The CSV is optional with `--serial S --code CODE`.
    #[command(flatten)]
    pub input: OptionalInputArgs,
    #[command(flatten)]
    pub one: OneTokenArgs,
    #[command(flatten)]
    pub script: ScriptArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Activate exactly one token.
#[derive(Debug, Args)]
#[command(next_help_heading = "One token")]
pub struct OneTokenArgs {
    /// Only the token with this serial number (from the CSV, or with --code from the tenant alone).
    #[arg(long, value_name = "SERIAL")]
    pub serial: Option<String>,
    /// The six digits shown on the token's display now: no secret needed (lost seed file,
    /// a replacement token). Sent once; a rejected or stale code is reported, never guessed.
    /// (Visible to every user of the machine while it is valid: prefer --code-stdin.)
    #[arg(long, value_name = "DIGITS", requires = "serial", value_parser = parse_code)]
    pub code: Option<String>,
    /// Read the six digits from the first line of standard input instead of argv (a prompt
    /// on stderr when standard input is a terminal). Not with a CSV read from stdin (`-`).
    #[arg(long, requires = "serial", conflicts_with_all = ["code", "token_stdin", "client_assertion_stdin"])]
    pub code_stdin: bool,
    /// The user to assign an available token to (or whose assigned token to activate).
    #[arg(long, value_name = "UPN", requires = "serial")]
    pub upn: Option<String>,
}

pub fn parse_code(text: &str) -> Result<String, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err("a verification code is exactly six digits (keep leading zeros)".into())
    }
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Run")]
pub struct RunArgs {
    /// Resolve every row against the tenant and report what would be done; send no write.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub pace: super::PaceArgs,
    /// Never send a code with fewer seconds than this left in its step; wait for the next step
    /// [default: automatic: three round trips plus clock uncertainty, 0.5 to 10 s].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..=25))]
    pub min_validity: Option<u32>,
    /// Append every row's final result to this JSON-lines file (flushed per record).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Skip rows the journal already records as activated.
    #[arg(long, requires = "journal")]
    pub resume: bool,
    /// Append per-failure details (time, UPN, serial, HTTP status, server body) for support cases.
    #[arg(long, value_name = "FILE")]
    pub error_log: Option<PathBuf>,
    /// Progress on stderr.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

impl RunArgs {
    /// What an activation run is told (for `activate`, and for `import --activate` after it
    /// imported): `typed_code` is the one-shot `--code`, when there is one.
    pub fn run_options(&self, typed_code: Option<TypedCode>) -> RunOptions {
        RunOptions {
            dry_run: self.dry_run,
            features: self.pace.activation_features(),
            min_validity_secs: self.min_validity,
            typed_code,
        }
    }
}
