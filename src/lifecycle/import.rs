//! `import`: create the vendor file's tokens in the tenant's inventory, optionally assigned to
//! their users. Reads the inventory first: a serial already there is `exists`, never created
//! twice. Re-runs are idempotent; a journal of settled rows lets a killed import resume and
//! tells `undo` what this run created.

use super::journal::NOT_ASSIGNED;
use super::{held_by, now_rfc3339, send, Ctx};
use crate::activate::plan::TenantIndex;
use crate::backend::{ApiError, Backend, CreateOutcome, Device, DeviceStatus, NewDevice};
use crate::inventory::Row;
use crate::pipeline::RowResult;
use crate::record::{Fatal, ImportRecord, ImportStatus, Record};
use crate::sink::{FailureDetail, Replayed, Sink};
use anyhow::Result;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Tokens per `create_devices` call: one bulk request on Graph, one upload on the portal.
const GRAPH_CHUNK: usize = crate::backend::graph::BULK;
const PORTAL_CHUNK: usize = 500;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub dry_run: bool,
    /// Assign each token to its row's user (`--assign`). The portal always assigns.
    pub assign: bool,
    /// `--manufacturer`, `--model`: for rows whose cell is empty (or whose file has no such
    /// column). Entra requires both to create a token; none is ever sent empty.
    pub manufacturer: Option<String>,
    pub model: Option<String>,
}

/// A row's token to create lacks a manufacturer or a model, even after the defaults.
pub const MISSING_MAKE: &str = "missing_manufacturer_model";

/// What an import leaves for the activation that may follow (`--activate`).
pub struct Imported {
    /// Rows whose token is in the tenant now (created or existing, no conflict).
    pub rows: Vec<Row>,
    pub fatal: Option<Fatal>,
}

/// (serial, upn), lower-case, an earlier run settled, with their device ids (`--resume`),
/// from a journal known to be this run's (`crate::journal::check_resumable`, done here).
pub fn read_settled(path: &Path, now: &crate::record::JournalHeader) -> Result<HashMap<String, Option<String>>> {
    crate::journal::check_resumable(path, now)?;
    let (records, _) = super::journal::read(path)?;
    let mut settled = HashMap::new();
    for (_, r) in records {
        if let Record::Import(i) = r {
            if matches!(i.status, ImportStatus::Created | ImportStatus::Exists) {
                settled.insert(settled_key(&i.serial, &i.upn), i.device_id);
            }
        }
    }
    Ok(settled)
}

/// The key of a settled import: the serial and the user it was imported for.
pub fn settled_key(serial: &str, upn: &str) -> String {
    format!("{}\u{0}{}", serial.to_lowercase(), upn.to_lowercase())
}

fn record(row: &Row, status: ImportStatus, device: Option<&Device>) -> ImportRecord {
    ImportRecord {
        line: row.line,
        upn: row.upn.clone(),
        serial: row.serial.clone(),
        status,
        device_id: device.and_then(Device::known_id),
        assigned: false,
        http_status: None,
        error_code: None,
        error_message: None,
        time: now_rfc3339(),
    }
}

fn with_error(mut r: ImportRecord, e: &ApiError) -> ImportRecord {
    (r.http_status, r.error_code, r.error_message) = e.record_fields();
    r
}

/// The row's cell, or the default for an empty one.
fn or_default(cell: &str, default: &Option<String>) -> String {
    let cell = cell.trim();
    if cell.is_empty() {
        default.as_deref().unwrap_or("").trim().to_string()
    } else {
        cell.to_string()
    }
}

/// What a row to create lacks (`manufacturer`, `model`), after the defaults.
fn lacks_make(row: &Row, options: &ImportOptions) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if or_default(&row.manufacturer, &options.manufacturer).is_empty() {
        missing.push("manufacturer");
    }
    if or_default(&row.model, &options.model).is_empty() {
        missing.push("model");
    }
    missing
}

