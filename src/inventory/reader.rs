//! Streaming CSV reader: one row in memory at a time, so `otp` and `list` stay flat
//! however large the file. One physical line is one record (see `lines.rs`).
//!
//! What a row error may say: a line whose cells do not line up with the header carries no
//! cell text at all (line, cell count and the header's names only); a line that does line
//! up carries a cell only from outside the secret column and only when the cell does not
//! look like a seed (`secret::quote_cell`).

use super::columns::{field_for, normalise, Field};
use super::lines::{content, split, Cells, Line, Lines, MAX_LINE_BYTES};
use super::secret::{encodes_seed, looks_like_seed, names_a_secret, quote_cell, SecretFormat, SecretKey};
use super::{is_upn, Row, RowError};
use crate::otp::HashFunction;
use anyhow::{bail, Context, Result};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// How to read the file: the choices the CSV cannot tell us.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub secret_format: SecretFormat,
    /// For rows without a hash column (or an empty cell).
    pub default_hash: HashFunction,
    /// Fail at the header when there is no secret column (`otp`, `activate`).
    pub require_secret: bool,
    /// `--secret-column NAME`: a header the aliases do not know that holds the seeds.
    pub secret_column: Option<String>,
    /// Tell the redactor every seed read (commands that talk to a server, which could
    /// echo one back).
    pub redact_seeds: bool,
    /// A file without a upn column is read, each row's `upn` empty: the lifecycle commands,
    /// where a token named by serial alone means "whoever holds it" (as `--serial`). A file
    /// that has the column still needs a user on every row.
    pub upn_column_optional: bool,
    /// `--any-holder`: in a file without a upn column, act on each serial whoever holds it
    /// even though another column looks like it names users (by its name or its cells).
    /// Without it such a column is refused: it would turn "the token of this user" into
    /// "whoever holds it".
    pub any_holder: bool,
    /// `--delimiter`: the cell separator, `None` for a comma. A file separated otherwise
    /// (Excel in a European locale writes `;`) is named at its header, not misread.
    pub delimiter: Option<u8>,
    /// How a file that is not a plain CSV is read (PSKC, a password ZIP, `--assign-csv`):
    /// `crate::vendor::open` uses these; the CSV reader itself does not.
    pub vendor: super::source::VendorOptions,
}

/// The row error of a user name in a column the tool does not know, in a file read without
/// a upn column: the lifecycle commands refuse the whole file for it.
pub const USER_IN_UNKNOWN_COLUMN: &str = "user_in_unknown_column";

/// A header that names people: who holds, owns or was assigned a token.
fn user_like_header(header: &str) -> bool {
    const PARTS: [&str; 15] = [
        "user",
        "upn",
        "mail",
        "owner",
        "assign",
        "holder",
        "employee",
        "person",
        "account",
        "login",
        "member",
        "recipient",
        "principal",
        "staff",
        "who",
    ];
    const WHOLE: [&str; 6] = ["name", "fullname", "firstname", "lastname", "givenname", "surname"];
    let h = normalise(header);
    PARTS.iter().any(|p| h.contains(p)) || WHOLE.contains(&h.as_str())
}

/// Physical lines a quoted cell may span (Excel writes line breaks inside cells).
const MAX_CONTINUATION_LINES: usize = 8;

/// Data lines read ahead at open to find a seed column under an unknown name.
const LOOKAHEAD_LINES: usize = 32;

/// An open vendor CSV: iterate it for rows.
pub struct Inventory {
    lines: Lines,
    splitter: csv_core::Reader,
    headers: Vec<Arc<str>>,
    columns: Vec<Option<Field>>,
    index: [Option<usize>; 8],
    cells: Cells,
    delimiter: u8,
    options: ReadOptions,
    /// Lines read at open (the seed-column probe), handed out first.
    ahead: VecDeque<(u64, Line)>,
    /// Rows and row errors handed out so far.
    yielded: u64,
    /// First line skipped as empty that still had bytes (`,,,,`), for the no-rows check.
    skipped_with_bytes: Option<u64>,
    /// The input failed: no line after the ones read ahead.
    done: bool,
    /// The end was reported (`no_rows` at most once).
    ended: bool,
}

/// `str::trim`, with a shortcut for the usual cell that starts and ends with a printable
/// ASCII character (nothing to trim; `str::trim` would decode a char at each end to know).
fn trim(cell: &str) -> &str {
    match cell.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => cell,
        [only] if only.is_ascii_graphic() => cell,
        _ => cell.trim(),
    }
}

fn slot(field: Field) -> usize {
    field as usize
}

