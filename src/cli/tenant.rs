//! The arguments of `oathbulk tenant` (clap); what it does is `crate::commands::tenant`.

use super::connect::ConnectArgs;
use super::OutputArgs;
use crate::diag::ProgressMode;
use clap::Args;

#[derive(Debug, Args)]
pub struct TenantCmdArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only these serial numbers (repeatable).
    #[arg(long, value_name = "SERIAL", help_heading = "Filter")]
    pub serial: Vec<String>,
    /// Only tokens with this status (available, assigned, activated, failedActivation).
    #[arg(long, value_name = "STATUS", help_heading = "Filter")]
    pub status: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Progress on stderr.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto, help_heading = "Output")]
    pub progress: ProgressMode,
    /// Seed file for --simulate: any file a command reads (a vendor CSV, a PSKC file, a
    /// password ZIP; a file without users seeds unassigned tokens).
    #[arg(long, value_name = "FILE", help_heading = "Tenant")]
    pub seed: Option<String>,
    /// How --seed is read.
    #[command(flatten)]
    pub read: super::args::ReadArgs,
}
