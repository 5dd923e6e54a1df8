//! `oathbulk report JOURNAL --html FILE`: the run's story as one self-contained HTML page
//! (`crate::report`), and a `summary` of what the journal holds on stdout.

use super::OutputArgs;
use crate::output::Output;
use crate::record::{Record, Summary};
use crate::report::Story;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

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

pub fn run(args: ReportArgs) -> Result<i32> {
    let started = Instant::now();
    let story = Story::read(&args.journal)?;
    let page = crate::report::render(&story);
    std::fs::write(&args.html, page).with_context(|| format!("cannot write {}", args.html.display()))?;
    let failed = story.failed().len() as u64;
    let summary = Summary {
        command: "report".into(),
        rows: story.rows.len() as u64,
        ok: story.rows.len() as u64 - failed,
        errors: failed,
        counts: story.outcomes(),
        throttled: Some(story.throttles.len() as u64),
        elapsed_ms: started.elapsed().as_millis() as u64,
        exit_code: super::exit::OK,
        ..Default::default()
    };
    let mut out = Output::stdout(args.output.format, false);
    out.emit(&Record::Summary(summary))?;
    out.finish()?;
    Ok(super::exit::OK)
}