/// What a header-less file looks like: its first line is data.
fn looks_like_data(cells: &[String]) -> bool {
    cells.iter().any(|c| is_upn(c) || looks_like_seed(c))
}

const EXPECTED_HEADER: &str = "upn,serial number,secret key,time interval,manufacturer,model";

/// A file that is not UTF-8 text (UTF-16, binary) is refused at once; a UTF-8 byte order
/// mark is skipped.
fn refuse_non_utf8_text(input: &mut Box<dyn BufRead>) -> Result<()> {
    let head = input.fill_buf()?;
    let utf16_pattern = head.len() >= 4
        && (head.iter().step_by(2).take(32).all(|&b| b == 0)
            || head.iter().skip(1).step_by(2).take(32).all(|&b| b == 0));
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) || utf16_pattern {
        bail!("the file is UTF-16 (Excel's \"Unicode Text\"); save it as \"CSV UTF-8\" and try again");
    }
    if let Some(at) = head.iter().take(4096).position(|&b| b == 0) {
        bail!("the file has a NUL byte at byte {}: it is not a text CSV", at + 1);
    }
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        input.consume(3);
    }
    Ok(())
}

/// The header line's names, trimmed; refused when it is empty, unreadable, separated by
/// another delimiter, or a data row (a seed where a name should be).
fn read_header(
    lines: &mut Lines,
    splitter: &mut csv_core::Reader,
    delimiter: u8,
    cells: &mut Cells,
) -> Result<Vec<String>> {
    let header = match lines.next_line()? {
        Some((_, Line::Text(t))) => t,
        Some((_, Line::Failed(e))) => bail!("cannot read the header line: {e}"),
        Some((_, Line::TooLong)) => {
            bail!("the header line is longer than {MAX_LINE_BYTES} bytes; expected '{EXPECTED_HEADER}'")
        }
        None => Vec::new(),
    };
    if header.iter().all(u8::is_ascii_whitespace) {
        bail!("the file is empty: expected a header line such as '{EXPECTED_HEADER}'");
    }
    if split(splitter, delimiter, content(&header), cells).is_err() {
        bail!("the header line (line 1) has a quote that is not closed; expected '{EXPECTED_HEADER}'");
    }
    let mut names = Vec::with_capacity(cells.len());
    for raw in cells.iter() {
        let Ok(name) = std::str::from_utf8(raw) else {
            bail!("the header line (line 1) {}", super::excel::NOT_UTF8);
        };
        names.push(name.trim().to_string());
    }
    if delimiter == b',' {
        if let Some(other) = super::excel::other_delimiter(&names) {
            bail!("{}", super::excel::delimiter_message(other));
        }
    }
    if let Some(i) = names.iter().position(|n| looks_like_seed(n)) {
        // A missing line end merged a data row into the header, or there is no header.
        bail!(
            "column {} of the header line looks like a secret key (not shown): the header line is missing or \
             merged with a data row; expected '{EXPECTED_HEADER}'",
            i + 1
        );
    }
    Ok(names)
}

/// What each column of the header is.
struct Columns {
    /// The names as shown (a repeated unknown name gets its position).
    headers: Vec<Arc<str>>,
    columns: Vec<Option<Field>>,
    /// Each field's column.
    index: [Option<usize>; 8],
}

