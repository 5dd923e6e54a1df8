//! The arguments of `oathbulk report JOURNAL --html FILE` (clap); what it does is `crate::commands::report`.

use super::OutputArgs;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run's journal (`activate --journal FILE`, `import`, …); one still being written
    /// is read as far as it goes.
    #[arg(value_name = "JOURNAL")]
    pub journal: PathBuf,
    /// Write the HTML report here (one file: no script, nothing fetched).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}
