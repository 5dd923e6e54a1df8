//! Where records leave the process: JSON lines (default) or a table for people, on stdout.
//! Diagnostics and progress go to stderr through [`crate::diag`], never here.

use crate::auth::redact::scrub;
use crate::record::Record;
use anyhow::Result;
use std::borrow::Cow;
use std::io::{BufWriter, Write};

/// Text for a terminal: every control character but line feed and tab shown escaped
/// (`\x1b`, `\x9b`), so a CSV cell or a server message cannot move the cursor, retitle
/// the window or hide text. C1 controls (U+0080–U+009F) act as escapes on many terminals.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// serde_json escapes C0 controls but writes C1 controls (and DEL) raw; a JSON line read
/// on a terminal (`cat`, `tail -f`) must not carry them either. They only occur inside
/// strings, where `\u0080` is the same character to any JSON reader.
pub fn escape_json_controls(line: &[u8]) -> Cow<'_, [u8]> {
    let c1 = |w: &[u8]| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]);
    if !line.contains(&0x7F) && !line.windows(2).any(c1) {
        return Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len() + 16);
    let mut i = 0;
    while i < line.len() {
        if line[i] == 0x7F {
            out.extend_from_slice(b"\\u007f");
            i += 1;
        } else if i + 1 < line.len() && c1(&line[i..i + 2]) {
            out.extend_from_slice(format!("\\u{:04x}", line[i + 1]).as_bytes());
            i += 2;
        } else {
            out.push(line[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// A record as one JSON line (no newline), redacted and with C1 controls escaped: the one
/// serialisation for stdout, stderr and the journal.
pub fn json_line(record: &Record) -> Result<Vec<u8>, serde_json::Error> {
    let text = serde_json::to_string(record)?;
    let text = scrub(&text);
    Ok(escape_json_controls(text.as_bytes()).into_owned())
}

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
                let line = json_line(record).map_err(std::io::Error::from)?;
                self.out.write_all(&line)?;
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
            self.out.write_all(escape_controls(&scrub(&text)).as_bytes())?;
            self.table.clear();
        }
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_shown_escaped() {
        assert_eq!(escape_controls("a\x1b[2Jb\x07c\u{9b}d\re\nf\tg"), "a\\x1b[2Jb\\x07c\\x9bd\\x0de\nf\tg");
        assert!(matches!(escape_controls("plain é"), Cow::Borrowed(_)));
        let line = serde_json::to_vec(&serde_json::json!({"m": "x\u{9b}y\u{7f}"})).unwrap();
        let escaped = escape_json_controls(&line);
        assert_eq!(std::str::from_utf8(&escaped).unwrap(), r#"{"m":"x\u009by\u007f"}"#);
        let back: serde_json::Value = serde_json::from_slice(&escaped).unwrap();
        assert_eq!(back["m"], "x\u{9b}y\u{7f}");
    }
}
