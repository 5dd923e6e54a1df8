//! Seed files as vendors ship them, wherever a command reads a CSV: the CSV itself (streamed,
//! `crate::inventory`), a PSKC file (RFC 6030, `pskc`), either inside a password ZIP
//! (`archive`), told apart by their first bytes (or `--input-format`); and `--assign-csv`,
//! the users of a file that names none. Encrypted content is only ever held in memory.

mod archive;
pub mod password;
pub mod pskc;

use crate::inventory::source::InputFormat;
use crate::inventory::{excel, looks_like_seed, quote_cell, Field, Inventory, ReadOptions, Row, RowError, SecretKey};
use crate::otp::HashFunction;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Read};

/// The rows of any seed file.
pub type Rows = Box<dyn Iterator<Item = Result<Row, RowError>>>;

/// Open a seed file (or standard input for `-`) as rows.
pub fn open(path: &str, options: ReadOptions) -> Result<Rows> {
    let input: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("cannot open CSV file {path}"))?)
    };
    open_reader(input, options).with_context(|| format!("cannot read {path}"))
}

/// The rows a simulated tenant is seeded from (`simulate --csv`, `--simulate --seed`): any
/// file a command reads — a CSV, a PSKC file, a password ZIP, a file without users (its tokens
/// seeded unassigned) — through [`open`]; a row that cannot be used goes to `skipped`.
pub fn seed_rows(path: &str, options: ReadOptions, mut skipped: impl FnMut(RowError)) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for row in open(path, ReadOptions { upn_column_optional: true, ..options })? {
        match row {
            Ok(row) => rows.push(row),
            Err(e) => skipped(e),
        }
    }
    Ok(rows)
}

/// [`open`] of any reader.
pub fn open_reader(input: impl Read + 'static, options: ReadOptions) -> Result<Rows> {
    let users = match &options.vendor.assign_csv {
        Some(file) => Some(read_assignments(file)?),
        None => None,
    };
    // With --assign-csv the file names no users; each row's user is checked after the lookup.
    let needs_users = !options.upn_column_optional;
    let read = ReadOptions { upn_column_optional: options.upn_column_optional || users.is_some(), ..options };
    let mut input = BufReader::with_capacity(256 * 1024, input);
    let rows = if archive::looks_like_zip(input.fill_buf()?) {
        let packed = read_bounded(input, 256 << 20, "ZIP archive")?;
        let inner = archive::seed_file(packed, &read.vendor.passwords)?;
        from_content(Cursor::new(inner), read)?
    } else {
        from_content(input, read)?
    };
    Ok(match users {
        Some(users) => Box::new(rows.map(move |r| r.and_then(|row| assign(row, &users, needs_users)))),
        None => rows,
    })
}

/// A CSV or a PSKC document (not a ZIP), by its first bytes or `--input-format`.
fn from_content(mut input: impl BufRead + 'static, options: ReadOptions) -> Result<Rows> {
    let xml = pskc::looks_like_xml(input.fill_buf()?);
    match (options.vendor.format, xml) {
        (InputFormat::Csv, _) | (InputFormat::Auto, false) => Ok(Box::new(Inventory::from_reader(input, options)?)),
        (InputFormat::Pskc, false) => bail!("--input-format pskc: the file is not XML (it does not start with '<')"),
        (_, true) => {
            let xml = read_bounded(input, pskc::MAX_BYTES, "PSKC file")?;
            pskc_rows(&xml, &options)
        }
    }
}

fn read_bounded(input: impl Read, max: u64, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        bail!("the {what} is larger than {} MiB: not a seed file", max >> 20);
    }
    Ok(bytes)
}

/// The rows of a PSKC document. Its users come from `--assign-csv` or a script's `fn map`
/// (`crate::pipeline`), never from the file.
fn pskc_rows(xml: &[u8], options: &ReadOptions) -> Result<Rows> {
    if !options.upn_column_optional {
        bail!(
            "a PSKC file names no users, and this command needs the user of each token: pass --assign-csv FILE \
             (lines of serial,upn) or a --script whose fn map(row) sets row.upn; `import` reads it without users \
             (tokens created unassigned)"
        );
    }
    let key = match &options.vendor.pskc_key_file {
        Some(file) => Some(password::read_key_file(file)?),
        None => None,
    };
    let passwords = options.vendor.passwords;
    let opener = pskc::Opener { key: key.as_deref(), password: &|| passwords.get(password::Lock::Pskc) };
    let keys = pskc::decode(xml, &opener)?;
    if keys.is_empty() {
        bail!("the PSKC file holds no KeyPackage");
    }
    let rows: Vec<_> = keys.into_iter().map(|k| row_of(k, options)).collect();
    Ok(Box::new(rows.into_iter()))
}

