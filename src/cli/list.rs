//! The arguments of `oathbulk list` (clap); what it does is `crate::commands::list`.

use super::{InputArgs, RevealOutputArgs, ScriptArgs};
use clap::Args;

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub script: ScriptArgs,
    #[command(flatten)]
    pub output: RevealOutputArgs,
}
