//! Where records leave the process: JSON lines (default) or a table for people, on stdout.
//! Diagnostics and progress go to stderr through [`crate::diag`], never here.

use crate::record::Record;
use anyhow::Result;
use std::io::{BufWriter, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line (docs/json-lines.md).
    #[default]
    Json,
    /// Aligned columns for a terminal, printed at the end.
    Table,
}

/// The stdout sink. JSON is streamed; the table view buffers (it needs column widths).
pub struct Output {
    format: Format,
    out: BufWriter<Box<dyn Write + Send>>,
    /// Flush after every record: for slow producers (network), so a pipeline consumer
    /// (the PowerShell module) sees each result as it happens.
    flush_each: bool,
    table: Vec<Record>,
}

impl Output {
    pub fn stdout(format: Format, flush_each: bool) -> Self {
        Self::new(Box::new(std::io::stdout()), format, flush_each)
    }

    pub fn new(sink: Box<dyn Write + Send>, format: Format, flush_each: bool) -> Self {
        Self { format, out: BufWriter::with_capacity(64 * 1024, sink), flush_each, table: Vec::new() }
    }

    pub fn emit(&mut self, record: &Record) -> Result<()> {
        match self.format {
            Format::Json => {
                // `io::Error::from` keeps an I/O failure an `io::Error` in the anyhow chain
                // (serde_json's own error hides it), so a broken pipe ends quietly.
                serde_json::to_writer(&mut self.out, record).map_err(std::io::Error::from)?;
                self.out.write_all(b"\n")?;
                if self.flush_each {
                    self.out.flush()?;
                }
            }
            Format::Table => self.table.push(record.clone()),
        }
        Ok(())
    }

    /// Print whatever is buffered (the table) and flush.
    pub fn finish(&mut self) -> Result<()> {
        if self.format == Format::Table {
            let text = crate::table::render(&self.table);
            self.out.write_all(text.as_bytes())?;
            self.table.clear();
        }
        self.out.flush()?;
        Ok(())
    }
}