fn new_device(row: &Row, assign_to: bool, options: &ImportOptions) -> Option<NewDevice> {
    Some(NewDevice {
        serial: row.serial.clone(),
        secret: row.secret.clone()?,
        time_interval: row.time_interval,
        hash: row.hash,
        manufacturer: or_default(&row.manufacturer, &options.manufacturer),
        model: or_default(&row.model, &options.model),
        display_name: row.display_name.clone(),
        assign_to: assign_to.then(|| row.upn.clone()),
    })
}

/// Assign an existing available token, never twice ([`super::write_exactly_once`]): it has
/// landed when the tenant shows the token held by the row's user.
async fn assign_one<B: Backend>(shared: &Ctx<B>, row: &Row, device: &Device) -> Result<(), ApiError> {
    let landed = || async {
        match shared.backend.get(device).await? {
            Some(current) if current.status != DeviceStatus::Available => held_by(shared, &current, &row.upn).await,
            _ => Ok(false),
        }
    };
    super::write_exactly_once(shared, || shared.backend.assign(&row.upn, device), landed).await
}

/// Run the import. Every row gets one record through `out`: duplicates refused, the tenant
/// read once, each row planned (exists, to assign, to create, refused), then the creates and
/// the assignments written.
pub async fn run<B: Backend>(
    shared: &Arc<Ctx<B>>,
    rows: Vec<RowResult>,
    settled_before: &HashMap<String, Option<String>>,
    options: &ImportOptions,
    out: &mut Sink,
) -> Result<Imported> {
    let is_portal = !shared.backend.capabilities().assign;
    let mut run = ImportRun { shared, options, out, is_portal, ready: Vec::new(), fatal: None };
    let work = run.first_of_each_serial(rows)?;
    if work.is_empty() {
        return Ok(run.finish());
    }
    let Some(index) = run.read_tenant(&work).await? else { return Ok(run.finish()) };
    run.out.diag().start("import", Some(work.len() as u64));
    let mut plan = Plan::default();
    for row in work {
        run.plan_row(row, &index, settled_before, &mut plan).await?;
    }
    run.create(&plan.to_create).await?;
    run.assign_existing(plan.to_assign).await?;
    Ok(run.finish())
}

/// One import's state while it runs: where records go, the rows ready for an activation that
/// may follow, and the failure that stopped it.
struct ImportRun<'a, B: Backend> {
    shared: &'a Arc<Ctx<B>>,
    options: &'a ImportOptions,
    out: &'a mut Sink,
    /// The portal always assigns and has no separate assign call.
    is_portal: bool,
    ready: Vec<Row>,
    fatal: Option<Fatal>,
}

/// The writes an import's plan leaves: tokens to create, and existing available tokens to
/// assign (`--assign`).
#[derive(Default)]
struct Plan {
    to_create: Vec<Row>,
    to_assign: Vec<(Row, Device)>,
}

