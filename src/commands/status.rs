//! `oathbulk status`: one `token_status` record per serial or user asked (`--serial`,
//! `--upn`, or a `--csv` of either), for a helpdesk: the state in the tenant, when it was last
//! used, the holder's methods against Entra's five, and the next step (`crate::status`).

use super::connect::{self};
use crate::backend::{Backend, Device};
use crate::cli::status::StatusArgs;
use crate::diag::Diag;
use crate::inventory::{field_for, Field};
use crate::output::Output;
use crate::record::{Record, RowErrorRecord, Summary, TokenStatus};
use crate::status::{self as st, Holder, Query};
use crate::stop::ExitCode;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::time::Instant;

pub fn run(args: StatusArgs) -> Result<ExitCode> {
    let (progress, format) = (args.output.progress, args.output.stdout.format);
    super::guarded("status", args, progress, format, run_inner)
}

/// The questions, each with its `--csv` line; and the CSV's unusable lines.
type Questions = (Vec<(Option<u64>, Query)>, Vec<RowErrorRecord>);

fn questions(args: &StatusArgs) -> Result<Questions> {
    let mut asked: Vec<(Option<u64>, Query)> =
        args.serial.iter().map(|s| (None, Query::Serial { serial: s.trim().to_string(), upn: None })).collect();
    asked.extend(args.upn.iter().map(|u| (None, Query::User(u.trim().to_string()))));
    let mut errors = Vec::new();
    if let Some(path) = &args.csv {
        let (more, bad) = read_csv(path)?;
        asked.extend(more);
        errors = bad;
    }
    if asked.is_empty() && errors.is_empty() {
        bail!("nothing to look up: give --serial SERIAL, --upn UPN or --csv FILE");
    }
    Ok((asked, errors))
}

/// A CSV of serials or users: the columns `field_for` names serial and UPN; nothing else is
/// read (a vendor file's seeds stay where they are). A line with neither is a row error
/// that names the line, never its cells.
fn read_csv(path: &str) -> Result<Questions> {
    use crate::inventory::lines::{content, split, Cells, Line, Lines};
    let file = std::fs::File::open(path).with_context(|| format!("cannot open CSV file {path}"))?;
    let mut lines = Lines::new(Box::new(std::io::BufReader::new(file)));
    let mut reader = csv_core::Reader::new();
    let mut cells = Cells::default();
    let (mut serial_col, mut upn_col, mut header_seen) = (None, None, false);
    let (mut asked, mut errors) = (Vec::new(), Vec::new());
    let error = |line: u64, code: &str, message: &str| RowErrorRecord {
        line,
        code: code.into(),
        message: message.into(),
        ..Default::default()
    };
    while let Some((number, line)) = lines.next_line()? {
        let text = match line {
            Line::Text(t) => t,
            Line::TooLong => {
                errors.push(error(number, "line_too_long", "the line is longer than 64 KiB"));
                continue;
            }
            Line::Failed(why) => bail!("cannot read {path} at line {number}: {why}"),
        };
        if split(&mut reader, b',', content(&text), &mut cells).is_err() {
            errors.push(error(number, "unclosed_quote", "a quote opened on this line is not closed"));
            continue;
        }
        let cell = |i: Option<usize>| i.and_then(|i| cells.text(i).ok()).map(str::trim).filter(|c| !c.is_empty());
        if !header_seen {
            header_seen = true;
            for i in 0..cells.len() {
                match cells.text(i).ok().and_then(field_for) {
                    Some(Field::Serial) => serial_col = serial_col.or(Some(i)),
                    Some(Field::Upn) => upn_col = upn_col.or(Some(i)),
                    _ => {}
                }
            }
            if serial_col.is_none() && upn_col.is_none() {
                bail!(
                    "{path} has no serial column and no UPN column in its first line (e.g. `serial number` or `upn`)"
                );
            }
            continue;
        }
        let (serial, upn) = (cell(serial_col), cell(upn_col));
        match (serial, upn) {
            (Some(s), u) => {
                asked.push((Some(number), Query::Serial { serial: s.to_string(), upn: u.map(str::to_string) }))
            }
            (None, Some(u)) => asked.push((Some(number), Query::User(u.to_string()))),
            (None, None) if cells.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) => {}
            (None, None) => errors.push(error(number, "missing_serial", "the line has neither a serial nor a UPN")),
        }
    }
    Ok((asked, errors))
}

/// Reads the tenant once per holder and once for the whole inventory (only when a user was
/// asked about: Graph names a user's tokens by id).
struct Lookup<'a, B: Backend> {
    backend: &'a B,
    holders: HashMap<String, Holder>,
    inventory: Option<HashMap<String, Device>>,
}

