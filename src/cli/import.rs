//! The arguments of `oathbulk import` (clap); what it does is `crate::commands::import`.

use super::activate::RunArgs;
use super::connect::ConnectArgs;
use super::RowsArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub rows: RowsArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Assign each token to its row's user (the portal backend always does).
    #[arg(long, help_heading = "Import")]
    pub assign: bool,
    /// After the import, activate the rows' tokens in the same run (assigning them where needed).
    #[arg(long, help_heading = "Import")]
    pub activate: bool,
    /// The manufacturer for rows whose cell is empty or whose file has no such column
    /// (Entra requires one to create a token).
    #[arg(long, value_name = "NAME", help_heading = "Import")]
    pub manufacturer: Option<String>,
    /// The model for rows whose cell is empty or whose file has no such column (Entra
    /// requires one to create a token).
    #[arg(long, value_name = "NAME", help_heading = "Import")]
    pub model: Option<String>,
}
