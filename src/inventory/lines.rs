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
    /// A line handed back by [`Lines::recycle`]: the next line is read into it, so a
    /// steady stream of lines allocates nothing.
    spare: Vec<u8>,
}

/// A line without its terminator (`\n`, `\r\n` or `\r`).
pub fn content(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Lines {
    pub fn new(input: Box<dyn BufRead>) -> Self {
        Self { input, number: 0, spare: Vec::new() }
    }

    /// Give a line's buffer back once its cells are split out; the next line reuses it.
    pub fn recycle(&mut self, mut line: Vec<u8>) {
        line.clear();
        self.spare = line;
    }

    /// Lines handed out so far.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The next line (with its terminator, see [`content`]) and its number, `None` at the
    /// end of the input.
    pub fn next_line(&mut self) -> std::io::Result<Option<(u64, Line)>> {
        let mut line = std::mem::take(&mut self.spare);
        line.clear();
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
            match memchr::memchr2(b'\n', b'\r', buf) {
                Some(end) => {
                    if !too_long && line.len() + end <= MAX_LINE_BYTES {
                        // Room for the terminator too: one allocation at most, none once warm.
                        line.reserve(end + 2);
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
/// crate reads) with reusable buffers.
#[derive(Default)]
pub struct Cells {
    /// The cells' bytes: csv-core's output, or the line itself when it quotes nothing.
    bytes: Vec<u8>,
    /// The same bytes once they proved to be UTF-8 as a whole (moved, not copied): a cell's
    /// text is then a slice of it, checked at its two ends only (see [`Cells::text`]).
    text: String,
    utf8: bool,
    /// Where each cell starts and ends in the bytes.
    starts: Vec<usize>,
    ends: Vec<usize>,
}

impl Cells {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    fn raw(&self) -> &[u8] {
        if self.utf8 {
            self.text.as_bytes()
        } else {
            &self.bytes
        }
    }
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        Some(&self.raw()[*self.starts.get(i)?..*self.ends.get(i)?])
    }
    /// A cell as text (a missing cell is empty): `Err` when it is not UTF-8, exactly as
    /// `str::from_utf8` of the cell says. When the line is UTF-8 as a whole (one check per
    /// line), a cell is UTF-8 exactly when both its ends fall on character boundaries, which
    /// `str::get` checks; otherwise the cell is checked alone.
    /// (`a_cell_is_text_exactly_when_from_utf8_says_so`)
    pub fn text(&self, i: usize) -> Result<&str, std::str::Utf8Error> {
        let (Some(&start), Some(&end)) = (self.starts.get(i), self.ends.get(i)) else { return Ok("") };
        match self.text.get(start..end) {
            Some(text) if self.utf8 => Ok(text),
            _ => std::str::from_utf8(&self.raw()[start..end]),
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
    /// The bytes buffer back for a new line (the last line's text, if it was text).
    fn take_bytes(&mut self) -> Vec<u8> {
        if self.utf8 {
            self.utf8 = false;
            std::mem::take(&mut self.text).into_bytes()
        } else {
            std::mem::take(&mut self.bytes)
        }
    }
    /// The line is split into `bytes[..len]`: keep them as text if they are UTF-8.
    fn keep_line(&mut self, mut bytes: Vec<u8>, len: usize) {
        bytes.truncate(len);
        match String::from_utf8(bytes) {
            Ok(text) => {
                self.text = text;
                self.utf8 = true;
            }
            Err(e) => self.bytes = e.into_bytes(),
        }
    }
}

/// A quote was opened on the line and not closed before its end.
#[derive(Debug)]
pub struct UnclosedQuote;

/// Split `line` into `cells` at `delimiter` (`,`, or `;`/tab by `--delimiter`; `reader` is
/// built for the same one).
pub fn split(
    reader: &mut csv_core::Reader,
    delimiter: u8,
    line: &[u8],
    cells: &mut Cells,
) -> Result<(), UnclosedQuote> {
    // Most lines of a vendor file quote nothing: their cells are the bytes between commas,
    // which is what csv-core makes of them (`unquoted_lines_split_as_csv_core_splits_them`),
    // without its byte-at-a-time state machine and without a copy per cell. A quote, a line
    // end or an empty line goes to csv-core.
    if !line.is_empty() && memchr::memchr3(b'"', b'\r', b'\n', line).is_none() {
        split_unquoted(line, delimiter, cells);
        return Ok(());
    }
    split_quoted(reader, line, cells)
}

fn split_unquoted(line: &[u8], delimiter: u8, cells: &mut Cells) {
    let mut bytes = cells.take_bytes();
    bytes.clear();
    bytes.extend_from_slice(line);
    cells.starts.clear();
    cells.ends.clear();
    let mut start = 0;
    let mut comma_at = |i: usize| {
        cells.starts.push(start);
        cells.ends.push(i);
        start = i + 1;
    };
    // 16 bytes at a time: their commas as a bit mask (one vector compare where the target
    // has one), then one step per comma.
    let mut chunks = line.chunks_exact(16);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut mask = 0u16;
        for (j, &b) in chunk.iter().enumerate() {
            mask |= u16::from(b == delimiter) << j;
        }
        while mask != 0 {
            comma_at(base + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        base += 16;
    }
    for (j, &b) in chunks.remainder().iter().enumerate() {
        if b == delimiter {
            comma_at(base + j);
        }
    }
    cells.starts.push(start);
    cells.ends.push(line.len());
    cells.keep_line(bytes, line.len());
}

/// csv-core's reading of a line (RFC 4180 quoting).
fn split_quoted(reader: &mut csv_core::Reader, line: &[u8], cells: &mut Cells) -> Result<(), UnclosedQuote> {
    reader.reset();
    let mut buf = cells.take_bytes();
    if buf.len() < line.len() {
        buf.resize(line.len(), 0);
    }
    cells.ends.resize(cells.ends.capacity().max(16), 0);
    // The line, then a terminator: a record that does not end there is inside a quote.
    let mut parts: [&[u8]; 2] = [line, b"\n"];
    let (mut nout_total, mut nend_total) = (0, 0);
    let mut part = 0;
    loop {
        let (result, nin, nout, nend) =
            reader.read_record(parts[part], &mut buf[nout_total..], &mut cells.ends[nend_total..]);
        parts[part] = &parts[part][nin..];
        nout_total += nout;
        nend_total += nend;
        match result {
            // Ends are offsets from the start of the record (csv-core keeps its position
            // across calls), so they index `buf` directly.
            csv_core::ReadRecordResult::Record => {
                cells.ends.truncate(nend_total);
                cells.starts.clear();
                cells.starts.push(0);
                cells.starts.extend_from_slice(&cells.ends[..nend_total.saturating_sub(1)]);
                cells.keep_line(buf, nout_total);
                return Ok(());
            }
            csv_core::ReadRecordResult::OutputFull => {
                let n = buf.len();
                buf.resize(n * 2 + 16, 0);
            }
            csv_core::ReadRecordResult::OutputEndsFull => {
                let n = cells.ends.len();
                cells.ends.resize(n * 2, 0);
            }
            csv_core::ReadRecordResult::InputEmpty if part == 0 => part = 1,
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                cells.ends.clear();
                cells.starts.clear();
                cells.keep_line(buf, 0);
                return Err(UnclosedQuote);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells_of(cells: &Cells) -> Vec<Vec<u8>> {
        cells.iter().map(<[u8]>::to_vec).collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Lines without a quote (commas, blanks, NUL, controls, backslashes, apostrophes,
        /// multi-byte characters, empty cells at either end): the comma split gives csv-core's
        /// cells, byte for byte.
        #[test]
        fn unquoted_lines_split_as_csv_core_splits_them(
            line in proptest::collection::vec(proptest::sample::select(vec![
                b'a', b'Z', b'7', b',', b',', b' ', b'\t', 0, 0x1b, b'\\', b'\'', b'#', 0xC2, 0x9B, 0xE2, 0x82, 0xAC, 0xFF,
            ]), 1..120)
        ) {
            let mut reader = csv_core::Reader::new();
            let (mut ours, mut theirs) = (Cells::default(), Cells::default());
            // Reused buffers, as the reader reuses them: a longer line first.
            split_quoted(&mut reader, &[b'x'; 200], &mut ours).unwrap();
            split(&mut reader, b',', &line, &mut ours).unwrap();
            split_quoted(&mut reader, &line, &mut theirs).unwrap();
            proptest::prop_assert_eq!(cells_of(&ours), cells_of(&theirs));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Lines with quotes or without, cut anywhere, with multi-byte characters whole,
        /// split across cells or broken: a cell's text is what `str::from_utf8` makes of it.
        #[test]
        fn a_cell_is_text_exactly_when_from_utf8_says_so(
            line in proptest::collection::vec(proptest::sample::select(vec![
                b'a', b',', b',', b'"', b' ', 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0x80, 0xFF,
            ]), 0..60)
        ) {
            let mut reader = csv_core::Reader::new();
            let mut cells = Cells::default();
            split(&mut reader, b',', "é,€".as_bytes(), &mut cells).unwrap();
            if split(&mut reader, b',', &line, &mut cells).is_ok() {
                for i in 0..cells.len() + 1 {
                    let alone = std::str::from_utf8(cells.get(i).unwrap_or_default());
                    proptest::prop_assert_eq!(cells.text(i).ok(), alone.ok(), "{:?} cell {}", line, i);
                }
            }
        }
    }

    #[test]
    fn quotes_and_empty_lines_still_go_to_csv_core() {
        let mut reader = csv_core::Reader::new();
        let mut cells = Cells::default();
        split(&mut reader, b',', b"a,\"b,c\",d", &mut cells).unwrap();
        assert_eq!(cells_of(&cells), vec![b"a".to_vec(), b"b,c".to_vec(), b"d".to_vec()]);
        assert!(split(&mut reader, b',', b"a,\"b", &mut cells).is_err());
        split(&mut reader, b',', b",,", &mut cells).unwrap();
        assert_eq!(cells_of(&cells), vec![Vec::<u8>::new(); 3]);
    }

    #[test]
    fn another_delimiter_splits_there_quoted_or_not() {
        let mut reader = csv_core::ReaderBuilder::new().delimiter(b';').build();
        let mut cells = Cells::default();
        split(&mut reader, b';', b"a;b,c;d", &mut cells).unwrap();
        assert_eq!(cells_of(&cells), vec![b"a".to_vec(), b"b,c".to_vec(), b"d".to_vec()]);
        split(&mut reader, b';', b"a;\"b;c\";d", &mut cells).unwrap();
        assert_eq!(cells_of(&cells), vec![b"a".to_vec(), b"b;c".to_vec(), b"d".to_vec()]);
    }
}
