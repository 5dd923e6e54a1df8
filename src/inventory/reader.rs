//! Streaming CSV reader: one row in memory at a time, so `otp` and `list` stay flat
//! however large the file.

use super::columns::{field_for, Field};
use super::secret::{SecretFormat, SecretKey};
use super::{is_upn, Row, RowError};
use crate::otp::HashFunction;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// How to read the file: the choices the CSV cannot tell us.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    pub secret_format: SecretFormat,
    /// For rows without a hash column (or an empty cell).
    pub default_hash: HashFunction,
    /// Fail at the header when there is no secret column (`otp`, `activate`).
    pub require_secret: bool,
}

/// An open vendor CSV: iterate it for rows.
pub struct Inventory {
    csv: csv::Reader<Box<dyn BufRead>>,
    headers: Vec<Arc<str>>,
    columns: Vec<Option<Field>>,
    index: [Option<usize>; 8],
    record: csv::ByteRecord,
    options: ReadOptions,
}

fn slot(field: Field) -> usize {
    field as usize
}

impl Inventory {
    /// Open a file, or standard input for `-`.
    pub fn open(path: &str, options: ReadOptions) -> Result<Self> {
        let input: Box<dyn Read> = if path == "-" {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(path).with_context(|| format!("cannot open CSV file {path}"))?)
        };
        Self::from_reader(input, options).with_context(|| format!("cannot read CSV {path}"))
    }

    pub fn from_reader(input: impl Read + 'static, options: ReadOptions) -> Result<Self> {
        let mut input: Box<dyn BufRead> = Box::new(BufReader::with_capacity(256 * 1024, input));
        let head = input.fill_buf()?;
        if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) || head.iter().take(64).any(|&b| b == 0) {
            bail!("the file is UTF-16 (Excel's \"Unicode Text\"); save it as \"CSV UTF-8\" and try again");
        }
        if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            input.consume(3);
        }
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .trim(csv::Trim::None)
            // '\n' rather than CRLF: csv's line numbers run one short on CRLF files, and
            // every row error names its line. The stray '\r' is trimmed with the cell.
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(input);
        let raw_headers = csv.byte_headers().context("cannot read the header line")?.clone();
        if raw_headers.is_empty() || (raw_headers.len() == 1 && raw_headers[0].is_empty()) {
            bail!("the file is empty: expected a header line such as 'upn,serial number,secret key,time interval,manufacturer,model'");
        }
        let mut headers = Vec::with_capacity(raw_headers.len());
        let mut columns = Vec::with_capacity(raw_headers.len());
        let mut index = [None; 8];
        for (i, raw) in raw_headers.iter().enumerate() {
            let name = std::str::from_utf8(raw).context("the header line is not UTF-8")?.trim().to_string();
            let field = field_for(&name);
            if let Some(f) = field {
                if let Some(prev) = index[slot(f)] {
                    bail!(
                        "columns {} and {} both name the {} field ('{}' and '{}')",
                        prev + 1,
                        i + 1,
                        f.name(),
                        headers[prev],
                        name
                    );
                }
                index[slot(f)] = Some(i);
            }
            columns.push(field);
            headers.push(Arc::from(name.as_str()));
        }
        let mut missing = vec![];
        if index[slot(Field::Upn)].is_none() {
            missing.push("upn");
        }
        if index[slot(Field::Serial)].is_none() {
            missing.push("serial number");
        }
        if options.require_secret && index[slot(Field::Secret)].is_none() {
            missing.push("secret key");
        }
        if !missing.is_empty() {
            bail!(
                "the header has no {} column (found: {}); expected 'upn,serial number,secret key,time interval,manufacturer,model'",
                missing.join(" or "),
                headers.iter().map(|h| format!("'{h}'")).collect::<Vec<_>>().join(", ")
            );
        }
        Ok(Self { csv, headers, columns, index, record: csv::ByteRecord::new(), options })
    }

    /// The header names as they appear in the file.
    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().map(|h| h.as_ref())
    }

    /// Whether the file has a column for this field.
    pub fn has(&self, field: Field) -> bool {
        self.index[slot(field)].is_some()
    }

    fn cell(&self, field: Field) -> Result<&str, usize> {
        match self.index[slot(field)] {
            None => Ok(""),
            Some(i) => std::str::from_utf8(self.record.get(i).unwrap_or_default()).map(str::trim).map_err(|_| i),
        }
    }

    fn parse_current(&self, line: u64) -> Result<Row, RowError> {
        let err = |field: Option<Field>, code: &'static str, message: String| RowError {
            line,
            field: field.map(|f| f.name().to_string()),
            code,
            message,
            upn: self.cell(Field::Upn).ok().filter(|s| !s.is_empty()).map(str::to_string),
            serial: self.cell(Field::Serial).ok().filter(|s| !s.is_empty()).map(str::to_string),
        };
        if self.record.len() != self.headers.len() {
            return Err(err(
                None,
                "ragged_row",
                format!("line has {} fields but the header has {}", self.record.len(), self.headers.len()),
            ));
        }
        let text = |field: Field| {
            self.cell(field)
                .map_err(|_| err(Some(field), "invalid_utf8", format!("{} is not valid UTF-8", field.name())))
        };
        let serial = text(Field::Serial)?;
        if serial.is_empty() {
            return Err(err(Some(Field::Serial), "missing_serial", "serial number is empty".into()));
        }
        let upn = text(Field::Upn)?;
        if upn.is_empty() {
            return Err(err(Some(Field::Upn), "missing_upn", "upn is empty".into()));
        }
        if !is_upn(upn) {
            return Err(err(Some(Field::Upn), "invalid_upn", format!("upn '{upn}' is not a user@domain address")));
        }
        let secret = if self.has(Field::Secret) {
            let raw = text(Field::Secret)?;
            Some(
                SecretKey::decode(raw, self.options.secret_format)
                    .map_err(|m| err(Some(Field::Secret), "invalid_secret", m))?,
            )
        } else {
            None
        };
        let time_interval = match text(Field::TimeInterval)? {
            "" => 30,
            "30" => 30,
            "60" => 60,
            other => {
                return Err(err(
                    Some(Field::TimeInterval),
                    "invalid_time_interval",
                    format!("time interval '{other}' is not 30 or 60 seconds"),
                ))
            }
        };
        let hash = match text(Field::Hash)? {
            "" => self.options.default_hash,
            other => HashFunction::parse(other).ok_or_else(|| {
                err(Some(Field::Hash), "invalid_hash", format!("hash '{other}' is not sha1 or sha256"))
            })?,
        };
        let display_name = Some(text(Field::DisplayName)?).filter(|s| !s.is_empty()).map(str::to_string);
        let mut extra = Vec::new();
        for (i, column) in self.columns.iter().enumerate() {
            if column.is_none() {
                let value = std::str::from_utf8(&self.record[i]).map_err(|_| {
                    err(None, "invalid_utf8", format!("column '{}' is not valid UTF-8", self.headers[i]))
                })?;
                extra.push((self.headers[i].clone(), value.trim().to_string()));
            }
        }
        Ok(Row {
            line,
            upn: upn.to_string(),
            serial: serial.to_string(),
            secret,
            time_interval,
            hash,
            manufacturer: text(Field::Manufacturer)?.to_string(),
            model: text(Field::Model)?.to_string(),
            display_name,
            extra,
        })
    }
}