impl Columns {
    /// Each header name's field, by its aliases or `--secret-column`; a field named twice is
    /// refused.
    fn of(names: &[String], options: &ReadOptions) -> Result<Self> {
        let mut headers = Vec::with_capacity(names.len());
        let mut columns = Vec::with_capacity(names.len());
        let mut index = [None; 8];
        let wanted_secret = options.secret_column.as_deref().map(normalise);
        if let Some(name) = &options.secret_column {
            if !names.iter().any(|n| Some(normalise(n)) == wanted_secret) {
                bail!("--secret-column '{name}' names no column of the header");
            }
        }
        for (i, name) in names.iter().enumerate() {
            let field = if wanted_secret.is_some() && Some(normalise(name)) == wanted_secret {
                Some(Field::Secret)
            } else {
                field_for(name)
            };
            if let Some(f) = field {
                if let Some(prev) = index[slot(f)] {
                    if looks_like_data(names) {
                        bail!("the first line is a data row, not a header: add the header line '{EXPECTED_HEADER}'");
                    }
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
            // Two extra columns with one name would collapse into one `extra` entry (the last
            // value winning): the later ones are named by their position instead.
            let name = if field.is_none() && headers.iter().any(|h: &Arc<str>| h.as_ref() == name) {
                format!("{name} (column {})", i + 1)
            } else {
                name.clone()
            };
            headers.push(Arc::from(name.as_str()));
        }
        Ok(Self { headers, columns, index })
    }
}

/// The columns the command needs (a user, unless optional; a serial; a seed, when required)
/// are there, or the header is refused naming what it lacks.
fn refuse_missing_columns(index: &[Option<usize>; 8], names: &[String], options: &ReadOptions) -> Result<()> {
    let mut missing = vec![];
    let no_upn = index[slot(Field::Upn)].is_none() && !options.upn_column_optional;
    if no_upn {
        missing.push("upn");
    }
    if index[slot(Field::Serial)].is_none() {
        missing.push("serial number");
    }
    if options.require_secret && index[slot(Field::Secret)].is_none() {
        missing.push("secret key");
    }
    if missing.is_empty() {
        return Ok(());
    }
    // Never echo a data line: a file without its header starts with a seed.
    if looks_like_data(names) {
        bail!(
            "the first line is a data row, not a header (no {} column): add the header line '{EXPECTED_HEADER}'",
            missing.join(" or ")
        );
    }
    // A file without users (Deepnet's) is fine for `check`, `list` and `import`; the
    // commands that need a user per token say so.
    let users = if no_upn {
        "; this command needs the user of each token: add a upn column, pass --assign-csv FILE \
         (serial,upn) or a --script whose fn map(row) sets row.upn; a file without users can be \
         `import`ed unassigned"
    } else {
        ""
    };
    bail!(
        "the header has no {} column (found: {}); expected '{EXPECTED_HEADER}'{users}",
        missing.join(" or "),
        names.iter().map(|h| quote_cell(h)).collect::<Vec<_>>().join(", ")
    );
}

/// A seed outside the secret column (a shifted line, a mislabelled header) would be printed
/// by `list` and carried everywhere: the row is refused, showing no cell. Every cell of every
/// row is checked (not only rows that fail otherwise): this is the check that keeps a shifted
/// seed out of a good-looking row.
fn refuse_seed_outside_its_column<'a>(
    line: u64,
    mut cells: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), RowError> {
    let Some((name, _)) = cells.find(|(_, value)| looks_like_seed(value)) else { return Ok(()) };
    Err(Inventory::line_error(
        line,
        "secret_outside_its_column",
        format!(
            "the {} cell looks like a secret key (not shown): is a column missing or shifted on this line, or is \
             the secret column misnamed?",
            quote_cell(name)
        ),
    ))
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
        refuse_non_utf8_text(&mut input)?;
        let mut lines = Lines::new(input);
        let delimiter = options.delimiter.unwrap_or(b',');
        let mut splitter = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let mut cells = Cells::default();
        let names = read_header(&mut lines, &mut splitter, delimiter, &mut cells)?;
        let Columns { headers, columns, index } = Columns::of(&names, &options)?;
        refuse_missing_columns(&index, &names, &options)?;
        let mut inventory = Self {
            lines,
            splitter,
            headers,
            columns,
            index,
            cells,
            delimiter,
            options,
            ahead: VecDeque::new(),
            yielded: 0,
            skipped_with_bytes: None,
            done: false,
            ended: false,
        };
        inventory.refuse_unknown_columns()?;
        Ok(inventory)
    }

