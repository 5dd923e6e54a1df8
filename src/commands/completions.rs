//! Shell completions and man pages, both generated from the clap command tree so they can
//! never drift from the real flags. `completions` is for users; `manpages` (hidden) is for
//! the packaging step (`packaging/dist.sh`), which ships the pages in the module package.

use crate::cli::completions::{CompletionsArgs, ManpagesArgs};
use crate::stop::ExitCode;
use clap::CommandFactory;

pub fn run_completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "oathbulk", &mut std::io::stdout());
    Ok(ExitCode::Ok)
}

pub fn run_manpages(args: ManpagesArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)?;
    // generate_to writes the top page and one page per (visible) subcommand.
    clap_mangen::generate_to(super::Cli::command(), &args.dir)?;
    Ok(ExitCode::Ok)
}
