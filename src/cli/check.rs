//! The arguments of `oathbulk check` (clap); what it does is `crate::commands::check`.

use super::RowsArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub rows: RowsArgs,
}