/// One PSKC key as a row, under the rules a CSV row follows (TOTP, 6 digits, 30 or 60 s).
fn row_of(key: pskc::Key, options: &ReadOptions) -> Result<Row, RowError> {
    let serial = Some(key.serial.clone()).filter(|s| !s.is_empty() && !looks_like_seed(s));
    let err = |field: Option<Field>, code: &'static str, message: String| RowError {
        line: key.line,
        field: field.map(|f| f.name().to_string()),
        code,
        message,
        upn: None,
        serial: serial.clone(),
    };
    if key.serial.is_empty() {
        return Err(err(Some(Field::Serial), "missing_serial", "the key package has no DeviceInfo/SerialNo".into()));
    }
    let algorithm = key.algorithm.to_ascii_lowercase();
    if algorithm.ends_with("hotp") || (algorithm.is_empty() && key.has_counter) {
        return Err(err(
            None,
            excel::HOTP_ROW,
            "the key is HOTP (counter-based); Entra takes TOTP (time-based) tokens only".into(),
        ));
    }
    if !algorithm.ends_with("totp") && !algorithm.is_empty() {
        return Err(err(
            None,
            "unsupported_algorithm",
            format!("the key's algorithm {} is not TOTP; Entra takes TOTP tokens only", quote_cell(&key.algorithm)),
        ));
    }
    if let Some(digits) = key.digits.filter(|d| *d != 6) {
        return Err(err(None, "unsupported_digits", format!("the key gives {digits}-digit codes; Entra takes 6")));
    }
    let time_interval = match key.time_interval.as_str() {
        "" | "30" => 30,
        "60" => 60,
        other => {
            return Err(err(
                Some(Field::TimeInterval),
                "invalid_time_interval",
                format!("time interval {} is not 30 or 60 seconds", quote_cell(other)),
            ))
        }
    };
    let hash = match key.suite.as_str() {
        "" => options.default_hash,
        suite => HashFunction::parse(suite).ok_or_else(|| {
            err(
                Some(Field::Hash),
                "invalid_hash",
                format!("the key's Suite {} is not SHA-1 or SHA-256", quote_cell(suite)),
            )
        })?,
    };
    let secret = match key.secret {
        Ok(bytes) if !bytes.is_empty() => SecretKey::from_bytes(bytes),
        Ok(_) => return Err(err(Some(Field::Secret), "invalid_secret", "the secret is empty".into())),
        Err(why) => return Err(err(Some(Field::Secret), "invalid_secret", why)),
    };
    if options.redact_seeds {
        crate::redact::add_seed(secret.to_base32());
    }
    Ok(Row {
        line: key.line,
        upn: String::new(),
        serial: key.serial,
        secret: Some(secret),
        time_interval,
        hash,
        manufacturer: key.manufacturer,
        model: key.model,
        display_name: None,
        extra: Vec::new(),
    })
}

/// `--assign-csv`: serial → user, from a `serial,upn` CSV (the same reader and rules).
fn read_assignments(file: &std::path::Path) -> Result<HashMap<String, String>> {
    let path = file.to_string_lossy();
    let rows = Inventory::open(&path, ReadOptions::default()).context("--assign-csv")?;
    let mut users = HashMap::new();
    for row in rows {
        let row = row.map_err(|e| anyhow::anyhow!("--assign-csv {path} line {}: {}", e.line, e.message))?;
        let key = crate::inventory::serial_key(&row.serial);
        if users.insert(key, row.upn).is_some() {
            bail!("--assign-csv {path} line {}: serial {} is listed twice", row.line, row.serial);
        }
    }
    Ok(users)
}

/// Give a row its user from `--assign-csv`; a row that has one already keeps it.
fn assign(mut row: Row, users: &HashMap<String, String>, needed: bool) -> Result<Row, RowError> {
    if row.upn.is_empty() {
        match users.get(&crate::inventory::serial_key(&row.serial)) {
            Some(upn) => row.upn = upn.clone(),
            None if needed => {
                return Err(RowError {
                    line: row.line,
                    field: Some(Field::Upn.name().into()),
                    code: "missing_upn",
                    message: "the serial is not in --assign-csv: this command needs the token's user".into(),
                    upn: None,
                    serial: Some(row.serial),
                })
            }
            None => {}
        }
    }
    Ok(row)
}
