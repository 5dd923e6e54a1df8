//! `oathbulk check`: is this CSV safe to run? Row errors, plus what only the whole
//! file shows: duplicate serials, users over Entra's five tokens, weak seeds.

use crate::cli::check::CheckArgs;
use crate::inventory::{excel, RECOMMENDED_MIN_BITS};
use crate::output::Output;
use crate::pipeline;
use crate::record::{Finding, Record, Severity, Summary};
use crate::stop::ExitCode;
use anyhow::Result;
use std::time::Instant;

pub use crate::inventory::MAX_TOKENS_PER_USER;

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let started = Instant::now();
    // A file without users (Deepnet's) is checked too: `import` creates its tokens unassigned.
    let read = crate::inventory::ReadOptions { upn_column_optional: true, ..args.rows.input.read.options(true) };
    let rows = pipeline::open(&args.rows.input.csv, read, &args.rows.script.options(false))?;
    let filtered = rows.filtered();
    let mut out = Output::stdout(args.rows.output.format, false);
    let mut summary = Summary { command: "check".into(), ..Default::default() };
    let mut file = FileFacts::default();
    let mut findings = Vec::new();
    let mut bad_lines = std::collections::BTreeSet::new();
    for row in rows {
        summary.rows += 1;
        match row {
            Err(e) => {
                bad_lines.insert(e.line);
                *summary.counts.entry(e.code.clone()).or_default() += 1;
                out.emit(&Record::RowError(e))?;
            }
            Ok(row) => {
                file.add(&row);
                findings.extend(weak_secret(&row));
            }
        }
    }
    findings.extend(file.findings());
    findings.sort_by_key(|f| f.lines.first().copied().unwrap_or(0));
    for f in findings {
        *summary.counts.entry(f.code.clone()).or_default() += 1;
        if f.severity == Severity::Error {
            bad_lines.extend(f.lines.iter().copied());
        }
        out.emit(&Record::Finding(f))?;
    }
    summary.errors = bad_lines.len() as u64;
    summary.ok = summary.rows - summary.errors;
    super::finish_rows(&mut out, summary, filtered.get(), started)
}

/// A finding about lines of the file, naming no one row's user or serial.
fn finding(severity: Severity, code: &str, message: String, lines: Vec<u64>) -> Finding {
    Finding { severity, code: code.into(), message, lines, upn: None, serial: None }
}

/// A seed shorter than RFC 4226 asks for: a warning (Entra accepts it).
fn weak_secret(row: &crate::inventory::Row) -> Option<Finding> {
    let bits = row.secret.as_ref()?.bits();
    (bits < RECOMMENDED_MIN_BITS).then(|| Finding {
        upn: Some(row.upn.clone()),
        serial: Some(row.serial.clone()),
        ..finding(
            Severity::Warn,
            "weak_secret",
            format!(
                "seed is {bits} bits, under the {RECOMMENDED_MIN_BITS} RFC 4226 asks for (common on hardware tokens; Entra accepts it)"
            ),
            vec![row.line],
        )
    })
}

/// What only the whole file shows, gathered row by row.
#[derive(Default)]
struct FileFacts {
    /// Serials and UPNs compared by the one rule every command uses (case-insensitive).
    tally: crate::inventory::rules::Tally,
    /// (line, serial) of every row, for the batch's serial pattern.
    serials: Vec<(u64, String)>,
    /// Rows `import` could not create as they stand (Entra requires both).
    without_make: Vec<u64>,
}

impl FileFacts {
    fn add(&mut self, row: &crate::inventory::Row) {
        self.tally.add(&row.serial, &row.upn, row.line);
        self.serials.push((row.line, row.serial.clone()));
        if row.manufacturer.trim().is_empty() || row.model.trim().is_empty() {
            self.without_make.push(row.line);
        }
    }

    /// Duplicate serials, users over Entra's five, serials Excel shortened, rows without a make.
    fn findings(self) -> Vec<Finding> {
        let mut out = Vec::new();
        for (serial, lines) in self.tally.duplicate_serials() {
            let message = format!("serial {serial} appears on {} lines", lines.len());
            let f = finding(Severity::Error, "duplicate_serial", message, lines.to_vec());
            out.push(Finding { serial: Some(serial.to_string()), ..f });
        }
        for (upn, lines) in self.tally.crowded_users() {
            let message =
                format!("{upn} has {} tokens; Entra allows at most {MAX_TOKENS_PER_USER} per user", lines.len());
            let f = finding(Severity::Error, "too_many_tokens", message, lines.to_vec());
            out.push(Finding { upn: Some(upn.to_string()), ..f });
        }
        if let Some((usual, lines)) = excel::short_serials(self.serials.iter().map(|(l, s)| (*l, s.as_str()))) {
            let message = format!(
                "{} serial(s) are shorter than the {usual} digits most of the batch has: leading zeros dropped by \
                 Excel? Such a serial names no token in the tenant; re-export the column as Text",
                lines.len()
            );
            out.push(finding(Severity::Warn, excel::SERIAL_LENGTH, message, lines));
        }
        if !self.without_make.is_empty() {
            let message = format!(
                "{} row(s) without a manufacturer or a model: Entra requires both to create a token, so `import` \
                 refuses such rows unless --manufacturer/--model fill them (activating tokens already imported \
                 needs neither)",
                self.without_make.len()
            );
            out.push(finding(Severity::Warn, crate::lifecycle::import::MISSING_MAKE, message, self.without_make));
        }
        out
    }
}
