//! Shell completions and man pages, both generated from the clap command tree so they can
//! never drift from the real flags. `completions` is for users; `manpages` (hidden) is for
//! the packaging step (`packaging/dist.sh`), which ships the pages in the module package.

use clap::{Args, CommandFactory};
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

pub fn run_completions(args: CompletionsArgs) -> anyhow::Result<i32> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "oathbulk", &mut std::io::stdout());
    Ok(super::exit::OK)
}

pub fn run_manpages(args: ManpagesArgs) -> anyhow::Result<i32> {
    std::fs::create_dir_all(&args.dir)?;
    // generate_to writes the top page and one page per (visible) subcommand.
    clap_mangen::generate_to(super::Cli::command(), &args.dir)?;
    Ok(super::exit::OK)
}
