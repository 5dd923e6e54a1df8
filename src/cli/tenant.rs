//! The arguments of `oathbulk tenant` (clap); what it does is `crate::commands::tenant`.

use super::connect::ReadTenantArgs;
use super::OutputProgressArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct TenantCmdArgs {
    #[command(flatten)]
    pub tenant: ReadTenantArgs,
    /// Only these serial numbers (repeatable).
    #[arg(long, value_name = "SERIAL", help_heading = "Filter")]
    pub serial: Vec<String>,
    /// Only tokens with this status (available, assigned, activated, failedActivation).
    #[arg(long, value_name = "STATUS", help_heading = "Filter")]
    pub status: Option<String>,
    #[command(flatten)]
    pub output: OutputProgressArgs,
}