impl<'a, B: Backend> Lookup<'a, B> {
    async fn holder(&mut self, device: &Device) -> Result<Option<Holder>, crate::backend::ApiError> {
        let key = match (&device.owner_upn, &device.token.assigned_to_id) {
            (Some(upn), _) => upn.clone(),
            (None, Some(id)) => id.clone(),
            (None, None) => return Ok(None),
        };
        if let Some(h) = self.holders.get(&key.to_lowercase()) {
            return Ok(Some(h.clone()));
        }
        let upn = match &device.owner_upn {
            Some(upn) => Some(upn.clone()),
            None => self.backend.lookup_user(&key).await?.map(|u| u.upn),
        };
        let name = upn.clone().or(device.token.assigned_to.clone()).unwrap_or(key.clone());
        let methods = match &upn {
            Some(upn) => Some(self.backend.device_ids_of_user(upn).await?.len() as u64),
            None => None,
        };
        let holder = Holder { name, methods };
        self.holders.insert(key.to_lowercase(), holder.clone());
        Ok(Some(holder))
    }

    async fn user(&mut self, upn: &str, line: Option<u64>) -> Result<Vec<TokenStatus>, crate::backend::ApiError> {
        let user = self.backend.lookup_user(upn).await?;
        if self.inventory.is_none() {
            let all = self.backend.list_all().await?;
            self.inventory = Some(all.into_iter().map(|d| (d.token.id.to_lowercase(), d)).collect());
        }
        let inventory = self.inventory.as_ref().expect("read above");
        let held: Vec<&Device> = match &user {
            Some(user) => {
                let ids = self.backend.device_ids_of_user(&user.upn).await?;
                ids.iter().filter_map(|id| inventory.get(&id.to_lowercase())).collect()
            }
            // An API that cannot look users up (the portal) names holders by UPN instead.
            None => inventory
                .values()
                .filter(|d| d.owner_upn.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(upn)))
                .collect(),
        };
        let name = user.as_ref().map_or(upn, |u| u.upn.as_str());
        if held.is_empty() {
            return Ok(vec![st::user_without_token(name, line, user.is_some(), 0)]);
        }
        let holder = Holder { name: name.to_string(), methods: Some(held.len() as u64) };
        let query = Query::User(upn.to_string());
        Ok(held.into_iter().map(|d| st::of_device(&query, line, d, Some(&holder))).collect())
    }

    async fn answer(&mut self, asked: &[(Option<u64>, Query)]) -> Result<Vec<TokenStatus>, crate::backend::ApiError> {
        let serials: Vec<(String, String)> = asked
            .iter()
            .filter_map(|(_, q)| match q {
                Query::Serial { serial, .. } => Some((serial.clone(), String::new())),
                Query::User(_) => None,
            })
            .collect();
        let found: HashMap<String, Device> = if serials.is_empty() {
            HashMap::new()
        } else {
            self.backend.find(&serials).await?.into_iter().map(|d| (d.token.serial.to_lowercase(), d)).collect()
        };
        let mut out = Vec::new();
        for (line, q) in asked {
            match q {
                Query::Serial { serial, .. } => match found.get(&serial.to_lowercase()) {
                    None => out.push(st::not_found(q, *line)),
                    Some(d) => {
                        let holder = self.holder(d).await?;
                        out.push(st::of_device(q, *line, d, holder.as_ref()));
                    }
                },
                Query::User(upn) => out.extend(self.user(upn, *line).await?),
            }
        }
        Ok(out)
    }
}

async fn answer<B: Backend>(
    b: &B,
    asked: &[(Option<u64>, Query)],
) -> Result<Vec<TokenStatus>, crate::backend::ApiError> {
    Lookup { backend: b, holders: HashMap::new(), inventory: None }.answer(asked).await
}

fn run_inner(args: StatusArgs, diag: &Diag, started: Instant) -> Result<ExitCode> {
    let (asked, row_errors) = questions(&args)?;
    let seed = connect::rehearsal_seed(&args.tenant)?;
    let format = args.output.stdout.format;
    let rt = connect::runtime()?;
    rt.block_on(async {
        let conn = connect::connect(&args.tenant.connect, diag, seed, None).await?;
        diag.start("status", Some(asked.len() as u64));
        let answers = answer(conn.backend.as_ref(), &asked).await;
        diag.finish();
        let answers = match answers {
            Ok(a) => a,
            Err(e) => return Ok(super::api_failure_summary("status", &e, conn.backend.name(), diag, format, started)),
        };
        let mut out = Output::stdout(format, true);
        let mut summary = Summary { command: "status".into(), ..Default::default() };
        for e in row_errors {
            summary.rows += 1;
            summary.errors += 1;
            *summary.counts.entry(e.code.clone()).or_default() += 1;
            out.emit(&Record::RowError(e))?;
        }
        for a in answers {
            summary.rows += 1;
            summary.ok += 1;
            *summary.counts.entry(a.status.clone()).or_default() += 1;
            out.emit(&Record::TokenStatus(a))?;
        }
        summary.requests = Some(crate::http::Stats::get(&conn.stats.requests));
        summary.clock_offset_ms = conn.clock.offset_ms();
        summary.backend = Some(conn.backend.name().into());
        summary.exit_code = ExitCode::for_rows(summary.errors).code();
        summary.elapsed_ms = started.elapsed().as_millis() as u64;
        out.emit(&Record::Summary(summary.clone()))?;
        out.finish()?;
        if let Some(sim) = conn.simulator {
            sim.shutdown().await;
        }
        Ok(super::ended(&summary))
    })
}
