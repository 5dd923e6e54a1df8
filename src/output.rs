//! Where records leave the process, on stdout: a table for a person when stdout is a terminal,
//! JSON lines when it is a pipe or a file (`--format auto`, the default), or either forced.
//! Diagnostics, progress and the run's closing line go to stderr ([`crate::diag`],
//! [`crate::human`]), never here.

use crate::human::NextStep;
use crate::record::{Record, Summary};
use crate::redact::scrub;
use anyhow::Result;
use std::io::{BufWriter, IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// `table` when stdout is a terminal, `json` when it is a pipe or a file.
    #[default]
    Auto,
    /// One JSON object per line (docs/json-lines.md).
    Json,
    /// Aligned columns for a terminal, printed at the end.
    Table,
}

impl Format {
    /// What the format is for a stdout that is (or is not) a terminal: `auto` decides, `json`
    /// and `table` are what they say.
    pub fn resolve(self, stdout_is_terminal: bool) -> Format {
        match self {
            Format::Auto if stdout_is_terminal => Format::Table,
            Format::Auto => Format::Json,
            forced => forced,
        }
    }
}

/// The stdout sink. JSON is streamed; the table view buffers (it needs column widths).
pub struct Output {
    /// `json` or `table`, never `auto` (resolved when the sink is made).
    format: Format,
    out: BufWriter<Box<dyn Write + Send>>,
    /// Flush after every record: for slow producers (network), so a pipeline consumer
    /// (the PowerShell module) sees each result as it happens.
    flush_each: bool,
    table: Vec<Record>,
    /// One JSON line at a time, reused.
    line: Vec<u8>,
    /// The last summary emitted: the run's closing line for a person is made from it.
    summary: Option<Summary>,
    /// Where that closing line goes (see [`Closing`]).
    closing: Closing,
    /// Files the run wrote that its closing line may point to.
    next: NextStep,
}

/// Where the run's closing line for a person ([`crate::human::closing_line`]) goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// Decided when the run ends: [`Closing::Stderr`] when a person reads stderr
    /// ([`crate::diag::stderr_is_for_people`]), else [`Closing::WithTable`].
    Auto,
    /// On stderr (a person is there): the table on stdout then has no line of its own.
    Stderr,
    /// Nowhere on stderr: it ends the table (stdout), and JSON carries the `summary` record.
    WithTable,
}

impl Output {
    /// stdout, `auto` resolved against it; the closing line on stderr when a person reads
    /// stderr ([`Closing::Auto`]).
    pub fn stdout(format: Format, flush_each: bool) -> Self {
        let format = format.resolve(std::io::stdout().is_terminal());
        Self::new(Box::new(std::io::stdout()), format, flush_each).with_closing(Closing::Auto)
    }

    /// Any writer: `auto` is JSON (no terminal to ask), and no line on stderr.
    pub fn new(sink: Box<dyn Write + Send>, format: Format, flush_each: bool) -> Self {
        Self {
            format: format.resolve(false),
            out: BufWriter::with_capacity(64 * 1024, sink),
            flush_each,
            table: Vec::new(),
            line: Vec::new(),
            summary: None,
            closing: Closing::WithTable,
            next: NextStep::default(),
        }
    }

    pub fn with_closing(mut self, closing: Closing) -> Self {
        self.closing = closing;
        self
    }

    /// The error log and journal of the run, for the closing line's next step.
    pub fn with_next_step(mut self, next: NextStep) -> Self {
        self.next = next;
        self
    }

    pub fn emit(&mut self, record: &Record) -> Result<()> {
        if let Record::Summary(s) = record {
            self.summary = Some(s.clone());
        }
        match self.format {
            Format::Json | Format::Auto => {
                // `io::Error::from` keeps an I/O failure an `io::Error` in the anyhow chain
                // (serde_json's own error hides it), so a broken pipe ends quietly.
                self.line.clear();
                crate::jsonl::append_json_line(record, &mut self.line).map_err(std::io::Error::from)?;
                self.line.push(b'\n');
                self.out.write_all(&self.line)?;
                if self.flush_each {
                    self.out.flush()?;
                }
            }
            Format::Table => self.table.push(record.clone()),
        }
        Ok(())
    }

    /// Print whatever is buffered (the table) and flush; then the closing line on stderr,
    /// when a person reads it.
    pub fn finish(&mut self) -> Result<()> {
        let line = self.summary.take().map(|s| crate::human::closing_line(&s, &self.next));
        let closing = match self.closing {
            Closing::Auto if crate::diag::stderr_is_for_people() => Closing::Stderr,
            Closing::Auto => Closing::WithTable,
            decided => decided,
        };
        if self.format == Format::Table {
            let mut text = crate::table::render(&self.table);
            if let (Some(line), Closing::WithTable) = (&line, closing) {
                text.push_str(line);
                text.push('\n');
            }
            self.out.write_all(crate::text::escape_controls(&scrub(&text)).as_bytes())?;
            self.table.clear();
        }
        self.out.flush()?;
        if let (Some(line), Closing::Stderr) = (&line, closing) {
            crate::diag::closing(line);
        }
        Ok(())
    }
}