    /// Columns the aliases do not know, judged on the first lines: one whose values all look
    /// like seeds would be shown under `extra` by `list`; one whose values all look like
    /// user names, in a file read without a upn column, would silently turn "the token of this
    /// user" into "whoever holds it". Either is refused, naming the column and the fix.
    fn refuse_unknown_columns(&mut self) -> Result<()> {
        let unknown: Vec<usize> = (0..self.columns.len()).filter(|&i| self.columns[i].is_none()).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        while self.ahead.len() < LOOKAHEAD_LINES {
            match self.lines.next_line()? {
                Some(l) => self.ahead.push_back(l),
                None => break,
            }
        }
        // Per unknown column: (non-empty values, of which seed-like, of which user-like).
        let mut seen = vec![(0usize, 0usize, 0usize); self.columns.len()];
        let has_secret = self.has(Field::Secret);
        for (_, line) in &self.ahead {
            let Line::Text(text) = line else { continue };
            if split(&mut self.splitter, self.delimiter, content(text), &mut self.cells).is_err()
                || self.cells.len() != self.headers.len()
            {
                continue;
            }
            for &i in &unknown {
                let cell = self.cells.text(i).unwrap_or("").trim();
                if !cell.is_empty() {
                    seen[i].0 += 1;
                    // Beside a secret column, one named as a secret is never kept, so never
                    // shown: no refusal. Without one, it is likely the seed column misnamed.
                    let hidden = has_secret && names_a_secret(&self.headers[i]);
                    seen[i].1 += usize::from(looks_like_seed(cell) && !hidden);
                    seen[i].2 += usize::from(is_upn(cell));
                }
            }
        }
        if let Some(&i) = unknown.iter().find(|&&i| seen[i].0 > 0 && seen[i].0 == seen[i].1) {
            let name = &self.headers[i];
            let also = if self.has(Field::Secret) { " instead of the current secret key column" } else { "" };
            bail!(
                "column {} ('{name}') holds values that look like secret keys, and the tool does not know that \
                 column name; to read it as the secret key column{also}, pass --secret-column '{name}'",
                i + 1
            );
        }
        // A user-like column, in a file read without a upn column, is refused whatever its
        // cells hold: by its name (`Assigned To` over `(spare)`), or by one cell that is a
        // user name. Acting by serial alone needs no such column, or `--any-holder`.
        if !self.has(Field::Upn) && !self.options.any_holder {
            let by_name = unknown.iter().find(|&&i| user_like_header(&self.headers[i]));
            if let Some(&i) = by_name.or_else(|| unknown.iter().find(|&&i| seen[i].2 > 0)) {
                let why = if by_name.is_some() { "looks like it names users" } else { "holds user names" };
                bail!(
                    "column {} ('{}') {why}, but the tool does not know that column name: rename it \
                     to 'upn' (each token must then belong to that user), remove it to name the tokens by serial \
                     alone (whoever holds them), or pass --any-holder to act on each serial whoever holds it",
                    i + 1,
                    self.headers[i]
                );
            }
        }
        Ok(())
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
            Some(i) => self.cells.text(i).map(trim).map_err(|_| i),
        }
    }

    /// A cell to attach to a row error: never the secret column, never a seed-like text.
    /// A cell to name in a row error: never one that could be a seed, and never raw when it
    /// holds an invisible or direction-changing character (shown escaped).
    fn attachable(&self, field: Field) -> Option<String> {
        self.cell(field).ok().filter(|s| !s.is_empty() && !looks_like_seed(s)).map(|s| {
            if crate::text::hidden_char(s).is_some() {
                crate::text::escape_all_controls(s).into_owned()
            } else {
                s.to_string()
            }
        })
    }

    fn line_error(line: u64, code: &'static str, message: String) -> RowError {
        RowError { line, field: None, code, message, upn: None, serial: None }
    }

    /// The current line's cells as a row, or the one row error that refuses it.
    fn parse_current(&self, line: u64) -> Result<Row, RowError> {
        self.refuse_ragged(line)?;
        let serial = self.serial(line)?;
        let upn = self.upn(line)?;
        let secret = self.secret(line)?;
        let time_interval = self.time_interval(line)?;
        let hash = match self.text(line, Field::Hash)? {
            "" => self.options.default_hash,
            other => HashFunction::parse(other).ok_or_else(|| {
                self.field_error(
                    line,
                    Some(Field::Hash),
                    "invalid_hash",
                    format!("hash {} is not sha1 or sha256", quote_cell(other)),
                )
            })?,
        };
        let display_name = Some(self.text(line, Field::DisplayName)?).filter(|s| !s.is_empty()).map(str::to_string);
        let extra = self.extra(line, secret.as_ref())?;
        let manufacturer = self.text(line, Field::Manufacturer)?;
        let model = self.text(line, Field::Model)?;
        let printable = [
            (Field::Upn.name(), upn),
            (Field::Serial.name(), serial),
            (Field::Manufacturer.name(), manufacturer),
            (Field::Model.name(), model),
            (Field::DisplayName.name(), display_name.as_deref().unwrap_or("")),
        ];
        let extras = extra.iter().map(|(name, value)| (name.as_ref(), value.as_str()));
        refuse_seed_outside_its_column(line, printable.into_iter().chain(extras))?;
        Ok(Row {
            line,
            upn: upn.to_string(),
            serial: serial.to_string(),
            secret,
            time_interval,
            hash,
            manufacturer: manufacturer.to_string(),
            model: model.to_string(),
            display_name,
            extra,
        })
    }

    /// Cells that do not line up with the header are refused naming no cell: any of them may
    /// be a seed.
    fn refuse_ragged(&self, line: u64) -> Result<(), RowError> {
        if self.cells.len() == self.headers.len() {
            return Ok(());
        }
        Err(Self::line_error(
            line,
            "ragged_row",
            format!(
                "line has {} fields but the header has {} ({})",
                self.cells.len(),
                self.headers.len(),
                self.headers.iter().map(|h| quote_cell(h)).collect::<Vec<_>>().join(", ")
            ),
        ))
    }

    /// A row error about one cell, naming the row's user and serial where they are safe to
    /// show.
    fn field_error(&self, line: u64, field: Option<Field>, code: &'static str, message: String) -> RowError {
        RowError {
            line,
            field: field.map(|f| f.name().to_string()),
            code,
            message,
            upn: self.attachable(Field::Upn),
            serial: self.attachable(Field::Serial),
        }
    }

    /// A field's cell, trimmed (empty without a column); a cell that is not UTF-8 is refused.
    fn text(&self, line: u64, field: Field) -> Result<&str, RowError> {
        self.cell(field).map_err(|_| {
            self.field_error(line, Some(field), "invalid_utf8", format!("{} {}", field.name(), super::excel::NOT_UTF8))
        })
    }

    /// The serial: present, and not mangled by Excel into scientific notation.
    fn serial(&self, line: u64) -> Result<&str, RowError> {
        let serial = self.text(line, Field::Serial)?;
        if serial.is_empty() {
            return Err(self.field_error(line, Some(Field::Serial), "missing_serial", "serial number is empty".into()));
        }
        if super::excel::scientific(serial) {
            return Err(self.field_error(
                line,
                Some(Field::Serial),
                super::excel::SCIENTIFIC_SERIAL,
                super::excel::scientific_message(),
            ));
        }
        Ok(serial)
    }

    /// The user: a user@domain address with no hidden character; empty only in a file read
    /// without a upn column (`upn_column_optional`), where the row names no user.
    fn upn(&self, line: u64) -> Result<&str, RowError> {
        let upn = self.text(line, Field::Upn)?;
        let refuse = |code, message| Err(self.field_error(line, Some(Field::Upn), code, message));
        if upn.is_empty() && self.has(Field::Upn) {
            return refuse("missing_upn", "upn is empty".into());
        }
        if let Some(c) = crate::text::hidden_char(upn) {
            return refuse("invalid_upn", super::hidden_char_message(c));
        }
        if self.has(Field::Upn) && !is_upn(upn) {
            return refuse("invalid_upn", format!("upn {} is not a user@domain address", quote_cell(upn)));
        }
        Ok(upn)
    }

    /// The seed, decoded (and told to the redactor when the command talks to a server).
    fn secret(&self, line: u64) -> Result<Option<SecretKey>, RowError> {
        if !self.has(Field::Secret) {
            return Ok(None);
        }
        let raw = self.text(line, Field::Secret)?;
        let key = SecretKey::decode(raw, self.options.secret_format)
            .map_err(|m| self.field_error(line, Some(Field::Secret), "invalid_secret", m))?;
        if self.options.redact_seeds {
            crate::redact::add_seed(key.to_base32());
        }
        Ok(Some(key))
    }

    /// 30 or 60 seconds; 30 for an empty cell.
    fn time_interval(&self, line: u64) -> Result<u32, RowError> {
        match self.text(line, Field::TimeInterval)? {
            "" | "30" => Ok(30),
            "60" => Ok(60),
            other => Err(self.field_error(
                line,
                Some(Field::TimeInterval),
                "invalid_time_interval",
                format!("time interval {} is not 30 or 60 seconds", quote_cell(other)),
            )),
        }
    }

    /// The columns the tool does not know, as (name, value), without anything that is or
    /// names a secret; a row the file marks as HOTP, or whose unknown column holds a user in
    /// a file without a upn column, is refused.
    fn extra(&self, line: u64, secret: Option<&SecretKey>) -> Result<Vec<(Arc<str>, String)>, RowError> {
        let mut extra = Vec::new();
        for (i, column) in self.columns.iter().enumerate() {
            if column.is_none() {
                let value = self.cells.text(i).map_err(|_| {
                    self.field_error(
                        line,
                        None,
                        "invalid_utf8",
                        format!("column {} {}", quote_cell(&self.headers[i]), super::excel::NOT_UTF8),
                    )
                })?;
                extra.push((self.headers[i].clone(), trim(value).to_string()));
            }
        }
        // Past the lines read at open: a user name in an unknown column of a file read
        // without a upn column is refused too (the command refuses the whole file for it).
        if !self.has(Field::Upn) && !self.options.any_holder {
            if let Some((name, _)) = extra.iter().find(|(_, value)| is_upn(value)) {
                return Err(Self::line_error(
                    line,
                    USER_IN_UNKNOWN_COLUMN,
                    format!(
                        "column {} holds a user name, but the file has no upn column: rename it to 'upn', or pass \
                         --any-holder to act on each serial whoever holds it",
                        quote_cell(name)
                    ),
                ));
            }
        }
        // Entra takes TOTP only: a row the file marks as HOTP (a `type` of hotp, or a counter
        // without a type) would be imported and never give a right code.
        if let Some(why) = super::excel::hotp_marker(extra.iter().map(|(n, v)| (n.as_ref(), v.as_str()))) {
            return Err(self.field_error(line, None, super::excel::HOTP_ROW, why));
        }
        // A secret by its column's name, or the row's own seed written another way (spaced
        // hex, Base64, dotted Base32): never kept, so `list` cannot print it and scripts
        // cannot read it (after the user-name check: a `Key holder` column still counts).
        extra.retain(|(name, value)| {
            !(names_a_secret(name) || secret.is_some_and(|key| encodes_seed(value, key.bytes())))
        });
        Ok(extra)
    }

    fn next_line(&mut self) -> Option<(u64, Line)> {
        if let Some(l) = self.ahead.pop_front() {
            return Some(l);
        }
        if self.done {
            return None;
        }
        match self.lines.next_line() {
            Ok(l) => l,
            Err(e) => {
                // A read error mid-file (a device gone): report it at the next line, then stop.
                self.done = true;
                Some((self.lines.number() + 1, Line::Failed(e.to_string())))
            }
        }
    }

    /// A quote left open at the end of `first`: a cell with a line break (Excel writes
    /// them) when joining the next lines closes it with the cells lining up with the header
    /// (then `cells` holds that record); otherwise a stray quote, and the lines read ahead
    /// are given back to be read as rows of their own.
    fn continue_quoted(&mut self, first: &[u8]) -> bool {
        let mut joined = first.to_vec();
        let mut taken = Vec::new();
        while taken.len() < MAX_CONTINUATION_LINES {
            let Some((n, l)) = self.next_line() else { break };
            let Line::Text(t) = &l else {
                taken.push((n, l));
                break;
            };
            // The line break is part of the cell, as the file has it.
            joined.extend_from_slice(t);
            taken.push((n, l));
            if joined.len() > MAX_LINE_BYTES {
                break;
            }
            match split(&mut self.splitter, self.delimiter, content(&joined), &mut self.cells) {
                Ok(()) if self.cells.len() == self.headers.len() => return true,
                Ok(()) => break,
                Err(_) => {}
            }
        }
        for l in taken.into_iter().rev() {
            self.ahead.push_front(l);
        }
        false
    }

    /// The end of the file: a file with bytes after its header but no row is not a
    /// silent success.
    fn at_end(&mut self) -> Option<Result<Row, RowError>> {
        if self.ended {
            return None;
        }
        self.ended = true;
        match (self.yielded, self.skipped_with_bytes) {
            (0, Some(line)) => Some(Err(Self::line_error(
                line,
                "no_rows",
                "the file has lines after the header but none holds a row (only empty cells)".into(),
            ))),
            _ => None,
        }
    }
}

