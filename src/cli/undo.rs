//! The arguments of `oathbulk undo --journal run.jsonl` (clap); what it does is `crate::commands::undo`.

use super::connect::ConnectArgs;
use super::OutputArgs;
use crate::diag::ProgressMode;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The journal of the run to revert (`activate`, `import`, `deactivate`, `unassign` or
    /// `remove` with `--journal`). An undo's own journal (`*.undo.jsonl`) is refused.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    /// The vendor CSV with the seeds of the tokens a `deactivate` run took out of use: undo
    /// activates them again with a code from the seed. Without it those steps are refused
    /// (`needs_seed`). Its secret key column is base32.
    #[arg(long, value_name = "CSV")]
    pub csv: Option<String>,
    /// The undo's own journal, so an interrupted undo resumes [default: <journal>.undo.jsonl].
    #[arg(long, value_name = "FILE")]
    pub undo_journal: Option<PathBuf>,
    /// Read the tenant and report what would be reverted (`would_do`); send no write.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub pace: super::PaceArgs,
    /// Progress on stderr.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
}
