//! The arguments of `oathbulk deactivate | unassign | remove` (clap); what it does is `crate::commands::change`.

use super::connect::ConnectArgs;
use super::OutputArgs;
use super::ScriptArgs;
use crate::backend::BackendKind;
use crate::diag::ProgressMode;
use crate::lifecycle::Options;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// CSV naming the tokens (`serial number`; `upn`: the user each must belong to). A file
    /// without a `upn` column names each token by serial alone: whoever holds it, as --serial.
    #[arg(value_name = "CSV", required_unless_present = "serial", conflicts_with = "serial")]
    pub csv: Option<String>,
    /// One token by serial number instead of a CSV.
    #[arg(long, value_name = "SERIAL")]
    pub serial: Option<String>,
    /// With --serial: the user the token must belong to (default: whoever holds it).
    #[arg(long, value_name = "UPN", requires = "serial")]
    pub upn: Option<String>,
    /// With a CSV without a `upn` column: act on each serial whoever holds it even though a
    /// column looks like it names users (`Assigned To`, `Email`, a cell holding a user name).
    /// Without it such a file is refused.
    #[arg(long, requires = "csv")]
    pub any_holder: bool,
    #[command(flatten)]
    pub script: ScriptArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub run: ChangeRunArgs,
}

/// Options of every lifecycle command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Run")]
pub struct ChangeRunArgs {
    /// Read the tenant and report what would be done (`would_do`); send no write.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub pace: super::PaceArgs,
    /// Append every final `change` record here (and an `in_flight` line before each write).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Skip tokens the journal already records as done.
    #[arg(long, requires = "journal")]
    pub resume: bool,
    /// Progress on stderr.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    #[command(flatten)]
    pub output: OutputArgs,
    // No `--error-log` yet: the sink logs `failed`/`refused` changes the way it logs failed
    // activations (`Sink::with_error_log`), but the flag is more than this group (undo builds
    // its own, the PowerShell module maps each flag, the docs list them) and `change_one`
    // would hand the sink its `FailureDetail`. Add all of that together.
}

impl ChangeRunArgs {
    pub fn options(&self, backend: BackendKind) -> Result<Options> {
        Ok(Options { dry_run: self.dry_run, engine: self.pace.engine_config(backend)? })
    }
}