impl Iterator for Inventory {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some((line, text)) = self.next_line() else {
                return self.at_end();
            };
            let text = match text {
                Line::TooLong => {
                    self.yielded += 1;
                    return Some(Err(Self::line_error(
                        line,
                        "line_too_long",
                        format!("line is longer than {MAX_LINE_BYTES} bytes; skipped"),
                    )));
                }
                Line::Failed(e) => {
                    self.yielded += 1;
                    return Some(Err(Self::line_error(
                        line,
                        "unreadable_row",
                        format!("cannot read the file here: {e}"),
                    )));
                }
                Line::Text(t) => t,
            };
            // Blank lines (Excel leaves them at the end) are not rows.
            if text.iter().all(u8::is_ascii_whitespace) {
                self.lines.recycle(text);
                continue;
            }
            let split_ok = split(&mut self.splitter, self.delimiter, content(&text), &mut self.cells).is_ok()
                || self.continue_quoted(&text);
            // The cells are copied out: the line's buffer serves the next line.
            self.lines.recycle(text);
            if !split_ok {
                self.yielded += 1;
                return Some(Err(Self::line_error(
                    line,
                    "unclosed_quote",
                    "a quote opened on this line is not closed before the line ends (nor closed on a following \
                     line so that the cells line up with the header); the line is skipped"
                        .into(),
                )));
            }
            if self.cells.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
                && self.cells.len() == self.headers.len()
            {
                // ",,,,," rows from spreadsheets: skip quietly too.
                self.skipped_with_bytes.get_or_insert(line);
                continue;
            }
            self.yielded += 1;
            return Some(self.parse_current(line));
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