impl<B: Backend> ImportRun<'_, B> {
    fn finish(self) -> Imported {
        Imported { rows: self.ready, fatal: self.fatal }
    }

    /// Tokens are created by serial: a serial's later rows are refused (`duplicate_serial`),
    /// and unreadable rows reported.
    fn first_of_each_serial(&mut self, rows: Vec<RowResult>) -> Result<Vec<Row>> {
        let mut work: Vec<Row> = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        for r in rows {
            match r {
                Err(e) => self.out.row_error(e)?,
                Ok(row) => {
                    if let Some(first) = seen.get(&row.serial.to_lowercase()) {
                        let mut rec = record(&row, ImportStatus::Failed, None);
                        rec.error_code = Some("duplicate_serial".into());
                        rec.error_message =
                            Some(format!("serial {} already appears on line {first}; imported once", row.serial));
                        self.out.settle(rec, None)?;
                    } else {
                        seen.insert(row.serial.to_lowercase(), row.line);
                        work.push(row);
                    }
                }
            }
        }
        Ok(work)
    }

    /// What the tenant holds already (reads only). A failed read stops the run: every row is
    /// `not_attempted` and `None` comes back.
    async fn read_tenant(&mut self, work: &[Row]) -> Result<Option<TenantIndex>> {
        self.out.diag().start("resolve", None);
        let wanted: Vec<(String, String)> = work.iter().map(|r| (r.serial.clone(), r.upn.clone())).collect();
        match self.shared.backend.find(&wanted).await {
            Ok(devices) => Ok(Some(TenantIndex::new(devices))),
            Err(e) => {
                self.fatal = Some(super::fatal_for(&e, self.shared.backend.name()));
                for row in work {
                    let mut rec = record(row, ImportStatus::NotAttempted, None);
                    rec.error_message = Some("the run stopped before this row was resolved".into());
                    self.out.settle(rec, None)?;
                }
                Ok(None)
            }
        }
    }

    /// One row's fate: settled by an earlier run, exists (maybe to assign), to create, or
    /// refused.
    async fn plan_row(
        &mut self,
        row: Row,
        index: &TenantIndex,
        settled_before: &HashMap<String, Option<String>>,
        plan: &mut Plan,
    ) -> Result<()> {
        let found = index.lookup(&row.serial);
        if let Some(id) = settled_before.get(&settled_key(&row.serial, &row.upn)) {
            if self.tenant_agrees(found, &row).await {
                let mut rec = record(&row, ImportStatus::Exists, found.first());
                rec.device_id = rec.device_id.or(id.clone());
                self.out.settle(Replayed(rec), None)?;
                self.ready.push(row);
                return Ok(());
            }
        }
        let missing = if found.is_empty() { lacks_make(&row, self.options) } else { Vec::new() };
        match found {
            [] if !missing.is_empty() => {
                let mut rec = record(&row, ImportStatus::Failed, None);
                rec.error_code = Some(MISSING_MAKE.into());
                rec.error_message = Some(format!(
                    "Entra needs a manufacturer and a model to create a token, and this row has no {}: fill the \
                     column, or pass --manufacturer/--model",
                    missing.join(" and no ")
                ));
                self.out.settle(rec, None)?;
            }
            [] if self.options.dry_run => self.out.settle(record(&row, ImportStatus::WouldCreate, None), None)?,
            [] => plan.to_create.push(row),
            [d] => self.plan_existing(row, d, plan).await?,
            many => {
                let mut rec = record(&row, ImportStatus::Failed, None);
                rec.error_code = Some("ambiguous_serial".into());
                rec.error_message = Some(format!("{} tokens in the tenant have serial {}", many.len(), row.serial));
                self.out.settle(rec, None)?;
            }
        }
        Ok(())
    }

    /// A row an earlier run settled is done when the tenant agrees (the token is there, free
    /// or the row's user's): reported, not journaled again. A token the tenant does not hold,
    /// or holds for someone else, is planned like any row.
    async fn tenant_agrees(&self, found: &[Device], row: &Row) -> bool {
        match found {
            [d] => d.status == DeviceStatus::Available || held_by(self.shared, d, &row.upn).await.unwrap_or(false),
            _ => false,
        }
    }

    /// The row's token exists: to assign (`--assign`, available), someone else's (left
    /// untouched), or this row's already.
    async fn plan_existing(&mut self, row: Row, d: &Device, plan: &mut Plan) -> Result<()> {
        let available = d.status == DeviceStatus::Available;
        if self.options.assign && available && !self.is_portal {
            if self.options.dry_run {
                self.out.settle(record(&row, ImportStatus::Exists, Some(d)), None)?;
                self.ready.push(row);
            } else {
                plan.to_assign.push((row, d.clone()));
            }
        } else if !available && !held_by(self.shared, d, &row.upn).await.unwrap_or(false) {
            let mut rec = record(&row, ImportStatus::Exists, Some(d));
            rec.error_code = Some("assigned_to_other_user".into());
            rec.error_message =
                Some(format!("the token exists and is {}, not {}; left untouched", super::describe(Some(d)), row.upn));
            self.out.settle(rec, None)?;
        } else {
            self.out.settle(record(&row, ImportStatus::Exists, Some(d)), None)?;
            self.ready.push(row);
        }
        Ok(())
    }

    fn stopping(&self) -> bool {
        self.fatal.is_some() || self.shared.engine.stopped()
    }

    /// Create the planned tokens, chunk by chunk (one bulk request on Graph, one upload on
    /// the portal); once the run stops, the remaining rows are `not_attempted`.
    async fn create(&mut self, to_create: &[Row]) -> Result<()> {
        let chunk = if self.is_portal { PORTAL_CHUNK } else { GRAPH_CHUNK };
        let assign = self.options.assign || self.is_portal;
        for rows in to_create.chunks(chunk) {
            if self.stopping() {
                for row in rows {
                    let mut rec = record(row, ImportStatus::NotAttempted, None);
                    rec.error_message = Some("the run stopped before this row was sent".into());
                    self.out.settle(rec, None)?;
                }
                continue;
            }
            let new: Vec<NewDevice> = rows.iter().filter_map(|r| new_device(r, assign, self.options)).collect();
            if new.len() != rows.len() {
                anyhow::bail!("import needs the CSV's secret key column");
            }
            let backend = &self.shared.backend;
            let outcomes = match send(self.shared, || backend.create_devices(&new)).await {
                Ok(o) => o,
                Err(e) => vec![CreateOutcome::Failed(e); rows.len()],
            };
            for (row, outcome) in rows.iter().zip(outcomes) {
                self.created(row, outcome, assign)?;
            }
        }
        Ok(())
    }

    /// One row's answer to a create.
    fn created(&mut self, row: &Row, outcome: CreateOutcome, assign: bool) -> Result<()> {
        match outcome {
            // A backend's "created" names the device; one that does not is no creation
            // to journal (undo could not find it, a resume would skip the row).
            CreateOutcome::Created(d) if d.token.id.trim().is_empty() => {
                let e = ApiError::Unavailable {
                    status: 200,
                    code: "unconfirmed_create".into(),
                    message: format!("the tenant answered the create of token {} without its device id", row.serial)
                        .into(),
                };
                self.out.settle(with_error(record(row, ImportStatus::Failed, None), &e), Some(FailureDetail::of(&e)))?
            }
            CreateOutcome::Created(d) => {
                let mut rec = record(row, ImportStatus::Created, Some(&d));
                rec.assigned = assign && (self.is_portal || d.status != DeviceStatus::Available);
                self.out.settle(rec, None)?;
                self.ready.push(row.clone());
            }
            CreateOutcome::Exists(d) => {
                self.out.settle(record(row, ImportStatus::Exists, d.as_ref()), None)?;
                self.ready.push(row.clone());
            }
            CreateOutcome::Failed(e @ ApiError::Auth { .. }) => {
                self.fatal.get_or_insert_with(|| super::fatal_for(&e, self.shared.backend.name()));
                self.out.settle(with_error(record(row, ImportStatus::NotAttempted, None), &e), None)?;
            }
            CreateOutcome::Failed(e) => {
                self.out.settle(with_error(record(row, ImportStatus::Failed, None), &e), Some(FailureDetail::of(&e)))?
            }
        }
        Ok(())
    }

    /// Assign tokens that existed but were available (`--assign`).
    async fn assign_existing(&mut self, to_assign: Vec<(Row, Device)>) -> Result<()> {
        for (row, device) in to_assign {
            let mut rec = record(&row, ImportStatus::Exists, Some(&device));
            if self.stopping() {
                rec.error_code = Some(NOT_ASSIGNED.into());
                rec.error_message = Some("the run stopped before this token was assigned".into());
                self.out.settle(rec, None)?;
                continue;
            }
            match assign_one(self.shared, &row, &device).await {
                Ok(()) => {
                    rec.assigned = true;
                    self.out.settle(rec, None)?;
                    self.ready.push(row);
                }
                Err(e) => {
                    if matches!(e, ApiError::Auth { .. }) {
                        self.fatal.get_or_insert_with(|| super::fatal_for(&e, self.shared.backend.name()));
                    }
                    self.out.settle(with_error(rec, &e), Some(FailureDetail::of(&e)))?;
                }
            }
        }
        Ok(())
    }
}
