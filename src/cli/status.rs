//! The arguments of `oathbulk status` (clap); what it does is `crate::commands::status`.

use super::connect::ReadTenantArgs;
use super::OutputProgressArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A token's serial number (repeatable).
    #[arg(long, value_name = "SERIAL", help_heading = "What to look up")]
    pub serial: Vec<String>,
    /// A user (repeatable): one record per token they hold, or one saying they hold none.
    #[arg(long, value_name = "UPN", help_heading = "What to look up")]
    pub upn: Vec<String>,
    /// A CSV with a serial column or a UPN column (the vendor file will do: its rows are
    /// looked up by serial; its seeds are never read).
    #[arg(long, value_name = "FILE", help_heading = "What to look up")]
    pub csv: Option<String>,
    #[command(flatten)]
    pub output: OutputProgressArgs,
    #[command(flatten)]
    pub tenant: ReadTenantArgs,
}