    fn read_with(text: &str, options: ReadOptions) -> Result<Vec<Result<Row, RowError>>> {
        Ok(Inventory::from_reader(std::io::Cursor::new(text.as_bytes().to_vec()), options)?.collect())
    }

    #[test]
    fn an_unclosed_quote_costs_its_own_line_only() {
        let rows = read(
            "upn,serial number,secret key\n\
             a@contoso.com,\"S1,GEZDGNBVGY3TQOJQ\n\
             b@contoso.com,S2,JBSWY3DPEHPK3PXP\n\
             c@contoso.com,\"S3\nsecond\",line\n",
        );
        let errs: Vec<_> = rows.iter().filter_map(|r| r.as_ref().err()).map(|e| (e.line, e.code)).collect();
        assert_eq!(errs, vec![(2, "unclosed_quote"), (4, "invalid_secret")]); // 4–5: one record, its quote closed on 5
        assert_eq!(rows[1].as_ref().unwrap().serial, "S2");
        assert_eq!(rows[1].as_ref().unwrap().line, 3);
    }

    #[test]
    fn a_quoted_cell_may_span_lines_when_the_cells_then_line_up() {
        let rows = read(
            "upn,serial number,display name\n\
             a@contoso.com,S1,\"two\r\nlines\"\n\
             b@contoso.com,S2,x\n",
        );
        let first = rows[0].as_ref().unwrap();
        assert_eq!((first.line, first.display_name.as_deref()), (2, Some("two\r\nlines")));
        assert_eq!(rows[1].as_ref().unwrap().line, 4);
    }

