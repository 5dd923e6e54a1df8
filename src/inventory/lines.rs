//! Physical lines of a vendor CSV, and the cells of one line.
//!
//! A record is one physical line, never more: vendor files have no multi-line cells, and
//! letting a stray quote run on (as a general CSV reader does) swallows every following
//! row — seeds included — into one broken record. Here an unclosed quote costs one line.
//! `\n`, `\r\n` and a lone `\r` (old Mac exports) all end a line.

use std::io::BufRead;

/// No vendor line comes near this; beyond it the line is refused, not buffered.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One physical line, with its terminator (if it had one).
pub enum Line {
    Text(Vec<u8>),
    /// Longer than [`MAX_LINE_BYTES`]; its bytes were skipped.
    TooLong,
    /// The input failed here (a read error); nothing follows.
    Failed(String),
}

/// Splits a byte stream into lines, counting them from 1.
pub struct Lines {
    input: Box<dyn BufRead>,
    number: u64,
}

/// A line without its terminator (`\n`, `\r\n` or `\r`).
pub fn content(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Lines {
    pub fn new(input: Box<dyn BufRead>) -> Self {
        Self { input, number: 0 }
    }

    /// Lines handed out so far.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The next line (with its terminator, see [`content`]) and its number, `None` at the
    /// end of the input.
    pub fn next_line(&mut self) -> std::io::Result<Option<(u64, Line)>> {
        let mut line = Vec::new();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            match buf.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    if !too_long && line.len() + end <= MAX_LINE_BYTES {
                        line.extend_from_slice(&buf[..end]);
                    } else {
                        too_long = true;
                    }
                    let cr = buf[end] == b'\r';
                    self.input.consume(end + 1);
                    // A `\n` right after a `\r` (possibly in the next buffer) is one CRLF.
                    let crlf = cr && self.input.fill_buf()?.first() == Some(&b'\n');
                    if crlf {
                        self.input.consume(1);
                    }
                    line.extend_from_slice(match (cr, crlf) {
                        (true, true) => b"\r\n",
                        (true, false) => b"\r",
                        _ => b"\n",
                    });
                    break;
                }
                None => {
                    let n = buf.len();
                    if !too_long && line.len() + n <= MAX_LINE_BYTES {
                        line.extend_from_slice(buf);
                    } else {
                        too_long = true;
                        line = Vec::new();
                    }
                    self.input.consume(n);
                }
            }
        }
        self.number += 1;
        Ok(Some((self.number, if too_long { Line::TooLong } else { Line::Text(line) })))
    }
}

/// The cells of one line, split by csv-core (RFC 4180 quoting, the dialect the `csv`
/// crate reads) with one reusable buffer.
#[derive(Default)]
pub struct Cells {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Cells {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.buf[start..end])
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// A quote was opened on the line and not closed before its end.
#[derive(Debug)]
pub struct UnclosedQuote;

/// Split `line` into `cells`.
pub fn split(reader: &mut csv_core::Reader, line: &[u8], cells: &mut Cells) -> Result<(), UnclosedQuote> {
    reader.reset();
    if cells.buf.len() < line.len() {
        cells.buf.resize(line.len(), 0);
    }
    cells.ends.resize(cells.ends.capacity().max(16), 0);
    // The line, then a terminator: a record that does not end there is inside a quote.
    let mut parts: [&[u8]; 2] = [line, b"\n"];
    let (mut nout_total, mut nend_total) = (0, 0);
    let mut part = 0;
    loop {
        let (result, nin, nout, nend) =
            reader.read_record(parts[part], &mut cells.buf[nout_total..], &mut cells.ends[nend_total..]);
        parts[part] = &parts[part][nin..];
        nout_total += nout;
        nend_total += nend;
        match result {
            // Ends are offsets from the start of the record (csv-core keeps its position
            // across calls), so they index `buf` directly.
            csv_core::ReadRecordResult::Record => {
                cells.ends.truncate(nend_total);
                return Ok(());
            }
            csv_core::ReadRecordResult::OutputFull => {
                let n = cells.buf.len();
                cells.buf.resize(n * 2 + 16, 0);
            }
            csv_core::ReadRecordResult::OutputEndsFull => {
                let n = cells.ends.len();
                cells.ends.resize(n * 2, 0);
            }
            csv_core::ReadRecordResult::InputEmpty if part == 0 => part = 1,
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                cells.ends.clear();
                return Err(UnclosedQuote);
            }
        }
    }
}
