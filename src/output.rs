//! Where records leave the process, on stdout: a table for a person when stdout is a terminal,
//! JSON lines when it is a pipe or a file (`--format auto`, the default), or either forced.
//! Diagnostics, progress and the run's closing line go to stderr ([`crate::diag`],
//! [`crate::human`]), never here.

use crate::auth::redact::{self, scrub};
use crate::human::NextStep;
use crate::record::{Otp, Record, Summary};
use anyhow::Result;
use serde::ser::Error as _;
use std::borrow::Cow;
use std::io::{BufWriter, IsTerminal, Write};

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

/// Text for one line of a log or stream: every control character (line feed and tab too)
/// and every bidi or zero-width character escaped (`\x1b`, `\n`, `\u{202e}`), so text from a
/// server or a CSV cell can neither move the cursor, forge a line, nor reorder what is shown.
pub fn escape_all_controls(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| crate::inventory::hidden_char(c.encode_utf8(&mut [0; 4])).is_some();
    if !text.chars().any(|c| c.is_control() || hidden(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hidden(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// serde_json escapes C0 controls but writes C1 controls (and DEL) raw; a JSON line read
/// on a terminal (`cat`, `tail -f`) must not carry them either. They only occur inside
/// strings, where `\u0080` is the same character to any JSON reader.
pub fn escape_json_controls(line: &[u8]) -> Cow<'_, [u8]> {
    // DEL is 0x7F; a C1 control (U+0080–U+009F) is 0xC2 then 0x80–0x9F in UTF-8. A line
    // with neither byte (every line of a plain file) is clean: one vectorised search says so.
    if memchr::memchr2(0x7F, 0xC2, line).is_none() {
        return Cow::Borrowed(line);
    }
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
    let mut line = Vec::with_capacity(256);
    append_json_line(record, &mut line)?;
    Ok(line)
}

/// [`json_line`] appended to `buf` (a buffer reused from record to record on the hot path of
/// `otp`: no allocation per record). Same steps, same order: serialise, redact, escape.
pub fn append_json_line(record: &Record, buf: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let start = buf.len();
    match record {
        Record::Otp(otp) => write_otp(otp, buf)?,
        other => serde_json::to_writer(&mut *buf, other)?,
    }
    if redact::armed() {
        // serde_json writes UTF-8; the check costs nothing the redactor would not spend.
        let text = std::str::from_utf8(&buf[start..]).map_err(serde_json::Error::custom)?;
        if let Cow::Owned(scrubbed) = redact::scrub(text) {
            buf.truncate(start);
            buf.extend_from_slice(scrubbed.as_bytes());
        }
    }
    if let Cow::Owned(escaped) = escape_json_controls(&buf[start..]) {
        buf.truncate(start);
        buf.extend_from_slice(&escaped);
    }
    Ok(())
}

/// `otp`'s record (one per row of a file of millions) field by field: the bytes serde writes
/// for `Record::Otp`, without its map machinery and its escaping of every key. The values
/// go through serde_json itself, so strings are escaped exactly as everywhere else;
/// `the_otp_writer_writes_what_serde_writes` holds the whole line to serde's.
fn write_otp(otp: &Otp, buf: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    buf.extend_from_slice(br#"{"type":"otp","line":"#);
    serde_json::to_writer(&mut *buf, &otp.line)?;
    buf.extend_from_slice(br#","upn":"#);
    serde_json::to_writer(&mut *buf, &otp.upn)?;
    buf.extend_from_slice(br#","serial":"#);
    serde_json::to_writer(&mut *buf, &otp.serial)?;
    buf.extend_from_slice(br#","code":"#);
    serde_json::to_writer(&mut *buf, &otp.code)?;
    buf.extend_from_slice(br#","step":"#);
    serde_json::to_writer(&mut *buf, &otp.step)?;
    buf.extend_from_slice(br#","time_interval":"#);
    serde_json::to_writer(&mut *buf, &otp.time_interval)?;
    buf.extend_from_slice(br#","hash":""#);
    buf.extend_from_slice(otp.hash.as_str().as_bytes());
    buf.extend_from_slice(br#"","valid_for":"#);
    serde_json::to_writer(&mut *buf, &otp.valid_for)?;
    buf.extend_from_slice(br#","at":"#);
    serde_json::to_writer(&mut *buf, &otp.at)?;
    if let Some(secret) = &otp.secret {
        buf.extend_from_slice(br#","secret":"#);
        serde_json::to_writer(&mut *buf, secret)?;
    }
    buf.push(b'}');
    Ok(())
}

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
                append_json_line(record, &mut self.line).map_err(std::io::Error::from)?;
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
            self.out.write_all(escape_controls(&scrub(&text)).as_bytes())?;
            self.table.clear();
        }
        self.out.flush()?;
        if let (Some(line), Closing::Stderr) = (&line, closing) {
            crate::diag::closing(line);
        }
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

    #[test]
    fn the_fast_search_finds_every_control_the_scan_does() {
        for text in ["\u{7f}", "\u{80}", "\u{9f}", "a\u{9b}[2J", "\u{c2}\u{a0}é\u{7f}"] {
            let line = serde_json::to_vec(&serde_json::json!({ "m": text })).unwrap();
            assert!(matches!(escape_json_controls(&line), Cow::Owned(_)), "{text:?}");
        }
        // 0xC2 starts harmless characters too (U+00A0–U+00BF): looked at, left alone.
        for text in ["plain", "\u{a0}\u{bf}é€😀", "\u{9}\u{1b}"] {
            let line = serde_json::to_vec(&serde_json::json!({ "m": text })).unwrap();
            assert!(matches!(escape_json_controls(&line), Cow::Borrowed(_)), "{text:?}");
        }
    }

    fn serde_line(record: &Record) -> Vec<u8> {
        serde_json::to_vec(record).unwrap()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Any text in the string fields (quotes, backslashes, C0 and C1 controls, DEL,
        /// any Unicode), any numbers, both hashes, with and without the revealed secret.
        #[test]
        fn the_otp_writer_writes_what_serde_writes(
            line: u64, upn: String, serial: String, code: String, step: u64, time_interval: u32,
            sha256: bool, valid_for: u32, at: u64, secret: Option<String>,
        ) {
            let hash = if sha256 { crate::otp::HashFunction::Sha256 } else { crate::otp::HashFunction::Sha1 };
            let record = Record::Otp(Otp { line, upn, serial, code, step, time_interval, hash, valid_for, at, secret });
            let Record::Otp(otp) = &record else { unreachable!() };
            let mut ours = Vec::new();
            write_otp(otp, &mut ours).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(serde_line(&record)).unwrap());
        }
    }

    #[test]
    fn an_otp_line_is_escaped_like_any_other() {
        let record = Record::Otp(Otp {
            upn: "a\u{9b}b\u{7f}\u{1b}@contoso.com".into(),
            serial: "\"S1\\".into(),
            ..Default::default()
        });
        let line = String::from_utf8(json_line(&record).unwrap()).unwrap();
        assert!(line.contains(r#""upn":"a\u009bb\u007f\u001b@contoso.com","serial":"\"S1\\""#), "{line}");
        assert!(!line.contains('\u{9b}') && !line.contains('\u{7f}') && !line.contains('\u{1b}'), "{line}");
    }
}