impl Iterator for Inventory {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.csv.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {
                    let line = self.record.position().map_or(0, |p| p.line());
                    // Blank lines (Excel leaves them at the end) are not rows.
                    if self.record.len() == 1 && self.record[0].iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    if self.record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
                        && self.record.len() == self.headers.len()
                    {
                        // ",,,,," rows from spreadsheets: skip quietly too.
                        continue;
                    }
                    return Some(self.parse_current(line));
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Some(Err(RowError {
                        line,
                        field: None,
                        code: "unreadable_row",
                        message: format!("cannot parse the line: {e}"),
                        upn: None,
                        serial: None,
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<Row, RowError>> {
        Inventory::from_reader(std::io::Cursor::new(text.as_bytes().to_vec()), ReadOptions::default())
            .unwrap()
            .collect()
    }

    #[test]
    fn microsoft_header_and_variants() {
        let rows = read(
            "\u{feff}UPN,Serial Number,Secret Key,TimeInterval,Manufacturer,Model,Enabled\r\n\
             \"a@contoso.com\",\"S1\",\"gezd gnbv gy3t qojq\",\"60\",\"Acme\",\"X1\",\"true\"\r\n",
        );
        let row = rows[0].as_ref().unwrap();
        assert_eq!(row.line, 2);
        assert_eq!(row.serial, "S1");
        assert_eq!(row.time_interval, 60);
        assert_eq!(row.secret.as_ref().unwrap().bytes(), b"1234567890");
        assert_eq!(row.extra, vec![(Arc::from("Enabled"), "true".to_string())]);
    }

    #[test]
    fn bad_rows_carry_line_and_field_and_others_go_on() {
        let rows = read(
            "upn,serial number,secret key,time interval\n\
             a@contoso.com,S1,GEZDGNBVGY3TQOJQ,30\n\
             b@contoso.com,,GEZDGNBVGY3TQOJQ,30\n\
             c@contoso.com,S3,NOT*BASE32,30\n\
             d@contoso.com,S4,GEZDGNBVGY3TQOJQ,45\n\
             nobody,S5,GEZDGNBVGY3TQOJQ,30\n\
             e@contoso.com,S6\n\
             f@contoso.com,S7,GEZDGNBVGY3TQOJQ,30\n",
        );
        let errs: Vec<_> = rows.iter().filter_map(|r| r.as_ref().err()).map(|e| (e.line, e.code)).collect();
        assert_eq!(
            errs,
            vec![
                (3, "missing_serial"),
                (4, "invalid_secret"),
                (5, "invalid_time_interval"),
                (6, "invalid_upn"),
                (7, "ragged_row")
            ]
        );
        assert_eq!(rows.iter().filter(|r| r.is_ok()).count(), 2);
        assert_eq!(rows[6].as_ref().unwrap().line, 8);
    }

    #[test]
    fn utf16_is_refused_clearly() {
        let mut bytes = vec![0xFF, 0xFE];
        for c in "upn,serial\n".encode_utf16() {
            bytes.extend_from_slice(&c.to_le_bytes());
        }
        let err = Inventory::from_reader(std::io::Cursor::new(bytes), ReadOptions::default()).err().unwrap();
        assert!(err.to_string().contains("UTF-16"), "{err}");
    }

    #[test]
    fn missing_columns_are_named() {
        let err = Inventory::from_reader(
            std::io::Cursor::new(b"user,foo\n".to_vec()),
            ReadOptions { require_secret: true, ..Default::default() },
        )
        .err()
        .unwrap();
        let msg = err.to_string();
        assert!(msg.contains("serial number") && msg.contains("secret key"), "{msg}");
    }
}
