//! `oathbulk report JOURNAL --html FILE`: the run's story as one self-contained HTML page
//! (`crate::report`), and a `summary` of what the journal holds on stdout.

use crate::cli::report::ReportArgs;
use crate::output::Output;
use crate::record::{Record, Summary};
use crate::report::Story;
use crate::stop::ExitCode;
use anyhow::{Context, Result};
use std::time::Instant;

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let started = Instant::now();
    // `journal::read` takes a missing file for an empty journal (nothing journaled yet); a
    // report of nothing would say nothing went wrong.
    if !args.journal.exists() {
        anyhow::bail!("journal {} does not exist", args.journal.display());
    }
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
        exit_code: ExitCode::Ok.code(),
        ..Default::default()
    };
    let mut out = Output::stdout(args.output.format, false);
    out.emit(&Record::Summary(summary))?;
    out.finish()?;
    Ok(ExitCode::Ok)
}
