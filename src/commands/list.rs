//! `oathbulk list`: the CSV's rows as `token` records.

use crate::cli::list::ListArgs;
use crate::output::Output;
use crate::pipeline;
use crate::record::{Record, Summary, Token};
use crate::stop::ExitCode;
use anyhow::Result;
use std::time::Instant;

pub fn token_record(row: &crate::inventory::Row, reveal: bool) -> Token {
    Token {
        line: row.line,
        upn: row.upn.clone(),
        serial: row.serial.clone(),
        manufacturer: row.manufacturer.clone(),
        model: row.model.clone(),
        time_interval: row.time_interval,
        hash: row.hash,
        display_name: row.display_name.clone(),
        secret_bits: row.secret.as_ref().map(|s| s.bits()),
        secret: if reveal { row.secret.as_ref().map(|s| s.to_base32()) } else { None },
        extra: row.extra.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    }
}

pub fn run(args: ListArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let reveal = args.output.reveal_secrets;
    let rows = pipeline::open(
        &args.input.csv,
        // A file without users lists and computes as well.
        crate::inventory::ReadOptions { upn_column_optional: true, ..args.input.read.options(false) },
        &args.script.options(reveal),
    )?;
    let filtered = rows.filtered();
    let mut out = Output::stdout(args.output.format, false);
    let mut summary = Summary { command: "list".into(), ..Default::default() };
    for row in rows {
        summary.rows += 1;
        match row {
            Ok(row) => {
                summary.ok += 1;
                out.emit(&Record::Token(token_record(&row, reveal)))?;
            }
            Err(e) => {
                summary.errors += 1;
                *summary.counts.entry(e.code.clone()).or_default() += 1;
                out.emit(&Record::RowError(e))?;
            }
        }
    }
    super::finish_rows(&mut out, summary, filtered.get(), started)
}
