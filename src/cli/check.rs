//! The arguments of `oathbulk check` (clap); what it does is `crate::commands::check`.

use super::{InputArgs, OutputArgs, ScriptArgs};
use clap::Args;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub script: ScriptArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