    #[test]
    fn duplicate_extra_headers_keep_every_value() {
        let rows = read("upn,serial number,Notes,Notes\na@contoso.com,S1,first,second\n");
        let extra = &rows[0].as_ref().unwrap().extra;
        assert_eq!(extra[0], (Arc::from("Notes"), "first".to_string()));
        assert_eq!(extra[1], (Arc::from("Notes (column 4)"), "second".to_string()));
    }

    #[test]
    fn ragged_rows_carry_no_cell_text() {
        let rows = read("upn,serial number,secret key,time interval\na@contoso.com,GEZDGNBVGY3TQOJQ,30\n");
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!((e.line, e.code, &e.upn, &e.serial), (2, "ragged_row", &None, &None));
        assert!(
            !e.message.contains("GEZD") && e.message.contains("'upn', 'serial number', 'secret key'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn seed_shaped_cells_are_not_quoted_even_in_aligned_rows() {
        // Columns shifted by one: the seed sits in the time-interval column.
        let rows =
            read("upn,serial number,secret key,time interval\na@contoso.com,S1,JBSWY3DPEHPK3PXP,GEZDGNBVGY3TQOJQ\n");
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!(e.code, "invalid_time_interval");
        assert!(!format!("{e:?}").contains("GEZD"), "{e:?}");
        let rows = read("upn,serial number,secret key\nGEZDGNBVGY3TQOJQ,S1,JBSWY3DPEHPK3PXP\n");
        let e = rows[0].as_ref().unwrap_err();
        assert!(!format!("{e:?}").contains("GEZD") && e.upn.is_none(), "{e:?}");
    }

    #[test]
    fn cr_only_line_ends_are_line_ends() {
        let rows = read(
            "upn,serial number,secret key\ra@contoso.com,S1,GEZDGNBVGY3TQOJQ\rb@contoso.com,S2,GEZDGNBVGY3TQOJQ\r",
        );
        let lines: Vec<_> = rows.iter().map(|r| r.as_ref().unwrap().line).collect();
        assert_eq!(lines, vec![2, 3]);
        let rows = read("upn,serial number\r\na@contoso.com,S1\r\n\r\nb@contoso.com,S2\n");
        let lines: Vec<_> = rows.iter().map(|r| r.as_ref().unwrap().line).collect();
        assert_eq!(lines, vec![2, 4]);
    }

    #[test]
    fn bytes_after_the_header_but_no_row_is_an_error() {
        let rows = read("upn,serial number\n,\n , \n");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].as_ref().unwrap_err().code, "no_rows");
        assert!(read("upn,serial number\n\n").is_empty());
    }

    #[test]
    fn a_headerless_file_echoes_no_data() {
        let err = read_with(
            "a@contoso.com,S1,GEZDGNBVGY3TQOJQ,30\n",
            ReadOptions { require_secret: true, ..Default::default() },
        )
        .err()
        .unwrap()
        .to_string();
        assert!(!err.contains("GEZD") && !err.contains("a@contoso.com") && err.contains("header"), "{err}");
    }

