//! The arguments of `oathbulk completions` (clap); what it does is `crate::commands::completions`.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for (to stdout).
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManpagesArgs {
    /// Folder to write `oathbulk.1` and one `oathbulk-SUBCOMMAND.1` per subcommand into.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}