    #[test]
    fn an_unknown_seed_column_is_refused_and_can_be_mapped() {
        let text =
            "upn,serial number,TOTP Seed\na@contoso.com,S1,GEZDGNBVGY3TQOJQ\nb@contoso.com,S2,JBSWY3DPEHPK3PXP\n";
        let err = read_with(text, ReadOptions::default()).err().unwrap().to_string();
        assert!(err.contains("'TOTP Seed'") && err.contains("--secret-column") && !err.contains("GEZD"), "{err}");
        let rows =
            read_with(text, ReadOptions { secret_column: Some("totp seed".into()), ..Default::default() }).unwrap();
        assert_eq!(rows[1].as_ref().unwrap().secret.as_ref().unwrap().to_base32(), "JBSWY3DPEHPK3PXP");
        assert!(rows[0].as_ref().unwrap().extra.is_empty());
    }

    #[test]
    fn a_file_without_a_upn_column_is_read_only_when_allowed() {
        let optional = ReadOptions { upn_column_optional: true, ..Default::default() };
        let rows = read_with("serial number\nS1\nS2\n", optional.clone()).unwrap();
        let rows: Vec<_> = rows.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!((rows[0].upn.as_str(), rows[0].serial.as_str(), rows[1].line), ("", "S1", 3));
        let err = read_with("serial number\nS1\n", ReadOptions::default()).err().unwrap().to_string();
        assert!(err.contains("no upn column"), "{err}");
        // A file that has the column still needs a user on every row.
        let rows = read_with("upn,serial number\n,S1\n", optional).unwrap();
        assert_eq!(rows[0].as_ref().unwrap_err().code, "missing_upn");
    }

    #[test]
    fn a_user_column_under_an_unknown_name_is_refused_without_a_upn_column() {
        let optional = ReadOptions { upn_column_optional: true, ..Default::default() };
        let err = read_with("serial number,Email\nS1,a@contoso.com\nS2,b@contoso.com\n", optional.clone())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("column 2 ('Email')") && err.contains("'upn'"), "{err}");
        // Other extra columns are fine.
        assert!(read_with("serial number,Note\nS1,lost\n", optional.clone()).is_ok());
    }

    #[test]
    fn a_user_like_column_is_refused_whatever_its_cells_hold() {
        let optional = ReadOptions { upn_column_optional: true, ..Default::default() };
        for text in [
            "serial number,Assigned To\nS1,(spare)\n",
            "serial number,Owner\nS1,\n",
            "serial number,E-mail\nS1,n/a\n",
            "serial number,Name\nS1,Jane Doe\n",
            // One user name among other cells.
            "serial number,Note\nS1,(spare)\nS2,ceo@contoso.com\n",
        ] {
            let err = read_with(text, optional.clone()).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("--any-holder") && err.contains("'upn'"), "{text:?}: {err}");
        }
        // Past the lines read at open: the row is refused, with its own code.
        let mut text = String::from("serial number,Note\n");
        for i in 0..LOOKAHEAD_LINES + 4 {
            text.push_str(&format!("S{i},lost\n"));
        }
        text.push_str("S99,ceo@contoso.com\n");
        let rows = read_with(&text, optional.clone()).unwrap();
        assert_eq!(rows.last().unwrap().as_ref().unwrap_err().code, USER_IN_UNKNOWN_COLUMN);
        // --any-holder: read by serial alone, as asked.
        let any = ReadOptions { any_holder: true, ..optional.clone() };
        let rows = read_with("serial number,Assigned To\nS1,(spare)\nS2,ceo@contoso.com\n", any).unwrap();
        assert!(rows.iter().all(|r| r.as_ref().is_ok_and(|r| r.upn.is_empty())));
        // With a upn column, such a column is only an extra.
        let rows = read_with("upn,serial number,Assigned To\na@contoso.com,S1,(spare)\n", optional).unwrap();
        assert!(rows[0].is_ok());
    }

    #[test]
    fn an_early_nul_is_not_called_utf16() {
        let err =
            Inventory::from_reader(std::io::Cursor::new(b"upn,serial\n\0a@b.c,S1\n".to_vec()), ReadOptions::default())
                .err()
                .unwrap()
                .to_string();
        assert!(err.contains("NUL") && !err.contains("UTF-16"), "{err}");
    }

    #[test]
    fn a_huge_line_is_refused_and_the_next_read() {
        let text = format!("upn,serial number\n{}\nb@contoso.com,S2\n", "x".repeat(MAX_LINE_BYTES + 10));
        let rows = read(&text);
        assert_eq!(rows[0].as_ref().unwrap_err().code, "line_too_long");
        assert_eq!(rows[1].as_ref().unwrap().line, 3);
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
